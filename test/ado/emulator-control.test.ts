/**
 * The emulator's control surface over HTTP (devkit/ado-emulator/control.ts): raising events,
 * making deliveries to a URL fail, and ADO's delivery clock moved by hand. The hooks are made
 * through the real ADO client; the receiver is a recording server.
 */
import { AdoClient } from "../../ado/client";
import { EVENT_CATALOGUE } from "../../ado/events";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { parseDuration } from "../../devkit/ado-emulator/control";
import { startReceiver, webhookInput, type Receiver } from "../../devkit/recording-receiver";

let emu: AdoEmulator;
let receiver: Receiver;
let client: AdoClient;
let alpha: string;
let beta: string;

async function control(method: string, path: string, body?: unknown, auth = true) {
  const res = await fetch(`${emu.baseUrl}/_emulator${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(auth ? { authorization: `Basic ${Buffer.from(`:${emu.pat}`).toString("base64")}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const hook = (path: string, projectId: string, eventType = "git.push") =>
  client.createSubscription({
    ...webhookInput(`${receiver.url}${path}`, { projectId, eventType }),
    consumerInputs: { url: `${receiver.url}${path}` },
  });

beforeAll(async () => {
  // Real time: only the control routes make anything go faster.
  emu = await startAdoEmulator({ orgs: [{ name: "contoso", projects: ["Alpha", "Beta"] }] });
  receiver = await startReceiver();
  client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  [alpha, beta] = ["Alpha", "Beta"].map((n) => emu.projects().find((p) => p.name === n)!.id);
});
afterAll(async () => {
  await emu.close();
  await receiver.close();
});
beforeEach(async () => {
  for (const s of await client.listSubscriptions({ consumerUrlPrefix: receiver.url }))
    await client.deleteSubscription(s.id);
  emu.clearDeliveryFailures();
  emu.setTimeScale(1);
  receiver.received.length = 0;
});

test("the control routes need the emulator's PAT, and the status page lists orgs, projects and routes", async () => {
  expect((await control("GET", "", undefined, false)).status).toBe(401);
  const status = await control("GET", "");
  expect(status.status).toBe(200);
  expect(status.body.orgs).toEqual([
    {
      name: "contoso",
      url: emu.orgUrl(),
      projects: [expect.objectContaining({ name: "Alpha" }), expect.objectContaining({ name: "Beta" })],
    },
  ]);
  expect(status.body.eventTypes).toEqual(EVENT_CATALOGUE.map((e) => e.eventType));
  expect((await control("GET", "/nothing")).status).toBe(404);
  // Not ADO: control calls are not in the API counters.
  const before = emu.counters.total;
  await control("GET", "/clock");
  expect(emu.counters.total).toBe(before);
});

test("raises an event of a catalogue type, or one of every type, in a project, and reports each delivery", async () => {
  await hook("/push", alpha);
  await hook("/build", alpha, "build.complete");
  await hook("/beta", beta);

  const one = await control("POST", "/events", { eventType: "git.push", project: "Alpha", count: 2 });
  expect(one.status).toBe(200);
  expect(one.body.events).toEqual([
    expect.objectContaining({
      eventType: "git.push",
      org: "contoso",
      project: "Alpha",
      matched: 1,
      delivered: 1,
    }),
    expect.objectContaining({ eventType: "git.push", matched: 1, delivered: 1 }),
  ]);
  const all = await control("POST", "/events", { eventType: "all", project: beta });
  const events = all.body.events as { eventType: string; matched: number }[];
  expect(events.map((e) => e.eventType)).toEqual(EVENT_CATALOGUE.map((e) => e.eventType));
  expect(events.filter((e) => e.matched > 0).map((e) => e.eventType)).toEqual(["git.push"]);
  expect(receiver.received.map((r) => r.path).sort()).toEqual(["/beta", "/push", "/push"]);

  const bad = await control("POST", "/events", { eventType: "git.pushed" });
  expect(bad.status).toBe(400);
  expect(bad.body.message).toContain("git.pullrequest.created");
  expect(
    (await control("POST", "/events", { eventType: "git.push", project: "Gamma" })).body.message,
  ).toContain('no project "Gamma" in contoso (there are: Alpha, Beta)');
});

test("deliveries to a URL fail with the status asked for, only for the project named; nothing is sent", async () => {
  const a = await hook("/a", alpha);
  const b = await hook("/b", beta);
  const rule = await control("POST", "/delivery-failures", {
    url: receiver.url,
    status: 500,
    project: "Alpha",
  });
  expect(rule.status).toBe(201);
  expect(rule.body).toMatchObject({
    id: expect.any(String),
    url: receiver.url,
    status: 500,
    project: "Alpha",
  });

  await control("POST", "/events", { eventType: "git.push", project: "Alpha" });
  await control("POST", "/events", { eventType: "git.push", project: "Beta" });
  expect(receiver.received.map((r) => r.path)).toEqual(["/b"]);
  // 500 is not transient for ADO: probation at once, with the status in the history.
  expect(emu.subscription(a.id)!.status).toBe("onProbation");
  expect(emu.subscription(b.id)!.status).toBe("enabled");
  const [attempt] = await client.listNotifications(a.id);
  expect(attempt.result).toBe("failed");
  expect(attempt.details?.errorMessage).toMatch(/^HTTP 500/);
  expect((await control("GET", "/delivery-failures")).body.value).toEqual([
    expect.objectContaining({ id: rule.body.id, matched: 1 }),
  ]);

  expect((await control("POST", "/delivery-failures", { url: "ftp://x", status: 500 })).status).toBe(400);
  expect(
    (await control("POST", "/delivery-failures", { url: receiver.url, status: 200 })).body.message,
  ).toMatch(/status must be a whole number from 400 to 599/);
  expect((await control("DELETE", `/delivery-failures/${rule.body.id as string}`)).body).toEqual({
    removed: 1,
  });
  expect((await control("DELETE", "/delivery-failures/f999")).status).toBe(404);
});

test("advancing the clock runs ADO's probation to the end in real time 1: the hook is disabled by the system", async () => {
  const a = await hook("/a", alpha);
  await control("POST", "/delivery-failures", { url: receiver.url, status: 500 });
  await control("POST", "/events", { eventType: "git.push", project: "Alpha" });
  expect(emu.subscription(a.id)!.status).toBe("onProbation");

  // Half the probation: the first retries (20, 40, 80, 160, 320 min = 10 h 20 min) run, in order.
  const half = await control("POST", "/clock/advance", { duration: "10h30m" });
  expect(half.body).toMatchObject({ seconds: 37800, attempts: 5, timeScale: 1 });
  expect(emu.subscription(a.id)).toMatchObject({ status: "onProbation", probationRetries: 5 });
  // The rest of the 36 hours: 640 and 900 min, then ADO disables the hook.
  const rest = await control("POST", "/clock/advance", { seconds: 26 * 3600 });
  expect(rest.body).toMatchObject({ attempts: 2 });
  expect(emu.subscription(a.id)!.status).toBe("disabledBySystem");
  expect(await client.listNotifications(a.id)).toHaveLength(1 + 7);
  expect(receiver.received).toHaveLength(0);
});

test("a retry that succeeds during the jump restores the hook and delivers what was queued", async () => {
  const a = await hook("/a", alpha);
  const rule = emu.failDeliveries({ url: receiver.url, status: 503, project: alpha });
  // 503 is transient: 8 retries over 183 s of ADO time first. wait: false answers at once.
  const raised = await control("POST", "/events", { eventType: "git.push", project: "Alpha", wait: false });
  expect(raised.status).toBe(202);
  expect((await emu.advanceClock(200)).attempts).toBe(8);
  expect(emu.subscription(a.id)!.status).toBe("onProbation");
  await control("POST", "/events", { eventType: "git.push", project: "Alpha" }); // queued behind it
  emu.clearDeliveryFailures(rule.id);
  // The first probation retry (20 min) succeeds; the queued event follows it.
  expect((await emu.advanceClock(3600)).attempts).toBe(2);
  await emu.idle();
  expect(emu.subscription(a.id)!.status).toBe("enabled");
  expect(receiver.received).toHaveLength(2);
});

test("PUT /clock sets the time scale", async () => {
  expect((await control("PUT", "/clock", { timeScale: 0.001 })).body).toEqual({ timeScale: 0.001 });
  expect(emu.timeScale).toBe(0.001);
  expect((await control("PUT", "/clock", { timeScale: 0 })).status).toBe(400);
});

test("durations", () => {
  expect(parseDuration("36h")).toBe(129600);
  expect(parseDuration("1h30m")).toBe(5400);
  expect(parseDuration("90")).toBe(90);
  expect(parseDuration("2d")).toBe(172800);
  expect(() => parseDuration("soon")).toThrow(/not a duration/);
});
