/**
 * Loads a TypeScript entry module the way the Pulumi CLI's Node.js language host loads a program
 * with `runtime.options.typescript: true`, then runs it:
 *
 *   node devkit/provider-host/cli-typescript.cjs <entry.ts> [args…]   (cwd: the project root)
 *
 * It repeats what `@pulumi/pulumi/cmd/run/run.js` does before it requires the program (SDK 3.276):
 * the tsconfig is the `tsconfig` runtime option of Pulumi.yaml (the language host passes it as
 * PULUMI_NODEJS_TSCONFIG_PATH) or `tsconfig.json`; its `compilerOptions` are read without `extends`
 * (tsutils.loadTypeScriptCompilerOptions); type-checking is off when PULUMI_NODEJS_TRANSPILE_ONLY is
 * "true" or those options say `noCheck`; TypeScript and ts-node are the project's, else the copies
 * vendored in @pulumi/pulumi (here: the project's TypeScript, the vendored ts-node 7.0.1, which keeps
 * comments in the emitted code); ts-node is registered with Pulumi's default compiler options under
 * the file's. Functions defined in the program therefore have the text the CLI would serialize.
 *
 * Plain JavaScript on purpose: it must run before any TypeScript loader exists in the process.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [entry, ...args] = process.argv.slice(2);
if (!entry || entry === "--help") {
  console.error("usage: node devkit/provider-host/cli-typescript.cjs <entry.ts> [args…]");
  process.exit(entry ? 0 : 64);
}

const projectRoot = path.resolve(__dirname, "..", "..");
const { parse } = require("yaml");
const project = parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8"));
const options = (typeof project.runtime === "object" && project.runtime.options) || {};

// pulumi-language-nodejs: `typescript` defaults to true.
if (options.typescript !== false) {
  const tsutils = require("@pulumi/pulumi/tsutils");
  const semver = require("semver");
  const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH || options.tsconfig || "tsconfig.json";
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions(path.resolve(projectRoot, tsConfigPath));
  const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const ts = require(typescriptRequire);
  const useNodeNext = semver.gte(ts.version, "4.7.0");
  require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly,
    project: path.resolve(projectRoot, tsConfigPath),
    skipProject: !fs.existsSync(path.resolve(projectRoot, tsConfigPath)),
    compilerOptions: {
      target: "ES2020",
      module: useNodeNext ? "nodenext" : "commonjs",
      moduleResolution: useNodeNext ? "nodenext" : "node",
      sourceMap: "true",
      ...compilerOptions,
    },
  });
  process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
}

process.argv = [process.argv[0], path.resolve(entry), ...args];
require(path.resolve(entry));
