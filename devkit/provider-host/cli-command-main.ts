/**
 * The child side of cli-command.ts: loaded by cli-typescript.cjs (so the program is compiled the
 * way the Pulumi CLI compiles it), runs one command with the engine model and writes the result.
 *
 *   node cli-typescript.cjs cli-command-main.ts <job.json> <result.json>
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CliCommandJob, CliCommandResult } from "./cli-command";
import { Engine, fromStored, type Deployment } from "./engine";
import { PROJECT_ROOT } from "./host";

const started = Date.now();

async function main(jobFile: string, resultFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, "utf8")) as CliCommandJob;
  const engine = new Engine({
    stack: job.stack,
    config: job.config,
    secretKeys: job.secretKeys,
    hostEnv: job.hostEnv,
    invokes: job.invokes,
    state: fromStored(job.state ?? []),
  });
  let programLoadMs = 0;
  const program = () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program registers its resources when loaded
    const exports = require(path.resolve(PROJECT_ROOT, job.program)) as unknown;
    programLoadMs = Date.now() - started;
    return exports;
  };
  let deployment: Deployment;
  if (job.command === "refresh") deployment = await engine.refresh();
  else if (job.command === "destroy") deployment = await engine.destroy();
  else if (job.command === "preview") deployment = await engine.preview(program, { refresh: job.refresh });
  else deployment = await engine.up(program, { refresh: job.refresh });
  const result: CliCommandResult = {
    deployment,
    state: engine.checkpoint(),
    programLoadMs,
    commandMs: Date.now() - started,
  };
  writeFileSync(resultFile, JSON.stringify(result));
}

const [jobFile, resultFile] = process.argv.slice(2);
main(jobFile, resultFile).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
