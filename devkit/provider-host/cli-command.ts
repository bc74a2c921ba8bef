/**
 * One Pulumi command on a program, the way the Pulumi CLI would run it, with no CLI: a child Node
 * process loads the program as the CLI's language host does (cli-typescript.cjs: ts-node with the
 * project's runtime options) under mocks, and the engine model (engine.ts) steps its dynamic
 * resources against the real dynamic-provider host. State goes in and comes back as checkpoint
 * resources (secrets in plaintext), so successive commands chain like `pulumi up` runs on a stack.
 *
 *   const first = await runCliCommand({ command: "up", program: "index.ts", stack: "sandbox", config });
 *   const second = await runCliCommand({ ...job, state: first.state });
 *
 * A fresh process per command gives what the CLI gives: a fresh program, fresh module state and a
 * fresh provider host; and `__provider` texts serialized from code compiled by ts-node. The parent
 * keeps its own servers (ADO emulator, receiver) and passes their URLs in the config.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { StoredResource } from "./checkpoint";
import type { Deployment } from "./engine";
import { PROJECT_ROOT } from "./host";

export interface CliCommandJob {
  command: "preview" | "up" | "refresh" | "destroy";
  /** Program module, relative to the project root (e.g. `index.ts`). */
  program: string;
  stack: string;
  /** Stack config, full keys, string values. */
  config: Record<string, string>;
  secretKeys?: string[];
  /** Refresh first (default: Pulumi.yaml options.refresh). */
  refresh?: boolean;
  /** State the command starts from. */
  state?: StoredResource[];
  /** Environment of the provider host on top of the program process's. */
  hostEnv?: Record<string, string | undefined>;
  /** Environment of the program process on top of this one's. */
  env?: Record<string, string | undefined>;
  /** Fixed answers to the program's invokes by token (Engine `invokes`). */
  invokes?: Record<string, Record<string, unknown>>;
}

export interface CliCommandResult {
  deployment: Deployment;
  /** State after the command (unchanged by a preview). */
  state: StoredResource[];
  /** Milliseconds from process start until the program's module had been loaded (resources registered). */
  programLoadMs: number;
  /** Milliseconds for the whole command inside the child. */
  commandMs: number;
}

/** Runs one command in a child process; rejects with the child's stderr when it fails. */
export async function runCliCommand(job: CliCommandJob): Promise<CliCommandResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "hookfleet-cli-"));
  const jobFile = path.join(dir, "job.json");
  const resultFile = path.join(dir, "result.json");
  writeFileSync(jobFile, JSON.stringify(job));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [path.join(PROJECT_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(path.delimiter),
  };
  for (const [k, v] of Object.entries(job.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  try {
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        path.join(PROJECT_ROOT, "node_modules", ".bin", "node"),
        [
          path.join(__dirname, "cli-typescript.cjs"),
          path.join(__dirname, "cli-command-main.ts"),
          jobFile,
          resultFile,
        ],
        { cwd: PROJECT_ROOT, env, stdio: ["ignore", "inherit", "pipe"] },
      );
      let err = "";
      child.stderr!.on("data", (d: Buffer) => (err += d.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0
          ? resolve(err)
          : reject(new Error(`${job.command} ${job.program} failed (exit ${code}):\n${err}`)),
      );
    });
    const result = JSON.parse(readFileSync(resultFile, "utf8")) as CliCommandResult;
    if (stderr.trim()) result.deployment.hostOutput = `${result.deployment.hostOutput}${stderr}`;
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
