/**
 * Issue 13, items 7–9: event ids compared as exact strings (invalid Unicode refused), Event Grid
 * validation events only alone, bodies in UTF-8 without a content coding, and no stored message
 * over Cosmos DB's 2 MB item limit.
 */
import { gzipSync } from "node:zlib";
import { messageId, MAX_DOCUMENT_BYTES } from "../../app/messages";
import { sampleEvent } from "../../devkit/ado-events";
import { postJson, send, startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const url = () => h.receiver.webhookUrl(h.secrets.devopsToken);
const JSON_CT = { "content-type": "application/json" };
const stored = async (sourceEventId: string) =>
  (await h.cosmos.storedMessages("devops")).filter((m) => m.sourceEventId === sourceEventId);
const gridEvent = (id: string, eventType = "Custom.Thing") => ({
  id,
  subject: "/things/1",
  eventType,
  eventTime: "2026-11-30T10:00:00Z",
  data: {},
});
const validationEvent = () => ({
  ...gridEvent("v-1", "Microsoft.EventGrid.SubscriptionValidationEvent"),
  data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" },
});

describe("event ids (item 7)", () => {
  it("refuses ids that are not valid Unicode instead of merging them", async () => {
    // JSON escapes of lone surrogates: what the sender used.
    for (const id of ["ev\\ud800", "ev\\udc00", "\\udbff", "a\\udc00\\ud800b"]) {
      const res = await send(url(), {
        body: `{"id":"${id}","eventType":"git.push","resource":{}}`,
        headers: JSON_CT,
      });
      expect({ id, status: res.status }).toEqual({ id, status: 400 });
      expect(String(res.json().message)).toMatch(/`id` that is not valid Unicode/);
    }
    const inArray = await send(url(), {
      body: `[${JSON.stringify(gridEvent("fine"))},{"id":"g\\ud800","subject":"/s","eventType":"t","eventTime":"2026-01-01T00:00:00Z"}]`,
      headers: JSON_CT,
    });
    expect(inArray.status).toBe(400);
    expect(String(inArray.json().message)).toMatch(/event \[1\] has an `id` that is not valid Unicode/);
    expect(await stored("fine")).toEqual([]);
  });

  it("keeps every distinct id apart: U+FFFD, case, Unicode normalisation forms, surrogate pairs", async () => {
    const ids = ["ev\ufffd", "ev\u00e9", "eve\u0301", "EV\u00e9", "ev\u{1f600}", "ev\ufffd\ufffd"];
    for (const id of ids) {
      const res = await postJson(url(), { ...sampleEvent("git.push"), id });
      expect({ id, status: res.status, duplicate: res.json().duplicate }).toEqual({
        id,
        status: 201,
        duplicate: false,
      });
      expect(res.json().id).toBe(messageId("devops", id));
    }
    for (const id of ids) expect((await stored(id)).map((m) => m.sourceEventId)).toEqual([id]);
    // And the same string again is the same event.
    const again = await postJson(url(), { ...sampleEvent("git.push"), id: "eve\u0301" });
    expect(again.json()).toEqual({ id: messageId("devops", "eve\u0301"), duplicate: true });
  });
});

describe("Event Grid validation events (item 8)", () => {
  it("answers the handshake for a validation event alone", async () => {
    const res = await postJson(url(), [validationEvent()], { "aeg-event-type": "SubscriptionValidation" });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ validationResponse: validationEvent().data.validationCode });
  });

  it("refuses an array mixing a validation event with events, wherever it is, and stores none of them", async () => {
    for (const [name, body, headers, message] of [
      [
        "validation first",
        [validationEvent(), gridEvent("mix-1"), gridEvent("mix-2")],
        { "aeg-event-type": "SubscriptionValidation" },
        /must be delivered alone; this array carries 3 events with the validation event at \[0\]/,
      ],
      [
        "validation last",
        [gridEvent("mix-3"), validationEvent()],
        { "aeg-event-type": "Notification" },
        /validation event at \[1\]/,
      ],
      [
        "validation header on an array of events",
        [gridEvent("mix-4"), gridEvent("mix-5")],
        { "aeg-event-type": "SubscriptionValidation" },
        /must be delivered alone; this array carries 2 events$/,
      ],
      [
        "validation header on one ordinary event",
        [gridEvent("mix-6")],
        { "aeg-event-type": "SubscriptionValidation" },
        /event \[0\] is not a Microsoft.EventGrid.SubscriptionValidationEvent/,
      ],
    ] as const) {
      const res = await postJson(url(), body, headers);
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(String(res.json().message)).toMatch(message);
    }
    for (const i of [1, 2, 3, 4, 5, 6]) expect(await stored(`mix-${i}`)).toEqual([]);
    expect(await stored("v-1")).toEqual([]);
  });
});

describe("body encoding (item 9)", () => {
  const event = (id: string) => JSON.stringify({ ...sampleEvent("git.push"), id });

  it("accepts UTF-8 however the charset is spelled, and no charset at all", async () => {
    for (const [i, contentType] of [
      "application/json",
      "application/json; charset=utf-8",
      'application/json;charset="UTF-8"',
      "application/cloudevents-batch+json; charset=UTF-8",
    ].entries()) {
      const body = contentType.includes("cloudevents")
        ? JSON.stringify([{ specversion: "1.0", id: `cs-${i}`, source: "/s", type: "t" }])
        : event(`cs-${i}`);
      const res = await send(url(), { body, headers: { "content-type": contentType } });
      expect({ contentType, status: res.status }).toEqual({ contentType, status: 201 });
    }
  });

  it("answers 415 for another charset and for any content coding but identity, before reading the body", async () => {
    const body = event("enc-1");
    for (const [headers, message] of [
      [{ "content-type": "application/json; charset=latin1" }, /charset latin1 is not supported/],
      [{ "content-type": "application/json; charset=utf-16" }, /charset utf-16 is not supported/],
      [{ ...JSON_CT, "content-encoding": "gzip" }, /Content-Encoding gzip is not supported/],
      [{ ...JSON_CT, "content-encoding": "br" }, /Content-Encoding br is not supported/],
      [{ ...JSON_CT, "content-encoding": "identity, gzip" }, /Content-Encoding gzip/],
    ] as const) {
      const res = await send(url(), {
        body: headers["content-encoding"] === "gzip" ? gzipSync(body) : body,
        headers,
      });
      expect(res.status).toBe(415);
      expect(res.json()).toEqual({
        error: "unsupported-media-type",
        message: expect.stringMatching(message),
      });
      if ("content-encoding" in headers) expect(res.headers.get("accept-encoding")).toBe("identity");
    }
    expect(await stored("enc-1")).toEqual([]);
    const identity = await send(url(), { body, headers: { ...JSON_CT, "content-encoding": "identity" } });
    expect(identity.status).toBe(201);
  });

  it("answers 400 for bytes that are not UTF-8 instead of storing U+FFFD", async () => {
    const wrap = (bytes: number[]) =>
      Buffer.concat([
        Buffer.from('{"id":"bad-utf8","eventType":"git.push","resource":{"text":"'),
        Buffer.from(bytes),
        Buffer.from('"}}'),
      ]);
    for (const [name, body] of [
      ["a 0xFF byte", wrap([0x61, 0xff, 0x62])],
      ["Latin-1 é", wrap([0xe9])],
      ["an overlong /", wrap([0xc0, 0xaf])],
      ["a UTF-8-encoded surrogate", wrap([0xed, 0xa0, 0x80])],
      ["a truncated sequence", wrap([0xe2, 0x82])],
      ["1 MB of 0xFF", Buffer.alloc(1024 * 1024, 0xff)],
    ] as const) {
      const res = await send(url(), { body, headers: JSON_CT });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(String(res.json().message)).toMatch(/not valid UTF-8/);
    }
    expect(await stored("bad-utf8")).toEqual([]);
  });

  it("stores valid UTF-8 exactly as sent, with or without a byte-order mark", async () => {
    const text = "héllo – 世界 😀";
    const body = Buffer.from(`\ufeff{"id":"utf8-ok","eventType":"git.push","resource":{"text":"${text}"}}`);
    const res = await send(url(), { body, headers: JSON_CT });
    expect(res.status).toBe(201);
    const [doc] = await stored("utf8-ok");
    expect((doc.body as { resource: { text: string } }).resource.text).toBe(text);
  });
});

describe("stored document size (item 9)", () => {
  /** An ADO event padded with `count` copies of a number literal, e.g. 1e20. */
  const numbers = (id: string, literal: string, count: number) =>
    `{"id":"${id}","eventType":"git.push","resource":{"n":[${Array(count).fill(literal).join(",")}]}}`;

  it("refuses with 413 an event whose stored message would pass the limit, though its body is under 1 MB", async () => {
    // 5 bytes per number as sent, 22 as stored: 400 KB become 1.8 MB; 100 KB more pass the limit.
    const body = numbers("too-big", "1e20", 100_000);
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
    const res = await send(url(), { body, headers: JSON_CT });
    expect(res.status).toBe(413);
    expect(res.json()).toEqual({
      error: "payload-too-large",
      message: expect.stringMatching(
        new RegExp(`the event would be stored as \\d+ bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit`),
      ),
    });
    expect(await stored("too-big")).toEqual([]);
  });

  it("refuses a whole Event Grid array when one of its events would pass the limit", async () => {
    const big = `{"id":"arr-big","subject":"/s","eventType":"t","eventTime":"2026-01-01T00:00:00Z","data":[${Array(100_000).fill("9e20").join(",")}]}`;
    const res = await send(url(), {
      body: `[${JSON.stringify(gridEvent("arr-small"))},${big}]`,
      headers: JSON_CT,
    });
    expect(res.status).toBe(413);
    expect(String(res.json().message)).toMatch(/event \[1\] would be stored as/);
    expect(await stored("arr-small")).toEqual([]);
  });

  it("stores a body that grows but stays under the limit, and no stored message is over it", async () => {
    const res = await send(url(), { body: numbers("grows", "1e20", 80_000), headers: JSON_CT });
    expect(res.status).toBe(201);
    const exact = "x".repeat(1024 * 1024 - 100);
    const full = await postJson(url(), { id: "one-mb", eventType: "git.push", resource: { exact } });
    expect(full.status).toBe(201);
    const sizes = (await h.cosmos.storedMessages()).map((m) => Buffer.byteLength(JSON.stringify(m)));
    expect(Math.max(...sizes)).toBeGreaterThan(1_700_000);
    for (const size of sizes) expect(size).toBeLessThan(2_000_000);
  });
});
