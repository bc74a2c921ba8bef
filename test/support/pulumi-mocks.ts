/**
 * Pulumi unit-test mocks that record every resource registration (pulumi-awsx style).
 *
 * Usage (call before constructing the component or importing the program):
 *
 *   const mocks = setupPulumiMocks({ stack: "prod", outputs: (r) => ({ fqdn: "x.example" }) });
 *   const infra = new ReceiverInfra("rx", { image: "..." });
 *   await mocks.settled();
 *   const vault = mocks.one("azure-native:keyvault:Vault");
 *   expect(vault.inputs.properties.enableRbacAuthorization).toBe(true);
 *   expect(vault.parent).toBe(mocks.one("hookfleet:receiver:ReceiverInfra").urn);
 *
 * `inputs` have secrets unwrapped (so assertions read plain values); `rawInputs` keep Pulumi's secret
 * markers: `isSecretValue(rawInputs.x)` tells whether an input reached the engine as a secret.
 * Each record also carries the options the engine saw: parent URN, dependencies, provider,
 * additionalSecretOutputs (applied to the returned state, as the engine would), protect, ignoreChanges,
 * deleteBeforeReplace.
 *
 * For azure-native resources, pass the realistic answers defined at the end of this file:
 *   setupPulumiMocks({ outputs: azureNativeOutputs, id: azureNativeId, call: azureNativeCall })
 * (ARM ids, principal/client ids, Cosmos endpoint, Key Vault URIs, Container App FQDN, getClientConfig…).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";

// Internal to the SDK (not in its typings) but exported: resolves when the RPC queue has drained.
const waitForRPCs = (runtimeSettings as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;

/** One `registerResource` (or `readResource`) the program made, as the engine saw it. */
export interface RecordedResource {
  /** Type token, e.g. `azure-native:cosmosdb:DatabaseAccount` or `hookfleet:receiver:ReceiverInfra`. */
  type: string;
  /** Logical (Pulumi) name. */
  name: string;
  /** URN the mock monitor assigned (encodes the parent type chain). */
  urn: string;
  /** URN of the parent resource; undefined for resources parented to the stack. */
  parent?: string;
  /** Inputs with secret markers removed (plain values, for assertions). */
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary resource inputs
  /** Inputs as deserialized by the engine, secret markers kept (see `isSecretValue`). */
  rawInputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary resource inputs
  /** Output state the mock returned for it (inputs merged with `outputs()`). */
  state: Record<string, unknown>;
  /** Physical id the mock returned. */
  id: string | undefined;
  /** Custom resource (provider-managed) rather than a component. */
  custom: boolean;
  /** Read of an existing resource (`Resource.get`) rather than a registration. */
  read: boolean;
  /** Provider reference, if any. */
  provider?: string;
  /** URNs from `dependsOn` and input dependencies. */
  dependencies: string[];
  /** `additionalSecretOutputs` resource option. */
  additionalSecretOutputs: string[];
  /** `protect` resource option. */
  protect: boolean;
  /** `ignoreChanges` resource option. */
  ignoreChanges: string[];
  /** `deleteBeforeReplace` resource option. */
  deleteBeforeReplace: boolean;
}

/** One invoke (`getX`) the program made. */
export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
  /** The explicit provider (`pulumi:providers:…` resource) the invoke went through; undefined for the default one. */
  provider?: RecordedResource;
}

export interface PulumiMocksOptions {
  /** Project name (default `project`). */
  project?: string;
  /** Stack name (default `stack`). */
  stack?: string;
  /** Run as a preview (unknown outputs stay unknown). Default false. */
  preview?: boolean;
  /** Extra output state for a resource (merged over its inputs): realistic ids, endpoints, fqdn… */
  outputs?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
  /** Physical id for a resource; default `<name>-id`. */
  id?: (args: pulumi.runtime.MockResourceArgs) => string;
  /** Result of an invoke (`provider`: the explicit provider it went through, if any); default `{}`. */
  call?: (args: pulumi.runtime.MockCallArgs, provider?: RecordedResource) => Record<string, unknown>;
}

export interface PulumiMocks {
  /** Every resource registered so far, in registration order. */
  readonly resources: RecordedResource[];
  /** Every invoke made so far. */
  readonly calls: RecordedCall[];
  /** All resources of a type token. */
  byType(type: string): RecordedResource[];
  /** The single resource of a type (optionally with this logical name); throws if not exactly one. */
  one(type: string, name?: string): RecordedResource;
  /** The resource with this logical name (and type, when names repeat); throws if absent. */
  byName(name: string, type?: string): RecordedResource;
  /** Direct children of the resource with this URN. */
  childrenOf(urn: string): RecordedResource[];
  /** Resolves once every pending registration, apply and invoke has finished. */
  settled(): Promise<void>;
  /** Forget everything recorded (between cases in one test file). */
  reset(): void;
}

const secretSigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

/** True when a deserialized input value carries Pulumi's secret marker. */
export function isSecretValue(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[secretSigKey] === secretSig
  );
}

/** Deep copy with every secret marker replaced by the value it wraps. */
export function unwrapSecrets<T>(value: T): T {
  if (isSecretValue(value)) return unwrapSecrets((value as unknown as { value: T }).value);
  if (Array.isArray(value)) return value.map((v) => unwrapSecrets(v)) as unknown as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, unwrapSecrets(v)]),
    ) as T;
  }
  return value;
}

/** The value of an Output (resolves after the mocks answered). */
export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Whether an Output is marked secret. */
export function isSecretOutput(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** The shape of a gRPC RegisterResourceRequest/ReadResourceRequest we read (protobuf getters). */
interface ResourceRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom?(): boolean;
  getProvider(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getProtect?(): boolean | undefined;
  getIgnorechangesList?(): string[];
  getDeletebeforereplace?(): boolean;
  getObject?(): unknown;
  getProperties?(): unknown;
}
type GrpcCallback = (err: unknown, response: { getUrn(): string } | undefined) => void;

/**
 * Installs the mocks (pulumi.runtime.setMocks plus a recording monitor) and returns the recorder.
 * Call once per test file, before creating resources.
 */
export function setupPulumiMocks(options: PulumiMocksOptions = {}): PulumiMocks {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  // Requests seen by the monitor but not yet answered by `newResource`, matched by type+name.
  const pendingRequests = new Map<string, ResourceRequest & { read: boolean }>();
  let inFlight = 0;

  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const rawInputs = (args.inputs ?? {}) as Record<string, unknown>;
      const id = args.id || (options.id ? options.id(args) : `${args.name}-id`);
      const key = `${args.type}::${args.name}`;
      const req = pendingRequests.get(key);
      pendingRequests.delete(key);
      const state: Record<string, unknown> = { ...rawInputs, ...(options.outputs?.(args) ?? {}) };
      // The engine marks `additionalSecretOutputs` secret; the SDK's mock monitor does not, so do it here.
      for (const key of req?.getAdditionalsecretoutputsList() ?? []) {
        if (key in state && !isSecretValue(state[key]))
          state[key] = { [secretSigKey]: secretSig, value: state[key] };
      }
      resources.push({
        type: args.type,
        name: args.name,
        urn: "",
        parent: req?.getParent() || undefined,
        inputs: unwrapSecrets(rawInputs),
        rawInputs,
        state,
        id,
        custom: args.custom ?? req?.getCustom?.() ?? true,
        read: req?.read ?? args.id !== undefined,
        provider: args.provider || undefined,
        dependencies: req?.getDependenciesList() ?? [],
        additionalSecretOutputs: req?.getAdditionalsecretoutputsList() ?? [],
        protect: req?.getProtect?.() ?? false,
        ignoreChanges: req?.getIgnorechangesList?.() ?? [],
        deleteBeforeReplace: req?.getDeletebeforereplace?.() ?? false,
      });
      return { id: args.custom === false ? undefined : id, state };
    },
    call(args) {
      // A provider reference is `<urn>::<id>` (the id unknown in a preview): find the provider by URN.
      const provider = args.provider
        ? resources.find(
            (r) => r.type.startsWith("pulumi:providers:") && args.provider!.startsWith(`${r.urn}::`),
          )
        : undefined;
      calls.push({ token: args.token, inputs: unwrapSecrets(args.inputs ?? {}), provider });
      return options.call ? options.call(args, provider) : {};
    },
  };

  void pulumi.runtime.setMocks(mocks, options.project, options.stack, options.preview);
  // `Mocks.newResource` does not receive the parent or resource options; the monitor setMocks
  // installed does (in the gRPC request), so wrap its two registration methods to note them.
  const monitor = pulumi.runtime.getMonitor() as unknown as Record<
    "registerResource" | "readResource",
    (req: ResourceRequest, callback: GrpcCallback) => Promise<void>
  >;
  for (const method of ["registerResource", "readResource"] as const) {
    const original = monitor[method].bind(monitor);
    monitor[method] = async (req, callback) => {
      inFlight++;
      pendingRequests.set(
        `${req.getType()}::${req.getName()}`,
        Object.assign(req, { read: method === "readResource" }),
      );
      await original(req, (err, response) => {
        if (!err && response) {
          const record = [...resources]
            .reverse()
            .find((r) => r.type === req.getType() && r.name === req.getName() && r.urn === "");
          if (record) record.urn = response.getUrn();
        }
        inFlight--;
        callback(err, response);
      });
    };
  }

  const byType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    calls,
    byType,
    one(type, name) {
      const found = byType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) {
        throw new Error(
          `expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ` +
            found.map((r) => r.name).join(", "),
        );
      }
      return found[0];
    },
    byName(name, type) {
      const found = resources.find((r) => r.name === name && (type === undefined || r.type === type));
      if (!found) throw new Error(`no resource named ${name}${type ? ` of type ${type}` : ""}`);
      return found;
    },
    childrenOf(urn) {
      return resources.filter((r) => r.parent === urn);
    },
    async settled() {
      // Registrations start after their inputs resolve, so wait until nothing is in flight for a
      // few consecutive turns of the event loop (applies may create more resources in between).
      if (waitForRPCs) await waitForRPCs();
      let quietTurns = 0;
      while (quietTurns < 5) {
        await new Promise((resolve) => setImmediate(resolve));
        quietTurns = inFlight === 0 && pendingRequests.size === 0 ? quietTurns + 1 : 0;
      }
    },
    reset() {
      resources.length = 0;
      calls.length = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Realistic azure-native answers, for `setupPulumiMocks({ outputs: azureNativeOutputs, call: azureNativeCall })`.
// Under mocks, a resource's outputs are whatever the mock returns: these give the ids, endpoints and
// principals Azure would, so that wiring (an app using an identity's principalId, an endpoint) is testable.

/** Subscription and tenant the Azure mocks pretend to run in. */
export const mockAzure = {
  subscriptionId: "5b0c1e3a-0000-4000-8000-00000000a5b5",
  tenantId: "7e1d2c3b-0000-4000-8000-0000000077e1",
  deployerObjectId: "9a8b7c6d-0000-4000-8000-000000009a8b",
  location: "westeurope",
  /** Region `getResourceGroup` reports for an existing group. */
  existingGroupLocation: "northeurope",
  /** When every mocked resource that reports it (systemData.createdAt) was created. */
  createdAt: "2026-11-29T00:00:00.000Z",
} as const;

/** A GUID derived from a string, so ids are stable per resource name. */
function mockGuid(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The physical name an azure-native resource was given, by the input each type uses for it. */
function azurePhysicalName(type: string, inputs: Record<string, unknown>, logicalName: string): string {
  const keys = [
    "resourceGroupName:ResourceGroup",
    "workspaceName",
    "resourceName",
    "accountName:DatabaseAccount",
    "databaseName:SqlResourceSqlDatabase",
    "containerName",
    "roleAssignmentId",
    "vaultName:Vault",
    "secretName",
    "environmentName",
    "containerAppName",
    "jobName",
    "registryName",
    "roleAssignmentName",
    "actionGroupName",
    "ruleName",
  ];
  for (const entry of keys) {
    const [key, onlyFor] = entry.split(":");
    if (onlyFor && !type.endsWith(`:${onlyFor}`)) continue;
    if (typeof inputs[key] === "string") return inputs[key] as string;
  }
  return logicalName;
}

/** Provider path segment of the ARM id for the azure-native types the project uses. */
const armPaths: Record<string, (name: string, i: Record<string, unknown>) => string> = {
  "operationalinsights:Workspace": (n) => `Microsoft.OperationalInsights/workspaces/${n}`,
  "applicationinsights:Component": (n) => `Microsoft.Insights/components/${n}`,
  "managedidentity:UserAssignedIdentity": (n) => `Microsoft.ManagedIdentity/userAssignedIdentities/${n}`,
  "cosmosdb:DatabaseAccount": (n) => `Microsoft.DocumentDB/databaseAccounts/${n}`,
  "cosmosdb:SqlResourceSqlDatabase": (n, i) =>
    `Microsoft.DocumentDB/databaseAccounts/${i.accountName}/sqlDatabases/${n}`,
  "cosmosdb:SqlResourceSqlContainer": (n, i) =>
    `Microsoft.DocumentDB/databaseAccounts/${i.accountName}/sqlDatabases/${i.databaseName}/containers/${n}`,
  "cosmosdb:SqlResourceSqlRoleAssignment": (n, i) =>
    `Microsoft.DocumentDB/databaseAccounts/${i.accountName}/sqlRoleAssignments/${n}`,
  "keyvault:Vault": (n) => `Microsoft.KeyVault/vaults/${n}`,
  "keyvault:Secret": (n, i) => `Microsoft.KeyVault/vaults/${i.vaultName}/secrets/${n}`,
  "app:ManagedEnvironment": (n) => `Microsoft.App/managedEnvironments/${n}`,
  "app:ContainerApp": (n) => `Microsoft.App/containerApps/${n}`,
  "app:Job": (n) => `Microsoft.App/jobs/${n}`,
  "containerregistry:Registry": (n) => `Microsoft.ContainerRegistry/registries/${n}`,
  "monitor:ActionGroup": (n) => `Microsoft.Insights/actionGroups/${n}`,
  "monitor:ScheduledQueryRule": (n) => `Microsoft.Insights/scheduledQueryRules/${n}`,
  "applicationinsights:Workbook": (n) => `Microsoft.Insights/workbooks/${n}`,
};

/** ARM-style id for an azure-native resource (use as `setupPulumiMocks({ id: azureNativeId })`). */
export function azureNativeId(args: pulumi.runtime.MockResourceArgs): string {
  const inputs = unwrapSecrets((args.inputs ?? {}) as Record<string, unknown>);
  const name = azurePhysicalName(args.type, inputs, args.name);
  const sub = `/subscriptions/${mockAzure.subscriptionId}`;
  const shortType = args.type.replace(/^azure-native:/, "");
  if (shortType === "resources:ResourceGroup") return `${sub}/resourceGroups/${name}`;
  if (shortType === "authorization:RoleAssignment") {
    return `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${mockGuid(args.name)}`;
  }
  const path = armPaths[shortType];
  if (!args.type.startsWith("azure-native:") || !path) return `${args.name}-id`;
  return `${sub}/resourceGroups/${inputs.resourceGroupName}/providers/${path(name, inputs)}`;
}

/** Output state Azure would add for the azure-native types the project uses (merged over the inputs). */
export function azureNativeOutputs(
  args: pulumi.runtime.MockResourceArgs,
): Record<string, unknown> | undefined {
  const inputs = unwrapSecrets((args.inputs ?? {}) as Record<string, unknown>);
  // The receiver's Azure-facing dynamic resources (components/receiver): what their providers return.
  if (args.type === "pulumi-nodejs:dynamic/hookfleet:CloudImageBuild") {
    const digest = `sha256:${createHash("sha256").update(`${inputs.registryId}/${inputs.repository}:${inputs.tag}`).digest("hex")}`;
    return {
      imageName: `${inputs.loginServer}/${inputs.repository}:${inputs.tag}`,
      digest,
      runId: `ca${createHash("sha256").update(String(inputs.tag)).digest("hex").slice(0, 3)}`,
    };
  }
  if (args.type === "pulumi-nodejs:dynamic/hookfleet:PropagationWait") {
    return { waitedAt: "2026-11-29T00:00:00.000Z" };
  }
  if (!args.type.startsWith("azure-native:")) return undefined;
  const name = azurePhysicalName(args.type, inputs, args.name);
  const common = { name, location: inputs.location ?? mockAzure.location };
  switch (args.type.replace(/^azure-native:/, "")) {
    case "operationalinsights:Workspace":
      return { ...common, customerId: mockGuid(`workspace/${name}`) };
    case "applicationinsights:Component": {
      const key = mockGuid(`insights/${name}`);
      return {
        ...common,
        instrumentationKey: key,
        connectionString: `InstrumentationKey=${key};IngestionEndpoint=https://${common.location}-1.in.applicationinsights.azure.com/`,
      };
    }
    case "managedidentity:UserAssignedIdentity":
      return {
        ...common,
        principalId: mockGuid(`principal/${name}`),
        clientId: mockGuid(`client/${name}`),
        tenantId: mockAzure.tenantId,
      };
    case "cosmosdb:DatabaseAccount":
      return { ...common, documentEndpoint: `https://${name}.documents.azure.com:443/` };
    case "keyvault:Vault":
      return {
        ...common,
        properties: {
          ...(inputs.properties as object),
          vaultUri: `https://${inputs.vaultName}.vault.azure.net/`,
        },
      };
    case "keyvault:Secret": {
      // Azure never returns a secret's value from the management plane; neither does this mock.
      const uri = `https://${inputs.vaultName}.vault.azure.net/secrets/${name}`;
      const props = inputs.properties as Record<string, unknown>;
      return {
        ...common,
        properties: {
          contentType: props.contentType,
          secretUri: uri,
          secretUriWithVersion: `${uri}/${mockGuid(`${uri}/${JSON.stringify(props.value)}`).replace(/-/g, "")}`,
        },
      };
    }
    case "containerregistry:Registry":
      return { ...common, loginServer: `${String(inputs.registryName).toLowerCase()}.azurecr.io` };
    case "app:Job":
      // ARM's systemData (Microsoft.App/jobs): when the job was created.
      return { ...common, systemData: { createdAt: mockAzure.createdAt, createdByType: "User" } };
    case "app:ManagedEnvironment":
      return { ...common, defaultDomain: `${name}-a1b2c3.${common.location}.azurecontainerapps.io` };
    case "app:ContainerApp": {
      const configuration = (inputs.configuration ?? {}) as Record<string, unknown>;
      const fqdn = `${name}.kindhill-a1b2c3.${common.location}.azurecontainerapps.io`;
      return {
        ...common,
        configuration: { ...configuration, ingress: { ...(configuration.ingress as object), fqdn } },
        latestRevisionFqdn: `${name}--rev1.kindhill-a1b2c3.${common.location}.azurecontainerapps.io`,
      };
    }
    default:
      return common;
  }
}

/**
 * Answers for the azure-native invokes the project uses (getClientConfig, getSharedKeys,
 * getResourceGroup, getRegistry). Lookups answer in the subscription of the provider they went
 * through: an explicit provider's `subscriptionId`, else the mock's own, as azure-native does.
 */
export function azureNativeCall(
  args: pulumi.runtime.MockCallArgs,
  provider?: RecordedResource,
): Record<string, unknown> {
  const inSubscription = String(provider?.inputs.subscriptionId ?? mockAzure.subscriptionId);
  switch (args.token) {
    case "azure-native:authorization:getClientConfig":
      return {
        clientId: mockGuid("deployer-client"),
        objectId: mockAzure.deployerObjectId,
        subscriptionId: inSubscription,
        tenantId: mockAzure.tenantId,
      };
    case "azure-native:operationalinsights:getSharedKeys":
      return {
        primarySharedKey: "bW9jay1wcmltYXJ5LXNoYXJlZC1rZXk=",
        secondarySharedKey: "bW9jay1zZWNvbmRhcnk=",
      };
    case "azure-native:containerregistry:getRegistry":
      return {
        id: `/subscriptions/${inSubscription}/resourceGroups/${args.inputs.resourceGroupName}/providers/Microsoft.ContainerRegistry/registries/${args.inputs.registryName}`,
        name: args.inputs.registryName,
        loginServer: `${String(args.inputs.registryName).toLowerCase()}.azurecr.io`,
        adminUserEnabled: false,
      };
    case "azure-native:resources:getResourceGroup":
      return {
        id: `/subscriptions/${inSubscription}/resourceGroups/${args.inputs.resourceGroupName}`,
        name: args.inputs.resourceGroupName,
        location: mockAzure.existingGroupLocation,
      };
    default:
      return {};
  }
}
