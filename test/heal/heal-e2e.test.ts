/**
 * The heal job end to end on loopback: the real receiver on a Cosmos DB server, the ADO emulator
 * delivering to it, hooks created through our ADO client. The receiver rejects deliveries until
 * ADO disables the hooks; events keep happening; the receiver comes back; heal runs.
 */
import { AdoClient } from "../../ado/client";
import type { AdoEvent, Subscription, SubscriptionInput } from "../../ado/types";
import type { CredentialSettings } from "../../app/config";
import { runHealCli } from "../../app/heal/cli";
import type { HealReport, HookHealResult } from "../../app/heal/heal";
import { formatHealReport } from "../../app/heal/report";
import { messageId } from "../../app/messages";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { mintPassword, mintToken, sha256Hex } from "../../app/tokens";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";

jest.setTimeout(60_000);

const tokA = mintToken();
const tokC = mintToken();
const tokD = mintToken();
const tokOther = mintToken();
const leanPassword = mintPassword();

const good: CredentialSettings = {
  systems: [
    { id: "devops", storageMode: "full", retentionDays: 1825 },
    {
      id: "lean",
      storageMode: "lean",
      retentionDays: 30,
      basicPasswords: [{ sha256: sha256Hex(leanPassword) }],
    },
  ],
  urlTokens: [tokA, tokC, tokD, tokOther].map((t) => ({ sha256: sha256Hex(t), systemId: "devops" })),
  readTokens: [],
};
/** The receiver's outage as ADO sees it: token A unknown (404), the lean password wrong (401). */
const broken: CredentialSettings = {
  ...good,
  systems: [good.systems[0], { ...good.systems[1], basicPasswords: [{ sha256: sha256Hex("not-it") }] }],
  urlTokens: good.urlTokens.filter((t) => t.sha256 !== sha256Hex(tokA)),
};

describe("heal: disabled hooks back, failed deliveries replayed", () => {
  let cosmos: CosmosTestServer;
  let receiver: RunningReceiver;
  let emu: AdoEmulator;
  let client: AdoClient;
  let env: Record<string, string>;
  const ids: Record<"A" | "B" | "C" | "D" | "X", string> = { A: "", B: "", C: "", D: "", X: "" };
  const events: Record<string, AdoEvent> = {};
  let brokenAt = "";

  const input = (
    eventType: string,
    projectId: string,
    consumerInputs: Record<string, string>,
  ): SubscriptionInput => ({
    publisherId: "tfs",
    eventType,
    resourceVersion: "1.0",
    consumerId: "webHooks",
    consumerActionId: "httpRequest",
    publisherInputs: { projectId },
    consumerInputs,
  });
  const stored = async (systemId: string, event: AdoEvent) =>
    (await cosmos.storedMessages(systemId)).filter((m) => m.sourceEventId === event.id);
  const run = async (argv: string[], extraEnv: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const { code, report } = await runHealCli(
      argv,
      { ...env, ...extraEnv },
      { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
    );
    return { code, report: report as HealReport, stdout: out.join("\n"), stderr: err.join("\n") };
  };
  const hookIn = (report: HealReport, id: string): HookHealResult | undefined =>
    report.hooks.find((h) => h.id === id);

  beforeAll(async () => {
    cosmos = await startCosmosServer();
    receiver = await startReceiver({
      credentials: good,
      cosmos: { endpoint: cosmos.endpoint, key: cosmos.key },
      logLevel: "silent",
    });
    emu = await startAdoEmulator({
      orgs: [
        { name: "contoso", projects: ["Alpha", "Beta"] },
        { name: "fabrikam", projects: ["Gamma"] },
      ],
      timeScale: 1e-6,
      // Hook B sends Basic credentials to the receiver on 127.0.0.1 over http.
      allowBasicAuthOverLoopbackHttp: true,
    });
    client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
    const [alpha, beta] = ["Alpha", "Beta"].map((n) => emu.projects().find((p) => p.name === n)!.id);
    env = {
      HOOKFLEET_HEAL_ORG_URLS: `${emu.orgUrl("contoso")}, ${emu.orgUrl("fabrikam")}`,
      HOOKFLEET_WEBHOOK_BASE_URL: receiver.url,
      AZURE_DEVOPS_EXT_PAT: emu.pat,
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: cosmos.key,
      HOOKFLEET_SYSTEMS: JSON.stringify(good.systems),
      HOOKFLEET_URL_TOKENS: JSON.stringify(good.urlTokens),
    };

    const create = async (i: SubscriptionInput): Promise<Subscription> => client.createSubscription(i);
    ids.A = (await create(input("git.push", alpha, { url: receiver.webhookUrl(tokA) }))).id;
    ids.B = (
      await create(
        input("workitem.created", alpha, {
          url: `${receiver.url}/api/v1/systems/lean/webhooks`,
          basicAuthUsername: "hookfleet",
          basicAuthPassword: leanPassword,
        }),
      )
    ).id;
    ids.C = (await create(input("git.push", beta, { url: receiver.webhookUrl(tokC) }))).id;
    ids.D = (await create(input("build.complete", beta, { url: receiver.webhookUrl(tokD) }))).id;
    // Not HookFleet's: another receiver (a different origin), disabled too.
    ids.X = (await create(input("git.push", alpha, { url: "http://127.0.0.1:9/hooks" }))).id;

    // A second organization whose hooks are all healthy: one list call, nothing else.
    const fabrikam = new AdoClient({ orgUrl: emu.orgUrl("fabrikam"), auth: { kind: "pat", pat: emu.pat } });
    const gamma = emu.projects("fabrikam")[0].id;
    for (const eventType of ["git.push", "workitem.created", "build.complete"])
      await fabrikam.createSubscription(input(eventType, gamma, { url: receiver.webhookUrl(tokOther) }));

    // Healthy: delivered and stored.
    events.e1 = (await emu.emit("git.push", { project: "Alpha" })).event;

    // The receiver rejects A (unknown token → 404) and B (wrong password → 401): enduring failures.
    receiver.setCredentials(broken);
    brokenAt = new Date().toISOString();
    emu.setTimeScale(1); // the first probation retry is 20 real minutes away: time to queue an event
    const [r2, r2b, rw1] = await Promise.all([
      emu.emit("git.push", { project: "Alpha" }),
      emu.emit("git.push", { project: "Alpha" }),
      emu.emit("workitem.created", { project: "Alpha" }),
    ]);
    [events.e2, events.e2b, events.w1] = [r2.event, r2b.event, rw1.event];
    expect(emu.subscription(ids.A)!.status).toBe("onProbation");
    // Raised during probation: queued behind the failed one, never attempted.
    events.e3 = (await emu.emit("git.push", { project: "Alpha" })).event;
    emu.setTimeScale(1e-6); // fast-forward the probation schedule: every retry fails
    await emu.idle();
    expect(emu.subscription(ids.A)!.status).toBe("disabledBySystem");
    expect(emu.subscription(ids.B)!.status).toBe("disabledBySystem");

    // Raised while disabled: ADO drops them.
    const r4 = await emu.emit("git.push", { project: "Alpha" });
    expect(r4.deliveries.find((d) => d.subscriptionId === ids.A)!.outcome).toBe("notDelivered");
    events.e4 = r4.event;
    events.w2 = (await emu.emit("workitem.created", { project: "Alpha" })).event;

    emu.setSubscriptionStatus(ids.C, "disabledByUser");
    emu.setSubscriptionStatus(ids.D, "disabledByInactiveIdentity");
    emu.setSubscriptionStatus(ids.X, "disabledBySystem");

    // The receiver is back.
    receiver.setCredentials(good);
    // e2b reached the store by another path (as when ADO times out on an answer the receiver did
    // store): the heal must count it as present, not store it twice.
    const res = await fetch(receiver.webhookUrl(tokOther), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(events.e2b),
    });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await emu?.close();
    await receiver?.close();
    await cosmos?.close();
  });

  test("dry run: reports what it would do and changes nothing", async () => {
    const before = (await cosmos.storedMessages()).length;
    const { code, report, stdout } = await run(["--dry-run", "--json"]);
    expect(JSON.parse(stdout)).toEqual(report);
    expect(report.dryRun).toBe(true);
    const a = hookIn(report, ids.A)!;
    expect(a).toMatchObject({
      statusFound: "disabledBySystem",
      action: "wouldEnable",
      replayed: 1,
      alreadyPresent: 1,
    });
    expect(a.replayedEventIds).toEqual([events.e2.id]);
    expect(emu.subscription(ids.A)!.status).toBe("disabledBySystem");
    expect(emu.subscription(ids.B)!.status).toBe("disabledBySystem");
    expect((await cosmos.storedMessages()).length).toBe(before);
    expect(code).toBe(1); // D cannot be repaired
  });

  test("heal: hooks enabled again, every failed event stored exactly once, the report names the hooks and their downtime", async () => {
    const startedAt = Date.now();
    emu.counters.reset();
    const { code, report, stderr } = await run(["--json"]);
    expect(code).toBe(1); // because of D, reported below

    // A: back, its two failed events stored once each (e2 replayed, e2b already there).
    expect(emu.subscription(ids.A)!.status).toBe("enabled");
    const a = hookIn(report, ids.A)!;
    expect(a).toMatchObject({
      orgUrl: emu.orgUrl(),
      project: "Alpha",
      eventType: "git.push",
      systemId: "devops",
      statusFound: "disabledBySystem",
      statusAfter: "enabled",
      action: "enabled",
      failedEvents: 2,
      replayed: 1,
      alreadyPresent: 1,
      problems: [],
    });
    // Instants, not text: ADO's timestamps have 2, 3 or 7 fractional digits (a 2-digit one is cut
    // to 10 ms, so it may read up to 10 ms before our own clock's brokenAt).
    expect(Date.parse(a.downSince!)).toBeGreaterThanOrEqual(Date.parse(brokenAt) - 10);
    expect(Date.parse(a.disabledAt!)).toBeGreaterThanOrEqual(Date.parse(a.downSince!));
    expect(a.downtimeMs).toBe(Date.parse(a.enabledAt!) - Date.parse(a.downSince!));
    expect(Date.parse(a.enabledAt!)).toBeGreaterThanOrEqual(startedAt);
    for (const e of [events.e1, events.e2, events.e2b]) expect(await stored("devops", e)).toHaveLength(1);
    const replayedDoc = (await stored("devops", events.e2))[0];
    expect(replayedDoc).toMatchObject({
      id: messageId("devops", events.e2.id),
      type: "git.push",
      ttl: 1825 * 86400,
    });
    expect((replayedDoc.body as AdoEvent).resource).toEqual(events.e2.resource);

    // B: lean system: projection, no body, the system's retention.
    expect(emu.subscription(ids.B)!.status).toBe("enabled");
    expect(hookIn(report, ids.B)).toMatchObject({
      systemId: "lean",
      action: "enabled",
      replayed: 1,
      alreadyPresent: 0,
    });
    const lean = await stored("lean", events.w1);
    expect(lean).toHaveLength(1);
    expect(lean[0].body).toBeUndefined();
    expect(lean[0]).toMatchObject({
      type: "workitem.created",
      ttl: 30 * 86400,
      projection: { eventType: "workitem.created" },
    });

    // The documented limit: events ADO never attempted (queued in probation, raised while disabled).
    for (const e of [events.e3, events.e4]) expect(await stored("devops", e)).toHaveLength(0);
    expect(await stored("lean", events.w2)).toHaveLength(0);
    expect(a.notes.join("\n")).toMatch(/not recoverable/);

    // C: a person disabled it: left alone. D: inactive owner: reported loudly, not enabled.
    expect(emu.subscription(ids.C)!.status).toBe("disabledByUser");
    expect(hookIn(report, ids.C)).toMatchObject({
      action: "left",
      statusAfter: "disabledByUser",
      problems: [],
    });
    expect(emu.subscription(ids.D)!.status).toBe("disabledByInactiveIdentity");
    expect(hookIn(report, ids.D)!.problems.join()).toMatch(/inactive/);
    // X is not HookFleet's.
    expect(hookIn(report, ids.X)).toBeUndefined();
    expect(emu.subscription(ids.X)!.status).toBe("disabledBySystem");
    // fabrikam's hooks are enabled and were never changed after creation: not read.
    expect(report.orgs).toEqual([
      { orgUrl: emu.orgUrl("contoso"), hooks: 4, notEnabled: 4, enabledRead: 0 },
      { orgUrl: emu.orgUrl("fabrikam"), hooks: 3, notEnabled: 0, enabledRead: 0 },
    ]);
    // Cost: one org-wide list per organization; history for each hook found down; a fresh GET, a
    // PUT and a read-back GET only for the hooks re-enabled; nothing per healthy hook.
    expect(emu.counters.byRoute).toMatchObject({
      "GET /_apis/hooks/subscriptions": 2,
      "GET /_apis/hooks/subscriptions/{id}/notifications": 4,
      "GET /_apis/hooks/subscriptions/{id}": 4,
      "PUT /_apis/hooks/subscriptions/{id}": 2,
    });

    // Progress on stderr names each hook; no token appears anywhere.
    expect(stderr).toMatch(new RegExp(`${ids.A}: disabledBySystem → enabled`));
    for (const t of [tokA, tokC, tokD]) expect(JSON.stringify(report) + stderr).not.toContain(t);

    // Deliveries flow again.
    const r5 = await emu.emit("git.push", { project: "Alpha" });
    expect(r5.deliveries.find((d) => d.subscriptionId === ids.A)!.outcome).toBe("delivered");
    expect(await stored("devops", r5.event)).toHaveLength(1);
  });

  test("a second run finds nothing to replay and stores nothing new; the human table says what is left", async () => {
    const before = (await cosmos.storedMessages()).length;
    const { code, report, stdout } = await run([]);
    expect(code).toBe(1);
    expect(report.hooks.map((h) => h.id).sort()).toEqual([ids.C, ids.D].sort());
    expect((await cosmos.storedMessages()).length).toBe(before);
    expect(stdout).toMatch(/ORG\s+PROJECT\s+EVENT TYPE\s+HOOK\s+FOUND/);
    expect(stdout).toContain(ids.D);
    expect(stdout).toMatch(/NOT REPAIRED:\n.*inactive/);
    expect(stdout).toMatch(/SOMETHING COULD NOT BE REPAIRED/);
    expect(stdout).toBe(formatHealReport(report));
  });

  test("disabledByUser is enabled only when configured; with D gone the run exits 0", async () => {
    await client.deleteSubscription(ids.D);
    const { code, report } = await run(["--disabled-by-user", "enable"]);
    expect(hookIn(report, ids.C)).toMatchObject({ action: "enabled", statusAfter: "enabled" });
    expect(emu.subscription(ids.C)!.status).toBe("enabled");
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
  });

  test("a hook `pulumi up` re-enabled before heal saw it: the next run replays its failed events, as it changed recently", async () => {
    const tokF = mintToken();
    const alpha = emu.projects("contoso").find((p) => p.name === "Alpha")!.id;
    const f = await client.createSubscription(
      input("git.pullrequest.created", alpha, { url: receiver.webhookUrl(tokF) }),
    );
    // tokF is not (yet) accepted: the hook fails and is disabled.
    const failed = (await emu.emit("git.pullrequest.created", { project: "Alpha" })).event;
    await emu.idle();
    expect(emu.subscription(f.id)!.status).toBe("disabledBySystem");
    // `pulumi up` repairs it first (the provider's PUT), and the receiver now accepts tokF.
    receiver.setCredentials({
      ...good,
      urlTokens: [...good.urlTokens, { sha256: sha256Hex(tokF), systemId: "devops" }],
    });
    const current = (await client.getSubscription(f.id))!;
    await client.replaceSubscription(f.id, { ...current, status: "enabled" });
    const fEnv = { HOOKFLEET_URL_TOKENS: JSON.stringify(receiver.credentials().urlTokens) };
    const history = "GET /_apis/hooks/subscriptions/{id}/notifications";

    // Looking back 0 hours, as before this was built: F is enabled, so it is not read.
    const blind = await run(["--recent-hours", "0"], fEnv);
    expect(hookIn(blind.report, f.id)).toBeUndefined();
    expect(await stored("devops", failed)).toHaveLength(0);

    emu.counters.reset();
    const next = await run([], fEnv);
    const fr = hookIn(next.report, f.id)!;
    expect(fr).toMatchObject({
      statusFound: "enabled",
      action: "left",
      failedEvents: 1,
      replayed: 1,
      problems: [],
    });
    expect(fr.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(await stored("devops", failed)).toHaveLength(1);
    expect(emu.subscription(f.id)!.status).toBe("enabled");
    // Read: every contoso hook, each PUT since its creation (A, B by the first heal, C by the
    // last, F by `up`; D is gone); none of fabrikam's, only ever created. Listed: F alone, the
    // others having nothing left to replay.
    expect(next.report.orgs).toEqual([
      { orgUrl: emu.orgUrl("contoso"), hooks: 4, notEnabled: 0, enabledRead: 4 },
      { orgUrl: emu.orgUrl("fabrikam"), hooks: 3, notEnabled: 0, enabledRead: 0 },
    ]);
    expect(emu.counters.byRoute[history]).toBe(4);
    expect(next.report.hooks.map((h) => h.id)).toEqual([f.id]);
    expect(next.stderr).toContain("4 enabled and changed in the last 6 h (read for failed deliveries)");
    expect(next.stdout).toContain("4 enabled read for failed deliveries");

    // --include-enabled reads fabrikam's too, and finds nothing left to replay: F's event is stored once.
    emu.counters.reset();
    const wide = await run(["--include-enabled"], fEnv);
    expect(wide.report.orgs.map((o) => o.enabledRead)).toEqual([4, 3]);
    expect(emu.counters.byRoute[history]).toBe(7);
    expect(wide.report.hooks).toEqual([]);
    expect(await stored("devops", failed)).toHaveLength(1);
  });
});
