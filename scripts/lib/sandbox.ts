/**
 * The sandbox loop: the whole HookFleet story on one machine. `npm run sandbox` runs it with the
 * Pulumi CLI applying the `sandbox` stack; test/program/sandbox-loop.test.ts runs the very same
 * loop with an in-process engine harness in place of the CLI. Only `apply` differs.
 *
 * Like `npm run emulator` (scripts/emulator.ts), this uses the ADO emulator from test/support: it
 * is the stand-in for Azure DevOps, there is no other.
 */
import { spawn } from "node:child_process";
import { configSetArgs, sandboxConfig } from "./stackConfig";
import type { PreparedPulumi } from "./prepare";
import { formatDriftTable, parsePulumiJson, summariseDrift } from "./pulumiJson";
import { EXIT, ScriptError } from "./prepare";
import type { CredentialSettings } from "../../app/config";
import type { RunningReceiver } from "../../app/receiver";
import type { SubscriptionStatus } from "../../ado/types";
import type { AdoEmulator } from "../../test/support/ado-emulator";

/** The stack outputs the loop reads (index.ts exports), secrets revealed. */
export interface SandboxOutputs {
  hookTotal: number;
  hookCounts: Record<string, Partial<Record<SubscriptionStatus, number>>>;
  hooksNotEnabled: Record<string, { name: string; projectName: string; eventType: string; status: string }[]>;
  readToken: string;
  receiverEnvironment: {
    HOOKFLEET_SYSTEMS: string;
    HOOKFLEET_URL_TOKENS: string;
    HOOKFLEET_READ_TOKENS: string;
  };
}

export interface SandboxDeps {
  emulator: Pick<AdoEmulator, "emit" | "idle" | "subscriptions" | "projects" | "setTimeScale" | "timeScale">;
  receiver: Pick<RunningReceiver, "url" | "setCredentials" | "credentials">;
  /** Emulator organization the sandbox stack wires. */
  org: string;
  /** Applies the stack (refreshing first) and returns its outputs. */
  apply(label: string): Promise<SandboxOutputs>;
  /** Optional: the drift table a `npm run drift` would print now (the CLI path has one). */
  driftTable?: () => Promise<string>;
  log(line: string): void;
}

export interface SandboxReport {
  hooks: number;
  /** Sample events ADO delivered and the receiver stored, first round. */
  delivered: number;
  stored: number;
  /** Subscription ids ADO disabled after failed deliveries. */
  disabled: string[];
  /** Hooks not enabled as the stack outputs reported them after the repair run. */
  notEnabledAfterRepair: number;
  /** Enabled subscriptions in ADO after the repair run. */
  enabledAfterRepair: number;
  /** Deliveries of the event sent after the repair that the receiver answered 2xx. */
  deliveredAfterRepair: number;
  /** Stored messages at the end (the event sent after the repair lands too). */
  storedAtEnd: number;
}

const SAMPLE_EVENTS = ["git.push", "git.pullrequest.created", "workitem.updated"];

/** The receiver's settings from the program's `receiverEnvironment` output. */
function credentialsFromOutputs(outputs: SandboxOutputs): CredentialSettings {
  const env = outputs.receiverEnvironment;
  return {
    systems: JSON.parse(env.HOOKFLEET_SYSTEMS),
    urlTokens: JSON.parse(env.HOOKFLEET_URL_TOKENS),
    readTokens: JSON.parse(env.HOOKFLEET_READ_TOKENS),
  };
}

async function storedMessages(
  receiverUrl: string,
  readToken: string,
): Promise<{ type: string; id: string }[]> {
  const res = await fetch(`${receiverUrl}/api/v1/messages?limit=200`, {
    headers: { authorization: `Bearer ${readToken}` },
  });
  if (!res.ok) throw new Error(`read API answered ${res.status}: ${await res.text()}`);
  const page = (await res.json()) as { messages: { type: string; id: string }[] };
  return page.messages;
}

export async function sandboxLoop(deps: SandboxDeps): Promise<SandboxReport> {
  const { emulator, receiver, org, log } = deps;

  log("1/6 applying the sandbox stack: credentials and one hook per (project × event type)");
  let outputs = await deps.apply("first apply");
  receiver.setCredentials(credentialsFromOutputs(outputs));
  log(
    `    ${outputs.hookTotal} hooks in ADO organization "${org}"; receiver given the new credential hashes`,
  );

  log(`2/6 ADO emits ${SAMPLE_EVENTS.join(", ")}`);
  let delivered = 0;
  for (const type of SAMPLE_EVENTS) {
    const report = await emulator.emit(type, { org });
    const ok = report.deliveries.filter((d) => d.outcome === "delivered").length;
    delivered += ok;
    log(`    ${type}: ${ok}/${report.matched} deliveries answered 2xx`);
  }
  const stored = await storedMessages(receiver.url, outputs.readToken);
  log(
    `3/6 the receiver stored ${stored.length} message(s): ${[...new Set(stored.map((m) => m.type))].join(", ")}`,
  );

  log("4/6 the receiver starts rejecting deliveries; ADO retries, puts the hook on probation, disables it");
  const good = receiver.credentials();
  receiver.setCredentials({ ...good, urlTokens: [] });
  const scale = emulator.timeScale;
  // ADO's probation lasts ~36 h; the emulator runs that schedule 100,000× faster here.
  emulator.setTimeScale(0.00001);
  const project = emulator.projects(org)[0];
  await emulator.emit("git.push", { org, project: project.id });
  await emulator.idle();
  emulator.setTimeScale(scale);
  receiver.setCredentials(good);
  // HookFleet's hooks: the org list also holds other consumers' subscriptions (as ADO's does).
  const ours = () =>
    emulator.subscriptions(org).filter((s) => (s.consumerInputs.url ?? "").startsWith(receiver.url));
  const disabled = ours().filter((s) => s.status !== "enabled");
  for (const s of disabled) log(`    ${s.eventType} in ${project.name}: ${s.status}`);
  if (deps.driftTable) {
    log("    what the drift check sees (npm run drift -- --stack sandbox):");
    for (const line of (await deps.driftTable()).split("\n")) log(`      ${line}`);
  }

  log("5/6 applying again: the refresh sees the disabled hook as drift and re-enables it");
  outputs = await deps.apply("repair");
  const notEnabled = Object.values(outputs.hooksNotEnabled).flat();
  const enabled = ours().filter((s) => s.status === "enabled").length;
  log(`    ${enabled}/${outputs.hookTotal} hooks enabled; not enabled: ${notEnabled.length}`);

  log("6/6 ADO emits git.push again: delivered to the repaired hook");
  const last = await emulator.emit("git.push", { org, project: project.id });
  const deliveredAfterRepair = last.deliveries.filter((d) => d.outcome === "delivered").length;
  const storedAtEnd = (await storedMessages(receiver.url, outputs.readToken)).length;
  log(`    the receiver now holds ${storedAtEnd} message(s)`);

  return {
    hooks: outputs.hookTotal,
    delivered,
    stored: stored.length,
    disabled: disabled.map((s) => s.id),
    notEnabledAfterRepair: notEnabled.length,
    enabledAfterRepair: enabled,
    deliveredAfterRepair,
    storedAtEnd,
  };
}

// ---------------------------------------------------------------------------------------------
// The CLI side of `npm run sandbox`: servers on loopback, the `sandbox` stack applied with `pulumi`.

/** Runs a command; resolves with its stdout (captured) or inherits stdio; rejects on non-zero exit. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; capture?: boolean },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit",
    });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new ScriptError(`${command} ${args.slice(0, 2).join(" ")} failed (exit ${code})`, EXIT.failed),
          ),
    );
  });
}

/** Listen on the port the stack file names when it is free, else on any free port. */
async function preferPort<T>(start: (port: number) => Promise<T>, preferred: number): Promise<T> {
  try {
    return await start(preferred);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    return start(0);
  }
}

export async function runSandbox(options: {
  ctx: PreparedPulumi;
  projects: number;
  keep: boolean;
  log: (line: string) => void;
}): Promise<SandboxReport> {
  const { ctx, log } = options;
  const stack = "sandbox";
  // Loaded here, not at the top: the loop above is also used by tests that bring their own.
  const { startAdoEmulator } = await import("../../test/support/ado-emulator");
  const { startReceiver } = await import("../../app/receiver");

  const emulator = await preferPort(
    (port) =>
      startAdoEmulator({
        port,
        orgs: [{ name: stack, projects: options.projects }],
        // authMode both: Basic credentials to the receiver on 127.0.0.1 over http (ADO needs https).
        allowBasicAuthOverLoopbackHttp: true,
      }),
    7072,
  );
  const receiver = await preferPort(
    (port) =>
      startReceiver({
        port,
        // Accepts nothing until the first apply hands it the generated credentials.
        credentials: {
          systems: [{ id: "devops", storageMode: "full", retentionDays: 7 }],
          urlTokens: [],
          readTokens: [],
        },
        logLevel: "warn",
      }),
    7071,
  );
  log(`ADO emulator: ${emulator.orgUrl(stack)}   receiver: ${receiver.url} (embedded in-memory store)`);

  // The hook provider reaches the emulator with its PAT, through the environment of `pulumi`.
  const env = { ...ctx.env, AZURE_DEVOPS_EXT_PAT: emulator.pat };
  const pulumi = (args: string[], capture = false) => run(ctx.pulumi, args, { cwd: ctx.cwd, env, capture });
  try {
    await pulumi(["stack", "select", "--create", stack, "--non-interactive"]);
    // stacks/Pulumi.sandbox.yaml names ports 7071 and 7072; rewrite it only when they were taken.
    const urls = { receiverUrl: receiver.url, organizationUrl: emulator.orgUrl(stack) };
    if (receiver.port !== 7071 || !urls.organizationUrl.startsWith("http://127.0.0.1:7072/")) {
      log("ports 7071/7072 are taken: pointing stacks/Pulumi.sandbox.yaml at the ports in use");
      for (const set of sandboxConfig(urls)) await pulumi(configSetArgs(set, stack));
    }
    const apply = async (label: string): Promise<SandboxOutputs> => {
      log(`pulumi up --refresh (${label})`);
      await pulumi(["up", "--stack", stack, "--yes", "--refresh", "--non-interactive", "--skip-preview"]);
      const json = await pulumi(["stack", "output", "--stack", stack, "--json", "--show-secrets"], true);
      return JSON.parse(json) as SandboxOutputs;
    };
    const driftTable = async (): Promise<string> => {
      // No --expect-no-changes: preview exits 0 and its JSON lists what drifted.
      const json = await pulumi(
        ["preview", "--stack", stack, "--refresh", "--json", "--non-interactive"],
        true,
      ).catch((err: unknown) => {
        throw new ScriptError(`drift preview failed: ${(err as Error).message}`, EXIT.failed);
      });
      return formatDriftTable(summariseDrift(parsePulumiJson(json)));
    };
    const report = await sandboxLoop({ emulator, receiver, org: stack, apply, driftTable, log });
    log(
      `done: ${report.hooks} hooks; ${report.stored} events stored; ${report.disabled.length} hook disabled by ADO ` +
        `and re-enabled by the next apply; ${report.deliveredAfterRepair} delivery after the repair.`,
    );
    log(`drift check of this stack: npm run drift -- --stack ${stack}  (while the servers run: --keep)`);
    if (options.keep) {
      log(
        `servers keep running; read API token: pulumi stack output readToken --show-secrets --stack ${stack}`,
      );
      log("Ctrl-C stops them.");
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    }
    return report;
  } finally {
    await receiver.close();
    await emulator.close();
  }
}
