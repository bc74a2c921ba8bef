/**
 * The emulator answers the way Microsoft publishes ADO (../shared/ado-spec): its answers are
 * checked against the spec's response schemas, and its defaults follow the examples — sparse
 * subscriptions, null resourceVersion, other consumers in the org list, mixed fractional digits,
 * release events without a project container, no GET testnotifications/{id}, Basic over http
 * refused unless a loopback receiver opts in, NotificationsQuery with the spec's field names.
 */
import { AdoClient } from "../../ado/client";
import { AdoError } from "../../ado/errors";
import type { Notification, Subscription } from "../../ado/types";
import { subscriptionStatus } from "../../ado/wire";
import { sampleEvent } from "../../devkit/ado-events";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { scriptFor, startReceiver, webhookInput, type Receiver } from "../../devkit/recording-receiver";
import { SpecSet } from "./spec/swagger";

const specs = new SpecSet();
/**
 * Where Microsoft's spec and its own examples disagree, the examples win (ado-spec README): the
 * spec types probationRetries as a string, the GET subscriptions example sends a number.
 */
const SPEC_VS_EXAMPLES = [/probationRetries: \d+ is not a string/];

let emu: AdoEmulator;
let receiver: Receiver;
let client: AdoClient;
let alpha: string;
let beta: string;

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: ["Alpha", "Beta"] }],
    timeScale: 1e-6,
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat }, retryBaseMs: 5 });
  [alpha, beta] = ["Alpha", "Beta"].map((n) => emu.projects().find((p) => p.name === n)!.id);
});
afterAll(async () => {
  await emu.close();
  await receiver.close();
});

const auth = () => ({ Authorization: `Basic ${Buffer.from(`:${emu.pat}`).toString("base64")}` });
/** A raw call to the emulator, its answer checked against the spec operation's response schema. */
async function raw(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; problems: string[] }> {
  const url = new URL(`${emu.orgUrl()}${path}`);
  if (!url.searchParams.has("api-version")) url.searchParams.set("api-version", "7.1");
  const res = await fetch(url, {
    method,
    headers: { ...auth(), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  const found = specs.find(method, url.pathname, url.searchParams);
  const problems =
    res.status === 200 && found
      ? specs.checkResponse(found, json).filter((p) => !SPEC_VS_EXAMPLES.some((r) => r.test(p)))
      : [];
  return { status: res.status, json, problems };
}

test("its answers conform to the spec's schemas: subscriptions, history, single notifications, test notifications, queries, projects", async () => {
  const sub = await client.createSubscription(webhookInput(`${receiver.url}/conform`, { projectId: alpha }));
  receiver.respond = scriptFor("/conform", [500]);
  emu.setTimeScale(1); // keep it on probation while we look
  try {
    await emu.emit("git.push", { project: "Alpha" });
    const answers = [
      await raw("GET", "/_apis/hooks/subscriptions"),
      await raw("GET", `/_apis/hooks/subscriptions/${sub.id}`),
      await raw("GET", `/_apis/hooks/subscriptions/${sub.id}/notifications`),
      await raw(
        "GET",
        `/_apis/hooks/subscriptions/${sub.id}/notifications/${emu.notifications(sub.id)[0].id}`,
      ),
      await raw("POST", "/_apis/hooks/testnotifications", { subscriptionId: sub.id }),
      await raw("POST", "/_apis/hooks/notificationsquery", {
        subscriptionIds: [sub.id],
        includeDetails: true,
      }),
      await raw("POST", "/_apis/hooks/subscriptionsquery", { consumerId: "webHooks" }),
      await raw("GET", "/_apis/projects"),
    ];
    expect(answers.map((a) => a.status)).toEqual(Array(answers.length).fill(200));
    expect(answers.flatMap((a) => a.problems)).toEqual([]);
    // On probation: status and probationRetries are there (the example's onProbation entries).
    expect(answers[1].json).toMatchObject({ status: "onProbation", probationRetries: 0 });
  } finally {
    emu.setTimeScale(1e-6);
    receiver.respond = () => 200;
    await emu.idle();
  }
});

test("enabled subscriptions carry no status and no probationRetries; a resourceVersion not asked for is null", async () => {
  const { resourceVersion: _rv, ...noVersion } = webhookInput(`${receiver.url}/sparse`, { projectId: alpha });
  const sub = await client.createSubscription(noVersion);
  const { json } = await raw("GET", `/_apis/hooks/subscriptions/${sub.id}`);
  expect(json).not.toHaveProperty("status");
  expect(json).not.toHaveProperty("probationRetries");
  expect((json as Subscription).resourceVersion).toBeNull();
  // The emulator's own state still knows (for tests): enabled, 0 retries.
  expect(emu.subscription(sub.id)).toMatchObject({ status: "enabled", probationRetries: 0 });
});

test("the org list holds other consumers' subscriptions, never delivered to", async () => {
  const all = await client.listSubscriptions();
  const others = all.filter((s) => s.consumerId !== "webHooks");
  expect(others.map((s) => s.consumerId).sort()).toEqual(["jenkins", "myGet", "trello", "zendesk"]);
  expect(others.every((s) => subscriptionStatus(s) === "enabled" && s.resourceVersion === null)).toBe(true);
  // Their confidential inputs are masked like ADO's.
  expect(others.find((s) => s.consumerId === "jenkins")!.consumerInputs.password).toBe("********");
  // trello listens to git.push in Alpha: an emitted push is not "delivered" to it.
  const report = await emu.emit("git.push", { project: "Alpha" });
  expect(report.deliveries.map((d) => d.subscriptionId)).not.toContain(
    others.find((s) => s.consumerId === "trello")!.id,
  );
  await emu.idle();
});

test("timestamps come with 2, 3 or 7 fractional digits, in order as instants", async () => {
  const stamps: string[] = [];
  for (let i = 0; i < 8; i++) {
    stamps.push(
      (await client.createSubscription(webhookInput(`${receiver.url}/t${i}`, { projectId: beta })))
        .createdDate!,
    );
    await new Promise((r) => setTimeout(r, 15));
  }
  const digits = new Set(stamps.map((t) => /\.(\d+)Z$/.exec(t)?.[1].length ?? 0));
  expect(digits.size).toBeGreaterThanOrEqual(2);
  for (const t of stamps) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/);
  const instants = stamps.map((t) => Date.parse(t));
  expect([...instants].sort((a, b) => a - b)).toEqual(instants);
});

test("release events carry no project container; they reach the hooks of their project (resource.project)", async () => {
  const rm = "ms.vss-release.deployment-completed-event";
  const mine = await client.createSubscription({
    ...webhookInput(`${receiver.url}/rm-alpha`, { projectId: alpha }),
    publisherId: "rm",
    eventType: rm,
    resourceVersion: "3.0-preview.1",
  });
  await client.createSubscription({
    ...webhookInput(`${receiver.url}/rm-beta`, { projectId: beta }),
    publisherId: "rm",
    eventType: rm,
    resourceVersion: "3.0-preview.1",
  });
  receiver.received.length = 0;
  const report = await emu.emit(rm, { project: "Alpha" });
  expect(report.event.resourceContainers).not.toHaveProperty("project");
  expect(report.deliveries.map((d) => d.subscriptionId)).toEqual([mine.id]);
  expect(receiver.received.map((r) => r.path)).toEqual(["/rm-alpha"]);
  expect((receiver.received[0].body.resource.project as { id: string }).id).toBe(alpha);
});

test("there is no GET testnotifications/{id}: 404; a test notification is read with Notifications_Get", async () => {
  const sub = await client.createSubscription(webhookInput(`${receiver.url}/tn`, { projectId: alpha }));
  const posted = await raw("POST", "/_apis/hooks/testnotifications", { subscriptionId: sub.id });
  // Queued: the sparse answer leaves out status and result (their enums' first values).
  expect(posted.json).not.toHaveProperty("status");
  const id = (posted.json as Notification).id;
  expect((await raw("GET", `/_apis/hooks/testnotifications/${id}`)).status).toBe(404);
  await emu.idle();
  const n = await client.getNotification(sub.id, id);
  expect(n).toMatchObject({ status: "completed", result: "succeeded", details: { eventType: "git.push" } });
  expect(await client.getNotification(sub.id, 999_999)).toBeUndefined();
  // The client follows the test notification that way.
  expect(await client.sendTestNotification(sub.id)).toMatchObject({
    status: "completed",
    result: "succeeded",
  });
  expect(emu.counters.byRoute["GET /_apis/hooks/testnotifications/{id}"]).toBe(1); // only ours above
});

test("Basic authentication needs https: 400 over http, except to loopback with the opt-in", async () => {
  const strict = await startAdoEmulator({ orgs: [{ name: "contoso", projects: 1 }] });
  try {
    const c = new AdoClient({ orgUrl: strict.orgUrl(), auth: { kind: "pat", pat: strict.pat } });
    const projectId = strict.projects()[0].id;
    const refused = (await c
      .createSubscription(webhookInput("http://127.0.0.1:9/hook", { projectId }))
      .catch((e: unknown) => e)) as AdoError;
    expect(refused.status).toBe(400);
    expect(refused.adoMessage).toMatch(/Basic authentication requires an https URL/);
    // Without a password, http is fine; with https, Basic is fine.
    await expect(
      c.createSubscription(
        webhookInput("http://127.0.0.1:9/hook", {
          projectId,
          consumerInputs: { url: "http://127.0.0.1:9/hook" },
        }),
      ),
    ).resolves.toBeDefined();
    await expect(
      c.createSubscription({
        ...webhookInput("https://rx.example/hook", { projectId }),
        consumerInputs: { url: "https://rx.example/hook", basicAuthUsername: "u", basicAuthPassword: "p" },
      }),
    ).resolves.toBeDefined();
  } finally {
    await strict.close();
  }
  // The opt-in is for loopback only.
  const err = (await client
    .createSubscription(webhookInput("http://rx.example/hook", { projectId: alpha }))
    .catch((e: unknown) => e)) as AdoError;
  expect(err.status).toBe(400);
  // And the consumer's limits: 1–256 characters, no white space.
  const spaced = (await client
    .createSubscription({
      ...webhookInput(`${receiver.url}/x`, { projectId: alpha }),
      consumerInputs: { url: `${receiver.url}/x`, basicAuthUsername: "two words", basicAuthPassword: "p" },
    })
    .catch((e: unknown) => e)) as AdoError;
  expect(spaced.adoMessage).toMatch(/basicAuthUsername/);
});

test("notificationsquery takes the spec's NotificationsQuery: resultType, maxResultsPerSubscription, includeDetails", async () => {
  const a = await client.createSubscription(webhookInput(`${receiver.url}/qa`, { projectId: beta }));
  const b = await client.createSubscription(webhookInput(`${receiver.url}/qb`, { projectId: beta }));
  receiver.respond = (r) => (r.path === "/qa" ? 500 : 200);
  await emu.emit("git.push", { project: "Beta" });
  await emu.emit("git.push", { project: "Beta" });
  await emu.idle();
  receiver.respond = () => 200;
  type Q = { results: Notification[]; summary: { subscriptionId: string }[] };
  const query = async (q: object) => (await raw("POST", "/_apis/hooks/notificationsquery", q)).json as Q;
  const failed = await query({ subscriptionIds: [a.id, b.id], resultType: "failed", includeDetails: true });
  expect(failed.results.length).toBeGreaterThan(0);
  expect(failed.results.every((n) => n.subscriptionId === a.id && n.result === "failed")).toBe(true);
  // The event type is in details; without includeDetails there are no details, but a summary.
  expect(failed.results[0].details?.eventType).toBe("git.push");
  const summary = await query({ subscriptionIds: [a.id, b.id] });
  expect(summary.results.every((n) => n.details === undefined)).toBe(true);
  expect(summary.summary.map((s) => s.subscriptionId).sort()).toEqual([a.id, b.id].sort());
  // Our first emulator's field names are not the spec's: ignored, like ADO ignores them.
  const old = await query({ subscriptionIds: [a.id, b.id], result: "succeeded" });
  expect(old.results.some((n) => n.result === "failed")).toBe(true);
  const perSub = await query({ subscriptionIds: [a.id, b.id], maxResultsPerSubscription: 1 });
  expect(perSub.results.map((n) => n.subscriptionId).sort()).toEqual([a.id, b.id].sort());
});

test("a build hook at 1.0-preview.1 (as in Microsoft's example) is accepted; another major version is not", async () => {
  const ok = await client.createSubscription({
    ...webhookInput(`${receiver.url}/b`, { projectId: alpha }),
    eventType: "build.complete",
    resourceVersion: "1.0-preview.1",
  });
  expect(ok.resourceVersion).toBe("1.0-preview.1");
  const bad = (await client
    .createSubscription({
      ...webhookInput(`${receiver.url}/b`, { projectId: alpha }),
      eventType: "build.complete",
      resourceVersion: "2.0",
    })
    .catch((e: unknown) => e)) as AdoError;
  expect(bad.status).toBe(400);
});

test("sample events: every type's createdDate parses, rm events name their project in resource.project", () => {
  const e = sampleEvent("ms.vss-release.release-created-event", { project: { id: alpha, name: "Alpha" } });
  expect(e.resourceContainers.project).toBeUndefined();
  expect((e.resource.project as { id: string }).id).toBe(alpha);
});
