/**
 * ReceiverInfra's two dynamic resources, CloudImageBuild and PropagationWait, served by the real
 * dynamic-provider host of @pulumi/pulumi over gRPC, from the stub their state stores: the loader
 * finds each by its permanent name, every result crosses `Struct` (an `undefined` anywhere fails the
 * call there), and the build reaches ARM the way a deploy does (HOOKFLEET_ARM_ENDPOINT and
 * HOOKFLEET_ARM_TOKEN in the host's environment; here the local ARM and blob stand-in).
 */
import { providerStub } from "../../components/dynamic/stub";
import {
  CLOUD_IMAGE_BUILD_TYPE,
  describeContext,
  receiverBuildContext,
} from "../../components/receiver/image";
import { PROPAGATION_WAIT_TYPE } from "../../components/receiver/propagation";
import { startArmStandIn, type ArmStandIn } from "../support/arm-stand-in";
import { PROJECT_ROOT, ProviderHost } from "../../devkit/provider-host/host";

jest.setTimeout(60_000);

const urnOf = (type: string, name: string) =>
  `urn:pulumi:dev::hookfleet::hookfleet:receiver:ReceiverInfra$${type}::${name}`;
const registryId =
  "/subscriptions/5b0c1e3a-0000-4000-8000-00000000a5b5/resourceGroups/receiver-rg/providers/Microsoft.ContainerRegistry/registries/receiveracr1";

let arm: ArmStandIn;
let host: ProviderHost;
beforeAll(async () => {
  // One poll finds the run done: the provider's 5 s poll interval never elapses.
  arm = await startArmStandIn({ runStatuses: ["Succeeded"], digest: `sha256:${"f".repeat(64)}` });
  host = await ProviderHost.start({
    env: { HOOKFLEET_ARM_ENDPOINT: arm.endpoint, HOOKFLEET_ARM_TOKEN: "stand-in-token" },
  });
  await host.configure({});
});
afterAll(async () => {
  await host?.close();
  await arm?.close();
});

describe("CloudImageBuild", () => {
  const urn = urnOf(CLOUD_IMAGE_BUILD_TYPE, "receiver-image");
  const { tag } = describeContext({ contextDir: PROJECT_ROOT, dockerfile: receiverBuildContext.dockerfile });
  const inputs = {
    __provider: providerStub("CloudImageBuild"),
    registryId,
    loginServer: "receiveracr1.azurecr.io",
    repository: "hookfleet/receiver",
    tag,
    contextDir: receiverBuildContext.contextDir,
    dockerfile: receiverBuildContext.dockerfile,
    timeoutSeconds: 1800,
  };

  it("checks, builds in the registry through ARM, reads back and plans nothing for the same inputs", async () => {
    const checked = await host.check({ urn, olds: {}, news: inputs, allowUnknowns: false });
    expect(checked.failures).toEqual([]);

    const { id, outputs } = await host.create({ urn, props: checked.inputs });
    expect(outputs).toMatchObject({
      ...inputs,
      imageName: `receiveracr1.azurecr.io/hookfleet/receiver:${tag}`,
      digest: `sha256:${"f".repeat(64)}`,
      runId: "ca1",
    });
    expect(id).toBe(`receiveracr1.azurecr.io/hookfleet/receiver:${tag}@sha256:${"f".repeat(64)}`);
    // The host reached the stand-in as the deployer: the token from its environment, the context uploaded.
    const schedule = arm.requests.find((r) => r.path === `${registryId}/scheduleRun`)!;
    expect(schedule.headers.authorization).toBe("Bearer stand-in-token");
    expect(arm.blobs.size).toBe(1);

    const read = await host.read({ urn, id, inputs: checked.inputs, state: outputs });
    expect(read.id).toBe(id);
    expect(read.outputs).toEqual(outputs);
    const diff = await host.diff({
      urn,
      id,
      oldInputs: checked.inputs,
      olds: outputs,
      news: checked.inputs,
      allowUnknowns: false,
    });
    expect(diff.changes).toBe("none");
  });

  it("refuses a timeout ACR does not accept, naming it", async () => {
    const checked = await host.check({
      urn,
      olds: {},
      news: { ...inputs, timeoutSeconds: 60 },
      allowUnknowns: false,
    });
    expect(checked.failures.map((f) => f.reason)).toEqual([
      "timeoutSeconds must be between 300 and 28800 (ACR's run timeout bounds)",
    ]);
  });
});

describe("PropagationWait", () => {
  const urn = urnOf(PROPAGATION_WAIT_TYPE, "receiver-role-propagation");
  const inputs = {
    __provider: providerStub("PropagationWait"),
    seconds: 1,
    triggers: ["/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a"],
    reason: "test",
  };

  it("waits on create, then an unchanged update keeps its outputs and does not wait", async () => {
    const checked = await host.check({ urn, olds: {}, news: inputs, allowUnknowns: false });
    const started = Date.now();
    const { id, outputs } = await host.create({ urn, props: checked.inputs });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(id).toMatch(/^wait-/);
    expect(outputs).toMatchObject({ ...inputs, waitedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    const news = { ...checked.inputs, reason: "reworded" };
    const diff = await host.diff({
      urn,
      id,
      oldInputs: checked.inputs,
      olds: outputs,
      news,
      allowUnknowns: false,
    });
    expect(diff.changes).toBe("some");
    const again = Date.now();
    const updated = await host.update({ urn, id, oldInputs: checked.inputs, olds: outputs, news });
    expect(Date.now() - again).toBeLessThan(1000);
    expect(updated.outputs.waitedAt).toBe(outputs.waitedAt);
    expect(updated.outputs.reason).toBe("reworded");
  });
});
