import { ConfigError, LOCAL_DEFAULT_SYSTEM, parseConfig } from "../../app/config";
import { receiverSettings } from "../../app/settings";
import { sha256Hex } from "../../app/tokens";

const hash = sha256Hex("x");

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("receiver configuration", () => {
  it("starts in local mode with defaults from the settings schema, on loopback, with a devops system", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      mode: "local",
      port: Number(receiverSettings.PORT.default),
      host: "127.0.0.1",
      logLevel: "info",
      shutdownGraceMs: 10000,
      cosmos: { database: "hookfleet", container: "messages" },
      systems: [LOCAL_DEFAULT_SYSTEM],
      unset: { systems: true, urlTokens: true, readTokens: true },
    });
    expect(c.cosmos.endpoint).toBeUndefined();
    expect(parseConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
  });

  it("binds every interface in production mode unless HOST says otherwise (the container's ingress)", () => {
    const production = {
      HOOKFLEET_MODE: "production",
      COSMOS_ENDPOINT: "https://acct.documents.azure.com:443/",
      HOOKFLEET_SYSTEMS: JSON.stringify([{ id: "devops", storageMode: "full", retentionDays: 1 }]),
      HOOKFLEET_URL_TOKENS: "[]",
      HOOKFLEET_READ_TOKENS: "[]",
    };
    expect(parseConfig(production).host).toBe(receiverSettings.HOST.default);
    expect(receiverSettings.HOST.default).toBe("0.0.0.0");
    expect(parseConfig({ ...production, HOST: "10.0.0.4" }).host).toBe("10.0.0.4");
  });

  it("accepts, in local mode without HOOKFLEET_SYSTEMS, a URL token for the default devops system", () => {
    const c = parseConfig({ HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: hash, systemId: "devops" }]) });
    expect(c.urlTokens).toEqual([{ sha256: hash, systemId: "devops" }]);
    expect(problemsOf({ HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: hash, systemId: "ops" }]) })).toEqual(
      ['HOOKFLEET_URL_TOKENS[0].systemId "ops" is not one of the configured systems'],
    );
  });

  it("parses a full production configuration", () => {
    const c = parseConfig({
      HOOKFLEET_MODE: "production",
      COSMOS_ENDPOINT: "https://acct.documents.azure.com:443/",
      AZURE_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
      HOOKFLEET_SYSTEMS: JSON.stringify([
        {
          id: "devops",
          storageMode: "lean",
          retentionDays: 1825,
          basicPasswords: [{ sha256: hash }],
          requireBoth: true,
        },
      ]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([
        { sha256: hash.toUpperCase(), systemId: "devops", notAfter: "2030-01-01T00:00:00Z" },
      ]),
      HOOKFLEET_READ_TOKENS: JSON.stringify([{ sha256: hash }]),
      METRICS_PORT: "9090",
    });
    expect(c.mode).toBe("production");
    expect(c.cosmos.key).toBeUndefined();
    expect(c.cosmos.managedIdentityClientId).toBe("00000000-0000-0000-0000-000000000001");
    expect(c.urlTokens[0]).toEqual({ sha256: hash, systemId: "devops", notAfter: "2030-01-01T00:00:00Z" });
    expect(c.systems[0].requireBoth).toBe(true);
    expect(c.metricsPort).toBe(9090);
  });

  it("reports every mistake at once, one clear line each", () => {
    const problems = problemsOf({
      HOOKFLEET_MODE: "prod",
      PORT: "http",
      LOG_LEVEL: "loud",
      SHUTDOWN_GRACE_MS: "soon",
      COSMOS_ENDPOINT: "not a url",
      HOOKFLEET_SYSTEMS: JSON.stringify([
        { id: "ok", storageMode: "full", retentionDays: 10 },
        { id: "ok", storageMode: "full", retentionDays: 10 },
        { id: "x", storageMode: "tiny", retentionDays: 0, requireBoth: true },
      ]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: "alw_plaintexttoken", systemId: "ghost" }]),
      HOOKFLEET_READ_TOKENS: "{not json",
    });
    const expected = [
      /HOOKFLEET_MODE must be "production" or "local"/,
      /PORT must be a port number/,
      /LOG_LEVEL must be one of/,
      /SHUTDOWN_GRACE_MS must be a whole number/,
      /COSMOS_ENDPOINT must be a URL/,
      /HOOKFLEET_READ_TOKENS is not valid JSON/,
    ];
    for (const re of expected) expect(problems.some((p) => re.test(p))).toBe(true);
    expect(problems.length).toBe(expected.length);

    const credentialProblems = problemsOf({
      HOOKFLEET_SYSTEMS: JSON.stringify([
        { id: "ok", storageMode: "full", retentionDays: 10 },
        { id: "ok", storageMode: "full", retentionDays: 10 },
        { id: "x", storageMode: "tiny", retentionDays: 0, requireBoth: true },
      ]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: "alw_plaintexttoken", systemId: "ghost" }]),
      HOOKFLEET_READ_TOKENS: JSON.stringify([{ sha256: hash, notAfter: "someday" }]),
    });
    for (const re of [
      /HOOKFLEET_SYSTEMS\[1\]\.id "ok" is listed twice/,
      /HOOKFLEET_SYSTEMS\[2\]\.storageMode must be "full" or "lean"/,
      /HOOKFLEET_SYSTEMS\[2\]\.retentionDays must be a whole number/,
      /HOOKFLEET_SYSTEMS\[2\]\.requireBoth needs at least one basicPasswords entry/,
      /HOOKFLEET_URL_TOKENS\[0\]\.sha256 must be 64 hex characters \(the SHA-256 of the credential, not the credential\)/,
      /HOOKFLEET_READ_TOKENS\[0\]\.notAfter must be an ISO date-time/,
    ])
      expect(credentialProblems.some((p) => re.test(p))).toBe(true);
  });

  it("requires in production every setting the schema marks as required, and https", () => {
    const problems = problemsOf({ HOOKFLEET_MODE: "production", COSMOS_ENDPOINT: "http://localhost:8081" });
    expect(problems).toEqual(
      expect.arrayContaining([
        "COSMOS_ENDPOINT must use https in production mode",
        expect.stringMatching(/^HOOKFLEET_SYSTEMS is required in production mode/),
        expect.stringMatching(/^HOOKFLEET_URL_TOKENS is required in production mode/),
        expect.stringMatching(/^HOOKFLEET_READ_TOKENS is required in production mode/),
      ]),
    );
  });

  it("rejects a URL token bound to a system that does not exist", () => {
    const problems = problemsOf({
      HOOKFLEET_SYSTEMS: JSON.stringify([{ id: "devops", storageMode: "full", retentionDays: 1 }]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: hash, systemId: "ghost" }]),
    });
    expect(problems).toEqual([
      'HOOKFLEET_URL_TOKENS[0].systemId "ghost" is not one of the configured systems',
    ]);
  });

  it("accepts a retention up to Cosmos DB's longest TTL (2,147,483,647 s = 24,855 days), not a day more", () => {
    const systems = (retentionDays: number) =>
      JSON.stringify([{ id: "devops", storageMode: "full", retentionDays }]);
    expect(problemsOf({ HOOKFLEET_SYSTEMS: systems(24855) })).toEqual([]);
    expect(problemsOf({ HOOKFLEET_SYSTEMS: systems(24856) })).toEqual([
      "HOOKFLEET_SYSTEMS[0].retentionDays is larger than Cosmos DB's maximum TTL (24855 days)",
    ]);
  });
});
