/**
 * `npm run heal`: the heal job run from a workstation or CI, with the same code and settings as
 * the scheduled job in the cloud (app/heal). `npm run heal -- --help` for the options.
 */
import { runHealCli } from "../app/heal/cli";

runHealCli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text + "\n"),
  stderr: (text) => process.stderr.write(text + "\n"),
}).then(
  ({ code }) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`heal failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
