#!/usr/bin/env -S npx tsx
// Apply one stack: check the Pulumi CLI, pick the backend (local .pulumi-state/ when none is
// configured), create or select the stack whose config is in stacks/, run `pulumi up`.
// Run through tsx (`npm run up -- --stack dev`) because it imports the TypeScript in scripts/lib.
import { $ } from "zx";
import { EXIT, preparePulumi, runScript, ScriptError } from "./lib/prepare.ts";
import { failure, progress } from "./lib/progress.ts";
import { summariseStackOutputs } from "./lib/pulumiJson.ts";
import { adoAccessDescription, availableStacks } from "./lib/pulumiCli.ts";

const spec = {
  usage: "npm run up -- --stack <env> [--yes] [--preview] [-- <extra pulumi up flags>]",
  summary:
    "Deploys a HookFleet stack: the receiver on Azure and one ADO service hook per (project × event type).\n" +
    "Every run refreshes first (Pulumi.yaml: options.refresh: always), so hooks ADO disabled are re-enabled.",
  options: [
    {
      name: "stack",
      type: "string",
      required: true,
      valueName: "<env>",
      description: `Stack to apply; its config is stacks/Pulumi.<env>.yaml (${availableStacks().join(", ")}).`,
    },
    { name: "yes", type: "boolean", description: "Apply without asking (CI)." },
    { name: "preview", type: "boolean", description: "Only show what would change (`pulumi preview`)." },
  ],
  epilogue: [
    "Environment:",
    "  PULUMI_BACKEND_URL        backend to use; unset (and no `pulumi login`): file backend in .pulumi-state/",
    "  PULUMI_CONFIG_PASSPHRASE  passphrase of the stack's secrets (file backend); needed when not interactive",
    "  AZURE_DEVOPS_EXT_PAT      ADO PAT the program and the hook provider use to list projects and manage hooks",
    "Exit codes: 0 applied, 1 pulumi failed, 64 bad arguments, 127 Pulumi CLI missing.",
  ].join("\n"),
};

async function main(values, passthrough) {
  const stack = String(values.stack);
  const yes = values.yes === true;
  const interactive = !yes && Boolean(process.stdin.isTTY);

  progress(`stack ${stack}: checking the Pulumi CLI`);
  const ctx = preparePulumi({ stack, interactive });
  progress(`using ${ctx.pulumi}; ${ctx.backend.description} (${ctx.backend.url})`);
  progress(adoAccessDescription(ctx.env));
  const pulumi = $({ cwd: ctx.cwd, env: ctx.env, stdio: "inherit", nothrow: true });

  progress(`selecting stack ${stack} (created from stacks/Pulumi.${stack.split("/").pop()}.yaml if new)`);
  const select = await pulumi`${ctx.pulumi} stack select --create ${stack} --non-interactive`;
  if (select.exitCode !== 0) throw new ScriptError(`could not select or create stack ${stack}`, EXIT.failed);

  const command = values.preview ? ["preview"] : ["up", ...(yes ? ["--yes", "--non-interactive"] : [])];
  progress(`running pulumi ${command.join(" ")} --stack ${stack}`);
  const run = await pulumi`${ctx.pulumi} ${command} --stack ${stack} ${passthrough}`;
  if (run.exitCode !== 0) {
    failure(`pulumi ${command[0]} failed (exit ${run.exitCode})`);
    return EXIT.failed;
  }
  if (!values.preview) {
    // The state of the fleet after the run: hooks per status, any not enabled, next rotations.
    const out = await $({
      cwd: ctx.cwd,
      env: ctx.env,
      quiet: true,
      nothrow: true,
    })`${ctx.pulumi} stack output --json --stack ${stack}`;
    try {
      for (const line of summariseStackOutputs(JSON.parse(out.stdout))) console.log(line);
    } catch {
      // No outputs to read (a failed first run): the pulumi output above says why.
    }
  }
  progress(`stack ${stack}: done. All outputs: pulumi stack output --stack ${stack}`);
  return EXIT.ok;
}

runScript(spec, "npm run up", main);
