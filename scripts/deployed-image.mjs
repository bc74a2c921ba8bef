#!/usr/bin/env -S npx tsx
// For CI steps that run the Pulumi CLI directly (the GitHub preview action): print the image a
// promoted-image stack keeps, as KEY=value lines for $GITHUB_ENV, the way `npm run up`, `drift` and
// `rotate` pass it to the program themselves (scripts/lib/deployedImage.ts).
import { IMAGE_ENV, keepDeployedImage } from "./lib/deployedImage.ts";
import { preparePulumi, runScript } from "./lib/prepare.ts";
import { EXIT } from "./lib/args.ts";

const spec = {
  usage: 'npm run -s deployed-image -- --stack <env> [--preview] >> "$GITHUB_ENV"',
  summary:
    "Prints HOOKFLEET_IMAGE=… (and HOOKFLEET_ACR_RESOURCE_ID=…) naming the image a stack with\n" +
    "hookfleet:imagePromoted runs now, read from its outputs; nothing for other stacks or when\n" +
    "HOOKFLEET_IMAGE is set already.",
  options: [
    { name: "stack", type: "string", required: true, valueName: "<env>", description: "Stack to read." },
    {
      name: "preview",
      type: "boolean",
      description: "For a preview: a stack that runs no image yet gets a stand-in that is never applied.",
    },
  ],
  epilogue:
    "Exit codes: 0 printed (or nothing to print), 64 bad arguments or (without --preview) no image deployed\n" +
    "yet, 127 Pulumi CLI missing.",
};

async function main(values) {
  const stack = String(values.stack);
  const ctx = preparePulumi({ stack, interactive: false });
  const before = { ...ctx.env };
  await keepDeployedImage(ctx, stack, { preview: values.preview === true });
  for (const [key, value] of Object.entries(ctx.env))
    if (before[key] !== value && /^HOOKFLEET_/.test(key)) console.log(`${key}=${value}`);
  if (!ctx.env[IMAGE_ENV])
    process.stderr.write(`» stack ${stack}: nothing to pass (not a promoted-image stack)\n`);
  return EXIT.ok;
}

runScript(spec, "npm run deployed-image", main);
