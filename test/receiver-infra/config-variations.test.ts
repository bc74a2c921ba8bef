/**
 * ReceiverInfra configuration variations: Cosmos capacity modes, an existing resource group,
 * replica bounds, images outside ACR, overrides, and arguments that must be refused.
 */
import { ReceiverInfra, azureRoleIds } from "../../components/receiver";
import { isSecretValue, mockAzure, outputValue } from "../support/pulumi-mocks";
import { deploy, mocks, type Deployment } from "./deploy";

const image = "ghcr.io/example/hookfleet-receiver:1.4.0";

// One deployment with every default, shared by the cases that only read it.
let defaults: Deployment;
beforeAll(async () => {
  defaults = await deploy("defaults", { image });
});

describe("Cosmos DB capacity", () => {
  it("is serverless by default: EnableServerless and no provisioned throughput", async () => {
    const d = defaults;
    expect(d.one("cosmosdb:DatabaseAccount").inputs.capabilities).toEqual([{ name: "EnableServerless" }]);
    expect(d.one("cosmosdb:SqlResourceSqlContainer").inputs.options).toBeUndefined();
    expect(d.one("cosmosdb:SqlResourceSqlDatabase").inputs.options).toBeUndefined();
  });

  it("autoscale drops EnableServerless and sets the max RU/s on the messages container", async () => {
    const d = await deploy("auto", { image, cosmosMode: "autoscale", cosmosMaxThroughput: 4000 });
    expect(d.one("cosmosdb:DatabaseAccount").inputs.capabilities).toEqual([]);
    expect(d.one("cosmosdb:SqlResourceSqlContainer").inputs.options).toEqual({
      autoscaleSettings: { maxThroughput: 4000 },
    });
  });

  it("autoscale defaults to the 1000 RU/s minimum", async () => {
    const d = await deploy("auto-default", { image, cosmosMode: "autoscale" });
    expect(d.one("cosmosdb:SqlResourceSqlContainer").inputs.options.autoscaleSettings.maxThroughput).toBe(
      1000,
    );
  });
});

describe("resource group", () => {
  it("creates one named after the component by default, in the configured region", async () => {
    const d = await deploy("newrg", { image, location: "swedencentral" });
    const group = d.one("resources:ResourceGroup");
    expect(group.inputs.location).toBe("swedencentral");
    expect(d.one("cosmosdb:DatabaseAccount").inputs.locations[0].locationName).toBe("swedencentral");
  });

  it("uses an existing group as is, in that group's region", async () => {
    const d = await deploy("oldrg", { image, resourceGroupName: "platform-rg" });
    expect(d.all("resources:ResourceGroup")).toEqual([]);
    for (const child of d.children) {
      if ("resourceGroupName" in child.inputs) expect(child.inputs.resourceGroupName).toBe("platform-rg");
    }
    expect(mocks.calls).toContainEqual({
      token: "azure-native:resources:getResourceGroup",
      inputs: { resourceGroupName: "platform-rg" },
    });
    const account = d.one("cosmosdb:DatabaseAccount");
    expect(account.inputs.locations[0].locationName).toBe(mockAzure.existingGroupLocation);
    expect(d.one("app:ContainerApp").inputs.location).toBe(mockAzure.existingGroupLocation);
  });
});

describe("replicas and concurrency", () => {
  it("defaults to 1–5 replicas, scaling out at 50 concurrent requests", async () => {
    const d = defaults;
    expect(d.one("app:ContainerApp").inputs.template.scale).toEqual({
      minReplicas: 1,
      maxReplicas: 5,
      rules: [{ name: "http-concurrency", http: { metadata: { concurrentRequests: "50" } } }],
    });
  });

  it("takes custom bounds and concurrency", async () => {
    const d = await deploy("scale-custom", {
      image,
      minReplicas: 2,
      maxReplicas: 12,
      concurrentRequests: 80,
    });
    const scale = d.one("app:ContainerApp").inputs.template.scale;
    expect(scale.minReplicas).toBe(2);
    expect(scale.maxReplicas).toBe(12);
    expect(scale.rules[0].http.metadata.concurrentRequests).toBe("80");
  });

  it("allows scale to zero", async () => {
    const d = await deploy("scale-zero", { image, minReplicas: 0, maxReplicas: 1 });
    expect(d.one("app:ContainerApp").inputs.template.scale.minReplicas).toBe(0);
  });
});

describe("images", () => {
  it("adds no registry credentials and no AcrPull for a public registry", async () => {
    const d = await deploy("public-image", { image });
    expect(d.one("app:ContainerApp").inputs.configuration.registries).toEqual([]);
    expect(d.all("authorization:RoleAssignment").map((r) => r.name)).toEqual([
      "public-image-kv-secrets-user",
    ]);
  });

  it("pulls an ACR image with the identity even when the registry id is unknown (AcrPull left to the operator)", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const d = await deploy("acr-no-id", { image: "myreg.azurecr.io/receiver:2" });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/myreg\.azurecr\.io is an ACR but acrResourceId is not set/),
    );
    warn.mockRestore();
    const identity = d.one("managedidentity:UserAssignedIdentity");
    expect(d.one("app:ContainerApp").inputs.configuration.registries).toEqual([
      { server: "myreg.azurecr.io", identity: identity.id },
    ]);
    expect(d.all("authorization:RoleAssignment")).toHaveLength(1);
  });
});

describe("registry in another subscription", () => {
  it("assigns AcrPull with the role definition of the registry's own subscription", async () => {
    const otherSub = "0a1b2c3d-0000-4000-8000-0000000000ff";
    const acrResourceId = `/subscriptions/${otherSub}/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/sharedacr`;
    const d = await deploy("cross-sub", { image: "sharedacr.azurecr.io/receiver:3", acrResourceId });
    const role = d.all("authorization:RoleAssignment").find((r) => r.inputs.scope === acrResourceId)!;
    expect(role.inputs.roleDefinitionId).toBe(
      `/subscriptions/${otherSub}/providers/Microsoft.Authorization/roleDefinitions/${azureRoleIds.acrPull}`,
    );
    expect(role.inputs.principalId).toBe(d.one("managedidentity:UserAssignedIdentity").state.principalId);
  });

  it("without image: looks the registry up in its own subscription, and builds into it", async () => {
    // The deployer works in the mock's subscription; the shared registry is in another (as in
    // stacks/Pulumi.staging.yaml). An invoke answers in its provider's subscription.
    const otherSub = "0a1b2c3d-0000-4000-8000-0000000000ee";
    const acrResourceId = `/subscriptions/${otherSub}/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/sharedacr`;
    mocks.reset();
    const d = await deploy("cross-sub-build", { acrResourceId });
    const lookups = mocks.calls.filter((c) => c.token === "azure-native:containerregistry:getRegistry");
    expect(lookups).toHaveLength(1);
    expect(lookups[0].inputs).toEqual({ resourceGroupName: "shared", registryName: "sharedacr" });
    expect(lookups[0].provider?.type).toBe("pulumi:providers:azure-native");
    expect(lookups[0].provider?.inputs.subscriptionId).toBe(otherSub);
    expect(lookups[0].provider?.parent).toBe(d.component.urn);
    // Everything else stays in the deployer's subscription (the default provider).
    expect(d.children.filter((r) => r.provider)).toEqual([]);
    const build = d.children.find((r) => r.type.endsWith("hookfleet:CloudImageBuild"))!;
    expect(build.inputs).toMatchObject({ registryId: acrResourceId, loginServer: "sharedacr.azurecr.io" });
  });
});

describe("overrides", () => {
  it("passes plain settings through, and a different port reaches ingress, probes and PORT", async () => {
    const d = await deploy("tuned", { image, targetPort: 8080, settings: { LOG_LEVEL: "debug" } });
    const app = d.one("app:ContainerApp");
    const env: { name: string; value?: string }[] = app.inputs.template.containers[0].env;
    expect(env.find((e) => e.name === "LOG_LEVEL")?.value).toBe("debug");
    expect(env.find((e) => e.name === "PORT")?.value).toBe("8080");
    expect(app.inputs.configuration.ingress.targetPort).toBe(8080);
    for (const probe of app.inputs.template.containers[0].probes) expect(probe.httpGet.port).toBe(8080);
  });

  it("names database and container as asked, in both Cosmos and the app's settings", async () => {
    const d = await deploy("renamed", { image, databaseName: "events", containerName: "inbox" });
    expect(d.one("cosmosdb:SqlResourceSqlDatabase").inputs.resource.id).toBe("events");
    expect(d.one("cosmosdb:SqlResourceSqlContainer").inputs.resource.id).toBe("inbox");
    const env: { name: string; value?: string }[] =
      d.one("app:ContainerApp").inputs.template.containers[0].env;
    expect(env.find((e) => e.name === "COSMOS_DATABASE")?.value).toBe("events");
    expect(env.find((e) => e.name === "COSMOS_CONTAINER")?.value).toBe("inbox");
  });

  it("merges tags over the defaults on every tagged resource", async () => {
    const d = await deploy("tagged", { image, tags: { owner: "platform", stack: "override" } });
    const tagged = d.children.filter((r) => r.inputs.tags !== undefined);
    expect(tagged.length).toBeGreaterThan(8);
    for (const r of tagged) {
      expect(r.inputs.tags).toEqual({
        app: "hookfleet",
        component: "receiver",
        stack: "override",
        owner: "platform",
      });
    }
  });

  it("leaves purge protection off for a sandbox that asks", async () => {
    const d = await deploy("sandbox", { image, keyVaultPurgeProtection: false });
    const props = d.one("keyvault:Vault").inputs.properties;
    expect(props.enablePurgeProtection).toBeUndefined();
    expect(props.enableRbacAuthorization).toBe(true);
  });

  it("uses a given name suffix for the globally unique names", async () => {
    const d = await deploy("suffixed", { image, nameSuffix: "zz9x" });
    expect(d.one("cosmosdb:DatabaseAccount").inputs.accountName).toBe("suffixed-cosmos-zz9x");
    expect(d.one("keyvault:Vault").inputs.vaultName).toBe("suffixed-kv-zz9x");
  });

  it("stores extra secrets as secrets even when given as plain strings", async () => {
    const d = await deploy("extra", { image, extraSecrets: { "ado-pat": "plain-string-pat" } });
    const secret = d.all("keyvault:Secret").find((s) => s.inputs.secretName === "ado-pat")!;
    expect(isSecretValue(secret.rawInputs.properties)).toBe(true);
    expect(await outputValue(d.infra.secretUris)).toHaveProperty("ado-pat");
  });
});

describe("refused arguments", () => {
  const refused: [string, ConstructorParameters<typeof ReceiverInfra>[1], RegExp][] = [
    [
      "min above max",
      { image, minReplicas: 6, maxReplicas: 3 },
      /minReplicas \(6\) exceeds maxReplicas \(3\)/,
    ],
    ["no replicas at all", { image, maxReplicas: 0 }, /maxReplicas must be an integer ≥ 1/],
    ["fractional replicas", { image, minReplicas: 1.5 }, /minReplicas must be an integer/],
    ["zero concurrency", { image, concurrentRequests: 0 }, /concurrentRequests/],
    [
      "throughput off the 1000 grid",
      { image, cosmosMode: "autoscale", cosmosMaxThroughput: 1500 },
      /multiple of 1000/,
    ],
    ["throughput without autoscale", { image, cosmosMaxThroughput: 2000 }, /needs cosmosMode: autoscale/],
    [
      "overriding production mode",
      { image, settings: { HOOKFLEET_MODE: "local" } },
      /HOOKFLEET_MODE is set by the component/,
    ],
    ["a secret setting as a plain value", { image, settings: { COSMOS_KEY: "k" } }, /COSMOS_KEY is a secret/],
    [
      "an extra secret colliding with a credential setting",
      { image, extraSecrets: { HOOKFLEET_SYSTEMS: "[]" } },
      /collides with hookfleet-systems/,
    ],
    [
      "a plain setting as an extra secret",
      { image, extraSecrets: { LOG_LEVEL: "debug" } },
      /LOG_LEVEL is plain/,
    ],
  ];
  it.each(refused)("refuses %s", (_label, args, message) => {
    expect(() => new ReceiverInfra(`bad-${_label.replace(/\W+/g, "-")}`, args)).toThrow(message);
  });
});
