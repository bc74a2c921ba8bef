/**
 * Runs the ADO emulator standalone for manual trials and the sandbox:
 *   npm run emulator -- --port 8090 --projects 5 [--orgs contoso,fabrikam] [--time-scale 0.001]
 *                       [--latency-ms 20] [--rate-limit 200] [--pat SECRET] [--allow-basic-over-loopback-http]
 * Prints `ado emulator: <org url>` (one line per org), `ado pat: <pat>`, `ado vssps: <url>` and
 * `ado user token: <token>` for the PAT lifecycle API, then runs until Ctrl+C.
 */
import { parseArgs } from "node:util";
import { startAdoEmulator } from "../test/support/ado-emulator";
import { EXIT } from "./lib/args";

const HELP = `Usage: npm run emulator -- [options]

Runs the Azure DevOps emulator on loopback (see docs/ado.md).

Options:
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
  --help             this text`;

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

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
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
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = intOption(values.port, "port", 0);
  if (port > 65535) fail("--port must be at most 65535");
  const projects = intOption(values.projects, "projects", 3);
  const orgNames = (values.orgs ?? "contoso")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const timeScale = values["time-scale"] === undefined ? 1 : Number(values["time-scale"]);
  if (!(timeScale > 0)) fail(`--time-scale must be a number > 0, got ${values["time-scale"]}`);
  const budget =
    values["rate-limit"] === undefined ? undefined : intOption(values["rate-limit"], "rate-limit", 200, 1);

  console.log(`starting the ADO emulator (${orgNames.length} org(s), ${projects} project(s) each)…`);
  const emulator = await startAdoEmulator({
    port,
    host: values.host ?? "127.0.0.1",
    orgs: orgNames.map((name) => ({ name, projects })),
    pat: values.pat,
    timeScale,
    latencyMs: intOption(values["latency-ms"], "latency-ms", 0),
    rateLimit: budget ? { enabled: true, budget } : undefined,
    allowBasicAuthOverLoopbackHttp: values["allow-basic-over-loopback-http"] ?? false,
    otherConsumers: !values["no-other-consumers"],
  });
  for (const org of emulator.orgs) console.log(`ado emulator: ${emulator.orgUrl(org)}`);
  console.log(`ado pat: ${emulator.pat}`);
  for (const org of emulator.orgs) console.log(`ado vssps: ${emulator.vsspsUrl(org)}`);
  console.log(`ado user token: ${emulator.userToken}`);
  console.log("Ctrl+C to stop.");
  const stop = async () => {
    console.log("stopping the ADO emulator…");
    await emulator.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  console.error(`emulator: ${(err as Error).message}`);
  process.exit(1);
});
