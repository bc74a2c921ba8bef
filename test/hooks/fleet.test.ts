/**
 * HookFleet as a program: run under setMocks, each ServiceHook's *serialized* provider loaded the
 * way Pulumi's dynamic-provider host loads it (test/support/dynamic-harness.ts), against the ADO
 * emulator. Covers the day-2 story: ADO disables hooks after failed deliveries, the next
 * `pulumi up --refresh` brings them back and touches nothing else.
 */
import { AdoClient } from "../../ado/client";
import type { Subscription } from "../../ado/types";
import { HookFleet, HookFleetArgs } from "../../components/hooks/hook-fleet";
import { SERVICE_HOOK_TYPE } from "../../components/hooks/service-hook";
import { AdoEmulator, startAdoEmulator } from "../support/ado-emulator";
import { DynamicHarness } from "../support/dynamic-harness";
import { Receiver, startReceiver } from "../ado/helpers";

const URL_TOKEN = "alw_fleetTokenSecret0123456789abcdef";
const PASSWORD = "basic-password-secret";

let emu: AdoEmulator;
let receiver: Receiver;
let harness: DynamicHarness;
let client: AdoClient;

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: ["Alpha", "Beta", "Gamma"] }],
    // The receiver listens on 127.0.0.1 over http and the hooks carry Basic credentials.
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  // The provider host gets its PAT from the stack config (configure), never from the closure.
  harness = new DynamicHarness({ project: "hookfleet", config: { "hookfleet:adoPat": emu.pat } });
});
afterAll(async () => {
  await emu.idle();
  await emu.close();
  await receiver.close();
});

function program(over: Partial<HookFleetArgs> = {}) {
  return () => {
    const fleet = new HookFleet("hf", {
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
    };
  };
}

const ours = (s: Subscription) => s.consumerInputs.url?.includes(URL_TOKEN);
/** What a user would compare before/after: everything but status and modification stamps. */
const shape = (subs: Subscription[]) =>
  subs
    .map(({ id, eventType, publisherInputs, consumerInputs }) => ({
      id,
      eventType,
      publisherInputs,
      consumerInputs,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));

it("creates one hook per project × event type, with secrets kept out of the serialized provider", async () => {
  const run = await harness.up(program());
  expect(run.created).toBe(9);
  expect(run.outputs.hookCount).toBe(9);
  expect(run.outputs.statusCounts.enabled).toBe(9);
  expect(run.outputs.hooksNotEnabled).toEqual([]);
  expect(run.outputs.failedTestDeliveries).toEqual([]);

  const live = emu.subscriptions().filter(ours);
  expect(live).toHaveLength(9);
  const alpha = emu.projects().find((p) => p.name === "Alpha")!;
  expect(harness.ofType(SERVICE_HOOK_TYPE).map((r) => r.name)).toContain(`hf-${alpha.id}-git.push`);
  const bug = live.find(
    (s) => s.eventType === "workitem.updated" && s.publisherInputs.projectId === alpha.id,
  )!;
  expect(bug.publisherInputs.workItemType).toBe("Bug");
  expect(bug.consumerInputs).toMatchObject({ basicAuthUsername: "ado", basicAuthPassword: PASSWORD });

  // One serialized provider for all hooks: a loader, no secret, no ADO client.
  const texts = harness.providerTexts();
  expect(texts).toHaveLength(1);
  for (const secret of [emu.pat, URL_TOKEN, PASSWORD]) expect(texts[0]).not.toContain(secret);
  expect(texts[0]).not.toContain("azure-devops-node-api");
  expect(texts[0]).toContain("components/hooks/provider.ts");
  expect(texts[0].length).toBeLessThan(10_000);
  if (process.env.SHOW_PROVIDER) console.log(texts[0]);
  // Secrets travel as Pulumi secrets; the password is not in the recorded outputs at all.
  const hook = harness.ofType(SERVICE_HOOK_TYPE)[0];
  expect(hook.secretInputs).toEqual(expect.arrayContaining(["url", "basicAuthPassword"]));
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
  const before = shape(emu.subscriptions().filter(ours));

  harness.newProviderProcess();
  emu.counters.reset();
  const run = await harness.up(program(), { refresh: true });
  expect(run.updated).toBe(1);
  expect(run.same).toBe(8);
  expect([run.created, run.replaced, run.deleted, run.gone]).toEqual([0, 0, 0, 0]);
  expect(run.ops.filter(([op]) => op === "update").map(([, key]) => key)).toEqual([
    `${SERVICE_HOOK_TYPE}::hf-${alpha.id}-git.push`,
  ]);
  expect(run.outputs.statusCounts.enabled).toBe(9);
  expect(run.outputs.hooksNotEnabled).toEqual([]);
  // The whole refresh read 9 hooks through one list call, not one GET each. The GETs by id are the
  // repaired hook's: the read-back after its re-enable PUT (ado/replace.ts) and its test notification.
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions"]).toBe(1);
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions/{id}"] ?? 0).toBeLessThanOrEqual(2);

  expect(emu.subscription(disabled[0].id)!.status).toBe("enabled");
  expect(shape(emu.subscriptions().filter(ours))).toEqual(before);
  expect(emu.subscription(manual.id)).toBeDefined();

  // Nothing left to do.
  harness.newProviderProcess();
  const quiet = await harness.up(program(), { refresh: true });
  expect([quiet.created, quiet.updated, quiet.replaced, quiet.deleted]).toEqual([0, 0, 0, 0]);
});

it("gives a new project hooks on the next up and removes a deleted project's hooks", async () => {
  const delta = emu.addProject("Delta");
  harness.newProviderProcess();
  const grown = await harness.up(program(), { refresh: true });
  expect(grown.created).toBe(3);
  expect(emu.subscriptions().filter((s) => ours(s) && s.publisherInputs.projectId === delta.id)).toHaveLength(
    3,
  );

  const beta = emu.projects().find((p) => p.name === "Beta")!;
  emu.deleteProject(beta.id);
  harness.newProviderProcess();
  const shrunk = await harness.up(program(), { refresh: true });
  // Either ADO removed them with the project (refresh finds them gone) or the engine deletes them.
  expect(shrunk.deleted + shrunk.gone).toBe(3);
  expect(harness.ofType(SERVICE_HOOK_TYPE).filter((r) => r.name.includes(beta.id))).toEqual([]);
  expect(shrunk.outputs.hookCount).toBe(9);
  expect(emu.subscriptions().filter((s) => ours(s) && s.publisherInputs.projectId === beta.id)).toHaveLength(
    0,
  );
});

it("destroy removes every hook HookFleet made and none made by hand", async () => {
  const manual = emu.subscriptions().filter((s) => !ours(s));
  expect(manual.length).toBeGreaterThan(0);
  harness.newProviderProcess();
  const run = await harness.destroy();
  expect(run.deleted).toBe(9);
  expect(emu.subscriptions().filter(ours)).toHaveLength(0);
  expect(shape(emu.subscriptions())).toEqual(shape(manual));
});
