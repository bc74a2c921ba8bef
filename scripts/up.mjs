#!/usr/bin/env -S npx tsx
// Apply one stack: check the Pulumi CLI, pick the backend (local .pulumi-state/ when none is
// configured), create or select the stack whose config is in stacks/, run `pulumi up`.
// Run through tsx (`npm run up -- --stack dev`) because it imports the TypeScript in scripts/lib.
import { $ } from "zx";
import { keepDeployedImage } from "./lib/deployedImage.ts";
import { EXIT, preparePulumi, runScript, ScriptError } from "./lib/prepare.ts";
import { failure, progress } from "./lib/progress.ts";
import { summariseStackOutputs } from "./lib/pulumiJson.ts";
import { adoAccessDescription, availableStacks, findExecutable } from "./lib/pulumiCli.ts";
import { formatFindings, stackPreflight } from "./lib/preflight.ts";

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
    {
      name: "skip-preflight",
      type: "boolean",
      description: "Do not check Azure (providers registered, deployer's rights) before `pulumi up`.",
    },
  ],
  epilogue: [
    "Environment:",
    "  PULUMI_BACKEND_URL        backend to use; unset (and no `pulumi login`): file backend in .pulumi-state/",
    "  PULUMI_CONFIG_PASSPHRASE  passphrase of the stack's secrets (file backend); needed when not interactive",
    "  AZURE_DEVOPS_EXT_PAT      ADO PAT the program and the hook provider use to list projects and manage hooks",
    "  ARM_SUBSCRIPTION_ID       subscription the preflight checks (else azure-native:subscriptionId, else `az account show`)",
    "  HOOKFLEET_ARM_ENDPOINT    Azure Resource Manager endpoint (default https://management.azure.com)",
    "  HOOKFLEET_ARM_TOKEN       ARM bearer token to use instead of DefaultAzureCredential (az login, workload identity…)",
    "  HOOKFLEET_IMAGE           receiver image to deploy; unset on a stack with hookfleet:imagePromoted: the one it runs",
    "Before `pulumi up` (not --preview) a preflight asks Azure whether the resource providers are registered and",
    "the deployer may create the resources and role assignments; it prints each problem with the az command that",
    'fixes it (docs/receiver-infra.md, "Deployer permissions").',
    "Exit codes: 0 applied, 1 pulumi failed or the preflight could not ask Azure (not signed in, an expired token,",
    "no network), 3 the preflight found problems, 64 bad arguments, 127 Pulumi CLI missing.",
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
  await keepDeployedImage(ctx, stack, { preview: values.preview === true });

  if (!values.preview && values["skip-preflight"] !== true) {
    const code = await preflight(stack, ctx, passthrough);
    if (code !== EXIT.ok) return code;
  }

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

/** Checks Azure before the deploy; the exit code to stop with, or EXIT.ok to go on. */
async function preflight(stack, ctx, passthrough) {
  progress(
    `stack ${stack}: preflight (resource providers, deployer's rights) through Azure Resource Manager`,
  );
  const quiet = $({ cwd: ctx.cwd, env: ctx.env, quiet: true, nothrow: true });
  let result;
  try {
    result = await stackPreflight({
      configGet: async (key) => {
        const r = await quiet`${ctx.pulumi} config get ${key} --stack ${stack}`;
        return r.exitCode === 0 ? r.stdout.trim() : undefined;
      },
      env: ctx.env,
      passthrough,
      azSubscription: async () => {
        const az = findExecutable("az", ctx.env.PATH);
        if (!az) return undefined;
        const r = await quiet`${az} account show --query id -o tsv`;
        return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
      },
    });
  } catch (err) {
    failure(`preflight could not ask Azure: ${err instanceof Error ? err.message : String(err)}`);
    failure(
      "sign in (az login, or the AZURE_*/ARM_* variables of your CI), or skip it: npm run up -- --stack <env> --skip-preflight",
    );
    // Nothing was checked, so no problem was found (exit 3): the check itself failed.
    return EXIT.failed;
  }
  if (result.kind === "skipped") {
    progress(`preflight skipped: ${result.reason}`);
    return EXIT.ok;
  }
  const problems = formatFindings(result.findings);
  if (problems.length === 0) {
    progress(
      `preflight ok: ${result.findings.length} checks passed in subscription ${result.target.subscriptionId}`,
    );
    return EXIT.ok;
  }
  for (const line of problems) console.error(line);
  failure(
    `preflight: ${result.findings.filter((f) => !f.ok).length} problem(s) would fail the deploy; fix them (commands above) or rerun with --skip-preflight`,
  );
  return EXIT.preflight;
}

runScript(spec, "npm run up", main);
