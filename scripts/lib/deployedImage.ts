/**
 * A stack with `hookfleet:imagePromoted` runs the image CI built once and promoted, never one of its
 * own (components/config/program.ts). When HOOKFLEET_IMAGE does not name one, the scripts hand the
 * program the image the stack runs now, read from its outputs (index.ts `receiverInfo`), so that a
 * drift check, a rotation or an `up` by hand keeps what CI rolled out instead of failing.
 */
import { ACR_RESOURCE_ID_ENV, IMAGE_ENV } from "../../components/config/image-env";
import { stackFileValue } from "../../components/config/stack-file";
import { scrubText } from "../../app/scrub";
import { runToEnd } from "./child-process";
import { EXIT, ScriptError, type PreparedPulumi } from "./prepare";
import { progress } from "./progress";

export { ACR_RESOURCE_ID_ENV, IMAGE_ENV };

/** What a preview of a promoted-image stack that runs no image yet plans with (never applied; `.invalid` is reserved never to resolve, RFC 2606). */
export const PREVIEW_PLACEHOLDER_IMAGE = "not-deployed-yet.invalid/hookfleet/receiver:preview";

export type ImageChoice =
  /** Not a promoted-image stack, or the image is named already: nothing to add. */
  | { kind: "as-is"; reason: string }
  /** The deployed image (and its registry), as environment variables for `pulumi`. */
  | { kind: "deployed"; env: Record<string, string>; note: string }
  /** A promoted-image stack with no image named and none deployed yet. */
  | { kind: "missing"; problem: string };

function deployedReceiver(outputs: unknown): { image: string; acrResourceId: string } | undefined {
  const info = (outputs as { receiverInfo?: unknown } | undefined)?.receiverInfo;
  if (typeof info !== "object" || info === null) return undefined;
  const { image, acrResourceId } = info as { image?: unknown; acrResourceId?: unknown };
  if (typeof image !== "string" || image.trim() === "" || image === "[secret]") return undefined;
  return { image, acrResourceId: typeof acrResourceId === "string" ? acrResourceId : "" };
}

/**
 * What to run `pulumi` with (pure; tested directly). `promoted`: the stack's `hookfleet:imagePromoted`;
 * `outputs`: its `pulumi stack output --json` (undefined when it has none).
 */
export function chooseImage(options: {
  stack: string;
  promoted: boolean;
  env: NodeJS.ProcessEnv;
  outputs: unknown;
}): ImageChoice {
  const { stack, promoted, env } = options;
  if (!promoted) return { kind: "as-is", reason: "not a promoted-image stack" };
  const named = env[IMAGE_ENV]?.trim();
  if (named) return { kind: "as-is", reason: `${IMAGE_ENV} names the image: ${named}` };
  const deployed = deployedReceiver(options.outputs);
  if (!deployed) {
    return {
      kind: "missing",
      problem:
        `stack ${stack} runs the image CI promotes (hookfleet:imagePromoted) and has none deployed yet ` +
        `(no stack output receiverInfo.image): set ${IMAGE_ENV} to the image to deploy, e.g. ` +
        `${IMAGE_ENV}=$(bash scripts/ci-build-image.sh <registry ARM id>), as CI's deploy does`,
    };
  }
  const add: Record<string, string> = { [IMAGE_ENV]: deployed.image };
  if (deployed.acrResourceId && !env[ACR_RESOURCE_ID_ENV]?.trim())
    add[ACR_RESOURCE_ID_ENV] = deployed.acrResourceId;
  return {
    kind: "deployed",
    env: add,
    note: `keeping the image stack ${stack} runs: ${deployed.image} (set ${IMAGE_ENV} to deploy another)`,
  };
}

/**
 * Before a script's `pulumi` run: adds the deployed image to `ctx.env` when the stack needs it (with
 * a progress line saying so), or stops with the reason when there is none to keep. Whether the stack
 * is a promoted-image one is read from its stack file (no `pulumi` call for the others).
 */
export async function keepDeployedImage(
  ctx: PreparedPulumi,
  stack: string,
  options: { preview?: boolean } = {},
): Promise<void> {
  const flag = stackFileValue(ctx.cwd, stack.split("/").pop() ?? stack, "hookfleet:imagePromoted");
  const promoted = flag === true || flag === "true";
  let outputs: unknown;
  if (promoted && !ctx.env[IMAGE_ENV]?.trim()) {
    const r = await runToEnd(ctx.pulumi, ["stack", "output", "--json", "--stack", stack], {
      cwd: ctx.cwd,
      env: ctx.env,
    });
    // A stack that cannot be read (backend, sign-in, network) is not one with nothing deployed:
    // telling on-call to name an image then would invite deploying the wrong one. Only a preview,
    // which applies nothing (a stack's first pull request has no stack yet), goes on.
    if (r.code !== 0 && !options.preview)
      throw new ScriptError(
        `could not read stack ${stack}'s outputs for the image it runs (pulumi stack output exited ${r.code}): ${scrubText(r.stderr.trim(), 500)}`,
        EXIT.failed,
      );
    try {
      outputs = r.code === 0 ? (JSON.parse(r.stdout) as unknown) : undefined;
    } catch {
      throw new ScriptError(`pulumi stack output --json for stack ${stack} printed no JSON`, EXIT.failed);
    }
  }
  const choice = chooseImage({ stack, promoted, env: ctx.env, outputs });
  if (choice.kind === "missing" && options.preview) {
    // Nothing applies in a preview: a stack's first pull request previews with a stand-in image.
    ctx.env[IMAGE_ENV] = PREVIEW_PLACEHOLDER_IMAGE;
    progress(`stack ${stack} runs no image yet: previewing with ${PREVIEW_PLACEHOLDER_IMAGE}`);
    return;
  }
  if (choice.kind === "missing") throw new ScriptError(choice.problem, EXIT.usage);
  if (choice.kind === "deployed") {
    Object.assign(ctx.env, choice.env);
    progress(choice.note);
  }
}
