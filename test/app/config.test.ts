import { ConfigError, LOCAL_DEFAULT_SYSTEM, parseConfig } from "../../app/config";
import { Credentials } from "../../app/credentials";
import { receiverSettings } from "../../app/settings";
import { mintToken, sha256Hex } from "../../app/tokens";

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
      /HOOKFLEET_READ_TOKENS\[0\]\.notAfter must be an RFC 3339 date-time/,
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

  it("reads notAfter strictly: an impossible day, a bare number or a time without zone is a mistake naming the key", () => {
    const readTokens = (notAfter: string) =>
      problemsOf({ HOOKFLEET_READ_TOKENS: JSON.stringify([{ sha256: hash, notAfter }]) });
    // Date.parse took these as July 1, March 2, 2001-01-01 (expired on arrival) and local time.
    expect(readTokens("2026-06-31T00:00:00Z")).toEqual([
      "HOOKFLEET_READ_TOKENS[0].notAfter names a day that does not exist (2026-06-31)",
    ]);
    expect(readTokens("2026-02-30T00:00:00Z")).toEqual([
      "HOOKFLEET_READ_TOKENS[0].notAfter names a day that does not exist (2026-02-30)",
    ]);
    for (const loose of ["1", "2026-01-01T00:00:00", "2026-12-31"])
      expect(readTokens(loose)).toEqual([
        `HOOKFLEET_READ_TOKENS[0].notAfter must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z (got "${loose}")`,
      ]);
    expect(readTokens("2026-12-31T23:59:59.5+01:00")).toEqual([]);
    const urlTokens = JSON.stringify([
      { sha256: hash, systemId: "devops", notAfter: "2026-02-30T00:00:00Z" },
    ]);
    const systems = JSON.stringify([
      {
        id: "devops",
        storageMode: "full",
        retentionDays: 1,
        basicPasswords: [{ sha256: hash, notAfter: 1 }],
      },
    ]);
    expect(problemsOf({ HOOKFLEET_URL_TOKENS: urlTokens, HOOKFLEET_SYSTEMS: systems })).toEqual([
      "HOOKFLEET_SYSTEMS[0].basicPasswords[0].notAfter must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z",
      "HOOKFLEET_URL_TOKENS[0].notAfter names a day that does not exist (2026-02-30)",
    ]);
  });

  it("refuses, when checking a request, a notAfter that validation would have refused (fails closed)", () => {
    const token = mintToken();
    const system = { id: "devops", storageMode: "full" as const, retentionDays: 1 };
    const credentials = (notAfter: string) =>
      new Credentials({
        systems: [system],
        urlTokens: [{ sha256: sha256Hex(token), systemId: "devops", notAfter }],
        readTokens: [],
      });
    const before2001 = Date.parse("2000-06-01T00:00:00Z");
    expect(credentials("2001-01-01T00:00:00Z").systemForUrlToken(token, before2001)).toEqual(system);
    // Date.parse reads "1" as 2001-01-01, so the token was live in 2000.
    expect(credentials("1").systemForUrlToken(token, before2001)).toBeUndefined();
  });

  it("bounds SHUTDOWN_GRACE_MS to 10 minutes (Node runs a timer over 2^31-1 ms after 1 ms)", () => {
    expect(parseConfig({ SHUTDOWN_GRACE_MS: "600000" }).shutdownGraceMs).toBe(600_000);
    expect(parseConfig({ SHUTDOWN_GRACE_MS: "0" }).shutdownGraceMs).toBe(0);
    for (const raw of ["600001", "2147483648", "99999999999"])
      expect(problemsOf({ SHUTDOWN_GRACE_MS: raw })).toEqual([
        `SHUTDOWN_GRACE_MS must be a whole number of milliseconds from 0 to 600000 (10 minutes) (got "${raw}")`,
      ]);
  });

  it("rejects unknown keys in systems and credential entries, naming the key (a typo must not turn a check off)", () => {
    const problems = problemsOf({
      HOOKFLEET_SYSTEMS: JSON.stringify([
        {
          id: "devops",
          storageMode: "full",
          retentionDays: 1,
          basicPasswords: [{ sha256: hash, notafter: "2026-01-01T00:00:00Z" }],
          requirBoth: true,
        },
      ]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: hash, systemId: "devops", system: "devops" }]),
      HOOKFLEET_READ_TOKENS: JSON.stringify([{ sha256: hash, expires: "2026-01-01T00:00:00Z" }]),
    });
    expect(problems).toEqual([
      'HOOKFLEET_SYSTEMS[0] has an unknown key "requirBoth" (known keys: id, storageMode, retentionDays, basicPasswords, basicUsername, requireBoth)',
      'HOOKFLEET_SYSTEMS[0].basicPasswords[0] has an unknown key "notafter" (known keys: sha256, notAfter)',
      'HOOKFLEET_URL_TOKENS[0] has an unknown key "system" (known keys: sha256, systemId, notAfter)',
      'HOOKFLEET_READ_TOKENS[0] has an unknown key "expires" (known keys: sha256, notAfter)',
    ]);
  });

  it("never quotes a secret in a message: a key that is a token, JSON that does not parse", () => {
    const token = mintToken();
    const keyed = problemsOf({ HOOKFLEET_READ_TOKENS: JSON.stringify([{ sha256: hash, [token]: true }]) });
    expect(keyed).toEqual([
      "HOOKFLEET_READ_TOKENS[0] has a key that is none of sha256, notAfter (not shown: it does not look like a field name)",
    ]);
    // JSON.parse's own message quotes the text around an unexpected token (here a hash without quotes).
    const broken = problemsOf({ HOOKFLEET_READ_TOKENS: `[{"sha256":${hash}}]` });
    expect(broken).toEqual([expect.stringMatching(/^HOOKFLEET_READ_TOKENS is not valid JSON/)]);
    expect(broken.join("")).not.toContain(hash.slice(0, 8));
  });

  it("rejects a URL-token hash listed for two systems", () => {
    const problems = problemsOf({
      HOOKFLEET_SYSTEMS: JSON.stringify([
        { id: "devops", storageMode: "full", retentionDays: 1 },
        { id: "ops", storageMode: "lean", retentionDays: 1 },
      ]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([
        { sha256: hash, systemId: "devops" },
        { sha256: hash.toUpperCase(), systemId: "ops" },
      ]),
    });
    expect(problems).toEqual([
      'HOOKFLEET_URL_TOKENS[1].sha256 is also listed for system "devops" (HOOKFLEET_URL_TOKENS[0]): a URL token belongs to one system',
    ]);
  });
});
