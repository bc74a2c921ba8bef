import { AdoClient } from "../../ado/client";
import { AdoError } from "../../ado/errors";
import { MASKED_SECRET } from "../../ado/types";
import { subscriptionStatus } from "../../ado/wire";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import {
  OTHER_CONSUMERS,
  consumersOf,
  scriptFor,
  startReceiver,
  webhookInput,
  type Receiver,
} from "../../devkit/recording-receiver";

describe("service hooks through the client against the emulator", () => {
  let emu: AdoEmulator;
  let client: AdoClient;
  let receiver: Receiver;
  let projectId: string;

  beforeAll(async () => {
    emu = await startAdoEmulator({ timeScale: 1e-6, allowBasicAuthOverLoopbackHttp: true });
    receiver = await startReceiver();
    client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
    projectId = emu.projects()[0].id;
  });
  afterAll(async () => {
    await emu.close();
    await receiver.close();
  });

  test("create → get → list (by consumer URL prefix) → query → replace → delete", async () => {
    const created = await client.createSubscription(webhookInput(`${receiver.url}/hooks/a`, { projectId }));
    // Enabled, and sparse like ADO's examples: no status, no probationRetries on the wire.
    expect(subscriptionStatus(created)).toBe("enabled");
    expect(created).not.toHaveProperty("status");
    expect(created).not.toHaveProperty("probationRetries");
    expect(created.resourceVersion).toBe("1.0");
    // ADO adds publisher inputs of its own.
    expect(created.publisherInputs).toMatchObject({
      projectId,
      hostId: expect.any(String),
      tfsSubscriptionId: expect.any(String),
    });
    expect(created.consumerInputs.basicAuthPassword).toBe(MASKED_SECRET);

    const foreign = emu.addSubscription(webhookInput("https://someone-else.example/hook"));
    const got = await client.getSubscription(created.id);
    expect(got?.id).toBe(created.id);
    expect(await client.getSubscription("00000000-0000-0000-0000-000000000001")).toBeUndefined();

    const ours = await client.listSubscriptions({ consumerUrlPrefix: receiver.url });
    expect(ours.map((s) => s.id)).toEqual([created.id]);
    // The org list holds every consumer's subscriptions: ours, another web hook, myGet, jenkins…
    const all = await client.listSubscriptions();
    expect(
      all
        .filter((s) => s.consumerId === "webHooks")
        .map((s) => s.id)
        .sort(),
    ).toEqual([created.id, foreign.id].sort());
    expect(consumersOf(all.filter((s) => s.consumerId !== "webHooks"))).toEqual(OTHER_CONSUMERS);
    // Other consumers' subscriptions carry resourceVersion null, as in ADO's example.
    expect(all.find((s) => s.consumerId === "myGet")?.resourceVersion).toBeNull();
    // Server-side filter by event type: only the other consumers' build hooks (myGet, jenkins).
    expect(consumersOf(await client.listSubscriptions({ eventType: "build.complete" }))).toEqual([
      "jenkins",
      "myGet",
    ]);

    const queried = await client.querySubscriptions({
      publisherId: "tfs",
      consumerId: "webHooks",
      publisherInputFilters: [
        { conditions: [{ inputId: "projectId", inputValue: projectId, operator: "equals" }] },
      ],
    });
    expect(queried.map((s) => s.id)).toEqual([created.id]);
    const notOurs = await client.querySubscriptions({
      consumerId: "webHooks",
      consumerInputFilters: [
        { conditions: [{ inputId: "url", inputValue: `${receiver.url}/hooks/a`, operator: "notEquals" }] },
      ],
    });
    expect(notOurs.map((s) => s.id)).toEqual([foreign.id]);

    const replaced = await client.replaceSubscription(created.id, {
      ...webhookInput(`${receiver.url}/hooks/b`, { projectId }),
      eventType: "git.push",
      publisherInputs: { projectId, branch: "main" },
    });
    expect(replaced.consumerInputs.url).toBe(`${receiver.url}/hooks/b`);
    expect(replaced.publisherInputs.branch).toBe("main");
    expect(replaced.publisherInputs.hostId).toBe(created.publisherInputs.hostId);

    expect(await client.deleteSubscription(created.id)).toBe(true);
    expect(await client.deleteSubscription(created.id)).toBe(false);
    expect(await client.getSubscription(created.id)).toBeUndefined();
  });

  test("basicAuthPassword: masked on read; ******** keeps it, a new value replaces it, absence deletes it", async () => {
    const sub = await client.createSubscription(webhookInput(`${receiver.url}/masked`, { projectId }));
    const stored = () => emu.subscription(sub.id)!.consumerInputs.basicAuthPassword;
    expect(stored()).toBe("s3cret-pass");

    // Round trip: what a GET returns, PUT back unchanged, keeps the secret.
    const read = (await client.getSubscription(sub.id))!;
    expect(read.consumerInputs.basicAuthPassword).toBe(MASKED_SECRET);
    await client.replaceSubscription(sub.id, { ...read, status: "enabled" });
    expect(stored()).toBe("s3cret-pass");

    await client.replaceSubscription(sub.id, {
      ...read,
      consumerInputs: { ...read.consumerInputs, basicAuthPassword: "rotated-pass" },
    });
    expect(stored()).toBe("rotated-pass");

    const { basicAuthPassword: _dropped, ...withoutPassword } = read.consumerInputs;
    const after = await client.replaceSubscription(sub.id, { ...read, consumerInputs: withoutPassword });
    expect(stored()).toBeUndefined();
    expect(after.consumerInputs.basicAuthPassword).toBeUndefined();
  });

  test.each([
    ["an unknown event type", { eventType: "git.nothing" }, /event type 'git.nothing' is not supported/],
    ["a publisher that does not raise the event", { publisherId: "rm" }, /not supported by publisher 'rm'/],
    ["a missing url", { consumerInputs: { basicAuthUsername: "x" } }, /required input 'url'/],
    ["a relative url", { consumerInputs: { url: "/hooks" } }, /not a valid absolute URI/],
    [
      "a bad resourceDetailsToSend",
      { consumerInputs: { url: "http://x.example/", resourceDetailsToSend: "some" } },
      /'some' of input 'resourceDetailsToSend'/,
    ],
    [
      "a bad httpHeaders line",
      { consumerInputs: { url: "http://x.example/", httpHeaders: "no-colon-here" } },
      /httpHeaders/,
    ],
    [
      "a non-string input",
      { consumerInputs: { url: "http://x.example/", acceptUntrustedCerts: true as unknown as string } },
      /must be a string/,
    ],
    [
      "an unknown publisher input",
      { publisherInputs: { colour: "blue" } },
      /Input 'colour' is not a valid publisher input/,
    ],
    [
      "a project that does not exist",
      { publisherInputs: { projectId: "6f2f3a8c-0000-0000-0000-000000000000" } },
      /TF200016/,
    ],
  ])("ADO's validation: %s is a 400 with a message", async (_what, change, message) => {
    const err = (await client
      .createSubscription({ ...webhookInput(`${receiver.url}/v`), ...change })
      .catch((e: unknown) => e)) as AdoError;
    expect(err).toBeInstanceOf(AdoError);
    expect(err.status).toBe(400);
    expect(err.adoMessage).toMatch(message);
    expect(err.method).toBe("POST");
    expect(err.url).toMatch(/\/_apis\/hooks\/subscriptions\?api-version=7\.1$/);
  });

  test("a deleted project takes its subscriptions with it", async () => {
    const doomed = emu.addProject("Doomed");
    const sub = await client.createSubscription(
      webhookInput(`${receiver.url}/doomed`, { projectId: doomed.id }),
    );
    expect(emu.deleteProject("Doomed")).toBe(true);
    expect(await client.getSubscription(sub.id)).toBeUndefined();
    expect((await client.listProjects()).map((p) => p.name)).not.toContain("Doomed");
  });

  test("replace of a missing subscription is a 404 AdoError", async () => {
    const err = (await client
      .replaceSubscription("00000000-0000-0000-0000-00000000dead", webhookInput(`${receiver.url}/x`))
      .catch((e: unknown) => e)) as AdoError;
    expect(err.status).toBe(404);
    expect(err.isNotFound).toBe(true);
  });

  test("notification history: failed deliveries carry their events; filters by result", async () => {
    const sub = await client.createSubscription(webhookInput(`${receiver.url}/history`, { projectId }));
    receiver.respond = scriptFor("/history", [500]);
    const report = await emu.emit("git.push");
    expect(report.deliveries.find((d) => d.subscriptionId === sub.id)?.outcome).toBe("failed");
    await emu.idle(); // the probation retry (time-scaled) succeeds and restores the hook
    expect(subscriptionStatus((await client.getSubscription(sub.id))!)).toBe("enabled");
    const failed = await client.listNotifications(sub.id, { result: "failed" });
    expect(failed).toHaveLength(1);
    expect(failed[0].details?.event?.id).toBe(report.event.id);
    expect(failed[0].details?.event?.resource).toEqual(report.event.resource);
    expect(failed[0].details?.consumerInputs?.basicAuthPassword).toBe(MASKED_SECRET);
    const all = await client.listNotifications(sub.id);
    expect(all.map((n) => n.result)).toEqual(["succeeded", "failed"]); // newest first
    expect(all[0].details?.event?.id).toBe(report.event.id);
    expect(await client.listNotifications(sub.id, { maxResults: 1 })).toHaveLength(1);
    await client.deleteSubscription(sub.id);
  });

  test("test notification: delivered through the subscription with its stored secret", async () => {
    const sub = await client.createSubscription(webhookInput(`${receiver.url}/test`, { projectId }));
    const before = receiver.received.length;
    const n = await client.sendTestNotification(sub.id);
    expect(n.status).toBe("completed");
    expect(n.result).toBe("succeeded");
    const got = receiver.received.slice(before).find((r) => r.path === "/test")!;
    expect(got.headers.authorization).toBe(
      `Basic ${Buffer.from("hookfleet:s3cret-pass").toString("base64")}`,
    );
    expect(got.body.eventType).toBe("git.push");

    receiver.respond = () => 503;
    const failed = await client.sendTestNotification(sub.id);
    receiver.respond = () => 200;
    expect(failed.result).toBe("failed");
    expect(failed.details?.errorMessage).toMatch(/503/);
    await expect(client.sendTestNotification("00000000-0000-0000-0000-0000000000aa")).rejects.toThrow(
      /not found/,
    );
  });
});

describe("release (rm) hooks are written on the Release service's host", () => {
  const release = (url: string, projectId: string) =>
    webhookInput(url, {
      projectId,
      publisherId: "rm",
      eventType: "ms.vss-release.deployment-completed-event",
      resourceVersion: "3.0-preview.1",
    });
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  test("Azure DevOps Services: create, replace and test on the host the resource areas name; read, list and delete on the org's", async () => {
    const emu = await startAdoEmulator({ timeScale: 1e-6, allowBasicAuthOverLoopbackHttp: true });
    try {
      const projectId = emu.projects()[0].id;
      const client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
      const rm = await client.createSubscription(release(`${receiver.url}/rm`, projectId));
      const push = await client.createSubscription(webhookInput(`${receiver.url}/push`, { projectId }));
      expect(emu.counters.byRoute).toMatchObject({
        "POST /vsrm/_apis/hooks/subscriptions": 1,
        "POST /_apis/hooks/subscriptions": 1,
      });
      // Every subscription is read and listed on the organization's host, rm ones included.
      expect((await client.getSubscription(rm.id))?.eventType).toBe(
        "ms.vss-release.deployment-completed-event",
      );
      const listed = await client.listSubscriptions({ consumerUrlPrefix: receiver.url });
      expect(listed.map((s) => s.id).sort()).toEqual([rm.id, push.id].sort());

      await client.replaceSubscription(rm.id, {
        ...release(`${receiver.url}/rm`, projectId),
        status: "disabledByUser",
      });
      expect(emu.counters.byRoute["PUT /vsrm/_apis/hooks/subscriptions/{id}"]).toBe(1);
      expect(emu.subscription(rm.id)?.status).toBe("disabledByUser");
      expect((await client.sendTestNotification(push.id)).result).toBe("succeeded");
      await client.replaceSubscription(rm.id, release(`${receiver.url}/rm`, projectId));
      expect((await client.sendTestNotification(rm.id)).result).toBe("succeeded");
      expect(emu.counters.byRoute["POST /vsrm/_apis/hooks/testnotifications"]).toBe(1);
      expect(emu.counters.byRoute["POST /_apis/hooks/testnotifications"]).toBe(1);

      expect(await client.deleteSubscription(rm.id)).toBe(true);
      expect(emu.counters.byRoute["DELETE /_apis/hooks/subscriptions/{id}"]).toBe(1);
      // The Release host was found once, through the resource areas, as the node client does.
      expect(emu.counters.byRoute["GET /_apis/ResourceAreas"]).toBe(1);
    } finally {
      await emu.close();
    }
  });

  test("the org's host refuses to create an rm subscription, with ADO's message", async () => {
    const emu = await startAdoEmulator({ allowBasicAuthOverLoopbackHttp: true });
    try {
      const res = await fetch(`${emu.orgUrl()}/_apis/hooks/subscriptions?api-version=7.1`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`:${emu.pat}`).toString("base64")}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(release(`${receiver.url}/rm`, emu.projects()[0].id)),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toBe(
        "There is no registered handler for the service hooks event type ms.vss-release.deployment-completed-event.",
      );
    } finally {
      await emu.close();
    }
  });

  test("Azure DevOps Server (no resource areas): everything on the collection's URL", async () => {
    const emu = await startAdoEmulator({ allowBasicAuthOverLoopbackHttp: true, releaseHost: false });
    try {
      const client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
      const rm = await client.createSubscription(release(`${receiver.url}/rm`, emu.projects()[0].id));
      await client.replaceSubscription(rm.id, release(`${receiver.url}/rm`, emu.projects()[0].id));
      expect((await client.sendTestNotification(rm.id)).result).toBe("succeeded");
      expect(emu.counters.byRoute).toMatchObject({
        "POST /_apis/hooks/subscriptions": 1,
        "PUT /_apis/hooks/subscriptions/{id}": 1,
        "POST /_apis/hooks/testnotifications": 1,
      });
      expect(Object.keys(emu.counters.byRoute).filter((r) => r.includes("/vsrm/"))).toEqual([]);
      expect(emu.subscription(rm.id)?.publisherId).toBe("rm");
    } finally {
      await emu.close();
    }
  });
});
