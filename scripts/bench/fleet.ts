/**
 * HookFleet at organization scale against the ADO emulator: the real HookFleet program under
 * Pulumi mocks, every ServiceHook stepped by the engine model against the real dynamic-provider
 * host over gRPC (devkit/provider-host; a new host per command, as `pulumi` starts one), the
 * real ADO client, HTTP on loopback with latency and an ADO-like rate limiter. Prints one line per
 * phase, then the size of the state:
 *
 *   phase: <name> hooks=<n> calls=<n> seconds=<s>
 *   state: hooks=<n> bytes-per-hook=<n> total-bytes=<n>
 *
 * calls = every HTTP request the emulator answered during the phase (program-time project listing
 * included). state = the JSON the engine stores for the ServiceHooks (inputs and outputs, `__provider`
 * included, secrets encrypted as the passphrase secrets manager writes them), as the file/blob
 * backends write it (compact JSON), per hook and in total. Details go to stderr with progress.
 */
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { AdoClient } from "../../ado/client";
import { DEFAULT_EVENT_TYPES, EVENT_CATALOGUE } from "../../ado/events";
import { mintToken } from "../../app/tokens";
import { HookFleet } from "../../components/hooks/hook-fleet";
import { SERVICE_HOOK_TYPE } from "../../components/hooks/service-hook";
import { startAdoEmulator } from "../../devkit/ado-emulator";
import { measurementKey, storedSize } from "../../devkit/provider-host/checkpoint";
import { Engine } from "../../devkit/provider-host/engine";
import { startReceiver } from "../../devkit/recording-receiver";
import { EXIT } from "../lib/args";

const HELP = `Usage: npm run bench:fleet -- [options]

Creates, refreshes, repairs and re-checks projects × event types ADO service hooks through the
real HookFleet program and ServiceHook provider against the ADO emulator (docs/hooks.md).

Options:
  --projects N        projects in the organization (default 250)
  --events N          event types per project, the defaults first (default 8, at most ${EVENT_CATALOGUE.length})
  --latency-ms N      latency the emulator adds to every API request (default 50)
  --repair N          hooks the emulator disables before the repair phase (default 100)
  --rate-budget N     requests per identity per window before ADO-like delays start (default 12000)
  --rate-window-s N   the rate limiter's sliding window in seconds (default 60)
  --no-rate-limit     no rate limiting
  --no-test-delivery  skip ADO's test notification after create/update (HookFleet default: on)
  --auth-mode M       urlToken (HookFleet's default), basic or both: what each hook carries
  --help              this text

Output (stdout): one line per phase, e.g. "phase: create hooks=2000 calls=6012 seconds=61.3", then
"state: hooks=2000 bytes-per-hook=1830 total-bytes=3660000": the JSON the engine stores for the hooks
(inputs + outputs with \`__provider\`, secrets encrypted), per hook and in total.`;

function fail(message: string): never {
  console.error(`bench:fleet: ${message}\n\n${HELP}`);
  process.exit(EXIT.usage);
}

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        projects: { type: "string", default: "250" },
        events: { type: "string", default: "8" },
        "latency-ms": { type: "string", default: "50" },
        repair: { type: "string", default: "100" },
        "rate-budget": { type: "string", default: "12000" },
        "rate-window-s": { type: "string", default: "60" },
        "no-rate-limit": { type: "boolean", default: false },
        "no-test-delivery": { type: "boolean", default: false },
        "auth-mode": { type: "string", default: "urlToken" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max)
      fail(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const authMode = values["auth-mode"];
  if (authMode !== "urlToken" && authMode !== "basic" && authMode !== "both")
    fail("--auth-mode must be urlToken, basic or both");
  const projects = int("projects", 1, 5000);
  const events = int("events", 1, EVENT_CATALOGUE.length);
  return {
    projects,
    events,
    latencyMs: int("latency-ms", 0, 10_000),
    repair: Math.min(int("repair", 0), projects * events),
    rateBudget: int("rate-budget", 1),
    rateWindowS: int("rate-window-s", 1),
    rateLimit: !values["no-rate-limit"],
    testDelivery: !values["no-test-delivery"],
    authMode: authMode as "urlToken" | "basic" | "both",
  };
}

function progress(message: string): void {
  process.stderr.write(`» ${message}\n`);
}

async function main() {
  const opts = parse();
  // Pulumi's SDK records a stack trace per resource and per promise; with tsx's source maps on,
  // each one is resolved through the maps, which costs more than our provider at this scale.
  process.setSourceMapsEnabled(false);
  const eventTypes = [
    ...DEFAULT_EVENT_TYPES,
    ...EVENT_CATALOGUE.map((e) => e.eventType).filter((e) => !DEFAULT_EVENT_TYPES.includes(e)),
  ].slice(0, opts.events);
  progress(
    `${opts.projects} projects × ${eventTypes.length} event types = ${opts.projects * eventTypes.length} hooks; ` +
      `latency ${opts.latencyMs} ms; rate limit ${opts.rateLimit ? `${opts.rateBudget} requests / ${opts.rateWindowS} s` : "off"}; ` +
      `test delivery ${opts.testDelivery ? "on" : "off"}; auth ${opts.authMode}`,
  );
  const emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: opts.projects }],
    // --auth-mode basic/both: Basic credentials to the local receiver over http (real ADO needs https).
    allowBasicAuthOverLoopbackHttp: true,
    latencyMs: opts.latencyMs,
    rateLimit: {
      enabled: opts.rateLimit,
      budget: opts.rateBudget,
      windowMs: opts.rateWindowS * 1000,
      delayMs: 200,
    },
  });
  const receiver = await startReceiver();
  const urlToken = mintToken();
  const programClient = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  const engine = new Engine({
    stack: "bench",
    config: { "hookfleet:adoPat": emu.pat },
    secretKeys: ["hookfleet:adoPat"],
  });
  const program = () => {
    const fleet = new HookFleet("bench", {
      orgUrl: emu.orgUrl(),
      // A real URL token's length: the URL is stored encrypted, its length counts in the state line.
      receiverUrl: pulumi.secret(`${receiver.url}/api/v1/webhooks/${urlToken}`),
      eventTypes,
      adoClient: programClient,
      testDeliveries: opts.testDelivery,
      authMode: opts.authMode,
      // A generated password's length (app/tokens mintPassword), as RotatingSecret makes them.
      basicAuthUsername: opts.authMode === "urlToken" ? undefined : "hookfleet",
      basicAuthPassword: opts.authMode === "urlToken" ? undefined : pulumi.secret("x".repeat(40)),
    });
    return { hookCount: fleet.hookCount, statusCounts: fleet.statusCounts };
  };

  const phase = async (name: string, run: () => Promise<number>) => {
    emu.counters.reset();
    const started = process.hrtime.bigint();
    const hooks = await run();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`phase: ${name} hooks=${hooks} calls=${emu.counters.total} seconds=${seconds.toFixed(1)}`);
    const routes = Object.entries(emu.counters.byRoute)
      .sort((a, b) => b[1] - a[1])
      .map(([route, n]) => `${route}=${n}`)
      .join(", ");
    progress(`${name}: ${routes}; 429s=${emu.counters.byStatus["429"] ?? 0}`);
  };

  const heartbeat = setInterval(() => {
    const c = emu.counters;
    progress(`… ${c.total} calls so far (in flight ${c.inFlight}, 429s ${c.byStatus["429"] ?? 0})`);
  }, 10_000);
  try {
    await phase("create", async () => {
      const run = await engine.up(program);
      if (run.outputs.hookCount !== opts.projects * eventTypes.length)
        throw new Error("not every hook was created");
      return run.changes.create;
    });
    await phase("refresh", async () => {
      const run = await engine.refresh();
      return run.changes.refresh;
    });
    const victims = engine.resources(SERVICE_HOOK_TYPE).slice(0, opts.repair);
    for (const r of victims) emu.setSubscriptionStatus(r.id, "disabledBySystem");
    progress(`disabled ${victims.length} hooks in the emulator`);
    await phase("repair", async () => {
      const run = await engine.up(program, { refresh: true });
      if (run.outputs.statusCounts.enabled !== opts.projects * eventTypes.length)
        throw new Error("repair incomplete");
      if (run.changes.update !== victims.length)
        throw new Error(`expected ${victims.length} updates, got ${run.changes.update}`);
      return run.changes.update;
    });
    await phase("no-change", async () => {
      const run = await engine.up(program, { refresh: true });
      if (run.changes.create + run.changes.update + run.changes.replace + run.changes.delete > 0)
        throw new Error("a no-change run changed something");
      return run.changes.same;
    });
    // What the engine stores for the hooks: inputs + outputs, secrets encrypted (a real-length
    // ciphertext under a throw-away key), compact JSON as the DIY backend writes it.
    const stored = engine
      .checkpoint(measurementKey())
      .filter((r) => r.type === SERVICE_HOOK_TYPE)
      .map((r) => storedSize({ inputs: r.inputs, outputs: r.outputs }));
    const total = stored.reduce((a, b) => a + b, 0);
    console.log(
      `state: hooks=${stored.length} bytes-per-hook=${Math.round(total / stored.length)} total-bytes=${total}`,
    );
    const provider = engine.resources(SERVICE_HOOK_TYPE)[0]?.outputs.__provider;
    // For the plugin-or-dynamic decision (docs/hooks.md): a provider plugin stores no __provider.
    const withoutProvider = engine
      .checkpoint(measurementKey())
      .filter((r) => r.type === SERVICE_HOOK_TYPE)
      .map((r) => {
        const { __provider: _i, ...inputs } = r.inputs ?? {};
        const { __provider: _o, ...outputs } = r.outputs ?? {};
        return storedSize({ inputs, outputs });
      })
      .reduce((a, b) => a + b, 0);
    progress(
      `state: __provider is ${typeof provider === "string" ? provider.length : 0} characters (in inputs and outputs ` +
        `of each hook); without it (as a provider plugin would store the hooks): ` +
        `${Math.round(withoutProvider / Math.max(stored.length, 1))} bytes per hook`,
    );
  } finally {
    clearInterval(heartbeat);
    await emu.idle();
    await emu.close();
    await receiver.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:fleet: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
