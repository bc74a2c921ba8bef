/**
 * Results are total: the dynamic-provider host sends every result through `Struct.fromJavaScript`,
 * which throws on an `undefined` anywhere. Every method of the three providers, with fresh state,
 * with the state 0.1.0 stored, and with that state missing any one field (what an earlier release
 * may have written), returns a result that goes through Struct and comes back unchanged.
 * The implementations are called directly (in-process: cheap, and exact about which method
 * returned what); the same providers run in the real host in the other suites.
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AdoClient } from "../../ado/client";
import { createAdoPatProvider } from "../../components/credentials/ado-pat-provider";
import { createRotatingSecretProvider } from "../../components/credentials/rotating-secret-provider";
import { createServiceHookProvider } from "../../components/hooks/provider";
import { startReceiver, type Receiver } from "../../devkit/recording-receiver";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { fromStored } from "../../devkit/provider-host/engine";
import { reveal } from "../../devkit/provider-host/values";
import { FIXTURE_ORG, loadFixture, seedEmulator, type StateFixture } from "../fixtures/state/fixture";

let emu: AdoEmulator;
let receiver: Receiver;
let fixture: StateFixture;

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: FIXTURE_ORG, projects: [] }],
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  fixture = loadFixture("v0.1.0-3355a14.json", { ado: emu.baseUrl, receiver: receiver.url });
  seedEmulator(emu, fixture);
});
afterAll(async () => {
  await emu.idle();
  await emu.close();
  await receiver.close();
});

/** What the host does with a result: Struct.fromJavaScript (throws on undefined), then back. */
function throughStruct(result: unknown): void {
  const value = JSON.parse(JSON.stringify({ result })) as Record<string, unknown>;
  expect(
    Struct.fromJavaScript({ result } as Parameters<typeof Struct.fromJavaScript>[0]).toJavaScript(),
  ).toStrictEqual(value);
}

/** The stored outputs of the fixture's resource of this type, secrets revealed (what a provider sees). */
function storedOutputs(type: string): Record<string, unknown> {
  const r = fromStored(fixture.resources).find((x) => x.type.endsWith(type))!;
  const { __provider: _provider, ...outputs } = reveal(r.outputs) as Record<string, unknown>;
  return outputs;
}

/** The outputs, and the outputs without each one of their fields. */
function withEachFieldMissing(outputs: Record<string, unknown>): [string, Record<string, unknown>][] {
  return [
    ["all fields", outputs],
    ...Object.keys(outputs).map((k): [string, Record<string, unknown>] => {
      const { [k]: _dropped, ...rest } = outputs;
      return [`without ${k}`, rest];
    }),
  ];
}

it("ServiceHook: every method, fresh and with 0.1.0 state missing any field", async () => {
  const provider = createServiceHookProvider({
    clientFor: (orgUrl) => new AdoClient({ orgUrl, auth: { kind: "pat", pat: emu.pat }, retryBaseMs: 10 }),
    warn: () => undefined,
  });
  const checked = await provider.check(
    {},
    {
      orgUrl: `${emu.baseUrl}/${FIXTURE_ORG}`,
      projectId: fixture.live.projects[0].id,
      eventType: "build.complete",
      url: `${receiver.url}/api/v1/webhooks/alw_total`,
    },
  );
  throughStruct(checked);
  const created = await provider.create(checked.inputs);
  throughStruct(created);
  throughStruct(await provider.diff(created.id, created.outs, checked.inputs));
  throughStruct(await provider.read(created.id, created.outs));
  throughStruct(await provider.update(created.id, created.outs, { ...checked.inputs, enabled: false }));

  const id = fixture.live.subscriptions[0].id;
  for (const [label, props] of withEachFieldMissing(storedOutputs("ServiceHook"))) {
    if (!("orgUrl" in props)) {
      // Every release stored it: without it the error says so (and nothing crashes in Struct).
      await expect(provider.read(id, props)).rejects.toThrow(/state has no orgUrl/);
      continue;
    }
    const read = await provider.read(id, props);
    expect([label, read.id]).toEqual([label, id]);
    throughStruct(read);
    throughStruct(await provider.diff(id, props, checked.inputs));
  }
  await provider.delete(created.id, created.outs);
});

it("RotatingSecret: every method, fresh and with 0.1.0 state missing any field", async () => {
  const provider = createRotatingSecretProvider({
    now: () => new Date(Date.parse(fixture.clock) + 3_600_000),
  });
  const checked = await provider.check({}, { kind: "urlToken", systemId: "devops" });
  throughStruct(checked);
  const inputs = checked.inputs as Parameters<typeof provider.create>[0];
  const created = await provider.create(inputs);
  throughStruct(created);
  for (const [, props] of withEachFieldMissing(storedOutputs("RotatingSecret"))) {
    throughStruct(await provider.read("id", props));
    throughStruct(await provider.diff("id", props, inputs));
    throughStruct(await provider.update("id", props, { ...inputs, rotationNonce: "now" }));
  }
});

it("AdoPat: every method, fresh and with 0.1.0 state missing any field", async () => {
  const provider = createAdoPatProvider({
    now: () => new Date(Date.parse(fixture.clock) + 3_600_000),
    userToken: () => emu.userToken,
    warn: () => undefined,
  });
  const stored = storedOutputs("AdoPat");
  const checked = await provider.check!({}, { ...stored, rotationNonce: "" });
  throughStruct(checked);
  for (const [, props] of withEachFieldMissing(stored)) {
    if (!("organizationUrl" in props && "vsspsUrl" in props)) {
      // Every release stored both: without them the error says so (and nothing crashes in Struct).
      await expect(provider.read!("pat", props)).rejects.toThrow(/state has no organizationUrl\/vsspsUrl/);
      continue;
    }
    throughStruct(await provider.read!("pat", props));
    throughStruct(await provider.diff!("pat", props, checked.inputs));
  }
  const created = await provider.create(checked.inputs);
  throughStruct(created);
  throughStruct(await provider.update!("pat", created.outs, { ...checked.inputs, rotationNonce: "again" }));
});
