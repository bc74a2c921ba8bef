#!/usr/bin/env -S npx tsx
// The whole HookFleet loop on one machine, no cloud: the ADO emulator and a local receiver on
// loopback, the real program (index.ts, stack `sandbox`) applied against them with the Pulumi CLI
// when it is installed, else with the built-in engine stand-in; every step checked (scripts/lib/sandbox.ts).
import { EXIT, preparePulumi, runScript } from "./lib/prepare.ts";
import { failure, progress } from "./lib/progress.ts";
import { findExecutable, REPO_ROOT } from "./lib/pulumiCli.ts";
import { runSandbox } from "./lib/sandbox.ts";

const spec = {
  usage: "npm run sandbox [-- --projects <n>] [--keep]",
  summary:
    "Runs the whole loop locally and checks every step: starts the ADO emulator, the receiver and a hosted\n" +
    "product's stand-in (each a receiver with an embedded store; the product mints the URL token of its\n" +
    "webhook URL, which the stack gets as a secret), applies the `sandbox` stack (stacks/Pulumi.sandbox.yaml:\n" +
    "one hook per destination × project × event type), raises every event type in every project (each\n" +
    "stored once by every destination subscribed to it), makes the receiver fail for one project until ADO\n" +
    "disables its hooks, shows the drift, repairs it with `up`, replays the failed deliveries with the heal\n" +
    "job, rotates the URL token while events flow, and prints a summary line. With the Pulumi CLI on PATH it\n" +
    "runs `pulumi up` (state in .pulumi-state/ unless a backend is configured); without it, the same\n" +
    "program runs on the built-in engine stand-in (Pulumi's mock runtime, the real dynamic-provider host).",
  options: [
    {
      name: "projects",
      type: "string",
      default: "12",
      valueName: "<n>",
      description:
        "Projects in the emulated organization (1-50); each gets one hook per destination × event type.",
    },
    {
      name: "keep",
      type: "boolean",
      description: "Leave the receivers and the emulator running at the end and print how to explore them.",
    },
  ],
  epilogue: [
    "Output: the story on stderr, then one line on stdout (wrapped here):",
    "  sandbox: hooks=<n> enabled=<n> events=<n> stored=<n> repaired=<n> replayed=<n> lost=0 duplicated=0;\n" +
      "  receiver: hooks=<n> stored=<n>; product: hooks=<n> stored=<n>",
    "Exit codes: 0 every step checked out, 1 a step failed (its message says which and why), 64 bad arguments.",
  ].join("\n"),
};

async function main(values) {
  const projects = Number(values.projects);
  if (!Number.isInteger(projects) || projects < 1 || projects > 50) {
    failure("--projects must be a whole number from 1 to 50");
    return EXIT.usage;
  }
  let pulumi;
  if (findExecutable("pulumi", process.env.PATH)) {
    progress("checking the Pulumi CLI");
    // The sandbox's secrets are throwaway: an empty passphrase unless the user set one.
    pulumi = preparePulumi({
      stack: "sandbox",
      interactive: false,
      env: { PULUMI_CONFIG_PASSPHRASE: "", ...process.env },
    });
    progress(`using ${pulumi.pulumi}; ${pulumi.backend.description}`);
  } else {
    console.error(
      "no Pulumi CLI: running the sandbox on the built-in engine stand-in; deployments need the CLI",
    );
  }
  await runSandbox({
    projects,
    keep: values.keep === true,
    log: progress,
    print: (line) => console.log(line),
    pulumi,
    projectRoot: REPO_ROOT,
  });
  return EXIT.ok;
}

runScript(spec, "npm run sandbox", main);
