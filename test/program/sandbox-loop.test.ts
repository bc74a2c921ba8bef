/**
 * The sandbox loop end to end, with no Pulumi CLI: the whole program (index.ts) with the sandbox
 * stack's config, each apply a `pulumi up` (refresh: always) run by the engine model against the
 * real dynamic-provider host (test/support/provider-host): credentials and hooks created, updated
 * and refreshed through their stored provider stubs, against the ADO emulator and the real receiver.
 * It is the loop `npm run sandbox` drives through the CLI (scripts/lib/sandbox.ts), same code.
 */
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { sandboxLoop, type SandboxOutputs } from "../../scripts/lib/sandbox";
import { startAdoEmulator, type AdoEmulator } from "../support/ado-emulator";
import { stepsOf, type Deployment, type ResourceState } from "../support/provider-host/engine";
import { isolatedCommand } from "../support/provider-host/isolated";
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

  // Each apply is a new `pulumi up`: a fresh program (module registry), a fresh provider host, the
  // state the previous apply left. The providers get the PAT through their `configure` (stack config
  // `hookfleet:adoPat`, as with `pulumi config set --secret adoPat`).
  let state: ResourceState[] = [];
  const applies: Deployment<SandboxOutputs>[] = [];
  const apply = async (): Promise<SandboxOutputs> => {
    const result = await isolatedCommand<SandboxOutputs>(
      "up",
      {
        stack: "sandbox",
        config: { ...config, "hookfleet:adoPat": emulator.pat },
        secretKeys: ["hookfleet:adoPat"],
        state,
      },
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the command's fresh registry
      () => require("../../index"),
    );
    state = result.state;
    applies.push(result.run);
    return result.run.outputs;
  };

  const lines: string[] = [];
  const report = await sandboxLoop({ emulator, receiver, org: "sandbox", apply, log: (l) => lines.push(l) });

  // 2 projects × 3 event types (stacks/Pulumi.sandbox.yaml)
  expect(report.hooks).toBe(6);
  expect(applies[0].changes.create).toBe(6 + 3); // hooks + url token, basic password, read token
  // Each sample event is raised in one project and matches that project's hook.
  expect(report.delivered).toBe(3);
  expect(report.stored).toBe(3);
  expect(report.disabled).toHaveLength(1);
  // The repair run updated exactly the disabled hook and created nothing.
  const [, repair] = applies;
  expect(repair.changes.create).toBe(0);
  expect(stepsOf(repair, "update")).toEqual([expect.stringMatching(/^sandbox-.+-git\.push$/)]);
  expect(report.notEnabledAfterRepair).toBe(0);
  expect(report.enabledAfterRepair).toBe(6);
  expect(report.deliveredAfterRepair).toBe(1);
  expect(report.storedAtEnd).toBeGreaterThan(report.stored);
  expect(lines.join("\n")).toContain("git.push in Project-001: disabledBySystem");
  // Secrets stayed secret in the outputs people see: no token in the log lines.
  expect(lines.join("\n")).not.toMatch(/alw_[A-Za-z0-9]{20,}/);
}, 180_000);
