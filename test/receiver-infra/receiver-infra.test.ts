/**
 * ReceiverInfra with production defaults: each security property on its own, the wiring between
 * identity, roles, store and app, the settings contract with app/settings.ts, and the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { messageStoreLayout, receiverSettings, type SettingSpec } from "../../app/settings";
import { builtInRoleIds, nameRules, subscriptionSuffix } from "../../components/receiver";
import { isSecretValue, mockAzure, outputValue, type RecordedResource } from "../support/pulumi-mocks";
import { deploy, project, stack, type Deployment } from "./deploy";

const specs: Record<string, SettingSpec> = receiverSettings;
const acrResourceId = `/subscriptions/${mockAzure.subscriptionId}/resourceGroups/shared-rg/providers/Microsoft.ContainerRegistry/registries/hookfleetacr`;
const systems = [{ id: "devops", storageMode: "lean" as const, retentionDays: 30 }];
const urlTokenHash = "a".repeat(64);
const readTokenHash = "b".repeat(64);
const adoPat = "ado-pat-value-never-plain";

let d: Deployment;
let identity: RecordedResource;
let account: RecordedResource;
let vault: RecordedResource;
let containerApp: RecordedResource;

interface EnvVar {
  name: string;
  value?: string;
  secretRef?: string;
}
const envOf = (r: RecordedResource): EnvVar[] => r.inputs.template.containers[0].env;
const roleAssignments = () => [
  ...d.all("authorization:RoleAssignment"),
  ...d.all("cosmosdb:SqlResourceSqlRoleAssignment"),
];

beforeAll(async () => {
  d = await deploy("receiver", {
    image: "hookfleetacr.azurecr.io/hookfleet/receiver:1.4.0",
    acrResourceId,
    systems,
    urlTokens: [{ sha256: urlTokenHash, systemId: "devops" }],
    readTokens: pulumi.output([{ sha256: readTokenHash }]),
    extraSecrets: { "ado-pat": pulumi.secret(adoPat) },
  });
  identity = d.one("managedidentity:UserAssignedIdentity");
  account = d.one("cosmosdb:DatabaseAccount");
  vault = d.one("keyvault:Vault");
  containerApp = d.one("app:ContainerApp");
});

describe("Cosmos DB security", () => {
  it("turns local (key) auth off", () => {
    expect(account.inputs.disableLocalAuth).toBe(true);
  });
  it("blocks key-based metadata writes (management through ARM only)", () => {
    expect(account.inputs.disableKeyBasedMetadataWriteAccess).toBe(true);
  });
  it("requires TLS 1.2", () => {
    expect(account.inputs.minimalTlsVersion).toBe("Tls12");
  });
  it("uses continuous backup (point-in-time restore)", () => {
    expect(account.inputs.backupPolicy.type).toBe("Continuous");
  });
  it("grants the built-in data contributor role, scoped to the account, to the app's identity", () => {
    const role = d.one("cosmosdb:SqlResourceSqlRoleAssignment");
    expect(role.inputs.roleDefinitionId).toBe(
      `${account.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002`,
    );
    expect(role.inputs.scope).toBe(account.id);
    expect(role.inputs.accountName).toBe(account.inputs.accountName);
    expect(role.inputs.principalId).toBe(identity.state.principalId);
    expect(role.inputs.roleAssignmentId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe("Key Vault security", () => {
  it("is in RBAC mode with no access policies", () => {
    expect(vault.inputs.properties.enableRbacAuthorization).toBe(true);
    expect(vault.inputs.properties.accessPolicies).toBeUndefined();
  });
  it("keeps soft delete and purge protection on", () => {
    expect(vault.inputs.properties.enableSoftDelete).toBe(true);
    expect(vault.inputs.properties.enablePurgeProtection).toBe(true);
  });
  it("belongs to the deploying tenant", () => {
    expect(vault.inputs.properties.tenantId).toBe(mockAzure.tenantId);
  });
  it("grants Key Vault Secrets User, scoped to the vault, to the app's identity", () => {
    const role = d.all("authorization:RoleAssignment").find((r) => r.inputs.scope === vault.id);
    expect(role).toBeDefined();
    expect(role!.inputs.roleDefinitionId).toBe(
      `/subscriptions/${mockAzure.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
    );
    expect(role!.inputs.principalId).toBe(identity.state.principalId);
    expect(role!.inputs.principalType).toBe("ServicePrincipal");
  });
  it("stores every secret value as a Pulumi secret", () => {
    const secrets = d.all("keyvault:Secret");
    expect(secrets.map((s) => s.inputs.secretName).sort()).toEqual(
      ["ado-pat", "hookfleet-read-tokens", "hookfleet-systems", "hookfleet-url-tokens"].sort(),
    );
    for (const secret of secrets) {
      expect(secret.inputs.vaultName).toBe(vault.inputs.vaultName);
      expect(isSecretValue(secret.rawInputs.properties)).toBe(true);
    }
  });
  it("stores the credential settings as the JSON the receiver parses", () => {
    const value = (name: string) =>
      d.all("keyvault:Secret").find((s) => s.inputs.secretName === name)!.inputs.properties.value;
    expect(JSON.parse(value("hookfleet-systems"))).toEqual(systems);
    expect(JSON.parse(value("hookfleet-url-tokens"))).toEqual([{ sha256: urlTokenHash, systemId: "devops" }]);
    expect(JSON.parse(value("hookfleet-read-tokens"))).toEqual([{ sha256: readTokenHash }]);
    expect(value("ado-pat")).toBe(adoPat);
  });
});

describe("RBAC: the identity and nothing else", () => {
  it("gives every role assignment to the app's identity", () => {
    const assignments = roleAssignments();
    expect(assignments).toHaveLength(3); // Cosmos data, Key Vault secrets, AcrPull
    for (const role of assignments) expect(role.inputs.principalId).toBe(identity.state.principalId);
  });
  it("grants AcrPull, scoped to the given registry, to the app's identity", () => {
    const role = d.all("authorization:RoleAssignment").find((r) => r.inputs.scope === acrResourceId);
    expect(role).toBeDefined();
    expect(role!.inputs.roleDefinitionId).toBe(
      `/subscriptions/${mockAzure.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoleIds.acrPull}`,
    );
    expect(role!.inputs.principalId).toBe(identity.state.principalId);
  });
});

describe("Container App security", () => {
  it("has external ingress that refuses plain HTTP", () => {
    const ingress = containerApp.inputs.configuration.ingress;
    expect(ingress.external).toBe(true);
    expect(ingress.allowInsecure).toBe(false);
    expect(ingress.transport).not.toBe("tcp");
    expect(ingress.targetPort).toBe(Number(receiverSettings.PORT.default));
  });
  it("sets no secret-sourced setting as a plain value", () => {
    const secretEntries = envOf(containerApp).filter((e) => specs[e.name]?.source === "secret");
    expect(secretEntries.length).toBeGreaterThan(0);
    for (const entry of secretEntries)
      expect(entry).toEqual({ name: entry.name, secretRef: expect.any(String) });
  });
  it("puts no secret value anywhere in the app's inputs", () => {
    // Any secret Output inlined into the template or configuration would mark that input secret.
    expect(isSecretValue(containerApp.rawInputs.template)).toBe(false);
    expect(isSecretValue(containerApp.rawInputs.configuration)).toBe(false);
    const everything = JSON.stringify(containerApp.inputs);
    for (const leaked of [urlTokenHash, readTokenHash, adoPat]) expect(everything).not.toContain(leaked);
  });
  it("reads each secret from Key Vault through the app's identity, with no value in the app", () => {
    const appSecrets: { name: string; keyVaultUrl?: string; identity?: string; value?: string }[] =
      containerApp.inputs.configuration.secrets;
    const vaultSecrets = d.all("keyvault:Secret");
    const referenced = envOf(containerApp).flatMap((e) => (e.secretRef ? [e.secretRef] : []));
    expect(appSecrets.map((s) => s.name).sort()).toEqual([...referenced].sort());
    for (const secret of appSecrets) {
      expect(secret.value).toBeUndefined();
      expect(secret.identity).toBe(identity.id);
      const source = vaultSecrets.find((v) => v.inputs.secretName === secret.name);
      expect(secret.keyVaultUrl).toBe(
        (source!.state.properties as { secretUriWithVersion: string }).secretUriWithVersion,
      );
    }
  });
  it("does not hand the heal job's PAT to the receiver", () => {
    expect(containerApp.inputs.configuration.secrets.map((s: { name: string }) => s.name)).not.toContain(
      "ado-pat",
    );
  });
  it("serves /metrics on its own internal port: set on the app, never the public ingress's target", () => {
    const env = Object.fromEntries(envOf(containerApp).map((e) => [e.name, e.value]));
    const ingress = containerApp.inputs.configuration.ingress;
    expect(env.METRICS_PORT).toBe("9090");
    expect(ingress.targetPort).toBe(Number(env.PORT));
    expect(ingress.targetPort).not.toBe(Number(env.METRICS_PORT));
    // Reachable inside the environment (a collector), not from outside it.
    expect(ingress.additionalPortMappings).toEqual([{ external: false, targetPort: 9090 }]);
  });
  it("has the environment's OpenTelemetry agent send the app's spans to App Insights (details: telemetry.test.ts)", () => {
    const environment = d.one("app:ManagedEnvironment");
    expect(environment.inputs.openTelemetryConfiguration.tracesConfiguration).toEqual({
      destinations: ["appInsights"],
    });
    expect(environment.inputs.appInsightsConfiguration.connectionString).toBe(
      d.one("applicationinsights:Component").state.connectionString,
    );
  });
  it("probes liveness on /healthz and readiness on /readyz at the service port", () => {
    const probes: { type: string; httpGet: { path: string; port: number } }[] =
      containerApp.inputs.template.containers[0].probes;
    const port = Number(receiverSettings.PORT.default);
    expect(probes.find((p) => p.type === "Liveness")?.httpGet).toMatchObject({ path: "/healthz", port });
    expect(probes.find((p) => p.type === "Readiness")?.httpGet).toMatchObject({ path: "/readyz", port });
  });
});

describe("settings contract with app/settings.ts", () => {
  it("sets every variable the service requires in production", () => {
    const env = envOf(containerApp);
    const required = Object.entries(specs).filter(([, spec]) => spec.requiredInProduction);
    expect(required.length).toBeGreaterThan(0);
    for (const [name] of required) {
      const entry = env.find((e) => e.name === name);
      expect({
        name,
        set: entry !== undefined && (entry.value !== undefined || entry.secretRef !== undefined),
      }).toEqual({
        name,
        set: true,
      });
    }
  });
  it("sets only variables the service reads", () => {
    for (const entry of envOf(containerApp)) expect(Object.keys(specs)).toContain(entry.name);
  });
  it("runs the service in production mode against the provisioned store", () => {
    const env = Object.fromEntries(
      envOf(containerApp).map((e) => [e.name, e.value ?? `secret:${e.secretRef}`]),
    );
    expect(env.HOOKFLEET_MODE).toBe("production");
    expect(env.COSMOS_ENDPOINT).toBe(account.state.documentEndpoint);
    expect(env.COSMOS_DATABASE).toBe(d.one("cosmosdb:SqlResourceSqlDatabase").inputs.resource.id);
    expect(env.COSMOS_CONTAINER).toBe(d.one("cosmosdb:SqlResourceSqlContainer").inputs.resource.id);
    expect(env.PORT).toBe(String(containerApp.inputs.configuration.ingress.targetPort));
    expect(env.COSMOS_KEY).toBeUndefined(); // local auth is off: no key exists
  });
  it("fills the other plain settings with their schema defaults", () => {
    const env = envOf(containerApp);
    for (const [name, spec] of Object.entries(specs)) {
      // HOOKFLEET_MODE's default is `local`; production is the point of this component.
      if (spec.source === "plain" && spec.default !== undefined && name !== "HOOKFLEET_MODE") {
        expect({ name, value: env.find((e) => e.name === name)?.value }).toEqual({
          name,
          value: spec.default,
        });
      }
    }
  });
});

describe("wiring", () => {
  it("runs the app as the identity that holds the roles", () => {
    expect(containerApp.inputs.identity).toEqual({
      type: "UserAssigned",
      userAssignedIdentities: [identity.id],
    });
    const clientId = envOf(containerApp).find((e) => e.name === "AZURE_CLIENT_ID")?.value;
    expect(clientId).toBe(identity.state.clientId);
  });
  it("pulls the ACR image with that identity", () => {
    expect(containerApp.inputs.configuration.registries).toEqual([
      { server: "hookfleetacr.azurecr.io", identity: identity.id },
    ]);
  });
  it("creates the app only after its roles exist", () => {
    const roleUrns = roleAssignments().map((r) => r.urn);
    for (const urn of roleUrns) expect(containerApp.dependencies).toContain(urn);
  });
  it("gives the container the partition key, indexing and TTL that app/ expects", () => {
    const resource = d.one("cosmosdb:SqlResourceSqlContainer").inputs.resource;
    expect(resource.partitionKey.paths).toEqual([messageStoreLayout.partitionKeyPath]);
    expect(resource.partitionKey.kind).toBe("Hash");
    const excluded = resource.indexingPolicy.excludedPaths.map((p: { path: string }) => p.path);
    for (const path of messageStoreLayout.excludedIndexPaths) expect(excluded).toContain(path);
    expect(resource.defaultTtl).toBe(messageStoreLayout.defaultTtl);
  });
  it("puts the container in the database and the database in the account", () => {
    const database = d.one("cosmosdb:SqlResourceSqlDatabase");
    const container = d.one("cosmosdb:SqlResourceSqlContainer");
    expect(database.inputs.accountName).toBe(account.inputs.accountName);
    expect(container.inputs.accountName).toBe(account.inputs.accountName);
    expect(container.inputs.databaseName).toBe(database.inputs.resource.id);
  });
  it("logs the environment to the workspace, with the shared key kept secret", () => {
    const environment = d.one("app:ManagedEnvironment");
    const workspace = d.one("operationalinsights:Workspace");
    expect(environment.inputs.appLogsConfiguration.destination).toBe("log-analytics");
    expect(environment.inputs.appLogsConfiguration.logAnalyticsConfiguration.customerId).toBe(
      workspace.state.customerId,
    );
    expect(isSecretValue(environment.rawInputs.appLogsConfiguration)).toBe(true);
    expect(containerApp.inputs.managedEnvironmentId).toBe(environment.id);
  });
  it("makes Application Insights workspace-based", () => {
    const insights = d.one("applicationinsights:Component");
    expect(insights.inputs.workspaceResourceId).toBe(d.one("operationalinsights:Workspace").id);
  });
  it("parents every resource to the component and keeps them in its resource group", () => {
    const group = d.one("resources:ResourceGroup");
    expect(d.children.length).toBeGreaterThanOrEqual(17);
    for (const child of d.children) {
      expect(child.name.startsWith("receiver-")).toBe(true);
      if (child.type !== "azure-native:resources:ResourceGroup" && "resourceGroupName" in child.inputs) {
        expect(child.inputs.resourceGroupName).toBe(group.inputs.resourceGroupName);
      }
    }
  });
});

describe("names", () => {
  it("gives each resource a valid name carrying the subscription's suffix", () => {
    const suffix = subscriptionSuffix(mockAzure.subscriptionId, project, stack);
    const checks: [keyof typeof nameRules, string][] = [
      ["resourceGroup", d.one("resources:ResourceGroup").inputs.resourceGroupName],
      ["logAnalyticsWorkspace", d.one("operationalinsights:Workspace").inputs.workspaceName],
      ["appInsights", d.one("applicationinsights:Component").inputs.resourceName],
      ["managedIdentity", identity.inputs.resourceName],
      ["cosmosAccount", account.inputs.accountName],
      ["keyVault", vault.inputs.vaultName],
      ["managedEnvironment", d.one("app:ManagedEnvironment").inputs.environmentName],
      ["containerApp", containerApp.inputs.containerAppName],
    ];
    for (const [kind, name] of checks) {
      const rule = nameRules[kind];
      expect({ kind, name, valid: rule.pattern.test(name) && name.length <= rule.maxLength }).toEqual({
        kind,
        name,
        valid: true,
      });
      expect(name.endsWith(suffix)).toBe(true);
    }
  });
});

describe("outputs", () => {
  it("publishes the webhook base URL on the app's HTTPS FQDN", async () => {
    const fqdn = (containerApp.state.configuration as { ingress: { fqdn: string } }).ingress.fqdn;
    expect(await outputValue(d.infra.webhookBaseUrl)).toBe(`https://${fqdn}/api/v1/webhooks`);
  });
  it("publishes the Cosmos endpoint, identity ids and Key Vault URI", async () => {
    expect(await outputValue(d.infra.cosmosEndpoint)).toBe(account.state.documentEndpoint);
    expect(await outputValue(d.infra.identityPrincipalId)).toBe(identity.state.principalId);
    expect(await outputValue(d.infra.identityClientId)).toBe(identity.state.clientId);
    expect(await outputValue(d.infra.identityId)).toBe(identity.id);
    expect(await outputValue(d.infra.keyVaultUri)).toBe(`https://${vault.inputs.vaultName}.vault.azure.net/`);
  });
  it("lists the Key Vault secret URIs for other components (the heal job's PAT)", async () => {
    const uris = await outputValue(d.infra.secretUris);
    expect(uris["ado-pat"]).toMatch(
      new RegExp(`^https://${vault.inputs.vaultName}\\.vault\\.azure\\.net/secrets/ado-pat/`),
    );
  });
  it("marks the Application Insights connection string secret, and the URLs not", async () => {
    expect(await pulumi.isSecret(d.infra.appInsightsConnectionString)).toBe(true);
    expect(await outputValue(d.infra.appInsightsConnectionString)).toMatch(/^InstrumentationKey=/);
    expect(await pulumi.isSecret(d.infra.webhookBaseUrl)).toBe(false);
  });
  it("registers as a component (not a custom resource) of type hookfleet:receiver:ReceiverInfra", () => {
    expect(d.component.custom).toBe(false);
    expect(d.component.type).toBe("hookfleet:receiver:ReceiverInfra");
  });
});
