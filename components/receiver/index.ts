/**
 * ReceiverInfra: the webhook receiver on Azure (Container Apps + Cosmos DB + Key Vault), set up
 * with no keys anywhere: one user-assigned identity reaches the store, the vault and the registry.
 */
import * as pulumi from "@pulumi/pulumi";
import * as app from "@pulumi/azure-native/app";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as authorization from "@pulumi/azure-native/authorization";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as resources from "@pulumi/azure-native/resources";
import {
  messageStoreLayout,
  receiverSettings,
  type CredentialHash,
  type ReceiverSettingName,
  type SettingSpec,
  type SystemSetting,
  type UrlTokenSetting,
} from "../../app/settings";
import { credentialsFingerprint } from "../credentials";
import { healSettings, type HealSettingName } from "../../app/heal/settings";
import { healJobSettings, receiverEnvironment } from "./environment";
import {
  receiverResourceNames,
  resourceName,
  secretNameFor,
  stableGuid,
  stackSuffix,
  type NameKind,
} from "./names";

export * from "./names";
export { healJobSettings, receiverEnvironment } from "./environment";

/** Built-in Azure role ids the identity gets (and nothing else). */
export const builtInRoleIds = {
  /** Cosmos DB data plane: "Cosmos DB Built-in Data Contributor" (read/write items, no management). */
  cosmosDataContributor: "00000000-0000-0000-0000-000000000002",
  /** Azure RBAC: "Key Vault Secrets User" (read secret values only). */
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  /** Azure RBAC: "AcrPull" (pull images only). */
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d7043",
} as const;

/** Heal options the job may set (plain HOOKFLEET_HEAL_* settings of app/heal/settings.ts). */
export type HealOptionName = Exclude<
  HealSettingName,
  "HOOKFLEET_HEAL_ORG_URLS" | "HOOKFLEET_WEBHOOK_BASE_URL" | "AZURE_DEVOPS_EXT_PAT"
>;

/** One ADO organization the heal job repairs. */
export interface HealOrganization {
  /** Organization URL, e.g. `https://dev.azure.com/contoso`. */
  url: pulumi.Input<string>;
  /** `extraSecrets` key holding a PAT for it (AZURE_DEVOPS_EXT_PAT); default none: the identity (Entra). */
  adoPatSecret?: string;
}

/**
 * The scheduled hook heal job (app/heal) beside the receiver: same image, environment and identity,
 * the receiver's settings (same Key Vault secrets), its own HOOKFLEET_HEAL_* settings. One job per
 * distinct PAT, since the heal command takes one PAT and a managed PAT is scoped to one organization.
 */
export interface HealJobArgs {
  /** Cron expression (5 fields, UTC), e.g. `0 * * * *` for hourly. */
  cronExpression: string;
  /** Organizations to heal (HOOKFLEET_HEAL_ORG_URLS), each with its PAT if any; at least one. */
  organizations: HealOrganization[];
  /** Heal options (HOOKFLEET_HEAL_PROBATION…); default: the schema defaults. */
  settings?: Partial<Record<HealOptionName, pulumi.Input<string>>>;
  /** Command run in the receiver image; default `["node", "dist/app/heal/main.js"]`. */
  command?: string[];
  /** Longest run of one execution in seconds; default 1800. */
  timeoutSeconds?: number;
}

/** The heal job's command in the receiver image (app/heal/main.ts, built by tsconfig.build.json). */
export const defaultHealCommand = ["node", "dist/app/heal/main.js"];

/** Cosmos DB capacity: pay per request, or provisioned autoscale throughput. */
export type CosmosCapacityMode = "serverless" | "autoscale";

export interface ReceiverInfraArgs {
  /** Receiver image (`registry/repository:tag`); pulled with the app's identity when it lives in an ACR. */
  image: pulumi.Input<string>;
  /** Existing resource group to deploy into; default: create one named after the component. */
  resourceGroupName?: pulumi.Input<string>;
  /** Azure region; default: `azure-native:location` config, else the existing group's region, else westeurope. */
  location?: pulumi.Input<string>;
  /** Cosmos DB capacity mode; default `serverless` (pay per request, one region). */
  cosmosMode?: CosmosCapacityMode;
  /** Autoscale ceiling of the messages container in RU/s (autoscale mode only); default 1000. */
  cosmosMaxThroughput?: number;
  /** Fewest replicas; default 1, so webhook senders never wait for a cold start. */
  minReplicas?: number;
  /** Most replicas; default 5. */
  maxReplicas?: number;
  /** Concurrent HTTP requests per replica before scaling out; default 50. */
  concurrentRequests?: number;
  /** Port the service listens on (ingress target and probes); default: receiverSettings.PORT's default. */
  targetPort?: number;
  /** Cosmos DB database name; default: receiverSettings.COSMOS_DATABASE's default. */
  databaseName?: string;
  /** Cosmos DB messages container name; default: receiverSettings.COSMOS_CONTAINER's default. */
  containerName?: string;
  /** Systems the receiver accepts (HOOKFLEET_SYSTEMS, via Key Vault); default none. */
  systems?: pulumi.Input<SystemSetting[]>;
  /** Accepted URL-token hashes (HOOKFLEET_URL_TOKENS, via Key Vault); default none. */
  urlTokens?: pulumi.Input<UrlTokenSetting[]>;
  /** Accepted read-API token hashes (HOOKFLEET_READ_TOKENS, via Key Vault); default none. */
  readTokens?: pulumi.Input<CredentialHash[]>;
  /** More Key Vault secrets, key → value (e.g. an ADO PAT for the heal job); a key naming a secret receiver setting also reaches the app. */
  extraSecrets?: Record<string, pulumi.Input<string>>;
  /** Values for plain receiver settings the component does not own (e.g. LOG_LEVEL); default: the schema defaults. */
  settings?: Partial<Record<ReceiverSettingName, pulumi.Input<string>>>;
  /** ARM id of the container registry holding the image; the identity gets AcrPull on it. Needed for an ACR image. */
  acrResourceId?: pulumi.Input<string>;
  /** CPU cores per replica; default 0.5. */
  cpu?: number;
  /** Memory per replica (Container Apps wants 2 GiB per core); default "1Gi". */
  memory?: string;
  /** Log Analytics retention in days; default 30. */
  logRetentionDays?: number;
  /** Key Vault purge protection; default true (turn off only for throwaway sandboxes: it cannot be undone). */
  keyVaultPurgeProtection?: boolean;
  /** Replaces the name suffix hashed from project and stack (when a global Cosmos/Key Vault name is taken). */
  nameSuffix?: string;
  /** Tags on every resource, merged over `app: hookfleet, component: receiver, stack: <stack>`. */
  tags?: Record<string, string>;
  /** Optional scheduled job (the hook heal job) in the same environment, as the same identity; default none. */
  healJob?: HealJobArgs;
}

/** Settings the component itself fills in; `args.settings` cannot override them. */
const componentOwnedSettings = [
  "HOOKFLEET_MODE",
  "COSMOS_ENDPOINT",
  "AZURE_CLIENT_ID",
  "COSMOS_DATABASE",
  "COSMOS_CONTAINER",
  "PORT",
  "HOOKFLEET_CREDENTIALS_FINGERPRINT",
] as const;

/** The registry host of an image reference when it is an Azure Container Registry, else undefined. */
export function acrServerOf(image: string): string | undefined {
  const host = image.split("/")[0].toLowerCase();
  return image.includes("/") && /^[a-z0-9]+\.azurecr\.io$/.test(host) ? host : undefined;
}

/** Full id of a built-in role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/** Plain heal-job settings the component fills in (see the job's construction). */
const healPlaceholderSettings = [
  "HOOKFLEET_MODE",
  "COSMOS_ENDPOINT",
  "AZURE_CLIENT_ID",
  "COSMOS_DATABASE",
  "COSMOS_CONTAINER",
  "HOOKFLEET_WEBHOOK_BASE_URL",
  "HOOKFLEET_HEAL_ORG_URLS",
] as const;

/** Organizations grouped per PAT (one heal job each), in first-seen order; no PAT is a group too. */
export function healJobGroups(job: Pick<HealJobArgs, "organizations">): {
  adoPatSecret?: string;
  urls: pulumi.Input<string>[];
}[] {
  const groups = new Map<string | undefined, pulumi.Input<string>[]>();
  for (const org of job.organizations) {
    groups.set(org.adoPatSecret, [...(groups.get(org.adoPatSecret) ?? []), org.url]);
  }
  return [...groups].map(([adoPatSecret, urls]) => (adoPatSecret ? { adoPatSecret, urls } : { urls }));
}

function validate(args: ReceiverInfraArgs, minReplicas: number, maxReplicas: number): void {
  const wholeNumber = (value: number, what: string, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new Error(`ReceiverInfra: ${what} must be an integer ≥ ${min}, got ${value}`);
  };
  wholeNumber(minReplicas, "minReplicas", 0);
  wholeNumber(maxReplicas, "maxReplicas", 1);
  if (minReplicas > maxReplicas) {
    throw new Error(`ReceiverInfra: minReplicas (${minReplicas}) exceeds maxReplicas (${maxReplicas})`);
  }
  if (args.concurrentRequests !== undefined) wholeNumber(args.concurrentRequests, "concurrentRequests", 1);
  if (args.targetPort !== undefined) wholeNumber(args.targetPort, "targetPort", 1);
  if (args.cosmosMaxThroughput !== undefined) {
    if (args.cosmosMode !== "autoscale")
      throw new Error("ReceiverInfra: cosmosMaxThroughput needs cosmosMode: autoscale");
    if (args.cosmosMaxThroughput < 1000 || args.cosmosMaxThroughput % 1000 !== 0) {
      throw new Error(
        `ReceiverInfra: cosmosMaxThroughput must be a multiple of 1000 RU/s, got ${args.cosmosMaxThroughput}`,
      );
    }
  }
  if (args.healJob) {
    const job = args.healJob;
    if (job.cronExpression.trim().split(/\s+/).length !== 5) {
      throw new Error(
        `ReceiverInfra: healJob.cronExpression must have 5 fields, got "${job.cronExpression}"`,
      );
    }
    if (job.command?.length === 0) throw new Error("ReceiverInfra: healJob.command is empty");
    if (job.organizations.length === 0) throw new Error("ReceiverInfra: healJob.organizations is empty");
    for (const [i, org] of job.organizations.entries()) {
      if (org.adoPatSecret !== undefined && !(org.adoPatSecret in (args.extraSecrets ?? {}))) {
        throw new Error(
          `ReceiverInfra: healJob.organizations[${i}].adoPatSecret names "${org.adoPatSecret}", which is not in extraSecrets`,
        );
      }
    }
    for (const option of Object.keys(job.settings ?? {})) {
      if (
        !(option in healSettings) ||
        ["HOOKFLEET_HEAL_ORG_URLS", "HOOKFLEET_WEBHOOK_BASE_URL"].includes(option)
      )
        throw new Error(
          `ReceiverInfra: healJob.settings.${option} is not a heal option (app/heal/settings.ts)`,
        );
      if (healSettings[option as HealSettingName].source === "secret")
        throw new Error(`ReceiverInfra: healJob.settings.${option} is a secret; use adoPatSecret`);
    }
    if (job.timeoutSeconds !== undefined) wholeNumber(job.timeoutSeconds, "healJob.timeoutSeconds", 1);
  }
  for (const owned of componentOwnedSettings) {
    if (args.settings?.[owned] !== undefined)
      throw new Error(`ReceiverInfra: ${owned} is set by the component; remove it from settings`);
  }
}

export class ReceiverInfra extends pulumi.ComponentResource {
  /** Public base URL of the webhook route: `https://<fqdn>/api/v1/webhooks` (append `/<token>`). */
  readonly webhookBaseUrl: pulumi.Output<string>;
  /** Cosmos DB account endpoint (`https://<account>.documents.azure.com:443/`). */
  readonly cosmosEndpoint: pulumi.Output<string>;
  /** Principal (object) id of the app's identity: the one holding every role. */
  readonly identityPrincipalId: pulumi.Output<string>;
  /** Client id of the app's identity (AZURE_CLIENT_ID). */
  readonly identityClientId: pulumi.Output<string>;
  /** ARM id of the app's identity (for a heal job or other apps that should act as the receiver). */
  readonly identityId: pulumi.Output<string>;
  /** Key Vault URI (`https://<vault>.vault.azure.net/`). */
  readonly keyVaultUri: pulumi.Output<string>;
  /** Key Vault secret URIs (versioned), by secret name (`hookfleet-systems`, extraSecrets keys…). */
  readonly secretUris: pulumi.Output<Record<string, string>>;
  /** Resource group everything lives in. */
  readonly resourceGroupName: pulumi.Output<string>;
  /** Container Apps environment id (a heal job joins the same environment). */
  readonly managedEnvironmentId: pulumi.Output<string>;
  /** Container App name. */
  readonly containerAppName: pulumi.Output<string>;
  /** Application Insights connection string (secret). */
  readonly appInsightsConnectionString: pulumi.Output<string>;
  /** Name of the (first) scheduled heal job, when `healJob` was given. */
  readonly healJobName: pulumi.Output<string | undefined>;
  /** Names of every heal job (one per distinct PAT); empty without `healJob`. */
  readonly healJobNames: pulumi.Output<string[]>;

  constructor(name: string, args: ReceiverInfraArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookfleet:receiver:ReceiverInfra", name, {}, opts);

    // Config read once: defaults suit a small production.
    const specs: Readonly<Record<string, SettingSpec>> = receiverSettings;
    const minReplicas = args.minReplicas ?? 1;
    const maxReplicas = args.maxReplicas ?? 5;
    validate(args, minReplicas, maxReplicas);
    const cosmosMode: CosmosCapacityMode = args.cosmosMode ?? "serverless";
    const targetPort = args.targetPort ?? Number(specs.PORT?.default ?? 7071);
    const databaseName = args.databaseName ?? specs.COSMOS_DATABASE?.default ?? "hookfleet";
    const containerName = args.containerName ?? specs.COSMOS_CONTAINER?.default ?? "messages";
    const shutdownGraceSeconds = Math.ceil(Number(specs.SHUTDOWN_GRACE_MS?.default ?? 10000) / 1000);
    const suffix = args.nameSuffix ?? stackSuffix(pulumi.getProject(), pulumi.getStack());
    const names: Record<NameKind, string> = receiverResourceNames(name, suffix);
    const tags = { app: "hookfleet", component: "receiver", stack: pulumi.getStack(), ...args.tags };
    const child = { parent: this };

    // Secret values: the credential hashes as JSON, plus extra secrets; all secret in state.
    const json = (value: pulumi.Input<unknown[]> | undefined) =>
      pulumi.secret(pulumi.output(value ?? []).apply((v) => JSON.stringify(v)));
    const settingSecrets: Record<string, pulumi.Output<string>> = {
      HOOKFLEET_SYSTEMS: json(args.systems),
      HOOKFLEET_URL_TOKENS: json(args.urlTokens),
      HOOKFLEET_READ_TOKENS: json(args.readTokens),
    };
    const vaultSecrets = new Map<string, { value: pulumi.Input<string>; setting?: string; json?: boolean }>();
    for (const [setting, value] of Object.entries(settingSecrets)) {
      if (setting in specs) vaultSecrets.set(secretNameFor(setting), { value, setting, json: true });
    }
    for (const [key, value] of Object.entries(args.extraSecrets ?? {})) {
      const secretName = secretNameFor(key);
      if (vaultSecrets.has(secretName))
        throw new Error(`ReceiverInfra: extraSecrets.${key} collides with ${secretName}`);
      vaultSecrets.set(secretName, { value: pulumi.secret(value), setting: key in specs ? key : undefined });
    }
    // The settings contract is checked now, before any resource exists, so a bad argument creates nothing.
    const settingsWithSecrets = new Set(
      [...vaultSecrets.values()].flatMap((s) => (s.setting ? [s.setting] : [])),
    );
    const environmentFor = (owned: Record<(typeof componentOwnedSettings)[number], pulumi.Input<string>>) =>
      receiverEnvironment<pulumi.Input<string>>(specs, {
        plain: { ...args.settings, ...owned },
        secrets: settingsWithSecrets,
      });
    environmentFor(
      Object.fromEntries(componentOwnedSettings.map((setting) => [setting, "placeholder"])) as Record<
        (typeof componentOwnedSettings)[number],
        string
      >,
    );
    // The heal job's variables: heal's schema plus the receiver settings it shares, same vault secrets.
    const healEnvironmentFor = (
      plain: Record<(typeof healPlaceholderSettings)[number], pulumi.Input<string>>,
      patSecretName?: string,
    ) =>
      receiverEnvironment<pulumi.Input<string>>(healJobSettings, {
        plain: {
          ...Object.fromEntries(Object.entries(args.settings ?? {}).filter(([k]) => k in healJobSettings)),
          ...args.healJob?.settings,
          ...plain,
        },
        secrets: new Set([
          ...[...settingsWithSecrets].filter((setting) => setting in healJobSettings),
          ...(patSecretName ? ["AZURE_DEVOPS_EXT_PAT"] : []),
        ]),
        secretRefs: patSecretName ? { AZURE_DEVOPS_EXT_PAT: patSecretName } : undefined,
        schema: {
          reader: "heal job",
          declaredIn: "app/heal/settings.ts (healSettings, healReceiverSettingNames)",
        },
      });
    if (args.healJob) {
      for (const group of healJobGroups(args.healJob)) {
        healEnvironmentFor(
          Object.fromEntries(healPlaceholderSettings.map((setting) => [setting, "placeholder"])) as Record<
            (typeof healPlaceholderSettings)[number],
            string
          >,
          group.adoPatSecret ? secretNameFor(group.adoPatSecret) : undefined,
        );
      }
    }
    const clientConfig = authorization.getClientConfigOutput({ parent: this });

    // The group holds everything, so one delete removes the receiver; an existing one is reused as is.
    const group = args.resourceGroupName
      ? undefined
      : new resources.ResourceGroup(
          `${name}-rg`,
          {
            resourceGroupName: names.resourceGroup,
            location: args.location ?? new pulumi.Config("azure-native").get("location") ?? "westeurope",
            tags,
          },
          child,
        );
    const resourceGroupName: pulumi.Output<string> = group
      ? group.name
      : pulumi.output(args.resourceGroupName!);
    const location: pulumi.Output<string> = group
      ? group.location
      : args.location
        ? pulumi.output(args.location)
        : resources.getResourceGroupOutput({ resourceGroupName }, { parent: this }).location;
    const placed = { resourceGroupName, location, tags };

    // Logs of the environment and the app land here; queried through Application Insights too.
    const workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        ...placed,
        workspaceName: names.logAnalyticsWorkspace,
        sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
        retentionInDays: args.logRetentionDays ?? 30,
      },
      child,
    );

    // Workspace-based Application Insights: traces from the environment's OpenTelemetry agent.
    const insights = new applicationinsights.Component(
      `${name}-insights`,
      {
        ...placed,
        resourceName: names.appInsights,
        kind: "web",
        applicationType: applicationinsights.ApplicationType.Web,
        workspaceResourceId: workspace.id,
        ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
      },
      child,
    );

    // The app's one identity: every role below goes to it and to nothing else.
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      { ...placed, resourceName: names.managedIdentity },
      child,
    );

    // The message store: Entra auth only (no keys exist to leak), TLS 1.2, point-in-time restore.
    const account = new cosmosdb.DatabaseAccount(
      `${name}-cosmos`,
      {
        ...placed,
        accountName: names.cosmosAccount,
        kind: cosmosdb.DatabaseAccountKind.GlobalDocumentDB,
        databaseAccountOfferType: cosmosdb.DatabaseAccountOfferType.Standard,
        locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }],
        capabilities: cosmosMode === "serverless" ? [{ name: "EnableServerless" }] : [],
        consistencyPolicy: { defaultConsistencyLevel: cosmosdb.DefaultConsistencyLevel.Session },
        disableLocalAuth: true,
        disableKeyBasedMetadataWriteAccess: true,
        minimalTlsVersion: cosmosdb.MinimalTlsVersion.Tls12,
        backupPolicy: {
          type: "Continuous",
          continuousModeProperties: { tier: cosmosdb.ContinuousTier.Continuous7Days },
        },
      },
      child,
    );

    // Provisioned here because the app, without keys, may not create databases or containers.
    const database = new cosmosdb.SqlResourceSqlDatabase(
      `${name}-db`,
      { resourceGroupName, accountName: account.name, databaseName, resource: { id: databaseName } },
      child,
    );

    // The layout app/ expects: its partition key, the payload out of the index, per-item TTL on.
    const partitionKeyPaths: string[] = [messageStoreLayout.partitionKeyPath].flat();
    new cosmosdb.SqlResourceSqlContainer(
      `${name}-messages`,
      {
        resourceGroupName,
        accountName: account.name,
        databaseName: database.name,
        containerName,
        resource: {
          id: containerName,
          partitionKey: {
            paths: partitionKeyPaths,
            kind:
              partitionKeyPaths.length > 1 ? cosmosdb.PartitionKind.MultiHash : cosmosdb.PartitionKind.Hash,
            version: 2,
          },
          indexingPolicy: {
            automatic: true,
            indexingMode: cosmosdb.IndexingMode.Consistent,
            includedPaths: [{ path: "/*" }],
            excludedPaths: [...messageStoreLayout.excludedIndexPaths, '/"_etag"/?'].map((path) => ({ path })),
          },
          defaultTtl: messageStoreLayout.defaultTtl,
        },
        options:
          cosmosMode === "autoscale"
            ? { autoscaleSettings: { maxThroughput: args.cosmosMaxThroughput ?? 1000 } }
            : undefined,
      },
      child,
    );

    // Data-plane read/write for the app's identity only, on this account only.
    const cosmosRole = new cosmosdb.SqlResourceSqlRoleAssignment(
      `${name}-cosmos-data-contributor`,
      {
        resourceGroupName,
        accountName: account.name,
        roleAssignmentId: stableGuid(pulumi.getProject(), pulumi.getStack(), name, "cosmos-data-contributor"),
        roleDefinitionId: pulumi.interpolate`${account.id}/sqlRoleDefinitions/${builtInRoleIds.cosmosDataContributor}`,
        scope: account.id,
        principalId: identity.principalId,
      },
      // The id is fixed, so a replacement must delete the old assignment first.
      { parent: this, deleteBeforeReplace: true },
    );

    // Secrets live in an RBAC-mode vault: access is role assignments, never access policies.
    const vault = new keyvault.Vault(
      `${name}-vault`,
      {
        ...placed,
        vaultName: names.keyVault,
        properties: {
          tenantId: clientConfig.tenantId,
          sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          // Purge protection cannot be switched off once on, so it is omitted rather than set false.
          enablePurgeProtection: args.keyVaultPurgeProtection === false ? undefined : true,
          enabledForDeployment: false,
          enabledForDiskEncryption: false,
          enabledForTemplateDeployment: false,
        },
      },
      child,
    );

    // Read-only secret access for the app's identity, on this vault only.
    const vaultRole = new authorization.RoleAssignment(
      `${name}-kv-secrets-user`,
      {
        principalId: identity.principalId,
        principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId: clientConfig.subscriptionId.apply((sub) =>
          roleDefinitionId(sub, builtInRoleIds.keyVaultSecretsUser),
        ),
        scope: vault.id,
      },
      child,
    );

    const secretResources = [...vaultSecrets].map(([secretName, { value, setting, json }]) => ({
      secretName,
      setting,
      // One vault secret per value, so each can be rotated and audited on its own.
      secret: new keyvault.Secret(
        `${name}-secret-${secretName}`,
        {
          resourceGroupName,
          vaultName: vault.name,
          secretName,
          properties: {
            value: pulumi.secret(value),
            contentType: json ? "application/json" : "text/plain",
          },
          tags,
        },
        child,
      ),
    }));

    // AcrPull on the image's registry, so the app pulls with its identity (no admin user, no password).
    const acrRole = args.acrResourceId
      ? new authorization.RoleAssignment(
          `${name}-acr-pull`,
          {
            principalId: identity.principalId,
            principalType: authorization.PrincipalType.ServicePrincipal,
            roleDefinitionId: pulumi
              .all([args.acrResourceId, clientConfig.subscriptionId])
              .apply(([acrId, sub]) =>
                roleDefinitionId(
                  /^\/subscriptions\/([^/]+)\//i.exec(acrId)?.[1] ?? sub,
                  builtInRoleIds.acrPull,
                ),
              ),
            scope: args.acrResourceId,
          },
          child,
        )
      : undefined;
    const registries = pulumi.output(args.image).apply((image) => {
      const server = acrServerOf(image);
      if (server && !args.acrResourceId) {
        void pulumi.log.warn(
          `ReceiverInfra: ${server} is an ACR but acrResourceId is not set: grant AcrPull to the identity yourself`,
          this,
        );
      }
      return server ? [{ server, identity: identity.id }] : [];
    });

    // The Container Apps environment ships console logs to the workspace and traces to App Insights.
    const sharedKey = operationalinsights.getSharedKeysOutput(
      { resourceGroupName, workspaceName: workspace.name },
      { parent: this },
    );
    const environment = new app.ManagedEnvironment(
      `${name}-env`,
      {
        ...placed,
        environmentName: names.managedEnvironment,
        appLogsConfiguration: {
          destination: "log-analytics",
          logAnalyticsConfiguration: {
            customerId: workspace.customerId,
            sharedKey: pulumi.secret(sharedKey.apply((keys) => keys.primarySharedKey ?? "")),
          },
        },
        appInsightsConfiguration: { connectionString: pulumi.secret(insights.connectionString) },
        openTelemetryConfiguration: {
          tracesConfiguration: { destinations: ["appInsights"] },
          logsConfiguration: { destinations: ["appInsights"] },
        },
      },
      child,
    );

    // Environment from the settings schema: plain values inline, secrets by reference to Key Vault.
    // Container App secrets are application-scope: changing one creates no revision, and running
    // revisions keep the old value (learn.microsoft.com/azure/container-apps/manage-secrets). This plain
    // env var sits in the template (revision-scope), so each credential change rolls a new revision in the
    // same update, before the hooks (whose URL comes from the app's outputs) switch to a new value. It is a
    // hash of the hashes (credentials) and of the versioned URIs of other secrets the app reads, never of
    // a secret value, so it may be plain (and visible in the preview's diff).
    const otherAppSecretVersions = secretResources
      .filter((s) => s.setting && !(s.setting in settingSecrets) && specs[s.setting]?.source === "secret")
      .map((s) => s.secret.properties.secretUriWithVersion);
    const fingerprint = pulumi.unsecret(
      credentialsFingerprint(
        args.systems ?? [],
        args.urlTokens ?? [],
        args.readTokens ?? [],
        pulumi.all(otherAppSecretVersions),
      ),
    );
    // What the app and the heal job(s) both need to reach the store as the identity.
    const storeSettings = {
      HOOKFLEET_MODE: "production",
      COSMOS_ENDPOINT: account.documentEndpoint,
      AZURE_CLIENT_ID: identity.clientId,
      COSMOS_DATABASE: databaseName,
      COSMOS_CONTAINER: containerName,
    };
    const env = environmentFor({
      HOOKFLEET_CREDENTIALS_FINGERPRINT: fingerprint,
      ...storeSettings,
      PORT: String(targetPort),
    });
    // Versioned URI, so the new revision (rolled by the fingerprint above) reads the new value; the same
    // on the job(s), whose next runs read a new credential version.
    const vaultReference = (s: (typeof secretResources)[number]) => ({
      name: s.secretName,
      keyVaultUrl: s.secret.properties.secretUriWithVersion,
      identity: identity.id,
    });
    const appSecrets = secretResources
      .filter((s) => s.setting !== undefined && specs[s.setting]?.source === "secret")
      .map(vaultReference);
    const userAssigned = {
      type: app.ManagedServiceIdentityType.UserAssigned,
      userAssignedIdentities: [identity.id],
    };
    // The first revision or run must find its roles in place, or it cannot read secrets, pull or store.
    const afterRoles = { parent: this, dependsOn: [vaultRole, cosmosRole, ...(acrRole ? [acrRole] : [])] };
    const probe = (type: app.Type, path: string) => ({
      type,
      httpGet: { path, port: targetPort, scheme: app.Scheme.HTTP },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    });

    // The receiver: public HTTPS only, pulls its image and reads its secrets as its identity.
    const containerApp = new app.ContainerApp(
      `${name}-app`,
      {
        resourceGroupName,
        location,
        tags,
        containerAppName: names.containerApp,
        managedEnvironmentId: environment.id,
        identity: userAssigned,
        configuration: {
          activeRevisionsMode: app.ActiveRevisionsMode.Single,
          ingress: {
            external: true,
            allowInsecure: false,
            targetPort,
            transport: app.IngressTransportMethod.Http,
            traffic: [{ latestRevision: true, weight: 100 }],
          },
          secrets: appSecrets,
          registries,
        },
        template: {
          containers: [
            {
              name: "receiver",
              image: args.image,
              env,
              resources: { cpu: args.cpu ?? 0.5, memory: args.memory ?? "1Gi" },
              probes: [probe(app.Type.Liveness, "/healthz"), probe(app.Type.Readiness, "/readyz")],
            },
          ],
          // Room for the service's own SIGTERM grace before Container Apps kills it.
          terminationGracePeriodSeconds: shutdownGraceSeconds + 5,
          scale: {
            minReplicas,
            maxReplicas,
            rules: [
              {
                name: "http-concurrency",
                http: { metadata: { concurrentRequests: String(args.concurrentRequests ?? 50) } },
              },
            ],
          },
        },
      },
      afterRoles,
    );

    // The heal job(s): no ingress, on a schedule, as the same identity, with the receiver's settings.
    const fqdn = containerApp.configuration.apply((c) => c?.ingress?.fqdn ?? "");
    const healJobs = args.healJob
      ? healJobGroups(args.healJob).map((group) => {
          const job = args.healJob!;
          const patSecretName = group.adoPatSecret ? secretNameFor(group.adoPatSecret) : undefined;
          const env = healEnvironmentFor(
            {
              ...storeSettings,
              // The origin: both routes (token and Basic) start with it, and nothing else of ours does.
              HOOKFLEET_WEBHOOK_BASE_URL: pulumi.interpolate`https://${fqdn}`,
              HOOKFLEET_HEAL_ORG_URLS: pulumi.all(group.urls).apply((urls) => urls.join(" ")),
            },
            patSecretName,
          );
          const referenced = new Set(env.flatMap((e) => (e.secretRef ? [e.secretRef] : [])));
          const jobName = group.adoPatSecret
            ? resourceName("containerAppJob", name, `${suffix}-${stackSuffix(group.adoPatSecret, "", 4)}`)
            : names.containerAppJob;
          return new app.Job(
            group.adoPatSecret ? `${name}-heal-${patSecretName}` : `${name}-heal`,
            {
              resourceGroupName,
              location,
              tags,
              jobName,
              environmentId: environment.id,
              identity: userAssigned,
              configuration: {
                triggerType: app.TriggerType.Schedule,
                scheduleTriggerConfig: {
                  cronExpression: job.cronExpression,
                  parallelism: 1,
                  replicaCompletionCount: 1,
                },
                replicaTimeout: job.timeoutSeconds ?? 1800,
                // A failed run is retried by the next schedule, not at once (ADO throttles bursts).
                replicaRetryLimit: 0,
                secrets: secretResources.filter((s) => referenced.has(s.secretName)).map(vaultReference),
                registries,
              },
              template: {
                containers: [
                  {
                    name: "heal",
                    image: args.image,
                    command: job.command ?? defaultHealCommand,
                    env,
                    resources: { cpu: 0.25, memory: "0.5Gi" },
                  },
                ],
              },
            },
            afterRoles,
          );
        })
      : [];

    this.webhookBaseUrl = pulumi.interpolate`https://${fqdn}/api/v1/webhooks`;
    this.cosmosEndpoint = account.documentEndpoint;
    this.identityPrincipalId = identity.principalId;
    this.identityClientId = identity.clientId;
    this.identityId = identity.id;
    this.keyVaultUri = vault.properties.vaultUri;
    this.secretUris = pulumi
      .all(secretResources.map((s) => s.secret.properties.secretUriWithVersion))
      .apply((uris) => Object.fromEntries(secretResources.map((s, i) => [s.secretName, uris[i]])));
    this.resourceGroupName = resourceGroupName;
    this.managedEnvironmentId = environment.id;
    this.containerAppName = containerApp.name;
    this.appInsightsConnectionString = pulumi.secret(insights.connectionString);
    this.healJobName = healJobs.length ? healJobs[0].name : pulumi.output(undefined);
    this.healJobNames = pulumi.all(healJobs.map((j) => j.name));

    this.registerOutputs({
      webhookBaseUrl: this.webhookBaseUrl,
      cosmosEndpoint: this.cosmosEndpoint,
      identityPrincipalId: this.identityPrincipalId,
      identityClientId: this.identityClientId,
      identityId: this.identityId,
      keyVaultUri: this.keyVaultUri,
      secretUris: this.secretUris,
      resourceGroupName: this.resourceGroupName,
      managedEnvironmentId: this.managedEnvironmentId,
      containerAppName: this.containerAppName,
      appInsightsConnectionString: this.appInsightsConnectionString,
      healJobName: this.healJobName,
      healJobNames: this.healJobNames,
    });
  }
}
