/**
 * Entry point of the heal job (`node dist/app/heal/main.js` in the receiver image, run on a
 * schedule as a Container Apps Job; `npm run heal` locally). See app/heal/cli.ts; telemetry:
 * app/telemetry/heal.ts.
 */
import { runHealWithTelemetry } from "../telemetry/heal";
import { healFailedLine } from "./cli";

// The heal command (app/heal/cli.ts) with its OpenTelemetry run span and counters (issue 16).
runHealWithTelemetry(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text + "\n"),
  stderr: (text) => process.stderr.write(text + "\n"),
}).then(
  ({ code }) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${healFailedLine(err)}\n`);
    process.exitCode = 1;
  },
);
