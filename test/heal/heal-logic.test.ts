/** The heal job's pure parts: history analysis, URL → system, arguments and configuration. */
import type { Notification } from "../../ado/types";
import { loadHealConfig, parseHealArgs, runHealCli } from "../../app/heal/cli";
import { analyzeHistory, consumerPrefix, reenableInput, targetOf } from "../../app/heal/heal";
import { formatDuration } from "../../app/heal/report";
import { healReceiverSettingNames, healSettings } from "../../app/heal/settings";
import { receiverSettings } from "../../app/settings";
import { mintToken, sha256Hex } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";

let seq = 0;
function note(result: Notification["result"], at: string, eventId?: string, withEvent = true): Notification {
  const event = eventId && withEvent ? { ...sampleEvent("git.push"), id: eventId } : undefined;
  return {
    id: ++seq,
    subscriptionId: "s",
    eventId,
    status: "completed",
    result,
    createdDate: at,
    ...(event ? { details: { event, eventType: "git.push" } } : {}),
  };
}

describe("analyzeHistory", () => {
  test("failed events with no later success, the streak start, newest-first input", () => {
    const history = [
      note("failed", "2026-01-01T10:09:00Z", "e3"),
      note("failed", "2026-01-01T10:08:00Z", "e2"),
      note("succeeded", "2026-01-01T10:07:00Z", "e1"), // e1 failed first, then went through
      note("failed", "2026-01-01T10:06:00Z", "e1"),
      note("failed", "2026-01-01T10:05:00Z", "e2"),
      note("filtered", "2026-01-01T10:10:00Z", "e4"),
      note("succeeded", "2026-01-01T09:00:00Z", "e0"),
    ];
    const a = analyzeHistory(history);
    expect(a.failed.map((f) => f.eventId).sort()).toEqual(["e2", "e3"]);
    expect(a.failed.find((f) => f.eventId === "e2")).toMatchObject({
      firstFailedAt: "2026-01-01T10:05:00Z",
      lastFailedAt: "2026-01-01T10:08:00Z",
    });
    expect(a.failed.every((f) => f.event?.id === f.eventId)).toBe(true);
    expect(a.lastSuccessAt).toBe("2026-01-01T10:07:00Z");
    expect(a.downSince).toBe("2026-01-01T10:08:00Z");
  });

  test("pending notifications count as not delivered; entries without an event are kept so they can be reported", () => {
    const a = analyzeHistory([
      note("pending", "2026-01-01T10:00:00Z", "q1"),
      note("failed", "2026-01-01T10:01:00Z", "gone", false),
      note("failed", "2026-01-01T10:02:00Z"),
    ]);
    expect(a.failed.map((f) => [f.eventId.startsWith("#") ? "#" : f.eventId, f.event !== undefined])).toEqual(
      [
        ["q1", true],
        ["gone", false],
        ["#", false],
      ],
    );
    expect(a.downSince).toBe("2026-01-01T10:00:00Z");
  });

  test("timestamps with 2 and 7 fractional digits are ordered as instants", () => {
    // Failed at .12, delivered at .1234567 (later, though "…26.12Z" > "…26.1234567Z" as text).
    const delivered = analyzeHistory([
      note("succeeded", "2026-01-01T10:00:26.1234567Z", "e1"),
      note("failed", "2026-01-01T10:00:26.12Z", "e1"),
    ]);
    expect(delivered.failed).toEqual([]);
    expect(delivered.downSince).toBeUndefined();
    // Delivered at .12, failed again at .1234567: still to replay, down since the failure.
    const failedAfter = analyzeHistory([
      note("failed", "2026-01-01T10:00:26.1234567Z", "e2"),
      note("succeeded", "2026-01-01T10:00:26.12Z", "e2"),
    ]);
    expect(failedAfter.failed.map((f) => f.eventId)).toEqual(["e2"]);
    expect(failedAfter.downSince).toBe("2026-01-01T10:00:26.1234567Z");
  });

  test("a notification without result or status (the enums' first values left out) is pending: not delivered", () => {
    const { result: _r, status: _s, ...sparse } = note("pending", "2026-01-01T10:00:00Z", "q");
    expect(analyzeHistory([sparse]).failed.map((f) => f.eventId)).toEqual(["q"]);
  });

  test("an empty or all-good history has nothing to replay", () => {
    expect(analyzeHistory([])).toEqual({ failed: [], inspected: 0 });
    expect(analyzeHistory([note("succeeded", "2026-01-01T10:00:00Z", "e")]).failed).toEqual([]);
  });
});

describe("targetOf: which system a hook delivers to", () => {
  const tok = mintToken();
  const old = mintToken();
  const credentials = {
    systems: [
      { id: "devops", storageMode: "full" as const, retentionDays: 1 },
      { id: "lean", storageMode: "lean" as const, retentionDays: 1 },
    ],
    urlTokens: [
      { sha256: sha256Hex(tok), systemId: "lean" },
      { sha256: sha256Hex(old), systemId: "devops", notAfter: "2020-01-01T00:00:00Z" },
    ],
  };
  test.each([
    [`https://r.example/api/v1/webhooks/${tok}`, { route: "token", system: { id: "lean" } }],
    [
      `https://r.example/api/v1/webhooks/${old}`,
      { route: "token", system: { id: "devops" }, tokenExpired: true },
    ],
    [
      `https://r.example/api/v1/webhooks/${mintToken()}`,
      { route: "token", problem: expect.stringMatching(/pulumi up/) },
    ],
    ["https://r.example/api/v1/systems/devops/webhooks", { route: "basic", system: { id: "devops" } }],
    [
      "https://r.example/api/v1/systems/nope/webhooks",
      { route: "basic", problem: expect.stringMatching(/"nope"/) },
    ],
    ["https://r.example/somewhere", { route: "unknown", problem: expect.any(String) }],
    // Malformed %-encoding (decodeURIComponent throws URIError): a problem, not an exception.
    [
      "https://r.example/api/v1/webhooks/alw_%E0%A4%A",
      { route: "token", problem: expect.stringMatching(/malformed %-encoding/) },
    ],
    [
      "https://r.example/api/v1/systems/dev%zzops/webhooks",
      { route: "basic", problem: expect.stringMatching(/malformed %-encoding/) },
    ],
  ])("%s", (url, expected) => {
    const t = targetOf(url, credentials);
    expect(t).toMatchObject(expected);
    expect(JSON.stringify(t)).not.toContain(tok);
  });

  test("consumerPrefix ends with exactly one slash", () => {
    expect(consumerPrefix("https://r.example")).toBe("https://r.example/");
    expect(consumerPrefix("https://r.example/base/")).toBe("https://r.example/base/");
    expect(consumerPrefix("https://r.example/base")).toBe("https://r.example/base/");
  });

  test("reenableInput keeps the masked password and ADO's own inputs, and asks for enabled", () => {
    const input = reenableInput({
      id: "x",
      publisherId: "tfs",
      eventType: "git.push",
      resourceVersion: "1.0",
      consumerId: "webHooks",
      consumerActionId: "httpRequest",
      publisherInputs: { projectId: "p", hostId: "h", tfsSubscriptionId: "t" },
      consumerInputs: { url: "https://r.example/x", basicAuthPassword: "********" },
      status: "disabledBySystem",
    });
    expect(input.status).toBe("enabled");
    expect(input.consumerInputs.basicAuthPassword).toBe("********");
    expect(input.publisherInputs).toEqual({ projectId: "p", hostId: "h", tfsSubscriptionId: "t" });
  });
});

describe("the heal command's input", () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const { code } = await runHealCli(argv, env, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  };

  test("--help prints usage, options, environment and exit codes", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    for (const s of ["--dry-run", "--json", "HOOKFLEET_HEAL_ORG_URLS", "Exit codes"])
      expect(stdout).toContain(s);
    // The code a bad argument really exits with (the tests below).
    expect(stdout).toMatch(/; 64 bad arguments or configuration\.$/);
  });

  test("every configuration mistake at once, exit 64", async () => {
    const { code, stderr } = await run([], {
      HOOKFLEET_HEAL_HISTORY_MAX: "lots",
      HOOKFLEET_HEAL_PROBATION: "maybe",
    });
    expect(code).toBe(64);
    expect(stderr).toMatch(/invalid heal configuration/);
    for (const s of [
      "HOOKFLEET_HEAL_ORG_URLS",
      "HOOKFLEET_WEBHOOK_BASE_URL",
      "COSMOS_ENDPOINT",
      "HOOKFLEET_SYSTEMS",
      "HOOKFLEET_HEAL_HISTORY_MAX",
      "HOOKFLEET_HEAL_PROBATION",
    ])
      expect(stderr).toContain(s);
  });

  test("unknown arguments and bad values, exit 64", async () => {
    expect((await run(["--frobnicate"])).stderr).toMatch(/unknown argument "--frobnicate"/);
    expect((await run(["--probation", "always"])).code).toBe(64);
    expect((await run(["--org"])).stderr).toMatch(/--org needs a value/);
  });

  test("how far back to look for re-enabled hooks: the flag over the environment, each checked by name", async () => {
    const env = {
      HOOKFLEET_HEAL_ORG_URLS: "https://dev.azure.com/contoso",
      HOOKFLEET_WEBHOOK_BASE_URL: "https://r.example",
      COSMOS_ENDPOINT: "https://c.example:443/",
      HOOKFLEET_SYSTEMS: JSON.stringify([{ id: "devops", storageMode: "full", retentionDays: 30 }]),
    };
    expect(loadHealConfig(env).recentHours).toBe(6);
    expect(loadHealConfig({ ...env, HOOKFLEET_HEAL_RECENT_HOURS: "0" }).recentHours).toBe(0);
    expect(
      loadHealConfig({ ...env, HOOKFLEET_HEAL_RECENT_HOURS: "48" }, parseHealArgs(["--recent-hours=1.5"]))
        .recentHours,
    ).toBe(1.5);
    const flag = await run(["--recent-hours", "-2"], env);
    expect(flag.code).toBe(64);
    expect(flag.stderr).toMatch(
      /--recent-hours must be a number of hours from 0 to 8760, e\.g\. 6 or 0\.5 \(got "-2"\)/,
    );
    const fromEnv = await run([], { ...env, HOOKFLEET_HEAL_RECENT_HOURS: "a day" });
    expect(fromEnv.code).toBe(64);
    expect(fromEnv.stderr).toMatch(
      /HOOKFLEET_HEAL_RECENT_HOURS must be a number of hours .* \(got "a day"\)/,
    );
  });

  test("bad receiver settings are reported by the receiver's own parser", async () => {
    const { code, stderr } = await run([], {
      HOOKFLEET_HEAL_ORG_URLS: "https://dev.azure.com/contoso, not a url",
      HOOKFLEET_WEBHOOK_BASE_URL: "https://r.example",
      COSMOS_ENDPOINT: "https://c.example:443/",
      HOOKFLEET_SYSTEMS: "[{}]",
    });
    expect(code).toBe(64);
    expect(stderr).toMatch(/HOOKFLEET_SYSTEMS\[0\]\.id/);
    expect(stderr).toMatch(/"not" is not an http\(s\) URL/);
  });

  test("settings schema: heal's own names do not collide with the receiver's, the shared ones exist there", () => {
    for (const name of Object.keys(healSettings)) expect(Object.keys(receiverSettings)).not.toContain(name);
    for (const name of healReceiverSettingNames) expect(receiverSettings).toHaveProperty(name);
    expect(healSettings.AZURE_DEVOPS_EXT_PAT.source).toBe("secret");
  });

  test("formatDuration", () => {
    expect([42_000, 93_000, 5 * 3600_000, 60 * 3600_000].map(formatDuration)).toEqual([
      "42s",
      "1m 33s",
      "5h 00m",
      "2d 12h",
    ]);
  });
});
