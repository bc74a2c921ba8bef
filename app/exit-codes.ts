/**
 * The exit codes of every HookFleet command: the receiver and heal entry points here in app/ (they
 * ship in the container image) and the scripts under scripts/ (re-exported by scripts/lib/args.ts).
 * The README and docs/program.md list them; test/scripts/exit-codes.test.ts runs each command.
 */
export const EXIT = {
  ok: 0,
  /** The work failed: Pulumi or the program reported errors, something could not be repaired. */
  failed: 1,
  /** drift.mjs only: the stack differs from the program (like `terraform plan -detailed-exitcode`). */
  drift: 2,
  /** up.mjs only: the deploy preflight found something missing in Azure (scripts/lib/preflight.ts). */
  preflight: 3,
  /**
   * Bad command line or bad configuration (environment variables): every mistake is named and
   * nothing was attempted. 64 is EX_USAGE of BSD's sysexits.h.
   */
  usage: 64,
  /** No Pulumi CLI on PATH (the shell's "command not found"). */
  pulumiMissing: 127,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
