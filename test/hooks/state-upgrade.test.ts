/**
 * Stored state is a contract: the state each release wrote (test/fixtures/state) is refreshed,
 * previewed, applied, updated and destroyed by today's code, through the real dynamic-provider host
 * driven as the engine drives it (devkit/provider-host). Refresh and delete run the
 * `__provider` text stored in the resource's outputs: for 0.1.0 state that is the 9 KB tsx shim,
 * which loads components/hooks/provider.ts and the credential providers by path.
 */
import { providerStub } from "../../components/dynamic/stub";
import { startReceiver, type Receiver } from "../../devkit/recording-receiver";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { fromStored, type ResourceState, stepsOf } from "../../devkit/provider-host/engine";
import { isolatedCommand } from "../../devkit/provider-host/isolated";
import { isSecret, reveal, type PropertyMap } from "../../devkit/provider-host/values";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import {
  fixtureConfig,
  FIXTURE_ORG,
  FIXTURE_SECRET_KEYS,
  loadFixture,
  seedEmulator,
  type StateFixture,
} from "../fixtures/state/fixture";

// Every fixture ever written (test/fixtures/state/README.md): add, never remove.
const FIXTURES = ["v0.1.0-3355a14.json", "v0.2.0-issue-17.json"];
const HOUR = 3_600_000;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in each command's fresh registry
const PROGRAM = () => require("../fixtures/state/program");

const SERVICE_HOOK = "pulumi-nodejs:dynamic/hookfleet:ServiceHook";
const ROTATING_SECRET = "pulumi-nodejs:dynamic/credentials:RotatingSecret";
const ADO_PAT = "pulumi-nodejs:dynamic/credentials:AdoPat";

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

const plain = (v: unknown): unknown => (isSecret(v) ? plain(v.value) : v);
const byType = (state: ResourceState[], type: string, name?: string) =>
  state.filter((r) => r.type === type && (!name || r.name === name));

describe.each(FIXTURES)("state written by %s", (file) => {
  let emulator: AdoEmulator;
  // Accepts every delivery: the receiver's own credential checks are tested elsewhere.
  let receiver: Receiver;
  let fixture: StateFixture;
  let options: {
    stack: string;
    config: Record<string, string>;
    secretKeys: string[];
    hostEnv: Record<string, string>;
  };

  beforeAll(async () => {
    emulator = await startAdoEmulator({
      orgs: [{ name: FIXTURE_ORG, projects: [] }],
      allowBasicAuthOverLoopbackHttp: true,
    });
    receiver = await startReceiver();
    fixture = loadFixture(file, { ado: emulator.baseUrl, receiver: receiver.url });
    seedEmulator(emulator, fixture);
    // The provider clock an hour after the fixture's last run: nothing is due.
    const now = new Date(Date.parse(fixture.clock) + HOUR).toISOString();
    process.env.HOOKFLEET_NOW = now;
    process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
    options = {
      stack: "dev",
      config: fixtureConfig({ ado: emulator.baseUrl, receiver: receiver.url }, emulator.pat),
      secretKeys: FIXTURE_SECRET_KEYS,
      hostEnv: { HOOKFLEET_NOW: now, HOOKFLEET_ADO_USER_TOKEN: emulator.userToken },
    };
  });
  afterAll(async () => {
    await receiver?.close();
    await emulator?.idle();
    await emulator?.close();
  });

  it("refreshes through the stored provider, then previews and applies with no change", async () => {
    const stored = fromStored(fixture.resources);
    const refreshed = await isolatedCommand("refresh", { ...options, state: stored });
    expect(refreshed.run.changes).toMatchObject({ refresh: stored.length, gone: 0 });
    for (const r of refreshed.state) {
      // Refresh keeps the provider text the resource was written with.
      const before = stored.find((s) => s.urn === r.urn)!;
      expect(r.outputs.__provider).toBe(before.outputs.__provider);
    }
    // Outputs in today's shape after the refresh: every field present, none lost.
    const [hook] = byType(refreshed.state, SERVICE_HOOK);
    expect(hook.outputs).toMatchObject({ status: "enabled", adopted: false });
    expect(Array.isArray(hook.outputs.warnings)).toBe(true);
    expect(plain(hook.outputs.url)).toBe(plain(byType(stored, SERVICE_HOOK)[0].outputs.url));

    const preview = await isolatedCommand(
      "preview",
      { ...options, state: refreshed.state, refresh: true },
      PROGRAM,
    );
    expect(preview.run.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(preview.run.changes.same).toBe(stored.length);

    const up = await isolatedCommand<{ hookCount: number }>(
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
    expect(up.run.outputs.hookCount).toBe(1);
    // A same step stores the new inputs (the stub) and keeps the outputs (the old provider text).
    for (const r of up.state) {
      const before = stored.find((s) => s.urn === r.urn)!;
      expect(r.outputs.__provider).toBe(before.outputs.__provider);
      expect(r.inputs.__provider).toBe(providerStub(r.type.split(":").pop()!));
    }
    // ADO untouched: the subscription as the fixture left it, no PAT revoked.
    expect(emulator.subscriptions(FIXTURE_ORG).map((s) => s.consumerInputs.url)).toEqual(
      fixture.live.subscriptions.map((s) => s.consumerInputs.url),
    );
    expect(emulator.pats(FIXTURE_ORG).filter((p) => (p as { revoked?: boolean }).revoked)).toEqual([]);
  }, 120_000);

  it("updates with today's code: values rotate, the stub replaces the stored provider text", async () => {
    const up = await isolatedCommand(
      "up",
      {
        ...options,
        config: {
          ...options.config,
          "hookfleet:urlTokenRotationNonce": "upgrade",
          "hookfleet:patRotationNonce": "upgrade",
        },
        state: fromStored(fixture.resources),
        refresh: true,
      },
      PROGRAM,
    );
    expect(stepsOf(up.run, "update").sort()).toEqual(
      ["contoso-pat", "url-token", byType(up.state, SERVICE_HOOK)[0].name].sort(),
    );
    expect(stepsOf(up.run, "same")).toEqual(["basic-password"]);

    const [token] = byType(up.state, ROTATING_SECRET, "url-token");
    const storedToken = fromStored(fixture.resources).find((r) => r.name === "url-token")!;
    expect(token.outputs.__provider).toBe(providerStub("RotatingSecret"));
    expect(Object.keys(token.outputs).sort()).toEqual(
      [
        "__provider",
        "current",
        "currentSha256",
        "kind",
        "previous",
        "previousNotAfter",
        "previousSha256",
        "rotatedAt",
        "rotationNonce",
      ].sort(),
    );
    // The old current became the previous value; both are secrets in state.
    expect(plain(token.outputs.previous)).toBe(plain(storedToken.outputs.current));
    expect(isSecret(token.outputs.current) && isSecret(token.outputs.previous)).toBe(true);

    const [hook] = byType(up.state, SERVICE_HOOK);
    expect(hook.outputs.__provider).toBe(providerStub("ServiceHook"));
    const live = emulator.subscription(hook.id, FIXTURE_ORG)!;
    expect(live.consumerInputs.url).toContain(plain(token.outputs.current) as string);
    expect(hook.outputs).toMatchObject({ status: "enabled", lastTestDelivery: "succeeded", warnings: [] });

    const [pat] = byType(up.state, ADO_PAT);
    const storedPat = fromStored(fixture.resources).find((r) => r.type === ADO_PAT)!;
    expect(pat.outputs.__provider).toBe(providerStub("AdoPat"));
    expect(pat.outputs.previousAuthorizationId).toBe(storedPat.outputs.authorizationId);
    // The PAT that was previous in the fixture is revoked now that a newer one replaced it.
    const revoked = emulator
      .pats(FIXTURE_ORG)
      .filter((p) => (p as { revoked?: boolean }).revoked)
      .map((p) => p.authorizationId);
    expect(revoked).toEqual([storedPat.outputs.previousAuthorizationId]);
    // Every stored value survives a Struct round trip: no undefined anywhere.
    for (const r of up.state) assertJsonClean(r.outputs);
  }, 120_000);

  it("destroys with the provider text stored in the outputs", async () => {
    const stored = fromStored(fixture.resources);
    // A fresh emulator state for this test: the fixture's live objects again.
    const hookId = byType(stored, SERVICE_HOOK)[0].id;
    if (!emulator.subscription(hookId, FIXTURE_ORG)) seedEmulator(emulator, fixture);
    const destroyed = await isolatedCommand("destroy", { ...options, state: stored });
    expect(destroyed.run.changes.delete).toBe(stored.length);
    expect(emulator.subscription(hookId, FIXTURE_ORG)).toBeUndefined();
    const storedPat = byType(stored, ADO_PAT)[0];
    const pats = emulator.pats(FIXTURE_ORG) as { authorizationId: string; revoked?: boolean }[];
    for (const id of [storedPat.outputs.authorizationId, storedPat.outputs.previousAuthorizationId]) {
      expect(pats.find((p) => p.authorizationId === id)?.revoked).toBe(true);
    }
  }, 120_000);
});

/** What the engine stored goes through Struct unchanged (Struct.fromJavaScript throws on undefined). */
function assertJsonClean(props: PropertyMap): void {
  const plainProps = reveal(props) as Parameters<typeof Struct.fromJavaScript>[0];
  expect(Struct.fromJavaScript(plainProps).toJavaScript()).toEqual(plainProps);
}
