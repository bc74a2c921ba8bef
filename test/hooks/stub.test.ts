/**
 * The serialized part of every HookFleet dynamic provider (components/dynamic/stub.ts): pinned
 * forever, small as the Pulumi CLI stores it, and, run by the real dynamic-provider host from the
 * stored text, it always loads today's implementation through the permanent loader.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LOADER_FILE, providerStub } from "../../components/dynamic/stub";
import { hasUnknownInputs, UNKNOWN_INPUT } from "../../components/dynamic/unknown";
import { UNKNOWN } from "../../devkit/provider-host/values";
import { runCliCommand } from "../../devkit/provider-host/cli-command";
import { PROJECT_ROOT, ProviderHost } from "../../devkit/provider-host/host";

it("is this exact text, forever (state written by every release since 0.2 holds it)", () => {
  expect(providerStub("ServiceHook")).toBe(
    'exports.handler = () => require(process.cwd() + "/dynamic-providers.cjs").provider("ServiceHook");',
  );
  expect(LOADER_FILE).toBe("dynamic-providers.cjs");
  expect(() => providerStub('x"); process.exit(1); ("')).toThrow(/bad provider name/);
});

it("is what state stores when the CLI compiles the program (ts-node, comments kept): under 1 KB per resource", async () => {
  const run = await runCliCommand({
    command: "preview",
    program: "test/hooks/fixtures/stub-program.ts",
    stack: "dev",
    config: {},
    refresh: false,
  });
  const texts = run.deployment.resources.map((r) => r.inputs.__provider as string);
  expect(texts.sort()).toEqual(["AdoPat", "RotatingSecret", "ServiceHook"].map(providerStub).sort());
  for (const text of texts) {
    // Stored twice (inputs and outputs), as JSON: both copies together stay under 1 KB.
    expect(2 * Buffer.byteLength(JSON.stringify(text))).toBeLessThan(1024);
  }
}, 120_000);

it("providers and the engine model recognise the engine's sentinel for inputs unknown in a preview", () => {
  expect(UNKNOWN_INPUT).toBe(pulumi.runtime.unknownValue);
  expect(UNKNOWN).toBe(pulumi.runtime.unknownValue);
  expect(hasUnknownInputs({ a: "x", b: [1, pulumi.runtime.unknownValue] })).toBe(true);
  expect(hasUnknownInputs({ a: "x", b: ["y"] })).toBe(false);
});

describe("run by the real host from a throw-away project root", () => {
  let root: string;
  const implementation = (version: string) => `
    export function provider(name: string) {
      return {
        async create(inputs: Record<string, unknown>) { return { id: "r1", outs: { ...inputs, name, servedBy: "${version}" } }; },
        async read(id: string, props: Record<string, unknown>) { return { id, props: { ...props, servedBy: "${version}" } }; },
      };
    }
  `;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "hookfleet-stub-"));
    symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"));
    writeFileSync(path.join(root, "package.json"), "{}");
    writeFileSync(path.join(root, "Pulumi.yaml"), "name: stubtest\nruntime: nodejs\n");
    // The real loader, and a registry of our own behind it.
    cpSync(path.join(PROJECT_ROOT, LOADER_FILE), path.join(root, LOADER_FILE));
    mkdirSync(path.join(root, "components", "dynamic"), { recursive: true });
    writeFileSync(path.join(root, "components", "dynamic", "registry.ts"), implementation("v1"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("creates with today's code, and refreshes with the next release's code from the same stored text", async () => {
    const urn = "urn:pulumi:dev::stubtest::pulumi-nodejs:dynamic/t:Thing::a";
    const props = { __provider: providerStub("Thing"), a: 1 };
    const first = await ProviderHost.start({ projectRoot: root });
    try {
      const created = await first.create({ urn, props });
      expect(created.outputs).toEqual({ ...props, name: "Thing", servedBy: "v1" });
    } finally {
      await first.close();
    }
    // A new release changes the implementation; the next command starts a new host.
    writeFileSync(path.join(root, "components", "dynamic", "registry.ts"), implementation("v2"));
    const second = await ProviderHost.start({ projectRoot: root });
    try {
      const read = await second.read({ urn, id: "r1", inputs: props, state: { ...props, servedBy: "v1" } });
      // Today's code ran, from the text stored by yesterday's.
      expect(read.outputs).toEqual({ ...props, servedBy: "v2" });
    } finally {
      await second.close();
    }
  }, 60_000);
});
