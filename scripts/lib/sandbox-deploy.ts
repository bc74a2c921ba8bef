/**
 * How `npm run sandbox` applies the real program (index.ts, stack `sandbox`), two ways behind one
 * interface:
 *
 * - with the Pulumi CLI: `pulumi up` / `pulumi preview --refresh --json` on the stack, local file
 *   backend unless one is configured (scripts/lib/prepare.ts), as `npm run up` and `npm run drift`;
 * - without it: the built-in engine stand-in (devkit/provider-host): each command is a fresh
 *   Node process that loads index.ts as the CLI's language host does, under Pulumi's mock runtime,
 *   and the engine model steps every ServiceHook, RotatingSecret, AdoPat and LocalReceiverRevision
 *   through the real dynamic-provider host of @pulumi/pulumi. State lives in memory for the run.
 *
 * Both hand the provider host the emulator's PAT (AZURE_DEVOPS_EXT_PAT) and the receiver host's
 * revision token (HOOKFLEET_RECEIVER_REVISION_TOKEN) through the environment, never the config. A
 * secret the stack needs in its config (the hosted product's webhook URL) is set as a user sets it:
 * `pulumi config set --secret --path …` with the CLI (the value on stdin), a secret config key on the
 * engine stand-in.
 */
import { scrubText } from "../../app/scrub";
import type { StoredResource } from "../../devkit/provider-host/checkpoint";
import type { Deployment, ResourceState as EngineResource } from "../../devkit/provider-host/engine";
import { effectiveConfig, stackFile } from "../../devkit/stack-config";
import { runToEnd } from "./child-process";
import { EXIT, ScriptError, type PreparedPulumi } from "./prepare";
import { heartbeat } from "./progress";
import { parsePulumiJson, summariseDrift, type DriftSummary, type PulumiRun } from "./pulumiJson";
import { configRmArgs, configSetArgs, sandboxConfig, splitConfigPath, type ConfigSet } from "./stackConfig";

export const SANDBOX_STACK = "sandbox";

/** The stack outputs the sandbox reads (index.ts exports), secrets revealed. */
export interface SandboxOutputs {
  webhookUrl: string;
  hookTotal: number;
  hookCounts: Record<string, Record<string, number>>;
  /** Hooks per live status, per destination. */
  destinationHookCounts: Record<string, Record<string, number>>;
  hooksNotEnabled: Record<string, { name: string; projectName: string; eventType: string; status: string }[]>;
  failedTestDeliveries: Record<string, string[]>;
  warnings: string[];
  readToken: string;
}

export interface UpResult {
  outputs: SandboxOutputs;
  /** Steps per operation, when the runner can tell (the engine stand-in can; the CLI path does not parse them). */
  changes?: Record<string, number>;
}

/** Where the stack points: the servers the sandbox started. */
export interface SandboxUrls {
  receiverUrl: string;
  receiverRevisionUrl: string;
  organizationUrl: string;
}

export interface SandboxStack {
  /** One line: what runs the program. */
  readonly description: string;
  /** `pulumi up` (refresh first, Pulumi.yaml `refresh: always`). */
  up(label: string): Promise<UpResult>;
  /** What `npm run drift -- --stack sandbox` reports now (`pulumi preview --refresh`). */
  drift(): Promise<DriftSummary>;
  /**
   * `pulumi config set` for the commands that follow; `path`: the key addresses inside a structured
   * value (`hookfleet:destinations[1].url`); `secret`: encrypted, as `--secret`.
   */
  setConfig(key: string, value: string, options?: { path?: boolean; secret?: boolean }): Promise<void>;
  /** Takes back what setConfig changed in the stack file (the CLI path's file is in git). */
  restoreConfig(): Promise<void>;
}

/** A destination of the sandbox stack (stacks/Pulumi.sandbox.yaml) and the event types it subscribes to. */
export interface SandboxDestination {
  name: string;
  kind: "receiver" | "webhook";
  /** Its index in `hookfleet:destinations` (for `--path 'hookfleet:destinations[i].url'`). */
  index: number;
  eventTypes: string[];
}

/**
 * The destinations the sandbox stack file lists, each with its event types as the program reads them
 * (the receiver's: its own `events`, else the organization's). The sandbox checks deliveries against
 * these. The stack file must list its events explicitly: the sandbox does not guess defaults.
 */
export function sandboxDestinations(): SandboxDestination[] {
  const file = stackFile(SANDBOX_STACK);
  const orgs = file["hookfleet:organizations"] as { events?: unknown[] }[];
  const list = (file["hookfleet:destinations"] ?? []) as {
    name: string;
    kind: "receiver" | "webhook";
    events?: unknown[];
  }[];
  const typesOf = (events: unknown[] | undefined, what: string) => {
    if (!Array.isArray(events) || events.length === 0)
      throw new Error(`stacks/Pulumi.${SANDBOX_STACK}.yaml: ${what} must list its events for the sandbox`);
    return events.map((e) => (typeof e === "string" ? e : (e as { type: string }).type));
  };
  return list.map((d, index) => ({
    name: d.name,
    kind: d.kind,
    index,
    eventTypes: typesOf(
      d.kind === "receiver" ? (d.events ?? orgs[0]?.events) : d.events,
      `hookfleet:destinations[${index}]`,
    ),
  }));
}

/** The value at `path` inside `value`, or undefined. */
function valueAt(value: unknown, path: (string | number)[]): unknown {
  let node = value;
  for (const step of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/** Runs a command; resolves with its stdout; rejects with its output's tail when it fails. */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<string> {
  // stdin carries a secret value (`config set --secret`), else it is /dev/null.
  const { code, stdout, stderr } = await runToEnd(command, args, options);
  if (code === 0) return stdout;
  // The CLI's words may quote a provider error or a URL with its token: scrubbed (app/scrub.ts).
  const tail = scrubText(`${stdout}\n${stderr}`.trim().split("\n").slice(-15).join("\n"));
  throw new ScriptError(
    `${command} ${args.slice(0, 2).join(" ")} failed (exit ${code}):\n${tail}`,
    EXIT.failed,
  );
}

/** The Pulumi CLI on the `sandbox` stack. */
export async function cliStack(options: {
  ctx: PreparedPulumi;
  urls: SandboxUrls;
  env: Record<string, string>;
  log: (line: string) => void;
}): Promise<SandboxStack> {
  const { ctx, urls, log } = options;
  const env = { ...ctx.env, ...options.env };
  const pulumi = (args: string[], input?: string) => run(ctx.pulumi, args, { cwd: ctx.cwd, env, input });
  await pulumi(["stack", "select", "--create", SANDBOX_STACK, "--non-interactive"]);
  const file = stackFile(SANDBOX_STACK);
  const inFile = {
    receiverUrl: file["hookfleet:receiverUrl"],
    receiverRevisionUrl: file["hookfleet:receiverRevisionUrl"],
    organizationUrl: (file["hookfleet:organizations"] as { url: string }[])[0]?.url,
  };
  if (
    inFile.receiverUrl !== urls.receiverUrl ||
    inFile.receiverRevisionUrl !== urls.receiverRevisionUrl ||
    inFile.organizationUrl !== urls.organizationUrl
  ) {
    log("the ports in stacks/Pulumi.sandbox.yaml are taken: pointing the stack at the ports in use");
    for (const set of sandboxConfig(urls)) await pulumi(configSetArgs(set, SANDBOX_STACK));
  }
  /** What setConfig changed, by key: the plain value the stack file had there, or undefined. */
  const changed = new Map<string, { path: boolean; previous: string | undefined }>();
  const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const stop = heartbeat(label);
    try {
      return await work();
    } finally {
      stop();
    }
  };
  return {
    description: `the Pulumi CLI, ${ctx.backend.description}`,
    async up(label) {
      await timed(`pulumi up (${label})`, () =>
        pulumi(["up", "--stack", SANDBOX_STACK, "--yes", "--refresh", "--non-interactive", "--skip-preview"]),
      );
      const json = await pulumi(["stack", "output", "--stack", SANDBOX_STACK, "--json", "--show-secrets"]);
      return { outputs: JSON.parse(json) as SandboxOutputs };
    },
    async drift() {
      // No --expect-no-changes: the preview exits 0 and its JSON lists what drifted.
      const json = await timed("pulumi preview --refresh", () =>
        pulumi(["preview", "--stack", SANDBOX_STACK, "--refresh", "--json", "--non-interactive"]),
      );
      return summariseDrift(parsePulumiJson(json));
    },
    async setConfig(key, value, opts = {}) {
      const set: ConfigSet = { key, value, path: opts.path, secret: opts.secret };
      if (!changed.has(key)) {
        const split = opts.path ? splitConfigPath(key) : { key, path: [] };
        const before = valueAt(file[split.key], split.path);
        // A secure value (an object) is not put back: the stack file keeps no secret of a past run.
        const plain = typeof before === "string" || typeof before === "number" || typeof before === "boolean";
        changed.set(key, { path: opts.path === true, previous: plain ? String(before) : undefined });
      }
      await pulumi(configSetArgs(set, SANDBOX_STACK), opts.secret ? value : undefined);
    },
    async restoreConfig() {
      for (const [key, { path, previous }] of changed) {
        await pulumi(
          previous === undefined
            ? configRmArgs(key, SANDBOX_STACK, { path })
            : configSetArgs({ key, value: previous, path }, SANDBOX_STACK),
        );
      }
      changed.clear();
    },
  };
}

/** The engine's preview as the CLI's preview JSON would give it, for the drift report. */
export function pulumiRunOf(deployment: Deployment): PulumiRun {
  const state = (r: EngineResource | undefined) =>
    r ? { urn: r.urn, type: r.type, id: r.id, inputs: r.inputs, outputs: r.outputs } : undefined;
  return {
    steps: deployment.steps.map((s) => ({
      op: s.op === "gone" ? "refresh" : s.op,
      urn: s.urn,
      type: s.type,
      old: state(s.old),
      diffKeys: s.diff?.diffs ?? [],
      replaceKeys: s.diff?.replaces ?? [],
      detailedDiff: {},
    })),
    diagnostics: [],
    changeSummary: deployment.changes,
  };
}

/** The built-in engine stand-in on the `sandbox` stack's config (Pulumi.yaml defaults + the stack file). */
export function engineStack(options: {
  urls: SandboxUrls;
  env: Record<string, string>;
  log: (line: string) => void;
}): SandboxStack {
  const { urls } = options;
  const file = stackFile(SANDBOX_STACK);
  const orgs = (file["hookfleet:organizations"] as Record<string, unknown>[]).map((o, i) =>
    i === 0 ? { ...o, url: urls.organizationUrl } : o,
  );
  const config = effectiveConfig({
    ...file,
    "hookfleet:receiverUrl": urls.receiverUrl,
    "hookfleet:receiverRevisionUrl": urls.receiverRevisionUrl,
    "hookfleet:organizations": orgs,
  });
  const secretKeys = new Set<string>();
  let state: StoredResource[] = [];
  const command = async (name: "up" | "preview", label: string): Promise<Deployment> => {
    // Loaded on first use: the CLI path never needs the engine model.
    const { runCliCommand } = await import("../../devkit/provider-host/cli-command");
    const stop = heartbeat(label);
    try {
      const result = await runCliCommand({
        command: name,
        program: "index.ts",
        stack: SANDBOX_STACK,
        config,
        secretKeys: [...secretKeys],
        state,
        refresh: true,
        env: options.env,
      });
      if (name === "up") state = result.state;
      return result.deployment;
    } catch (err) {
      throw new ScriptError(`${label} failed: ${(err as Error).message}`, EXIT.failed);
    } finally {
      stop();
    }
  };
  return {
    description: "the engine stand-in (index.ts under Pulumi's mock runtime, the real provider host)",
    async up(label) {
      const deployment = await command("up", `up (${label})`);
      return { outputs: deployment.outputs as SandboxOutputs, changes: deployment.changes };
    },
    async drift() {
      return summariseDrift(pulumiRunOf(await command("preview", "preview --refresh")));
    },
    async setConfig(key, value, opts = {}) {
      // As the CLI hands config to a program: a structured key as JSON, the key secret when any
      // value inside it is (components/config/plain-text.ts).
      const split = opts.path ? splitConfigPath(key) : { key, path: [] };
      if (split.path.length === 0) config[split.key] = value;
      else {
        const whole =
          config[split.key] === undefined ? undefined : (JSON.parse(config[split.key]) as unknown);
        config[split.key] = JSON.stringify(withValueAt(whole, split.path, pathValue(value, opts.secret)));
      }
      if (opts.secret) secretKeys.add(split.key);
    },
    async restoreConfig() {
      // Nothing was written anywhere.
    },
  };
}

/**
 * A value set with `--path`: "true"/"false" become booleans and integers numbers, all else a string
 * (the `pulumi config set` docs); a secret stays a string (it is encrypted as one).
 */
function pathValue(value: string, secret = false): unknown {
  if (secret) return value;
  if (value === "true" || value === "false") return value === "true";
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

/** A copy of `whole` with `value` at `path`, creating lists and maps on the way. */
function withValueAt(whole: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [step, ...rest] = path;
  const container: Record<string | number, unknown> | unknown[] =
    typeof step === "number"
      ? Array.isArray(whole)
        ? [...(whole as unknown[])]
        : []
      : typeof whole === "object" && whole !== null && !Array.isArray(whole)
        ? { ...(whole as Record<string, unknown>) }
        : {};
  (container as Record<string | number, unknown>)[step] = withValueAt(
    (container as Record<string | number, unknown>)[step],
    rest,
    value,
  );
  return container;
}
