/**
 * The run-time shim (components/dynamic): the text Pulumi stores in state keeps working after the
 * implementation changes, and runs the *new* code — what a refresh after a provider fix needs.
 * A throw-away project root holds the implementation; the shim finds it through
 * HOOKFLEET_PROJECT_ROOT, set in the real process (the shim runs outside jest's sandbox, like in
 * the dynamic-provider host).
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { forgetLoadedImplementations, runtimeProvider } from "../../components/dynamic/runtime-provider";
import { hasUnknownInputs, UNKNOWN_INPUT } from "../../components/dynamic/unknown";

/* eslint-disable @typescript-eslint/no-require-imports */
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};
/* eslint-enable @typescript-eslint/no-require-imports */
// The process object the serialized code sees (jest gives tests a copy of process.env).
const realProcess = requireFromString(
  "module.exports = { handler: () => process }",
).handler() as unknown as NodeJS.Process;

let root: string;
const implementation = (version: string) => `
  import type { ReadResult } from "@pulumi/pulumi/dynamic";
  const servedBy: string = "${version}";
  export const provider = {
    async create(inputs: Record<string, unknown>) { return { id: "r1", outs: { ...inputs, servedBy } }; },
    async read(id: string, props: Record<string, unknown>): Promise<ReadResult> { return { id, props: { ...props, servedBy } }; },
  };
  export function makeProvider() { return { async create() { return { id: "f1", outs: { servedBy: "factory-" + servedBy } }; } }; }
`;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "hookfleet-shim-"));
  symlinkSync(path.resolve("node_modules"), path.join(root, "node_modules"));
  writeFileSync(path.join(root, "package.json"), "{}");
  mkdirSync(path.join(root, "impl"));
  writeFileSync(path.join(root, "impl", "provider.ts"), implementation("v1"));
  realProcess.env.HOOKFLEET_PROJECT_ROOT = root;
});
afterAll(() => {
  delete realProcess.env.HOOKFLEET_PROJECT_ROOT;
  forgetLoadedImplementations();
  rmSync(root, { recursive: true, force: true });
});

async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  const fn = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
  return fn.text;
}

it("keeps working from the stored text and runs today's implementation after a change", async () => {
  const text = await serialized(runtimeProvider({ modulePath: "impl/provider.ts", exportName: "provider" }));
  expect(text).toContain('modulePath: "impl/provider.ts"');
  expect(text).not.toContain("servedBy");

  const first = requireFromString(text).handler();
  expect((await first.create({ a: 1 })).outs).toEqual({ a: 1, servedBy: "v1" });

  // A provider fix lands; the next command starts a new provider host with the same stored text.
  writeFileSync(path.join(root, "impl", "provider.ts"), implementation("v2"));
  expect(forgetLoadedImplementations()).toBeGreaterThan(0);
  const later = requireFromString(text).handler();
  expect((await later.read!("r1", { a: 1 })).props).toEqual({ a: 1, servedBy: "v2" });
  // Methods the implementation lacks behave as the host does without them.
  expect(await later.diff!("r1", {}, {})).toEqual({});
  await expect(later.delete!("r1", {})).resolves.toBeUndefined();
});

it("accepts a factory export and rejects a path outside the project", async () => {
  const text = await serialized(
    runtimeProvider({ modulePath: "impl/provider.ts", exportName: "makeProvider" }, ["create"]),
  );
  const provider = requireFromString(text).handler();
  expect(Object.keys(provider)).toEqual(["create"]);
  expect((await provider.create({})).id).toBe("f1");
  expect(() => runtimeProvider({ modulePath: "../elsewhere.ts", exportName: "x" })).toThrow(
    /relative to the project root/,
  );
  const missing = requireFromString(
    await serialized(runtimeProvider({ modulePath: "impl/provider.ts", exportName: "nothing" })),
  ).handler();
  await expect(missing.create({})).rejects.toThrow(/impl\/provider.ts#nothing not found/);
});

it("recognises the engine's own sentinel for inputs not known during a preview", () => {
  expect(UNKNOWN_INPUT).toBe(pulumi.runtime.unknownValue);
  expect(hasUnknownInputs({ a: "x", b: [1, pulumi.runtime.unknownValue] })).toBe(true);
  expect(hasUnknownInputs({ a: "x", b: ["y"] })).toBe(false);
});
