/**
 * Upgrading a stack to the release with destinations changes nothing, proved two ways:
 *
 * - through the engine: the state index.ts of the last release before destinations wrote
 *   (test/fixtures/state/v0.3.0-program-5e21a61.json: two organizations, the receiver's hooks and
 *   credentials) is refreshed, previewed and applied by today's index.ts through the engine model
 *   and the real dynamic-provider host: no create, update, replace or delete, with `destinations`
 *   absent and with the receiver listed as the one destination;
 * - under mocks, for every stack file: the hooks, fleets and credentials today's program registers
 *   (URN, inputs, which inputs are secret) equal what that release registered
 *   (fixtures/hooks-5e21a61.json, recorded from it by fixtures/record-hook-snapshot.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { startReceiver, type Receiver } from "../../devkit/recording-receiver";
import {
  loadProgramFixture,
  seedProgramFixture,
  type ProgramStateFixture,
} from "../fixtures/state/program-fixture";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { fromStored } from "../../devkit/provider-host/engine";
import { isolatedCommand } from "../../devkit/provider-host/isolated";
import {
  hookSnapshot,
  seedSnapshotProjects,
  snapshotConfig,
  snapshotMockOutputs,
  snapshotOrganizations,
  SNAPSHOT_VARIANTS,
  type SnapshotEntry,
} from "./hook-snapshot";
import { runProgramUnderMocks } from "./program-run";

jest.setTimeout(180_000);

const HOUR = 3_600_000;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in each command's fresh registry
const PROGRAM = () => require("../../index");
const saved = { pat: process.env.AZURE_DEVOPS_EXT_PAT, now: process.env.HOOKFLEET_NOW };
afterAll(() => {
  for (const [k, v] of [
    ["AZURE_DEVOPS_EXT_PAT", saved.pat],
    ["HOOKFLEET_NOW", saved.now],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("state written by index.ts before destinations (v0.3.0-program-5e21a61.json)", () => {
  let emulator: AdoEmulator;
  let receiver: Receiver;
  let fixture: ProgramStateFixture;
  let options: {
    stack: string;
    config: Record<string, string>;
    secretKeys: string[];
    hostEnv: Record<string, string>;
  };

  beforeAll(async () => {
    emulator = await startAdoEmulator({
      orgs: [
        { name: "contoso", projects: [] },
        { name: "labs", projects: [] },
      ],
      allowBasicAuthOverLoopbackHttp: true,
    });
    receiver = await startReceiver();
    fixture = loadProgramFixture("v0.3.0-program-5e21a61.json", {
      ado: emulator.baseUrl,
      receiver: receiver.url,
    });
    seedProgramFixture(emulator, fixture);
    const now = new Date(Date.parse(fixture.clock) + HOUR).toISOString();
    // The program (this process) and the providers (the host) read the same clock.
    process.env.HOOKFLEET_NOW = now;
    process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
    options = {
      stack: fixture.stack,
      config: { ...fixture.config, "hookfleet:adoPat": emulator.pat },
      secretKeys: ["hookfleet:adoPat"],
      hostEnv: { HOOKFLEET_NOW: now },
    };
  });
  afterAll(async () => {
    await receiver?.close();
    await emulator?.idle();
    await emulator?.close();
  });

  it("refreshes, previews and applies with no change at all, and ADO is left as it was", async () => {
    const stored = fromStored(fixture.resources);
    const refreshed = await isolatedCommand("refresh", { ...options, state: stored });
    expect(refreshed.run.changes).toMatchObject({ refresh: stored.length, gone: 0 });

    const preview = await isolatedCommand(
      "preview",
      { ...options, state: refreshed.state, refresh: true },
      PROGRAM,
    );
    expect(preview.run.changes).toMatchObject({
      create: 0,
      update: 0,
      replace: 0,
      delete: 0,
      same: stored.length,
    });

    const before = emulator.orgs.flatMap((org) => emulator.subscriptions(org));
    const up = await isolatedCommand<{ hookTotal: number; failedTestDeliveries: Record<string, string[]> }>(
      "up",
      { ...options, state: refreshed.state, refresh: true },
      PROGRAM,
    );
    expect(up.run.changes).toMatchObject({
      create: 0,
      update: 0,
      replace: 0,
      delete: 0,
      same: stored.length,
    });
    expect(up.state.map((r) => r.urn).sort()).toEqual(stored.map((r) => r.urn).sort());
    expect(up.run.outputs.hookTotal).toBe(5);
    // The receiver is the one destination: it has the name a stack without destinations gives it.
    expect(up.run.outputs.failedTestDeliveries).toEqual({ receiver: [] });
    expect(emulator.orgs.flatMap((org) => emulator.subscriptions(org))).toEqual(before);
  });

  it("listing the receiver as the one destination changes nothing either", async () => {
    const config = {
      ...options.config,
      "hookfleet:destinations": JSON.stringify([{ name: "ours", kind: "receiver" }]),
    };
    const preview = await isolatedCommand(
      "preview",
      { ...options, config, state: fromStored(fixture.resources), refresh: true },
      PROGRAM,
    );
    expect(preview.run.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, same: 8 });
  });
});

describe("hooks and credentials registered for each stack file, against the release before destinations", () => {
  const recorded = JSON.parse(
    fs.readFileSync(path.join(__dirname, "fixtures/hooks-5e21a61.json"), "utf8"),
  ) as Record<string, SnapshotEntry[]>;
  let emulator: AdoEmulator;

  beforeAll(async () => {
    emulator = await startAdoEmulator({
      orgs: snapshotOrganizations().map((name) => ({ name, projects: [] })),
    });
    seedSnapshotProjects(emulator);
    process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
  });
  afterAll(async () => {
    await emulator?.close();
  });

  /** index.ts under plain mocks (a fresh module registry), the variant's config plus `extra`. */
  async function snapshot(variant: (typeof SNAPSHOT_VARIANTS)[number], extra: Record<string, string> = {}) {
    const { mocks } = await runProgramUnderMocks({
      stack: variant.stack,
      config: { ...snapshotConfig(variant, emulator), ...extra },
      outputs: snapshotMockOutputs,
    });
    return hookSnapshot(mocks.resources, emulator.baseUrl);
  }

  it.each(SNAPSHOT_VARIANTS.map((v) => [v.label, v] as const))(
    "%s: the same URNs and inputs",
    async (label, variant) => {
      const today = await snapshot(variant);
      expect(today.length).toBeGreaterThan(0);
      expect(today).toEqual(recorded[label]);
    },
  );

  it("prod with its receiver listed as a destination: the same URNs and inputs", async () => {
    const prod = SNAPSHOT_VARIANTS.find((v) => v.label === "prod")!;
    const today = await snapshot(prod, {
      "hookfleet:destinations": JSON.stringify([{ name: "receiver", kind: "receiver" }]),
    });
    expect(today).toEqual(recorded.prod);
  });
});
