/**
 * What every script does before it runs `pulumi`: validate the stack, find the CLI, choose the
 * backend. Problems become a ScriptError with the exit code the script ends with, so each script
 * body is only "prepare, run, report".
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT, formatHelp, parseArgs, validateStackName, type CommandSpec, type ParsedValues } from "./args";
import { failure } from "./progress";
import {
  chooseBackend,
  findExecutable,
  installHint,
  missingStackProblem,
  passphraseProblem,
  readBackendInputs,
  REPO_ROOT,
  type BackendChoice,
} from "./pulumiCli";

/** Exit codes shared by the scripts (the convention lives in scripts/lib/args.ts). */
export { EXIT } from "./args";

export class ScriptError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface PreparedPulumi {
  /** Absolute path of the pulumi executable. */
  pulumi: string;
  /** Environment for `pulumi` child processes. */
  env: NodeJS.ProcessEnv;
  backend: BackendChoice;
  /** Directory to run pulumi in (holds Pulumi.yaml). */
  cwd: string;
}

function checkStack(stack: string, repoRoot = REPO_ROOT): void {
  const problem = validateStackName(stack) ?? missingStackProblem(stack, repoRoot);
  if (problem) throw new ScriptError(problem, EXIT.usage);
}

/** Finds the CLI or throws the install hint. */
function requirePulumi(env: NodeJS.ProcessEnv = process.env): string {
  const found = findExecutable("pulumi", env.PATH);
  if (!found) throw new ScriptError(installHint(), EXIT.pulumiMissing);
  return found;
}

export function preparePulumi(options: {
  stack?: string;
  env?: NodeJS.ProcessEnv;
  interactive: boolean;
  repoRoot?: string;
}): PreparedPulumi {
  const env = options.env ?? process.env;
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  if (options.stack !== undefined) checkStack(options.stack, repoRoot);
  const pulumi = requirePulumi(env);
  const backend = chooseBackend(readBackendInputs(env, repoRoot));
  const passphrase = passphraseProblem(env, backend, options.interactive);
  if (passphrase) throw new ScriptError(passphrase, EXIT.usage);
  if (backend.local) fs.mkdirSync(path.join(repoRoot, ".pulumi-state"), { recursive: true });
  return {
    pulumi,
    // Pulumi's own update check and colour codes would clutter logs and parsed output.
    env: { ...env, ...backend.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    backend,
    cwd: repoRoot,
  };
}

/**
 * A script's whole life: parse `argv` against `spec` (`--help` prints it and exits 0; mistakes are
 * listed with a pointer to `--help` and exit 64), run `main` with the parsed values (and whatever
 * followed a literal `--`, for the Pulumi CLI), and exit with
 * its code. A thrown ScriptError exits with its own code, anything else with 1.
 */
export function runScript(
  spec: CommandSpec,
  helpCommand: string,
  main: (values: ParsedValues, passthrough: string[]) => Promise<number>,
  argv: readonly string[] = process.argv.slice(2),
): void {
  const run = async (): Promise<number> => {
    const parsed = parseArgs(spec, argv);
    if (parsed.kind === "help") {
      console.log(formatHelp(spec));
      return EXIT.ok;
    }
    if (parsed.kind === "error") {
      for (const e of parsed.errors) failure(e);
      failure(`see: ${helpCommand} -- --help`);
      return EXIT.usage;
    }
    return main(parsed.values, parsed.passthrough);
  };
  run()
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      failure(err instanceof Error ? err.message : String(err));
      process.exit(err instanceof ScriptError ? err.exitCode : EXIT.failed);
    });
}
