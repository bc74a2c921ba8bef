/**
 * The heal job when one call, one event or one hook goes wrong: nothing it could still replay is
 * given up (the hook stays disabled for the next run), one bad event or hook does not hold up the
 * rest, and ADO's error text never prints a URL token. The real AdoClient against the ADO emulator
 * (its fault knobs), the real Cosmos client against a local Cosmos DB server.
 */
import { AdoClient } from "../../ado/client";
import type { AdoEvent } from "../../ado/types";
import { healFailedLine, runHealCli } from "../../app/heal/cli";
import type { HealOptions } from "../../app/heal/heal";
import { MAX_DOCUMENT_BYTES } from "../../app/messages";
import { mintToken, sha256Hex } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { startReceiver, webhookInput, type Receiver } from "../../devkit/recording-receiver";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";
import { disabledHook as disabledHookIn, healInto, healSystems, storedCopies } from "./in-process";

jest.setTimeout(30_000);

/** Notifications_Get, as the emulator keys its routes. */
const NOTIFICATION_GET = "GET /_apis/hooks/subscriptions/{id}/notifications/{id}";

let emu: AdoEmulator;
let receiver: Receiver;
let cosmos: CosmosTestServer;
let client: AdoClient;

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: ["Alpha"] }],
    timeScale: 1e-6,
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  cosmos = await startCosmosServer();
  // One retry, no real waiting: the faults below outlast it.
  client = new AdoClient({
    orgUrl: emu.orgUrl(),
    auth: { kind: "pat", pat: emu.pat },
    maxRetries: 1,
    retryBaseMs: 1,
  });
});
afterAll(async () => {
  await emu?.close();
  await receiver?.close();
  await cosmos?.close();
});
afterEach(async () => {
  emu.setUnconfirmed({ historyListDetails: true });
  for (const s of await client.listSubscriptions({ consumerUrlPrefix: receiver.url }))
    await client.deleteSubscription(s.id);
});

const disabledHook = (events?: (AdoEvent | "git.push")[]) => disabledHookIn(emu, client, receiver, events);
const heal = (options: Partial<HealOptions> = {}) => healInto(cosmos, [client], receiver.url, options);
const stored = (event: AdoEvent) => storedCopies(cosmos, event);

test("a failed delivery's details that ADO cannot give now (503): the hook stays disabled, the next run replays the event", async () => {
  const { id, events } = await disabledHook();
  emu.setUnconfirmed({ historyListDetails: false });
  // Notifications_Get answers 503 to the call and to the client's one retry.
  emu.failNext(2, 503, { route: NOTIFICATION_GET, retryAfterSeconds: 0 });
  const first = await heal();
  expect(first.hooks[0]).toMatchObject({ id, action: "notEnabled", replayed: 0, notRecoverable: 0 });
  expect(first.hooks[0].problems).toEqual([
    expect.stringMatching(
      /could not read a failed delivery's details \(retried next run\): notification \d+: 503/,
    ),
  ]);
  expect(first.hooks[0].notes.join("\n")).toMatch(/next run retries/);
  expect(first.ok).toBe(false);
  expect(emu.subscription(id)!.status).toBe("disabledBySystem");

  const second = await heal();
  expect(second.hooks[0]).toMatchObject({ id, action: "enabled", replayed: 1, problems: [] });
  expect(await stored(events[0])).toHaveLength(1);
  expect(emu.subscription(id)!.status).toBe("enabled");
});

test("an event over the receiver's size limit: not recoverable, named, and the hook is enabled again with its other event replayed", async () => {
  const alpha = emu.projects()[0];
  // Larger than a message may be (app/messages.ts MAX_DOCUMENT_BYTES): Cosmos DB would refuse it.
  const huge = sampleEvent("git.push", {
    org: "contoso",
    project: { id: alpha.id, name: alpha.name },
    targetBytes: 2_100_000,
  });
  const { id, events } = await disabledHook([huge, "git.push"]);
  emu.setUnconfirmed({ historyListDetails: false }); // one Notifications_Get per event, not 8 × 2 MB
  const report = await heal();
  expect(report.hooks[0]).toMatchObject({
    id,
    action: "enabled",
    failedEvents: 2,
    replayed: 1,
    notRecoverable: 1,
    replayedEventIds: [events[1].id],
  });
  expect(report.hooks[0].problems).toEqual([
    expect.stringMatching(
      new RegExp(
        `event ${huge.id} cannot be stored, not recoverable: .*over the ${MAX_DOCUMENT_BYTES}-byte limit`,
      ),
    ),
  ]);
  expect(emu.subscription(id)!.status).toBe("enabled");
  expect(await stored(events[0])).toHaveLength(0);
  expect(await stored(events[1])).toHaveLength(1);
});

test("a hand-made hook whose URL has malformed %-encoding is that hook's problem: the other hooks are still healed", async () => {
  const good = await disabledHook();
  const bad = emu.addSubscription(
    webhookInput(`${receiver.url}/api/v1/webhooks/alw_%E0%A4%A`, { projectId: emu.projects()[0].id }),
  );
  emu.setSubscriptionStatus(bad.id, "disabledBySystem");
  const report = await heal();
  const byId = (id: string) => report.hooks.find((h) => h.id === id);
  expect(byId(bad.id)).toMatchObject({ action: "notEnabled", statusAfter: "disabledBySystem" });
  expect(byId(bad.id)!.problems.join()).toMatch(/malformed %-encoding/);
  expect(byId(good.id)).toMatchObject({ action: "enabled", replayed: 1, problems: [] });
  expect(emu.subscription(good.id)!.status).toBe("enabled");
});

test("ADO error text quoting a hook's token URL: scrubbed in the progress lines, the report and its JSON", async () => {
  const token = mintToken();
  const url = `${receiver.url}/api/v1/webhooks/${token}`;
  const sub = emu.addSubscription(webhookInput(url, { projectId: emu.projects()[0].id }));
  emu.setSubscriptionStatus(sub.id, "disabledBySystem");
  const env = {
    HOOKFLEET_HEAL_ORG_URLS: emu.orgUrl(),
    HOOKFLEET_WEBHOOK_BASE_URL: receiver.url,
    AZURE_DEVOPS_EXT_PAT: emu.pat,
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    HOOKFLEET_SYSTEMS: JSON.stringify(healSystems),
    HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: sha256Hex(token), systemId: "devops" }]),
  };
  for (const argv of [[], ["--json"]]) {
    // The history read fails with ADO's error text naming the consumer URL (400: not retried).
    emu.failNext(1, 400, {
      route: "GET /_apis/hooks/subscriptions/{id}/notifications",
      message: `The consumer at ${url} could not be queried.`,
    });
    const out: string[] = [];
    const { code, report } = await runHealCli(
      argv,
      env,
      { stdout: (t) => out.push(t), stderr: (t) => out.push(t) },
      { clientFor: () => client },
    );
    expect(code).toBe(1);
    expect(report!.hooks[0].problems.join()).toMatch(
      /could not read its delivery history: 400: The consumer at .*\/webhooks\/\S*\[redacted\]/,
    );
    expect(out.join("\n")).toMatch(/could not read its delivery history/);
    expect(out.join("\n")).not.toContain(token);
  }
  // The store's error text too.
  const out: string[] = [];
  const failing = await runHealCli(
    [],
    env,
    { stdout: (t) => out.push(t), stderr: (t) => out.push(t) },
    { openStore: () => Promise.reject(new Error(`refused for ${url}`)) },
  );
  expect(failing.code).toBe(1);
  expect(out.join("\n")).toMatch(/cannot open the message store: refused for .*\[redacted\]/);
  expect(out.join("\n")).not.toContain(token);
  // And the last line of a run that failed unexpectedly (app/heal/main.ts).
  expect(healFailedLine(new Error(`boom at ${url}`))).toMatch(
    /^heal failed: boom at .*\/webhooks\/\[redacted\]$/,
  );
});

test("a hook deleted between heal's fresh read and its PUT (a concurrent `pulumi up` replaced it): skipped with a note, not a problem", async () => {
  const { id } = await disabledHook();
  /** The ADO client, with the hook deleted right after heal's fresh GET of it. */
  class RacingClient extends AdoClient {
    override async getSubscription(subscriptionId: string) {
      const found = await super.getSubscription(subscriptionId);
      await this.deleteSubscription(subscriptionId);
      return found;
    }
  }
  const racing = new RacingClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  const report = await heal({ orgs: [racing] });
  expect(report.hooks[0]).toMatchObject({ id, action: "skipped", statusAfter: "deleted", problems: [] });
  expect(report.hooks[0].notes.join("\n")).toMatch(/deleted \(or replaced\) while heal re-enabled it/);
  expect(report.ok).toBe(true);
  expect(emu.subscription(id)).toBeUndefined();
});
