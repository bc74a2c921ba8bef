/**
 * The heal job as it runs in the container (`npm run heal` = scripts/heal.ts = app/heal/main.ts)
 * with OTEL_EXPORTER_OTLP_ENDPOINT at a local OTLP capture server: a hook ADO disabled after failed
 * deliveries is replayed and re-enabled, and that shows as metrics (re-enabled, replayed, runs,
 * hooks by status) and spans (run, org, hook with its name). A run with a bad configuration still
 * reports its failure. The PAT and the URL token never appear in what is exported.
 */
import { attrs, healOutcomes, metrics, serviceNames, spans } from "../../app/telemetry/names";
import { adoOrgName, healJobKey } from "../../app/telemetry/org";
import type { SystemSetting } from "../../app/settings";
import { mintToken, sha256Hex } from "../../app/tokens";
import {
  attributesRead,
  dashboardQueries,
  healRunQuery,
  hooksNotEnabledQuery,
  quietOrgQuery,
} from "../../components/receiver/telemetry-kql";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { hookDisabledByDownReceiver } from "../heal/disabled-hook";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";
import { startOtlpCapture, type OtlpCapture } from "../support/otlp-capture";
import { startProcess, unreadableAttributes, valuesOf } from "./helpers";

jest.setTimeout(90_000);

let emu: AdoEmulator;
let cosmos: CosmosTestServer;
let capture: OtlpCapture;
let hookId: string;
let env: Record<string, string>;
/** The org key of the emulator's organization URL (a local host: `127.0.0.1:<port>/contoso`). */
let org: string;
const token = mintToken();
const systems: SystemSetting[] = [{ id: "devops", storageMode: "full", retentionDays: 7 }];

beforeAll(async () => {
  emu = await startAdoEmulator({ orgs: [{ name: "contoso", projects: ["Alpha"] }], timeScale: 1e-6 });
  cosmos = await startCosmosServer();
  capture = await startOtlpCapture();
  // The receiver is down (connection refused): ADO retries, puts the hook on probation, disables it.
  const disabled = await hookDisabledByDownReceiver(emu, token);
  hookId = disabled.hookId;
  expect(emu.subscription(hookId)!.status).toBe("disabledBySystem");
  org = adoOrgName(emu.orgUrl());
  expect(org).toMatch(/^127\.0\.0\.1:\d+\/contoso$/);
  env = {
    HOOKFLEET_HEAL_ORG_URLS: emu.orgUrl(),
    HOOKFLEET_WEBHOOK_BASE_URL: disabled.base,
    AZURE_DEVOPS_EXT_PAT: emu.pat,
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    HOOKFLEET_SYSTEMS: JSON.stringify(systems),
    HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: sha256Hex(token), systemId: "devops" }]),
    OTEL_EXPORTER_OTLP_ENDPOINT: capture.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  };
});

afterAll(async () => {
  await emu?.close();
  await cosmos?.close();
  await capture?.close();
});

const heal = (extra: Record<string, string> = {}) => {
  const p = startProcess("scripts/heal.ts", [], { ...env, ...extra });
  return p.exited().then((code) => ({ code, stderr: p.stderr(), stdout: p.stdout() }));
};

test("a run that re-enables a hook and replays its failed delivery exports it as metrics and spans", async () => {
  const run = await heal();
  expect(run.code).toBe(0);
  expect(emu.subscription(hookId)!.status).toBe("enabled");
  expect(await cosmos.storedMessages("devops")).toHaveLength(1);

  // Exported before the process exited (the run flushes on the way out): no waiting needed.
  const points = capture.points();
  const point = (name: string) => points.filter((p) => p.metric === name);
  expect(point(metrics.hooksReenabled.name)).toEqual([
    expect.objectContaining({ value: 1, attributes: { [attrs.org]: org } }),
  ]);
  expect(point(metrics.replayed.name)).toEqual([
    expect.objectContaining({ value: 1, attributes: { [attrs.org]: org, [attrs.system]: "devops" } }),
  ]);
  expect(point(metrics.healRuns.name)).toEqual([
    expect.objectContaining({
      value: 1,
      attributes: { [attrs.healOutcome]: "ok", [attrs.healDryRun]: false },
    }),
  ]);
  expect(point(metrics.hooksNotEnabled.name)).toEqual([
    expect.objectContaining({
      value: 1,
      attributes: { [attrs.org]: org, [attrs.hookStatusFound]: "disabledBySystem" },
    }),
  ]);
  const gauge = point(metrics.hooks.name);
  expect(gauge.find((p) => p.attributes[attrs.hookStatus] === "disabledBySystem")?.value).toBe(1);
  expect(gauge.find((p) => p.attributes[attrs.hookStatus] === "enabled")?.value).toBe(0);
  expect(point(metrics.storeDuration.name).map((p) => p.attributes[attrs.storeOperation])).toContain(
    "create",
  );

  const all = capture.spans();
  const runSpan = all.find((s) => s.name === spans.healRun.name)!;
  expect(runSpan.resource["service.name"]).toBe(serviceNames.heal);
  expect(runSpan.attributes).toMatchObject({
    [attrs.healOutcome]: "ok",
    [attrs.healExitCode]: 0,
    [attrs.hooks]: 1,
    [attrs.hooksNotEnabled]: 1,
    [attrs.hooksReenabled]: 1,
    [attrs.replayed]: 1,
    [attrs.hookNames]: `Alpha/git.push#${hookId.slice(0, 8)}`,
    // Which job ran, as the heal-job alert names the stack's jobs (components/receiver/alerts.ts).
    [attrs.healJob]: healJobKey([emu.orgUrl()]),
  });
  expect(runSpan.attributes[attrs.healJob]).not.toBe("");
  const children = all.filter((s) => s.parentSpanId === runSpan.spanId);
  const orgSpan = children.find((s) => s.name === spans.healOrg.name)!;
  expect(orgSpan.attributes).toMatchObject({
    [attrs.org]: org,
    [attrs.hooks]: 1,
    [attrs.hooksNotEnabled]: 1,
    "hookfleet.heal.hooks.disabledBySystem": 1,
    "hookfleet.heal.hooks.enabled": 0,
  });
  const hook = children.find((s) => s.name === spans.healHook.name)!;
  expect(hook.attributes).toMatchObject({
    [attrs.org]: org,
    [attrs.hookId]: hookId,
    [attrs.hookName]: `Alpha/git.push#${hookId.slice(0, 8)}`,
    [attrs.hookStatusFound]: "disabledBySystem",
    [attrs.hookStatusAfter]: "enabled",
    [attrs.healAction]: "enabled",
    [attrs.replayed]: 1,
  });
  expect(children.some((s) => s.name === "hookfleet.store.create" && s.kind === 3)).toBe(true);

  const exported = capture.allText();
  expect(exported).not.toContain(emu.pat);
  expect(exported).not.toContain(token);
});

test("a run with a bad configuration still reports a failed run (exit 64), then the alerts' names hold", async () => {
  const before = capture.spans().length;
  const run = await heal({ HOOKFLEET_WEBHOOK_BASE_URL: "" });
  expect(run.code).toBe(64);
  const failed = capture
    .spans()
    .slice(before)
    .find((s) => s.name === spans.healRun.name)!;
  expect(failed.attributes).toMatchObject({
    [attrs.healOutcome]: healOutcomes.configError,
    [attrs.healExitCode]: 64,
  });
  expect(failed.statusCode).toBe(2); // span status ERROR
  expect(failed.attributes[attrs.healProblem]).toMatch(
    /HOOKFLEET_WEBHOOK_BASE_URL \(or --base-url\) is required/,
  );
  expect(capture.allText()).not.toContain(emu.pat);
});

test("--help records no run", async () => {
  const before = capture.spans().length;
  const p = startProcess("scripts/heal.ts", ["--help"], env);
  expect(await p.exited()).toBe(0);
  expect(
    capture
      .spans()
      .slice(before)
      .filter((s) => s.name === spans.healRun.name),
  ).toEqual([]);
});

describe("the alert and dashboard queries read what the heal job emits", () => {
  it("hooks not enabled, quiet organization (heal side), heal job, hooks by status, last heal runs", () => {
    const captured = capture.spans();
    for (const query of [
      hooksNotEnabledQuery().query,
      healRunQuery(120).query,
      // With the grace for a new job (its creation time), it reads the same attributes.
      healRunQuery(120, true, "2026-11-29T00:00:00Z").query,
      dashboardQueries.hooksByStatus,
      dashboardQueries.lastHealRuns,
    ])
      expect({
        query: query.slice(0, 60),
        missing: unreadableAttributes(query, attributesRead(query), captured),
      }).toEqual({
        query: query.slice(0, 60),
        missing: [],
      });
    const quiet = quietOrgQuery(24).query;
    expect(unreadableAttributes(quiet, [attrs.org, attrs.hooks], captured)).toEqual([]);
    // The values the queries compare with are the ones emitted.
    expect(valuesOf(captured, attrs.healOutcome)).toEqual(
      new Set([healOutcomes.ok, healOutcomes.configError]),
    );
    expect(healRunQuery(120).query).toContain(`"${healOutcomes.ok}"`);
    expect(valuesOf(captured, attrs.hookStatusFound)).toEqual(new Set(["disabledBySystem"]));
  });
});
