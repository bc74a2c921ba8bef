import { redactPath } from "../../app/logging";
import { mintToken } from "../../app/tokens";
import { sampleEvent } from "../support/ado-events";
import { basic, postJson, send, startHarness, type Harness } from "./harness";

describe("log hygiene", () => {
  const lines: string[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ logLevel: "info", logStream: { write: (line: string) => lines.push(line) } });
  });
  afterAll(() => h.close());

  it("writes one JSON line per request with the token redacted, and never a credential", async () => {
    const unknown = mintToken();
    const badChecksum = h.secrets.devopsToken.slice(0, -1) + "0";
    await postJson(h.receiver.webhookUrl(h.secrets.devopsToken), sampleEvent("git.push"));
    await postJson(h.receiver.webhookUrl(unknown), sampleEvent("git.push"));
    await postJson(h.receiver.webhookUrl(badChecksum), sampleEvent("git.push"));
    await postJson(h.receiver.webhookUrl("short-garbage-token"), "{not json");
    await postJson(`${h.receiver.url}/api/v1/systems/devops/webhooks`, sampleEvent("git.push"), {
      authorization: basic("user", h.secrets.basicPassword),
    });
    await send(`${h.receiver.url}/api/v1/messages?systemId=devops`, {
      method: "GET",
      headers: { authorization: `Bearer ${h.secrets.readToken}` },
    });
    await send(`${h.receiver.url}/no/such/${h.secrets.devopsToken}`, { method: "GET" });

    const all = lines.join("");
    for (const secret of [
      h.secrets.devopsToken,
      unknown,
      badChecksum,
      "short-garbage-token",
      h.secrets.basicPassword,
      h.secrets.readToken,
      Buffer.from(`user:${h.secrets.basicPassword}`).toString("base64"),
    ])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/authorization/i);

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === "request");
    expect(requests).toHaveLength(7);
    expect(requests[0]).toMatchObject({
      method: "POST",
      url: "/api/v1/webhooks/[redacted]",
      statusCode: 201,
    });
    expect(requests.map((r) => r.statusCode)).toEqual([201, 404, 404, 404, 201, 200, 404]);
  });
});

describe("redactPath", () => {
  it("redacts the token segment of webhook paths and any alw_ token anywhere", () => {
    const t = mintToken();
    expect(redactPath(`/api/v1/webhooks/${t}?x=1`)).toBe("/api/v1/webhooks/[redacted]?x=1");
    expect(redactPath(`/api/v1/webhooks/anything`)).toBe("/api/v1/webhooks/[redacted]");
    expect(redactPath(`/other/${t}`)).toBe("/other/alw_[redacted]");
    expect(redactPath("/healthz")).toBe("/healthz");
  });
});
