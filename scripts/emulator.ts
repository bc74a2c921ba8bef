/**
 * The ADO emulator for manual trials and the sandbox (docs/ado.md). Two modes:
 *
 * - start one: `npm run emulator -- --port 8090 --projects 5 [--orgs contoso,fabrikam] [--time-scale 0.001] …`
 *   prints `ado emulator: <org url>` (one line per org), `ado pat: <pat>`, `ado vssps: <url>`,
 *   `ado user token: <token>` and `ado control: <url>`, then runs until Ctrl+C;
 * - act on a running one, through its control routes (devkit/ado-emulator/control.ts):
 *   `npm run emulator -- --emulator http://127.0.0.1:8090 --raise git.push --project Project-001`,
 *   `--fail-deliveries <url> --status 503`, `--clear-failures`, `--advance 36h`, `--time-scale X`, `--show`.
 */
import { parseArgs } from "node:util";
import { startAdoEmulator } from "../devkit/ado-emulator";
import { parseDuration } from "../devkit/ado-emulator/control";
import { EXIT } from "./lib/args";
import { EmulatorControl } from "./lib/emulator-control";

const HELP = `Usage: npm run emulator -- [options]                     start an ADO emulator
       npm run emulator -- --emulator URL <action> [options]   act on a running one

Runs the Azure DevOps emulator on loopback, or drives a running one through its control routes
(/_emulator/…; see docs/ado.md).

Start options:
  --port N           port to listen on (default 0 = a free one)
  --host H           address to bind (default 127.0.0.1)
  --projects N       generated projects per organization (default 3)
  --orgs a,b         organization names (default contoso)
  --pat S            the PAT the organizations accept (default random)
  --time-scale X     multiplies ADO's delivery retry/probation schedule (default 1 = real time)
  --latency-ms N     latency added to every API request (default 0)
  --rate-limit N     enable per-identity rate limiting with a budget of N requests per 5 min
  --allow-basic-over-loopback-http
                     accept hooks with a Basic password whose URL is http://127.0.0.1, localhost or
                     [::1] (a local receiver); like ADO, the emulator otherwise answers 400 to Basic
                     authentication over http
  --no-other-consumers
                     do not seed the organizations with other consumers' subscriptions (myGet,
                     jenkins, trello, zendesk), which ADO's own lists have

Actions on a running emulator (--emulator URL: its base URL, e.g. http://127.0.0.1:7072; the PAT
comes from --pat or AZURE_DEVOPS_EXT_PAT):
  --raise TYPE       raise an event of a catalogue type (e.g. git.push), or "all": one of each type;
                     --org O, --project P (name or id; default the first), --count N
  --fail-deliveries URL --status N
                     from now on, deliveries to URLs starting with URL fail with status N (400-599;
                     408/502/503/504 are transient for ADO); --org O / --project P narrow it
  --clear-failures   remove every delivery failure rule
  --advance D        move ADO's delivery clock forward (36h, 20m, 90s, 1h30m or seconds): every
                     retry due meanwhile runs, so 36h takes a failing hook through probation
  --time-scale X     set the time scale
  --show             print organizations, projects, the clock and the failure rules

  --help             this text

Exit codes: 0 ok, 1 the emulator refused the action or could not be reached, 64 bad arguments.`;

function fail(message: string): never {
  console.error(`emulator: ${message}\n\n${HELP}`);
  process.exit(EXIT.usage);
}

function intOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parse() {
  try {
    return parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        projects: { type: "string" },
        orgs: { type: "string" },
        pat: { type: "string" },
        "time-scale": { type: "string" },
        "latency-ms": { type: "string" },
        "rate-limit": { type: "string" },
        "allow-basic-over-loopback-http": { type: "boolean" },
        "no-other-consumers": { type: "boolean" },
        emulator: { type: "string" },
        raise: { type: "string" },
        org: { type: "string" },
        project: { type: "string" },
        count: { type: "string" },
        "fail-deliveries": { type: "string" },
        status: { type: "string" },
        "clear-failures": { type: "boolean" },
        show: { type: "boolean" },
        advance: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
}

type Values = ReturnType<typeof parse>;

function timeScaleOf(values: Values): number | undefined {
  if (values["time-scale"] === undefined) return undefined;
  const scale = Number(values["time-scale"]);
  if (!(scale > 0)) fail(`--time-scale must be a number > 0, got ${values["time-scale"]}`);
  return scale;
}

async function start(values: Values): Promise<void> {
  const port = intOption(values.port, "port", 0);
  if (port > 65535) fail("--port must be at most 65535");
  const projects = intOption(values.projects, "projects", 3);
  const orgNames = (values.orgs ?? "contoso")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const budget =
    values["rate-limit"] === undefined ? undefined : intOption(values["rate-limit"], "rate-limit", 200, 1);

  console.log(`starting the ADO emulator (${orgNames.length} org(s), ${projects} project(s) each)…`);
  const emulator = await startAdoEmulator({
    port,
    host: values.host ?? "127.0.0.1",
    orgs: orgNames.map((name) => ({ name, projects })),
    pat: values.pat,
    timeScale: timeScaleOf(values) ?? 1,
    latencyMs: intOption(values["latency-ms"], "latency-ms", 0),
    rateLimit: budget ? { enabled: true, budget } : undefined,
    allowBasicAuthOverLoopbackHttp: values["allow-basic-over-loopback-http"] ?? false,
    otherConsumers: !values["no-other-consumers"],
  });
  // Before the lines below say it is up, so that a signal sent on reading them closes it cleanly.
  const stop = async () => {
    console.log("stopping the ADO emulator…");
    await emulator.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  for (const org of emulator.orgs) console.log(`ado emulator: ${emulator.orgUrl(org)}`);
  console.log(`ado pat: ${emulator.pat}`);
  for (const org of emulator.orgs) console.log(`ado vssps: ${emulator.vsspsUrl(org)}`);
  console.log(`ado user token: ${emulator.userToken}`);
  console.log(
    `ado control: ${emulator.baseUrl}/_emulator  (npm run emulator -- --emulator ${emulator.baseUrl} --help)`,
  );
  console.log("Ctrl+C to stop.");
}

async function act(values: Values): Promise<void> {
  const base = values.emulator!.replace(/\/+$/, "");
  if (!/^https?:\/\/\S+$/.test(base)) fail(`--emulator must be the emulator's base URL, got ${base}`);
  const pat = values.pat ?? process.env.AZURE_DEVOPS_EXT_PAT;
  if (!pat) fail("the emulator's PAT is needed: --pat, or AZURE_DEVOPS_EXT_PAT (it printed `ado pat: …`)");
  const actions = ["raise", "fail-deliveries", "clear-failures", "advance", "time-scale", "show"].filter(
    (k) => values[k as keyof Values] !== undefined,
  );
  if (actions.length !== 1) fail(`give exactly one action with --emulator (got ${actions.length})`);
  const control = new EmulatorControl(base, pat);
  const scoped = { org: values.org, project: values.project };

  if (values.raise !== undefined) {
    const count = intOption(values.count, "count", 1, 1);
    for (const e of await control.raise({ eventType: values.raise, count, ...scoped })) {
      const outcomes = (["delivered", "failed", "queued", "notDelivered"] as const)
        .filter((k) => e[k] > 0)
        .map((k) => `${e[k]} ${k}`);
      console.log(
        `raised ${e.eventType} in ${e.org}/${e.project} (event ${e.id}): matched ${e.matched} hook(s)` +
          (outcomes.length ? `, ${outcomes.join(", ")}` : ""),
      );
    }
  } else if (values["fail-deliveries"] !== undefined) {
    if (values.status === undefined) fail("--fail-deliveries needs --status N (400-599)");
    const rule = await control.failDeliveries({
      url: values["fail-deliveries"],
      status: Number(values.status),
      ...scoped,
    });
    const where = [values.org && `org ${values.org}`, values.project && `project ${values.project}`].filter(
      Boolean,
    );
    console.log(
      `deliveries to ${values["fail-deliveries"]}${where.length ? ` (${where.join(", ")})` : ""} now fail with ` +
        `${values.status} (rule ${rule.id}; --clear-failures removes it)`,
    );
  } else if (values["clear-failures"]) {
    const removed = await control.clearFailures();
    console.log(`removed ${removed} delivery failure rule(s): deliveries go through again`);
  } else if (values.advance !== undefined) {
    let seconds: number;
    try {
      seconds = parseDuration(values.advance);
    } catch (err) {
      fail((err as Error).message);
    }
    const r = await control.advance(seconds);
    console.log(
      `ADO's delivery clock moved ${values.advance} ahead: ${r.attempts} delivery attempt(s) meanwhile`,
    );
  } else if (values["time-scale"] !== undefined) {
    console.log(`time scale ${await control.setTimeScale(timeScaleOf(values)!)}`);
  } else {
    console.log(JSON.stringify(await control.status(), null, 2));
  }
}

async function main(): Promise<void> {
  const values = parse();
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.emulator !== undefined) await act(values);
  else {
    const actionFlags = ["raise", "fail-deliveries", "clear-failures", "advance", "show"].filter(
      (k) => values[k as keyof Values] !== undefined,
    );
    if (actionFlags.length > 0)
      fail(`--${actionFlags[0]} acts on a running emulator: add --emulator <its base URL>`);
    await start(values);
  }
}

main().catch((err: unknown) => {
  // EmulatorControlError: the running emulator refused the action or could not be reached.
  console.error(`emulator: ${(err as Error).message}`);
  process.exit(EXIT.failed);
});
