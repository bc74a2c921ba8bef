#!/usr/bin/env -S npx tsx
// Prints the receiver image's tag: the digest of its build context (app/Dockerfile's context as
// .dockerignore filters it), the same tag `npm run up` builds under. CI uses it to build once and
// to skip the build when the registry already holds that tag.
import * as path from "node:path";
import { describeContext, receiverBuildContext } from "../components/receiver/image";
import { formatHelp, parseArgs, type CommandSpec } from "./lib/args";

const spec: CommandSpec = {
  usage: "npm run --silent image:tag [-- --json]",
  summary:
    "Prints the receiver image tag (src-<digest of the build context>). Unchanged code gives the same tag;\n" +
    "any change to a file the image is built from gives a new one.",
  options: [{ name: "json", type: "boolean", description: "Print {tag, digest, files} as JSON." }],
  epilogue: "Exit codes: 0 printed, 64 bad arguments.",
};

const parsed = parseArgs(spec, process.argv.slice(2));
if (parsed.kind === "help") {
  console.log(formatHelp(spec));
} else if (parsed.kind === "error") {
  for (const e of parsed.errors) console.error(e);
  process.exitCode = 64;
} else {
  const root = path.resolve(__dirname, "..");
  const context = describeContext({
    contextDir: path.resolve(root, receiverBuildContext.contextDir),
    dockerfile: receiverBuildContext.dockerfile,
  });
  console.log(
    parsed.values.json
      ? JSON.stringify({ tag: context.tag, digest: context.digest, files: context.fileCount })
      : context.tag,
  );
}
