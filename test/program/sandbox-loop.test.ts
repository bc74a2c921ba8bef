/**
 * The sandbox loop end to end, with no Pulumi CLI: the whole program (index.ts) with the sandbox
 * stack's config, its dynamic resources (credentials, hooks) executed for real by the engine
 * harness through their serialized providers, against the ADO emulator and the real receiver.
 * It is the loop `npm run sandbox` drives through the CLI (scripts/lib/sandbox.ts), same code.
 */
import type * as pulumiType from "@pulumi/pulumi";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { sandboxLoop, type SandboxOutputs } from "../../scripts/lib/sandbox";
import { startAdoEmulator, type AdoEmulator } from "../support/ado-emulator";
import type * as harnessType from "../support/dynamic-harness";
import { effectiveConfig, organizationsOf, stackFile } from "./stack-config";

let emulator: AdoEmulator;
let receiver: RunningReceiver;
const savedPat = process.env.AZURE_DEVOPS_EXT_PAT;

beforeAll(async () => {
  emulator = await startAdoEmulator({
    orgs: [{ name: "sandbox", projects: 2 }],
    // The sandbox stack uses authMode both: Basic credentials to the receiver on 127.0.0.1 over http.
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver({
    // Until the first apply hands it the generated credentials, the receiver accepts nothing.
    credentials: {
      systems: [{ id: "devops", storageMode: "full", retentionDays: 7 }],
      urlTokens: [],
      readTokens: [],
    },
    logLevel: "silent",
  });
  process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
});

afterAll(async () => {
  if (savedPat === undefined) delete process.env.AZURE_DEVOPS_EXT_PAT;
  else process.env.AZURE_DEVOPS_EXT_PAT = savedPat;
  await receiver?.close();
  await emulator?.close();
});

it("applies, delivers and stores, sees ADO disable a hook, repairs it on the next apply", async () => {
  const raw = stackFile("sandbox");
  const orgs = organizationsOf(raw).map((o) => ({ ...o, url: emulator.orgUrl("sandbox") }));
  const config = effectiveConfig({
    ...raw,
    "hookfleet:organizations": orgs,
    "hookfleet:receiverUrl": receiver.url,
  });

  // Each apply is a new `pulumi up`: a fresh program (module registry) and provider process,
  // with the state the previous apply left.
  let state = new Map<string, harnessType.HarnessResource>();
  const applies: harnessType.HarnessRun<SandboxOutputs>[] = [];
  const apply = async (): Promise<SandboxOutputs> => {
    let run!: harnessType.HarnessRun<SandboxOutputs>;
    // require() inside isolateModulesAsync: each apply loads @pulumi/pulumi and index.ts afresh.
    /* eslint-disable @typescript-eslint/no-require-imports */
    await jest.isolateModulesAsync(async () => {
      const pulumi: typeof pulumiType = require("@pulumi/pulumi");
      const { DynamicHarness }: typeof harnessType = require("../support/dynamic-harness");
      // Providers run outside jest's sandboxed process.env, so they get the PAT through their
      // `configure` (stack config `hookfleet:adoPat`), as with `pulumi config set --secret adoPat`.
      const harness = new DynamicHarness({
        project: "hookfleet",
        stack: "sandbox",
        config: { ...config, "hookfleet:adoPat": emulator.pat },
      });
      for (const [k, v] of state) harness.state.set(k, v);
      // A new command is a new provider process: the org-wide hook list cache starts empty.
      harness.newProviderProcess();
      // Provider outputs are built in Node's own realm (the provider is loaded with native
      // require), where arrays fail the jest realm's `instanceof Array` in Pulumi's serializer and
      // arrive as {"0": …}. Copy them into this realm before the mock answers the engine.
      const internals = harness as unknown as {
        step: (...a: unknown[]) => Promise<harnessType.HarnessResource>;
      };
      const step = internals.step.bind(harness);
      internals.step = async (...a) => {
        const r = await step(...a);
        return { ...r, outputs: JSON.parse(JSON.stringify(r.outputs)) };
      };
      run = await harness.up(
        () => {
          pulumi.runtime.setAllConfig(config);
          return require("../../index") as SandboxOutputs;
        },
        { refresh: state.size > 0 },
      );
      state = new Map(harness.state);
    });
    /* eslint-enable @typescript-eslint/no-require-imports */
    applies.push(run);
    return run.outputs;
  };

  const lines: string[] = [];
  const report = await sandboxLoop({ emulator, receiver, org: "sandbox", apply, log: (l) => lines.push(l) });

  // 2 projects × 3 event types (stacks/Pulumi.sandbox.yaml)
  expect(report.hooks).toBe(6);
  expect(applies[0].created).toBe(6 + 3); // hooks + url token, basic password, read token
  // Each sample event is raised in one project and matches that project's hook.
  expect(report.delivered).toBe(3);
  expect(report.stored).toBe(3);
  expect(report.disabled).toHaveLength(1);
  // The repair run updated exactly the disabled hook and created nothing.
  const [, repair] = applies;
  expect(repair.created).toBe(0);
  expect(repair.ops.filter(([op]) => op === "update").map(([, key]) => key)).toEqual([
    expect.stringMatching(/::sandbox-.+-git\.push$/),
  ]);
  expect(report.notEnabledAfterRepair).toBe(0);
  expect(report.enabledAfterRepair).toBe(6);
  expect(report.deliveredAfterRepair).toBe(1);
  expect(report.storedAtEnd).toBeGreaterThan(report.stored);
  expect(lines.join("\n")).toContain("git.push in Project-001: disabledBySystem");
  // Secrets stayed secret in the outputs people see: no token in the log lines.
  expect(lines.join("\n")).not.toMatch(/alw_[A-Za-z0-9]{20,}/);
}, 180_000);
