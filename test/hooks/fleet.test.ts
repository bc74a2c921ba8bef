/**
 * HookFleet as a program: run under setMocks, every ServiceHook stepped by the engine model against
 * the real dynamic-provider host (devkit/provider-host: gRPC, Struct, the engine's step rules,
 * a new host per command), against the ADO emulator. Covers the day-2 story: ADO disables hooks
 * after failed deliveries, the next `pulumi up` (refresh: always) brings them back and touches
 * nothing else; and what a user must act on (a failed test delivery) is in the outputs.
 */
import { AdoClient } from "../../ado/client";
import type { Subscription } from "../../ado/types";
import { providerStub } from "../../components/dynamic/stub";
import type { HookFleetArgs } from "../../components/hooks/hook-fleet";
import type * as hookFleetModule from "../../components/hooks/hook-fleet";
import { SERVICE_HOOK_TYPE } from "../../components/hooks/service-hook";
import { AdoEmulator, startAdoEmulator } from "../../devkit/ado-emulator";
import { isolatedCommand } from "../../devkit/provider-host/isolated";
import { stepsOf, type ResourceState } from "../../devkit/provider-host/engine";
import { isSecret } from "../../devkit/provider-host/values";
import { Receiver, startReceiver, subscriptionShape } from "../../devkit/recording-receiver";

const URL_TOKEN = "alw_fleetTokenSecret0123456789abcdef";
const PASSWORD = "basic-password-secret";

let emu: AdoEmulator;
let receiver: Receiver;
let client: AdoClient;
/** The stack's state between commands. */
let state: ResourceState[] = [];
// The host gets its PAT from the stack config (configure), never from a closure.
const stack = () => ({
  stack: "test",
  config: { "hookfleet:adoPat": emu.pat },
  secretKeys: ["hookfleet:adoPat"],
  state,
});

interface FleetOutputs {
  hookCount: number;
  statusCounts: Record<string, number>;
  hooksNotEnabled: unknown[];
  failedTestDeliveries: string[];
  warnings: string[];
}

/** One `pulumi <command>` of the fleet program; keeps the state it leaves. */
async function pulumi(command: "up" | "preview" | "destroy", over: Partial<HookFleetArgs> = {}, name = "hf") {
  const result = await isolatedCommand<FleetOutputs>(command, stack(), program(over, name));
  state = result.state;
  return result.run;
}

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: ["Alpha", "Beta", "Gamma"] }],
    // The receiver listens on 127.0.0.1 over http and the hooks carry Basic credentials.
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
});
afterAll(async () => {
  await emu.idle();
  await emu.close();
  await receiver.close();
});

function program(over: Partial<HookFleetArgs> = {}, name = "hf") {
  return () => {
    // Loaded in the command's fresh module registry, with the engine's @pulumi/pulumi.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HookFleet } = require("../../components/hooks/hook-fleet") as typeof hookFleetModule;
    const fleet = new HookFleet(name, {
      orgUrl: emu.orgUrl(),
      receiverUrl: `${receiver.url}/api/v1/webhooks/${URL_TOKEN}`,
      authMode: "both",
      basicAuthUsername: "ado",
      basicAuthPassword: PASSWORD,
      eventTypes: [
        "git.push",
        "build.complete",
        { eventType: "workitem.updated", filters: { workItemType: "Bug" } },
      ],
      adoClient: client,
      ...over,
    });
    return {
      hookCount: fleet.hookCount,
      statusCounts: fleet.statusCounts,
      hooksNotEnabled: fleet.hooksNotEnabled,
      failedTestDeliveries: fleet.failedTestDeliveries,
      warnings: fleet.warnings,
    };
  };
}

const hooks = () => state.filter((r) => r.type === SERVICE_HOOK_TYPE);

const ours = (s: Subscription) => s.consumerInputs.url?.includes(URL_TOKEN);
/** The ids of our live subscriptions, sorted. */
const ourIds = () =>
  emu
    .subscriptions()
    .filter(ours)
    .map((s) => s.id)
    .sort();

it("creates one hook per project × event type; state holds the tiny stub and secrets as secrets", async () => {
  const run = await pulumi("up");
  expect(run.changes.create).toBe(9);
  expect(run.outputs.hookCount).toBe(9);
  expect(run.outputs.statusCounts.enabled).toBe(9);
  expect(run.outputs.hooksNotEnabled).toEqual([]);
  expect(run.outputs.failedTestDeliveries).toEqual([]);
  expect(run.outputs.warnings).toEqual([]);

  const live = emu.subscriptions().filter(ours);
  expect(live).toHaveLength(9);
  const alpha = emu.projects().find((p) => p.name === "Alpha")!;
  expect(hooks().map((r) => r.name)).toContain(`hf-${alpha.id}-git.push`);
  const bug = live.find(
    (s) => s.eventType === "workitem.updated" && s.publisherInputs.projectId === alpha.id,
  )!;
  expect(bug.publisherInputs.workItemType).toBe("Bug");
  expect(bug.consumerInputs).toMatchObject({ basicAuthUsername: "ado", basicAuthPassword: PASSWORD });

  // One stored provider text for every hook, in inputs and outputs: the stub, nothing else.
  const texts = new Set(hooks().flatMap((r) => [r.inputs.__provider, r.outputs.__provider]));
  expect([...texts]).toEqual([providerStub("ServiceHook")]);
  // Secrets are secrets in state (inputs, and the outputs named additionalSecretOutputs); the
  // password itself is not in the outputs at all.
  const hook = hooks()[0];
  for (const key of ["url", "basicAuthPassword"]) expect(isSecret(hook.inputs[key])).toBe(true);
  for (const key of ["url", "passwordHash"]) expect(isSecret(hook.outputs[key])).toBe(true);
  // No headers were given: `{}` is stored as it is (headers given are secret, like their input).
  expect(hook.outputs.httpHeaders).toEqual({});
  expect(JSON.stringify(hook.outputs)).not.toContain(PASSWORD);
});

it("repairs hooks ADO disabled after failed deliveries on the next refresh + up, and changes nothing else", async () => {
  // A hook made by hand in the same org: not ours, must survive everything below.
  const alpha = emu.projects().find((p) => p.name === "Alpha")!;
  const manual = emu.addSubscription({
    publisherId: "tfs",
    eventType: "git.push",
    resourceVersion: "1.0",
    consumerId: "webHooks",
    consumerActionId: "httpRequest",
    publisherInputs: { projectId: alpha.id },
    consumerInputs: { url: `${receiver.url}/hand-made` },
  });

  // The receiver goes down; ADO's probation (36 h, run 100,000× faster) disables Alpha's push hook.
  receiver.respond = () => 500;
  emu.setTimeScale(0.00001);
  await emu.emit("git.push", { project: alpha.id });
  await emu.idle();
  const disabled = emu.subscriptions().filter((s) => ours(s) && s.status !== "enabled");
  expect(disabled.map((s) => s.status)).toEqual(["disabledBySystem"]);
  emu.setTimeScale(1);
  receiver.respond = () => 201;
  const before = subscriptionShape(emu.subscriptions().filter(ours));

  // The drift check (`pulumi preview --refresh`) sees exactly that hook as changing.
  const drift = await pulumi("preview");
  expect(stepsOf(drift, "update")).toEqual([`hf-${alpha.id}-git.push`]);
  expect(drift.changes).toMatchObject({ create: 0, replace: 0, delete: 0, same: 8 });

  emu.counters.reset();
  const run = await pulumi("up");
  expect(run.changes).toMatchObject({ update: 1, same: 8, create: 0, replace: 0, delete: 0, gone: 0 });
  expect(stepsOf(run, "update")).toEqual([`hf-${alpha.id}-git.push`]);
  expect(run.outputs.statusCounts.enabled).toBe(9);
  expect(run.outputs.hooksNotEnabled).toEqual([]);
  // The whole refresh read 9 hooks through one list call, not one GET each. The GETs by id are the
  // repaired hook's: the read-back after its re-enable PUT (ado/replace.ts) and its test notification.
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions"]).toBe(1);
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions/{id}"] ?? 0).toBeLessThanOrEqual(2);

  expect(emu.subscription(disabled[0].id)!.status).toBe("enabled");
  expect(subscriptionShape(emu.subscriptions().filter(ours))).toEqual(before);
  expect(emu.subscription(manual.id)).toBeDefined();

  // Nothing left to do: the drift check is clean.
  const quiet = await pulumi("preview");
  expect(quiet.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, same: 9 });
});

it("puts a failed test delivery in the hook's outputs and the fleet's warnings, not only on stderr", async () => {
  receiver.respond = () => 503;
  try {
    const run = await pulumi("up", { resourceDetailsToSend: "minimal" });
    expect(run.changes.update).toBe(9);
    expect(run.outputs.failedTestDeliveries).toHaveLength(9);
    expect(run.outputs.warnings).toHaveLength(9);
    expect(run.outputs.warnings[0]).toMatch(
      /^hf-.+-\S+: service hook for \S+ in project .+ADO's test notification did not reach the receiver/,
    );
    expect(hooks()[0].outputs).toMatchObject({ lastTestDelivery: "failed" });
    // Never a secret in a warning.
    expect(run.outputs.warnings.join("\n")).not.toContain(URL_TOKEN);
  } finally {
    receiver.respond = () => 200;
  }
  // The next update that reaches the receiver clears them.
  const fixed = await pulumi("up");
  expect(fixed.changes.update).toBe(9);
  expect(fixed.outputs.warnings).toEqual([]);
});

it("gives a new project hooks on the next up and removes a deleted project's hooks", async () => {
  const delta = emu.addProject("Delta");
  const grown = await pulumi("up");
  expect(grown.changes.create).toBe(3);
  expect(emu.subscriptions().filter((s) => ours(s) && s.publisherInputs.projectId === delta.id)).toHaveLength(
    3,
  );

  const beta = emu.projects().find((p) => p.name === "Beta")!;
  emu.deleteProject(beta.id);
  const shrunk = await pulumi("up");
  // Either ADO removed them with the project (refresh finds them gone) or the engine deletes them.
  expect(shrunk.changes.delete + shrunk.changes.gone).toBe(3);
  expect(hooks().filter((r) => r.name.includes(beta.id))).toEqual([]);
  expect(shrunk.outputs.hookCount).toBe(9);
  expect(emu.subscriptions().filter((s) => ours(s) && s.publisherInputs.projectId === beta.id)).toHaveLength(
    0,
  );
});

it("takes another spelling of the organization URL as the same organization: nothing changes", async () => {
  const respelled = emu.orgUrl().replace("http://", "HTTP://") + "//";
  const preview = await pulumi("preview", { orgUrl: respelled });
  expect(preview.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, same: 9 });
  const run = await pulumi("up", { orgUrl: respelled });
  expect(run.changes).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, same: 9 });
});

it("renamed resources adopt the live hooks, and deleting the old resources leaves them alone", async () => {
  const before = ourIds();
  // New names: the engine creates nine resources and deletes the nine old ones. Each create adopts
  // the identical live subscription; the old resource's delete must then not remove it.
  const run = await pulumi("up", {}, "fleet");
  expect(run.changes).toMatchObject({ create: 9, delete: 9 });
  expect(ourIds()).toEqual(before);
  expect(hooks().every((r) => r.name.startsWith("fleet-"))).toBe(true);
  expect(hooks().every((r) => r.outputs.adopted === true)).toBe(true);
  const quiet = await pulumi("preview", {}, "fleet");
  expect(quiet.changes).toMatchObject({ create: 0, update: 0, delete: 0, same: 9 });
});

it("moves to a new URL of the same organization (a rename) without a moment with no hooks", async () => {
  const before = ourIds();
  // Another address of the same emulator: to orgIdentity another organization, as a renamed org's
  // new URL is. Each replacement must create first (adopting the live subscription) and then leave it
  // alone when the old resource is deleted; deleting first would drop every hook, then make new ones.
  const renamed = emu.orgUrl().replace("127.0.0.1", "localhost");
  const run = await pulumi("up", { orgUrl: renamed }, "fleet");
  expect(run.changes).toMatchObject({ replace: 9, delete: 0 });
  expect(ourIds()).toEqual(before);
  expect(hooks().every((r) => r.outputs.orgUrl === new URL(renamed).href.replace(/\/$/, ""))).toBe(true);
});

it("destroy removes every hook HookFleet made and none made by hand", async () => {
  const manual = emu.subscriptions().filter((s) => !ours(s));
  expect(manual.length).toBeGreaterThan(0);
  const run = await pulumi("destroy");
  expect(run.changes.delete).toBe(9);
  expect(emu.subscriptions().filter(ours)).toHaveLength(0);
  expect(subscriptionShape(emu.subscriptions())).toEqual(subscriptionShape(manual));
});
