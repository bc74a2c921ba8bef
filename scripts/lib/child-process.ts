/** A child process run to its end with its output collected (the sandbox's `pulumi` and `npm run heal`). */
import { spawn } from "node:child_process";

export interface Finished {
  /** Exit code (null when a signal ended it). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` and resolves once it has exited; rejects only when it cannot start. `input`, when
 * given, is written to its stdin (e.g. a secret value, kept off the command line); else stdin is
 * /dev/null.
 */
export function runToEnd(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    child.stdin?.end(options.input);
    let stdout = "";
    let stderr = "";
    // Piped just above (the stdio list is not a literal, so the typings cannot tell).
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
