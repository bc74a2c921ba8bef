#!/usr/bin/env -S npx tsx
// The whole HookFleet loop on one machine, no cloud: the ADO emulator and the receiver on
// loopback, the `sandbox` stack applied against them, events delivered and stored, a hook
// disabled by ADO after failed deliveries, seen as drift, repaired by the next `up`.
import { EXIT, preparePulumi, runScript } from "./lib/prepare.ts";
import { failure, progress } from "./lib/progress.ts";
import { runSandbox } from "./lib/sandbox.ts";

const spec = {
  usage: "npm run sandbox [-- --projects <n>] [--keep]",
  summary:
    "Runs the whole loop locally: starts the ADO emulator and the receiver (embedded store), applies the\n" +
    "`sandbox` stack (stacks/Pulumi.sandbox.yaml) against them, emits sample events and shows them stored,\n" +
    "makes ADO disable a hook through failed deliveries, applies again and shows the hook repaired.\n" +
    "Needs the Pulumi CLI (no cloud account: state goes to .pulumi-state/).",
  options: [
    {
      name: "projects",
      type: "string",
      default: "3",
      valueName: "<n>",
      description: "Projects the emulator creates.",
    },
    {
      name: "keep",
      type: "boolean",
      description: "Leave the receiver and emulator running at the end (Ctrl-C stops them).",
    },
  ],
  epilogue: "Exit codes: 0 the loop completed, 1 a step failed, 64 bad arguments, 127 Pulumi CLI missing.",
};

async function main(values) {
  const projects = Number(values.projects);
  if (!Number.isInteger(projects) || projects < 1 || projects > 50) {
    failure("--projects must be a whole number from 1 to 50");
    return EXIT.usage;
  }
  progress("checking the Pulumi CLI");
  // The sandbox's secrets are throwaway: an empty passphrase unless the user set one.
  const ctx = preparePulumi({
    stack: "sandbox",
    interactive: false,
    env: { PULUMI_CONFIG_PASSPHRASE: "", ...process.env },
  });
  progress(`using ${ctx.pulumi}; ${ctx.backend.description}`);
  await runSandbox({ ctx, projects, keep: values.keep === true, log: progress });
  return EXIT.ok;
}

runScript(spec, "npm run sandbox", main);
