#!/usr/bin/env -S npx tsx
// Rotate a credential now: set its rotation nonce in the stack config (stacks/Pulumi.<env>.yaml,
// so the rotation is recorded in git) and apply. --emergency also sets its overlap to 0, so the
// previous secret stops working at once instead of after the overlap window.
import * as os from "node:os";
import { $ } from "zx";
import { keepDeployedImage } from "./lib/deployedImage.ts";
import { EXIT, preparePulumi, runScript, ScriptError } from "./lib/prepare.ts";
import { ADO_USER_TOKEN_ENV, missingUserTokenProblem, patRotationProblems } from "./lib/patRotation.ts";
import { progress } from "./lib/progress.ts";
import {
  configSetArgs,
  CREDENTIALS,
  planDestinationPatRotation,
  planRotation,
  rotationKeys,
} from "./lib/stackConfig.ts";

const spec = {
  usage:
    "npm run rotate -- --stack <env> --credential <url-token|basic-password|read-token|pat> [--destination <name>] [--emergency]",
  summary:
    "Rotates one credential of a stack: a new secret becomes current, the old one stays accepted for the\n" +
    "overlap (or not at all with --emergency), ADO hooks are updated to the new secret. Nothing is lost.",
  options: [
    { name: "stack", type: "string", required: true, valueName: "<env>", description: "Stack to rotate in." },
    {
      name: "credential",
      type: "string",
      required: true,
      choices: CREDENTIALS,
      description: "Which credential to rotate.",
    },
    {
      name: "destination",
      type: "string",
      valueName: "<name>",
      description:
        "With --credential pat: the PAT minted for this destination (hookfleet:destinations), not the heal job's.",
    },
    {
      name: "emergency",
      type: "boolean",
      description: "Leaked secret: overlap 0, the previous value is rejected as soon as the update lands.",
    },
    {
      name: "apply",
      type: "boolean",
      default: true,
      description: "Run `pulumi up` after setting the config (--no-apply: only set it).",
    },
    { name: "yes", type: "boolean", description: "Apply without asking (CI)." },
  ],
  epilogue:
    "After a rotation, commit stacks/Pulumi.<env>.yaml: the nonce records who rotated what, and when.\n" +
    "A PAT rotation needs a Microsoft Entra user token in HOOKFLEET_ADO_USER_TOKEN (the ADO PAT API takes\n" +
    "no other credential); after `pulumi up` the script checks in the stack outputs that each PAT rotated\n" +
    "and revoked what it replaced.\n" +
    "On a stack with hookfleet:imagePromoted the `up` keeps the receiver image the stack runs, unless\n" +
    "HOOKFLEET_IMAGE names another.\n" +
    "Exit codes: 0 rotated, 1 pulumi failed or the rotation was not (fully) made, 64 bad arguments, no\n" +
    "user token for a PAT, or no image for a promoted-image stack, 127 Pulumi CLI missing.",
};

async function main(values) {
  const stack = String(values.stack);
  const credential = String(values.credential);
  const emergency = values.emergency === true;
  const yes = values.yes === true;
  const destination = values.destination === undefined ? undefined : String(values.destination);
  if (destination !== undefined && credential !== "pat") {
    throw new ScriptError("--destination goes with --credential pat (a destination's PAT)", EXIT.usage);
  }
  progress(`stack ${stack}: checking the Pulumi CLI`);
  const ctx = preparePulumi({ stack, interactive: !yes && Boolean(process.stdin.isTTY) });
  const quiet = $({ cwd: ctx.cwd, env: ctx.env, quiet: true, nothrow: true });

  const select = await quiet`${ctx.pulumi} stack select ${stack} --non-interactive`;
  if (select.exitCode !== 0) {
    throw new ScriptError(
      `stack ${stack} does not exist yet: deploy it first (npm run up -- --stack ${stack})`,
      EXIT.failed,
    );
  }
  const requestedBy = process.env.GITHUB_ACTOR ?? process.env.BUILD_REQUESTEDFOR ?? os.userInfo().username;
  let plan;
  if (destination !== undefined) {
    // The destinations list, as the stack holds it (secrets decrypted here, never printed).
    const got = await quiet`${ctx.pulumi} config get hookfleet:destinations --stack ${stack}`;
    let destinations = [];
    try {
      destinations = got.exitCode === 0 ? JSON.parse(got.stdout) : [];
    } catch {
      destinations = [];
    }
    try {
      plan = planDestinationPatRotation({
        destinations,
        destination,
        emergency,
        now: new Date(),
        requestedBy,
      });
    } catch (err) {
      throw new ScriptError(err.message, EXIT.usage);
    }
  } else if (credential === "pat") {
    const managed = (
      await quiet`${ctx.pulumi} config get hookfleet:managePat --stack ${stack}`
    ).stdout.trim();
    if (managed !== "true") {
      throw new ScriptError(
        `stack ${stack} does not manage a PAT (hookfleet:managePat is not true): the PAT in AZURE_DEVOPS_EXT_PAT is yours to rotate in ADO`,
        EXIT.usage,
      );
    }
  }
  if (plan === undefined) {
    const previousOverlap = (
      await quiet`${ctx.pulumi} config get ${rotationKeys(credential).overlapHours} --stack ${stack}`
    ).stdout.trim();
    plan = planRotation({
      credential,
      emergency,
      now: new Date(),
      requestedBy,
      previousOverlapHours: previousOverlap || undefined,
    });
  }
  // Without the token the AdoPat provider defers the rotation and `pulumi up` still succeeds: refuse
  // before anything is changed rather than report a rotation that did not happen.
  const applying = values.apply !== false;
  // Before anything is changed, like the token check below: the image the `up` will keep.
  if (applying) await keepDeployedImage(ctx, stack);
  if (credential === "pat" && applying) {
    const what =
      destination === undefined
        ? "rotating the stack's PATs"
        : `rotating the PAT of destination ${destination}`;
    const problem = missingUserTokenProblem(process.env, what);
    if (problem) throw new ScriptError(problem, EXIT.usage);
  }
  for (const set of plan.sets) {
    progress(`pulumi config set ${set.key} ${set.value}`);
    const r = await quiet`${ctx.pulumi} ${configSetArgs(set, stack)}`;
    if (r.exitCode !== 0)
      throw new ScriptError(`pulumi config set ${set.key} failed: ${r.stderr.trim()}`, EXIT.failed);
  }
  if (values.apply === false) {
    progress(
      `config set; apply with: npm run up -- --stack ${stack}` +
        (credential === "pat" ? ` (with ${ADO_USER_TOKEN_ENV} set, or the PAT does not rotate)` : ""),
    );
  } else {
    progress(`applying the rotation: pulumi up --stack ${stack}`);
    const up = await $({
      cwd: ctx.cwd,
      env: ctx.env,
      stdio: "inherit",
      nothrow: true,
    })`${ctx.pulumi} up --stack ${stack} ${yes ? ["--yes", "--non-interactive"] : []}`;
    if (up.exitCode !== 0)
      throw new ScriptError(
        `pulumi up failed (exit ${up.exitCode}); the new nonce stays set, run it again`,
        EXIT.failed,
      );
    if (credential === "pat") {
      // `pulumi up` succeeds whether or not the PAT rotated: the outputs tell.
      const shown = await quiet`${ctx.pulumi} stack output --json --stack ${stack}`;
      let outputs = {};
      try {
        outputs = shown.exitCode === 0 ? JSON.parse(shown.stdout) : {};
      } catch {
        outputs = {};
      }
      const problems = patRotationProblems({ outputs, nonce: plan.nonce, stack, destination });
      if (problems.length > 0) throw new ScriptError(problems.join("\n"), EXIT.failed);
      progress(
        "the stack outputs confirm it: every PAT rotated has the new nonce and nothing is left to revoke",
      );
    }
  }
  for (const note of plan.notes) progress(note);
  progress(`commit stacks/Pulumi.${stack.split("/").pop()}.yaml to record the rotation`);
  return EXIT.ok;
}

runScript(spec, "npm run rotate", main);
