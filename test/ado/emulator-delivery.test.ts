import { AdoClient } from "../../ado/client";
import { MASKED_SECRET } from "../../ado/types";
import { sampleEvent } from "../../devkit/ado-events";
import {
  PROBATION_RETRY_SCHEDULE_S,
  TRANSIENT_RETRY_SCHEDULE_S,
  startAdoEmulator,
  type AdoEmulator,
} from "../../devkit/ado-emulator";
import { scriptFor, startReceiver, webhookInput, type Receiver } from "../../devkit/recording-receiver";

/** The emulator against azure-devops-facts.md: delivery, the failure policy and the history. */
describe("emulator delivery and failure policy", () => {
  let emu: AdoEmulator;
  let receiver: Receiver;
  let client: AdoClient;
  let projectA: string;
  let projectB: string;

  beforeAll(async () => {
    emu = await startAdoEmulator({
      orgs: [{ name: "contoso", projects: ["Alpha", "Beta"] }],
      timeScale: 1e-6,
      // The receiver listens on 127.0.0.1 over http, and the hooks use Basic credentials.
      allowBasicAuthOverLoopbackHttp: true,
    });
    receiver = await startReceiver();
    client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
    [projectA, projectB] = ["Alpha", "Beta"].map((n) => emu.projects().find((p) => p.name === n)!.id);
  });
  afterAll(async () => {
    await emu.close();
    await receiver.close();
  });
  beforeEach(async () => {
    for (const s of await client.listSubscriptions()) await client.deleteSubscription(s.id);
    receiver.received.length = 0;
    receiver.respond = () => 200;
    emu.setTimeScale(1e-6);
  });
  afterEach(() => emu.idle());

  const hook = (path: string, extra: Parameters<typeof webhookInput>[1] = {}) =>
    client.createSubscription(webhookInput(`${receiver.url}${path}`, { projectId: projectA, ...extra }));

  test("an event goes to every matching subscription, with Basic credentials and headers, as a full ADO payload", async () => {
    const main = await hook("/main", {
      publisherInputs: { projectId: projectA, branch: "main" },
      consumerInputs: {
        url: `${receiver.url}/main`,
        basicAuthUsername: "hookfleet",
        basicAuthPassword: "p@ss",
        httpHeaders: "X-Hook-Token:abc123\nX-Env: test",
      },
    });
    const anyBranch = await hook("/any");
    await hook("/other-branch", { publisherInputs: { projectId: projectA, branch: "release" } });
    await hook("/other-project", { projectId: projectB });
    await hook("/builds", { eventType: "build.complete" });

    const report = await emu.emit("git.push", { project: "Alpha" });
    expect(report.matched).toBe(2);
    expect(report.deliveries.map((d) => d.outcome)).toEqual(["delivered", "delivered"]);
    expect(receiver.received.map((r) => r.path).sort()).toEqual(["/any", "/main"]);

    const got = receiver.received.find((r) => r.path === "/main")!;
    expect(got.method).toBe("POST");
    expect(got.headers.authorization).toBe(`Basic ${Buffer.from("hookfleet:p@ss").toString("base64")}`);
    expect(got.headers["x-hook-token"]).toBe("abc123");
    expect(got.headers["x-env"]).toBe("test");
    expect(got.headers["content-type"]).toMatch(/^application\/json/);
    expect(got.body).toMatchObject({
      id: report.event.id,
      eventType: "git.push",
      publisherId: "tfs",
      resourceVersion: "1.0",
      subscriptionId: main.id,
      resourceContainers: { project: { id: projectA } },
    });
    expect(got.body.notificationId).toEqual(expect.any(Number));
    expect(got.body.message?.text).toBeTruthy();
    expect(receiver.received.find((r) => r.path === "/any")!.body.subscriptionId).toBe(anyBranch.id);
    expect(emu.notifications(main.id).map((n) => n.result)).toEqual(["succeeded"]);
  });

  test("resourceDetailsToSend and messagesToSend shape the payload", async () => {
    await hook("/lean", {
      consumerInputs: {
        url: `${receiver.url}/lean`,
        resourceDetailsToSend: "none",
        messagesToSend: "text",
        detailedMessagesToSend: "none",
      },
    });
    await emu.emit(sampleEvent("git.push", { org: "contoso", project: { id: projectA, name: "Alpha" } }));
    const body = receiver.received[0].body;
    expect(body.resource).toEqual({});
    expect(Object.keys(body.message ?? {})).toEqual(["text"]);
    expect(body.detailedMessage).toBeUndefined();
  });

  test("transient failures (408/502/503/504) are retried on ADO's schedule and then delivered", async () => {
    const sub = await hook("/flaky");
    receiver.respond = scriptFor("/flaky", [503, 502, 504, 408]);
    const report = await emu.emit("git.push", { project: "Alpha" });
    expect(report.deliveries[0]).toMatchObject({
      outcome: "delivered",
      attempts: 5,
      subscriptionStatus: "enabled",
    });
    const history = await client.listNotifications(sub.id);
    expect(history.map((n) => n.result)).toEqual(["succeeded", "failed", "failed", "failed", "failed"]);
    expect(history.every((n) => n.details?.event?.id === report.event.id)).toBe(true);
  });

  test("8 transient retries exhausted → enduring → probation → 7 more → disabledBySystem; history holds the failed event", async () => {
    const sub = await hook("/down");
    receiver.respond = (r) => (r.path === "/down" ? 503 : 200);
    const report = await emu.emit("git.push", { project: "Alpha" });
    expect(report.deliveries[0]).toMatchObject({
      outcome: "failed",
      attempts: 1 + TRANSIENT_RETRY_SCHEDULE_S.length,
      lastStatus: 503,
    });
    expect(report.deliveries[0].subscriptionStatus).toBe("onProbation");
    await emu.idle();
    const after = (await client.getSubscription(sub.id))!;
    expect(after.status).toBe("disabledBySystem");
    // Like ADO's example, a disabled subscription shows no probationRetries; the emulator counted 7.
    expect(after).not.toHaveProperty("probationRetries");
    expect(emu.subscription(sub.id)!.probationRetries).toBe(PROBATION_RETRY_SCHEDULE_S.length);
    const failed = await client.listNotifications(sub.id, { result: "failed", maxResults: 1000 });
    expect(failed).toHaveLength(9 + 7);
    // The event type is in details (serviceHooks.json NotificationDetails), not on the notification.
    expect(
      failed.every((n) => n.details?.event?.id === report.event.id && n.details?.eventType === "git.push"),
    ).toBe(true);
    expect(failed.every((n) => !("eventType" in n))).toBe(true);
    expect(failed[0].details?.errorMessage).toMatch(/503/);

    // Disabled: later events are not delivered and not queued for later.
    const before = receiver.received.length;
    const next = await emu.emit("git.push", { project: "Alpha" });
    expect(next.deliveries[0]).toMatchObject({ outcome: "notDelivered", attempts: 0 });
    expect(receiver.received.length).toBe(before);

    // Re-enabling per the facts: PUT it back with status enabled and the masked secret.
    receiver.respond = () => 200;
    await client.replaceSubscription(sub.id, { ...after, status: "enabled" });
    expect(emu.subscription(sub.id)!.consumerInputs.basicAuthPassword).toBe("s3cret-pass");
    const healed = await emu.emit("git.push", { project: "Alpha" });
    expect(healed.deliveries[0].outcome).toBe("delivered");
    const last = receiver.received[receiver.received.length - 1];
    expect(last.body.id).toBe(healed.event.id);
    expect(last.headers.authorization).toBe(
      `Basic ${Buffer.from("hookfleet:s3cret-pass").toString("base64")}`,
    );
    expect(last.body.id).not.toBe(next.event.id);
  });

  test("an enduring error (500) goes straight to probation; the probation schedule grows like ADO's", async () => {
    // At 1e-5, the 36 h of probation take about 1.3 s: long enough to see the gaps grow.
    emu.setTimeScale(1e-5);
    const sub = await hook("/broken");
    receiver.respond = (r) => (r.path === "/broken" ? 500 : 200);
    const report = await emu.emit("git.push", { project: "Alpha" });
    expect(report.deliveries[0]).toMatchObject({
      outcome: "failed",
      attempts: 1,
      subscriptionStatus: "onProbation",
    });
    await emu.idle();
    expect(emu.subscription(sub.id)!.status).toBe("disabledBySystem");
    const times = emu
      .notifications(sub.id)
      .reverse()
      .map((n) => Date.parse(n.createdDate));
    expect(times).toHaveLength(8);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Scheduled gaps: 12, 24, 48, 96, 192, 384, 540 ms. Generous bounds.
    expect(gaps[6]).toBeGreaterThanOrEqual(400);
    expect(gaps[6]).toBeGreaterThan(gaps[0] * 5);
  });

  test("410 Gone disables at once", async () => {
    const sub = await hook("/gone");
    receiver.respond = (r) => (r.path === "/gone" ? 410 : 200);
    const report = await emu.emit("git.push", { project: "Alpha" });
    expect(report.deliveries[0]).toMatchObject({
      outcome: "failed",
      attempts: 1,
      lastStatus: 410,
      subscriptionStatus: "disabledBySystem",
    });
    await emu.idle();
    expect(emu.notifications(sub.id)).toHaveLength(1);
  });

  test("one success during probation restores enabled, and events raised meanwhile follow", async () => {
    emu.setTimeScale(1); // probation's first retry is 20 real minutes away: time to queue an event
    const sub = await hook("/wobbly");
    receiver.respond = scriptFor("/wobbly", [500]);
    const first = await emu.emit("git.push", { project: "Alpha" });
    expect(first.deliveries[0].subscriptionStatus).toBe("onProbation");
    const second = await emu.emit("git.push", { project: "Alpha" });
    expect(second.deliveries[0].outcome).toBe("queued");
    expect((await client.getSubscription(sub.id))!.status).toBe("onProbation");

    emu.setTimeScale(1e-6); // fast-forward the probation wait under way
    await emu.idle();
    const after = emu.subscription(sub.id)!;
    expect(after.status).toBe("enabled");
    expect(after.probationRetries).toBe(0);
    expect(receiver.received.filter((r) => r.path === "/wobbly").map((r) => r.body.id)).toEqual([
      first.event.id,
      first.event.id,
      second.event.id,
    ]);
    expect(emu.notifications(sub.id).map((n) => n.result)).toEqual(["succeeded", "succeeded", "failed"]);
  });

  test("a connection that is refused counts as a failed delivery with the error in the history", async () => {
    const sub = await client.createSubscription(
      webhookInput("http://127.0.0.1:9/nothing-listens", { projectId: projectA }),
    );
    const report = await emu.emit("git.push", { project: "Alpha" });
    expect(report.deliveries[0]).toMatchObject({ outcome: "failed", lastStatus: 0 });
    const [latest] = emu.notifications(sub.id);
    expect(latest.details?.errorMessage).toMatch(/ECONNREFUSED/);
    expect(latest.details?.consumerInputs?.basicAuthPassword).toBe(MASKED_SECRET);
    await client.deleteSubscription(sub.id);
  });
});
