#!/usr/bin/env -S npx tsx
// Drift check: `pulumi preview --refresh --expect-no-changes --json`, then a table of what
// drifted (hooks ADO disabled, hooks deleted, settings changed). Exit 2 on drift, so a scheduled
// CI job fails visibly; --fix applies (`pulumi up --refresh --yes`) and checks again.
import * as fs from "node:fs";
import { $ } from "zx";
import { keepDeployedImage } from "./lib/deployedImage.ts";
import { EXIT, preparePulumi, runScript, ScriptError } from "./lib/prepare.ts";
import { failure, heartbeat, progress } from "./lib/progress.ts";
import { formatDriftTable, parsePulumiJson, summariseDrift } from "./lib/pulumiJson.ts";
import { onlyChangesProposed } from "./lib/pulumiCli.ts";
import { scrubText } from "../app/scrub.ts";

const spec = {
  usage: "npm run drift -- --stack <env> [--fix] [--json] [--summary-file <path>]",
  summary:
    "Compares the live resources (ADO hooks, Azure) with the program after a refresh and lists what drifted.\n" +
    "Exit 0: no drift. Exit 2: drift (and not fixed). Exit 1: pulumi or the program failed, even part-way\n" +
    "(the rows printed before the failure may not be all the drift; --fix then repairs nothing).",
  options: [
    { name: "stack", type: "string", required: true, valueName: "<env>", description: "Stack to check." },
    {
      name: "fix",
      type: "boolean",
      description: "Repair: run `pulumi up --refresh --yes`, then check again.",
    },
    {
      name: "json",
      type: "boolean",
      description:
        "Print the drift summary as JSON on stdout instead of a table (with --fix: one before and one after the repair).",
    },
    {
      name: "summary-file",
      type: "string",
      valueName: "<path>",
      description: "Also write the drift summary as JSON to this file (for CI to attach or comment).",
    },
  ],
  epilogue:
    "Environment: as for `npm run up` (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, AZURE_DEVOPS_EXT_PAT,\n" +
    "HOOKFLEET_IMAGE).",
};

async function checkDrift(ctx, stack) {
  progress(`previewing ${stack} with refresh (reads every live hook; may take a minute)`);
  const stop = heartbeat("pulumi preview");
  const preview = await $({
    cwd: ctx.cwd,
    env: ctx.env,
    quiet: true,
    nothrow: true,
  })`${ctx.pulumi} preview --stack ${stack} --refresh --expect-no-changes --json --non-interactive`;
  stop();
  let run;
  try {
    run = parsePulumiJson(preview.stdout);
  } catch (err) {
    // No JSON: pulumi failed before the engine ran (no such stack, bad credentials…).
    process.stderr.write(scrubText(preview.stderr));
    throw new ScriptError(`pulumi preview failed (exit ${preview.exitCode}): ${err.message}`, EXIT.failed);
  }
  const summary = summariseDrift(run);
  // A non-zero exit is drift only when --expect-no-changes tripped; otherwise pulumi failed, even
  // when its JSON holds no error diagnostic (a backend or CLI error).
  const exit = preview.exitCode ?? 1;
  if (exit !== 0 && summary.errors.length === 0 && !onlyChangesProposed(exit, preview.stderr)) {
    process.stderr.write(scrubText(preview.stderr));
    summary.errors.push(`pulumi preview failed (exit ${exit})`);
  }
  return summary;
}

function report(summary, values) {
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(formatDriftTable(summary));
  if (values["summary-file"])
    fs.writeFileSync(String(values["summary-file"]), JSON.stringify(summary, null, 2));
  for (const e of summary.errors) failure(e);
}

/** pulumi or the program failed: the rows found before the failure are not all the drift. */
function incomplete(summary) {
  if (summary.rows.length > 0)
    failure(`the check did not finish: the ${summary.rows.length} row(s) above may not be all the drift`);
  return EXIT.failed;
}

async function main(values) {
  const stack = String(values.stack);
  progress(`stack ${stack}: checking the Pulumi CLI`);
  const ctx = preparePulumi({ stack, interactive: false });
  progress(`using ${ctx.pulumi}; ${ctx.backend.description}`);
  await keepDeployedImage(ctx, stack);

  const before = await checkDrift(ctx, stack);
  report(before, values);
  if (before.errors.length > 0) return incomplete(before);
  if (before.clean) return EXIT.ok;
  if (!values.fix) {
    progress(`to repair: npm run drift -- --stack ${stack} --fix   (or npm run up -- --stack ${stack})`);
    return EXIT.drift;
  }

  progress(`repairing: pulumi up --refresh --yes --stack ${stack}`);
  // pulumi's output is progress: on stderr, so stdout holds only the results (tables or --json).
  const up = await $({
    cwd: ctx.cwd,
    env: ctx.env,
    stdio: ["inherit", process.stderr, "inherit"],
    nothrow: true,
  })`${ctx.pulumi} up --stack ${stack} --refresh --yes --non-interactive`;
  if (up.exitCode !== 0) throw new ScriptError(`pulumi up failed (exit ${up.exitCode})`, EXIT.failed);

  progress("checking again after the repair");
  const after = await checkDrift(ctx, stack);
  report(after, values);
  if (after.errors.length > 0) return incomplete(after);
  if (!after.clean) {
    failure(`still drifting after the repair: ${after.rows.length} resource(s)`);
    return EXIT.drift;
  }
  progress(`repaired ${before.rows.length} resource(s); stack ${stack} matches the program`);
  return EXIT.ok;
}

runScript(spec, "npm run drift", main);
