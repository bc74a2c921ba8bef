import { EVENT_CATALOGUE } from "../../ado/events";
import { messageId } from "../../app/messages";
import { mintToken } from "../../app/tokens";
import { DEFAULT_PROJECT, sampleEvent } from "../../devkit/ado-events";
import { basic, postJson, send, startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const tokenUrl = (token: string) => h.receiver.webhookUrl(token);
const basicUrl = (systemId: string) => `${h.receiver.url}/api/v1/systems/${systemId}/webhooks`;

describe("URL-token deliveries", () => {
  it("stores an ADO event as one message and answers 201 with its id", async () => {
    const event = sampleEvent("git.push");
    const res = await postJson(tokenUrl(h.secrets.devopsToken), event);
    expect(res.status).toBe(201);
    const { id, duplicate } = res.json();
    expect(duplicate).toBe(false);
    expect(id).toBe(messageId("devops", event.id));
    const { resource: doc } = await h.cosmos.messages.item(String(id), "devops").read();
    expect(doc).toMatchObject({
      id,
      systemId: "devops",
      sourceEventId: event.id,
      type: "git.push",
      source: "ado",
      createdDate: event.createdDate,
      actor: { name: "Jamal Hartnett" },
      target: { kind: "repository", name: "Fabrikam-Fiber-Git" },
      project: { id: event.resourceContainers.project?.id, name: "Fabrikam-Fiber-Git" },
      ttl: 1825 * 86400,
    });
    expect(doc.body).toEqual(event);
    expect(doc.projection).toBeUndefined();
    expect(String(doc.id)).not.toMatch(/[/\\]/);
  });

  it("answers a retry of the same event with the original id and stores nothing new", async () => {
    const event = sampleEvent("workitem.updated");
    const first = await postJson(tokenUrl(h.secrets.devopsToken), event);
    const again = await postJson(tokenUrl(h.secrets.devopsToken), {
      ...event,
      createdDate: new Date().toISOString(),
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json()).toEqual({ id: first.json().id, duplicate: true });
    const stored = (await h.cosmos.storedMessages("devops")).filter((m) => m.sourceEventId === event.id);
    expect(stored).toHaveLength(1);
  });

  it("stores an ADO event whose resource is null or absent (a hook sending no resource details)", async () => {
    // ADO's shape with resourceDetailsToSend "none" is unconfirmed: a 400 would be enduring for ADO.
    for (const [system, token] of [
      ["devops", h.secrets.devopsToken],
      ["lean", h.secrets.leanToken],
    ] as const) {
      const withNull = { ...sampleEvent("git.push"), resource: null };
      const { resource: _dropped, ...without } = sampleEvent("build.complete");
      for (const event of [withNull, without]) {
        const res = await postJson(tokenUrl(token), event);
        expect({ system, status: res.status, body: res.json() }).toEqual({
          system,
          status: 201,
          body: { id: messageId(system, event.id), duplicate: false },
        });
        const again = await postJson(tokenUrl(token), event);
        expect(again.json()).toEqual({ id: messageId(system, event.id), duplicate: true });
        const { resource: doc } = await h.cosmos.messages.item(messageId(system, event.id), system).read();
        expect(doc).toMatchObject({ sourceEventId: event.id, type: event.eventType, source: "ado" });
      }
    }
  });

  it("keeps the same ADO event id apart per system", async () => {
    const event = sampleEvent("build.complete");
    const a = await postJson(tokenUrl(h.secrets.devopsToken), event);
    const b = await postJson(tokenUrl(h.secrets.leanToken), event);
    expect(a.json().duplicate).toBe(false);
    expect(b.json().duplicate).toBe(false);
    expect(a.json().id).not.toBe(b.json().id);
  });

  it("answers 404 webhook-not-found for malformed, bad-checksum, unknown and expired tokens", async () => {
    const good = h.secrets.devopsToken;
    const badChecksum = good.slice(0, -1) + (good.endsWith("A") ? "B" : "A");
    for (const token of [
      "not-a-token",
      badChecksum,
      mintToken(),
      h.secrets.expiredToken,
      "alw_" + "x".repeat(300),
    ]) {
      const res = await postJson(tokenUrl(token), sampleEvent("git.push"));
      expect({ token, status: res.status, body: res.text }).toEqual({
        token,
        status: 404,
        body: '{"error":"webhook-not-found"}',
      });
    }
  });

  it("requires the Basic password too on a system that requires both", async () => {
    const event = sampleEvent("git.pullrequest.created");
    const tokenOnly = await postJson(tokenUrl(h.secrets.bothToken), event);
    expect(tokenOnly.status).toBe(401);
    expect(tokenOnly.headers.get("www-authenticate")).toMatch(/^Basic /);
    const wrong = await postJson(tokenUrl(h.secrets.bothToken), event, {
      authorization: basic("x", "wrong"),
    });
    expect(wrong.status).toBe(401);
    const ok = await postJson(tokenUrl(h.secrets.bothToken), event, {
      authorization: basic("any", h.secrets.bothPassword),
    });
    expect(ok.status).toBe(201);
    expect(await h.cosmos.storedMessages("both")).toHaveLength(1);
  });
});

describe("Basic-auth deliveries", () => {
  it("accepts the system's password with any username", async () => {
    const res = await postJson(basicUrl("devops"), sampleEvent("tfvc.checkin"), {
      authorization: basic("whoever", h.secrets.basicPassword),
    });
    expect(res.status).toBe(201);
    expect(res.json().duplicate).toBe(false);
  });

  it("checks the username when the system sets one", async () => {
    const event = sampleEvent("workitem.created");
    const wrongUser = await postJson(basicUrl("named"), event, {
      authorization: basic("other", h.secrets.namedPassword),
    });
    expect(wrongUser.status).toBe(401);
    const ok = await postJson(basicUrl("named"), event, {
      authorization: basic("hookfleet", h.secrets.namedPassword),
    });
    expect(ok.status).toBe(201);
  });

  it("answers 401 with a Basic challenge for a missing or wrong credential or an unknown system", async () => {
    const event = sampleEvent("git.push");
    for (const [system, auth] of [
      ["devops", undefined],
      ["devops", basic("u", "wrong-password")],
      ["devops", "Bearer abc"],
      ["lean", basic("u", h.secrets.basicPassword)],
      ["nosuchsystem", basic("u", h.secrets.basicPassword)],
    ] as const) {
      const res = await postJson(basicUrl(system), event, auth ? { authorization: auth } : {});
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="hookfleet", charset="UTF-8"');
    }
    const stored = await h.cosmos.storedMessages();
    expect(stored.some((m) => m.sourceEventId === event.id)).toBe(false);
  });
});

describe("Event Grid and CloudEvents", () => {
  it("answers the subscription validation handshake with 200 and the code", async () => {
    const res = await postJson(
      tokenUrl(h.secrets.devopsToken),
      [
        {
          id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
          topic: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t",
          subject: "",
          data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://x" },
          eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
          eventTime: new Date().toISOString(),
          metadataVersion: "1",
          dataVersion: "1",
        },
      ],
      { "aeg-event-type": "SubscriptionValidation" },
    );
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
  });

  it("stores an event an Event Grid array carries twice once, and answers its second copy as a duplicate", async () => {
    // Event Grid delivers at least once: a publisher's retry can put both copies in one array, and a
    // 400 for the array would never be retried.
    const run = Date.now();
    const event = (n: number) => ({
      id: `twice-${n}-${run}`,
      topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
      subject: `/blobServices/default/containers/c/blobs/file${n}.json`,
      eventType: "Microsoft.Storage.BlobCreated",
      eventTime: new Date().toISOString(),
      data: { n },
      dataVersion: "1",
    });
    const [a, b] = [event(1), event(2)];
    const idOf = (e: { id: string }) => messageId("lean", e.id);
    const res = await postJson(tokenUrl(h.secrets.leanToken), [a, b, a]);
    expect(res.status).toBe(201);
    expect(res.json()).toEqual({
      id: idOf(a),
      duplicate: false,
      messages: [
        { id: idOf(a), duplicate: false },
        { id: idOf(b), duplicate: false },
        { id: idOf(a), duplicate: true },
      ],
    });
    const stored = (await h.cosmos.storedMessages("lean")).filter((m) =>
      String(m.sourceEventId).endsWith(`-${run}`),
    );
    expect(stored.map((m) => m.sourceEventId).sort()).toEqual([a.id, b.id]);
    const again = await postJson(tokenUrl(h.secrets.leanToken), [a, a]);
    expect(again.json()).toMatchObject({
      duplicate: true,
      messages: [{ duplicate: true }, { duplicate: true }],
    });
  });

  it("stores each event of an Event Grid array and recognises a redelivery", async () => {
    const events = [1, 2, 3].map((i) => ({
      id: `eg-${i}-${Date.now()}`,
      topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
      subject: `/blobServices/default/containers/c/blobs/file${i}.json`,
      eventType: "Microsoft.Storage.BlobCreated",
      eventTime: new Date().toISOString(),
      data: { api: "PutBlob", contentLength: 100 * i },
      dataVersion: "1",
    }));
    const res = await postJson(tokenUrl(h.secrets.devopsToken), events, { "aeg-event-type": "Notification" });
    expect(res.status).toBe(201);
    const body = res.json() as {
      id: string;
      duplicate: boolean;
      messages: { id: string; duplicate: boolean }[];
    };
    expect(body.messages).toHaveLength(3);
    expect(body.duplicate).toBe(false);
    const again = await postJson(tokenUrl(h.secrets.devopsToken), events);
    expect(again.json()).toMatchObject({ id: body.id, duplicate: true });
    const stored = (await h.cosmos.storedMessages("devops")).filter((m) => m.source === "eventgrid");
    expect(stored.map((m) => m.sourceEventId).sort()).toEqual(events.map((e) => e.id).sort());
    expect(stored[0]).toMatchObject({ type: "Microsoft.Storage.BlobCreated", target: { kind: "subject" } });
  });

  it("answers the CloudEvents OPTIONS handshake for a valid token only", async () => {
    const ok = await send(tokenUrl(h.secrets.devopsToken), {
      method: "OPTIONS",
      headers: { "webhook-request-origin": "eventgrid.azure.net" },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
    expect(ok.headers.get("webhook-allowed-rate")).toBe("*");
    const noOrigin = await send(tokenUrl(h.secrets.devopsToken), { method: "OPTIONS" });
    expect(noOrigin.status).toBe(400);
    const badToken = await send(tokenUrl(mintToken()), {
      method: "OPTIONS",
      headers: { "webhook-request-origin": "eventgrid.azure.net" },
    });
    expect(badToken.status).toBe(404);
  });

  it("accepts a CloudEvents 1.0 event sent as application/cloudevents+json", async () => {
    const ce = {
      specversion: "1.0",
      id: `ce-${Date.now()}`,
      source: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
      type: "Microsoft.Storage.BlobDeleted",
      subject: "/blobServices/default/containers/c/blobs/x",
      time: new Date().toISOString(),
      data: { api: "DeleteBlob" },
    };
    const res = await send(tokenUrl(h.secrets.devopsToken), {
      body: JSON.stringify(ce),
      headers: { "content-type": "application/cloudevents+json; charset=utf-8" },
    });
    expect(res.status).toBe(201);
    const { resource } = await h.cosmos.messages.item(String(res.json().id), "devops").read();
    expect(resource).toMatchObject({
      source: "eventgrid",
      type: "Microsoft.Storage.BlobDeleted",
      sourceEventId: ce.id,
    });
  });
});

describe("lean systems and retention", () => {
  it.each(EVENT_CATALOGUE.map((e) => e.eventType))(
    "stores %s as a projection of at most 1 KB with no body and ttl from retention",
    async (eventType) => {
      const event = sampleEvent(eventType);
      const res = await postJson(tokenUrl(h.secrets.leanToken), event);
      expect(res.status).toBe(201);
      const { resource: doc } = await h.cosmos.messages.item(String(res.json().id), "lean").read();
      expect(doc.body).toBeUndefined();
      expect(doc.ttl).toBe(30 * 86400);
      expect(doc.projection.eventType).toBe(eventType);
      expect(Buffer.byteLength(JSON.stringify(doc.projection))).toBeLessThanOrEqual(1024);
      expect(doc.projection.summary).toBe(event.message?.text);
      // Release events carry their project in resource.project, not in resourceContainers.
      expect(doc.projection.project.id).toBe(DEFAULT_PROJECT.id);
      expect(doc.projection.target.kind).toBeTruthy();
      expect(doc.projection.target.id ?? doc.projection.target.name).toBeTruthy();
    },
  );

  it("keeps a lean projection within 1 KB even for an 18 KB payload with long texts", async () => {
    const event = sampleEvent("git.pullrequest.created", {
      targetBytes: 18 * 1024,
      message: { text: "x".repeat(5000) },
      resource: { title: "t".repeat(3000) },
    });
    const res = await postJson(tokenUrl(h.secrets.leanToken), event);
    const { resource: doc } = await h.cosmos.messages.item(String(res.json().id), "lean").read();
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThan(16 * 1024);
    expect(Buffer.byteLength(JSON.stringify(doc.projection))).toBeLessThanOrEqual(1024);
  });
});

describe("concurrency", () => {
  it("stores exactly one message for 200 concurrent deliveries of the same event, all 201 with the same id", async () => {
    const event = sampleEvent("git.pullrequest.merged");
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => postJson(tokenUrl(h.secrets.devopsToken), event)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(201));
    const bodies = answers.map((a) => a.json());
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(bodies.filter((b) => b.duplicate === false)).toHaveLength(1);
    const stored = (await h.cosmos.storedMessages("devops")).filter((m) => m.sourceEventId === event.id);
    expect(stored).toHaveLength(1);
  });
});
