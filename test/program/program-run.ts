/**
 * index.ts under Pulumi mocks in a fresh jest module registry (its own @pulumi/pulumi and program),
 * with its outputs resolved: how the program suites (program, destinations, upgrade) run the whole
 * program without an engine.
 */
import type * as pulumiType from "@pulumi/pulumi";
import { withoutAddedExitListeners } from "../../devkit/provider-host/isolated";
import { isSecretValue } from "../support/pulumi-mocks";
import type * as mocksType from "../support/pulumi-mocks";

export interface ProgramRun {
  mocks: mocksType.PulumiMocks;
  outputs: Record<string, unknown>;
  /** Resolved outputs and whether each is secret. */
  values: Record<string, { value: unknown; secret: boolean }>;
  helpers: typeof mocksType;
}

export interface ProgramRunOptions {
  /** Stack name (`pulumi.getStack()`). */
  stack: string;
  /** Stack config, `hookfleet:key` → value. */
  config: Record<string, string>;
  /** Config keys that are secret. */
  secretKeys?: string[];
  /** Run as a preview (mocked outputs unknown where the engine would not know them). */
  preview?: boolean;
  /** What the mocked resources answer with (e.g. snapshotMockOutputs). */
  outputs: mocksType.PulumiMocksOptions["outputs"];
}

export async function runProgramUnderMocks(opts: ProgramRunOptions): Promise<ProgramRun> {
  return withoutAddedExitListeners(async () => {
    let mocks!: mocksType.PulumiMocks;
    let outputs!: Record<string, unknown>;
    let helpers!: typeof mocksType;
    let pulumi!: typeof pulumiType;
    /* eslint-disable @typescript-eslint/no-require-imports -- a fresh registry: its own @pulumi/pulumi and program */
    jest.isolateModules(() => {
      pulumi = require("@pulumi/pulumi");
      helpers = require("../support/pulumi-mocks");
      mocks = helpers.setupPulumiMocks({
        project: "hookfleet",
        stack: opts.stack,
        preview: opts.preview,
        id: helpers.azureNativeId,
        call: helpers.azureNativeCall,
        outputs: opts.outputs,
      });
      pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
      outputs = require("../../index");
    });
    /* eslint-enable @typescript-eslint/no-require-imports */
    await mocks.settled();
    const values: ProgramRun["values"] = {};
    for (const [key, out] of Object.entries(outputs)) {
      if (out === undefined) continue;
      const o = pulumi.output(out);
      values[key] = { value: await helpers.outputValue(o), secret: await pulumi.isSecret(o) };
    }
    return { mocks, outputs, values, helpers };
  });
}

/** Every plain string in a value, walking objects and arrays but not into secret-wrapped parts. */
export function plainStrings(value: unknown, out: string[] = []): string[] {
  if (isSecretValue(value)) return out;
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => plainStrings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => plainStrings(v, out));
  return out;
}
