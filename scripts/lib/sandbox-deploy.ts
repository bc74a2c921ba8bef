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
 * revision token (HOOKFLEET_RECEIVER_REVISION_TOKEN) through the environment, never the config.
 */
import { spawn } from "node:child_process";
import type { StoredResource } from "../../devkit/provider-host/checkpoint";
import type { Deployment, ResourceState as EngineResource } from "../../devkit/provider-host/engine";
import { effectiveConfig, stackFile } from "../../devkit/stack-config";
import { EXIT, ScriptError, type PreparedPulumi } from "./prepare";
import { heartbeat } from "./progress";
import { parsePulumiJson, summariseDrift, type DriftSummary, type PulumiRun } from "./pulumiJson";
import { configSetArgs, sandboxConfig } from "./stackConfig";

export const SANDBOX_STACK = "sandbox";

/** The stack outputs the sandbox reads (index.ts exports), secrets revealed. */
export interface SandboxOutputs {
  webhookUrl: string;
  hookTotal: number;
  hookCounts: Record<string, Record<string, number>>;
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
  /** `pulumi config set` for the commands that follow. */
  setConfig(key: string, value: string): Promise<void>;
  /** Takes back what setConfig changed in the stack file (the CLI path's file is in git). */
  restoreConfig(): Promise<void>;
}

/** Runs a command; resolves with its stdout; rejects with its output's tail when it fails. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve(out);
      const tail = `${out}\n${err}`.trim().split("\n").slice(-15).join("\n");
      reject(
        new ScriptError(
          `${command} ${args.slice(0, 2).join(" ")} failed (exit ${code}):\n${tail}`,
          EXIT.failed,
        ),
      );
    });
  });
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
  const pulumi = (args: string[]) => run(ctx.pulumi, args, { cwd: ctx.cwd, env });
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
  const changed = new Map<string, string | undefined>();
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
    async setConfig(key, value) {
      if (!changed.has(key)) changed.set(key, file[key] === undefined ? undefined : String(file[key]));
      await pulumi(configSetArgs({ key, value }, SANDBOX_STACK));
    },
    async restoreConfig() {
      for (const [key, value] of changed) {
        await pulumi(
          value === undefined
            ? ["config", "rm", key, "--stack", SANDBOX_STACK]
            : configSetArgs({ key, value }, SANDBOX_STACK),
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
    async setConfig(key, value) {
      config[key] = value;
    },
    async restoreConfig() {
      // Nothing was written anywhere.
    },
  };
}
