/**
 * ReceiverInfra: the webhook receiver on Azure (Container Apps + Cosmos DB + Key Vault, and by
 * default its own registry and a cloud build of app/), set up with no keys anywhere: one
 * user-assigned identity reaches the store, the vault and the registry.
 *
 * This file composes the parts, in deployment order: names → group → monitoring → identity →
 * store → vault → image → (role propagation) → environment and app → heal jobs. Each part lives in
 * its own module (monitoring, store, vault, registry + image/, app, jobs) and creates children of
 * this one component, so logical names and URNs are release 0.1's.
 */
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import { receiverSettings, type SettingSpec } from "../../app/settings";
import { receiverInfraTelemetryDefaults } from "../../app/telemetry/settings";
import { credentialsFingerprint } from "../credentials";
import { createEnvironment, createReceiverApp, type VaultReference } from "./app";
import {
  componentOwnedSettings,
  healJobGroups,
  healPlaceholderSettings,
  validate,
  type CosmosCapacityMode,
  type ReceiverInfraArgs,
} from "./args";
import { createAlerts } from "./alerts";
import { createDashboard } from "./dashboard";
import { healJobSettings, receiverEnvironment } from "./environment";
import { createHealJobs } from "./jobs";
import { createMonitoring } from "./monitoring";
import { receiverResourceNames, secretNameFor, subscriptionSuffix } from "./names";
import { PropagationWait } from "./propagation";
import { createReceiverImage } from "./registry";
import { nameOf, namedChild, type ReceiverScope } from "./scope";
import { healRecentHoursFor } from "./schedule";
import { createStore } from "./store";
import { createVault, type VaultSecretSpec } from "./vault";

export * from "./args";
export * from "./names";
export * from "./roles";
export { healJobSettings, receiverEnvironment } from "./environment";
export { CloudImageBuild, CLOUD_IMAGE_BUILD_TYPE, describeContext, receiverBuildContext } from "./image";
export { PropagationWait, PROPAGATION_WAIT_TYPE } from "./propagation";
export {
  LocalReceiverRevision,
  LOCAL_RECEIVER_REVISION_TYPE,
  type LocalReceiverRevisionArgs,
} from "./local-revision";
export { alertDefaults, alertRuleSpecs, type AlertsArgs } from "./alerts";

/** Defaults of the bounded propagation waits (seconds). */
export const defaultPropagationSeconds = { identity: 30, roles: 60 } as const;
/** Default port of the internal /metrics listener. */
export const defaultMetricsPort = 9090;

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
  /** The image the app and jobs run: the prebuilt `image`, or `<loginServer>/<repository>@<digest>` of the cloud build. */
  readonly image: pulumi.Output<string>;
  /** Login server of the registry the component built into (empty when it did not build). */
  readonly registryLoginServer: pulumi.Output<string>;
  /** ARM ids of the alert rules (docs/telemetry.md); empty when alerts are disabled. */
  readonly alertRuleIds: pulumi.Output<string[]>;
  /** ARM id of the on-call workbook (open it from the portal's Workbooks list); undefined when off. */
  readonly dashboardId: pulumi.Output<string | undefined>;

  constructor(name: string, args: ReceiverInfraArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookfleet:receiver:ReceiverInfra", name, {}, opts);

    // Config read once: defaults suit a small production.
    const specs: Readonly<Record<string, SettingSpec>> = receiverSettings;
    const minReplicas = args.minReplicas ?? 1;
    const maxReplicas = args.maxReplicas ?? 5;
    validate(args, minReplicas, maxReplicas);
    const cosmosMode: CosmosCapacityMode = args.cosmosMode ?? "serverless";
    const targetPort = args.targetPort ?? Number(specs.PORT?.default ?? 7071);
    const metricsPort = args.metricsPort ?? defaultMetricsPort;
    const databaseName = args.databaseName ?? specs.COSMOS_DATABASE?.default ?? "hookfleet";
    const containerName = args.containerName ?? specs.COSMOS_CONTAINER?.default ?? "messages";
    const shutdownGraceSeconds = Math.ceil(Number(specs.SHUTDOWN_GRACE_MS?.default ?? 10000) / 1000);
    const waits = { ...defaultPropagationSeconds, ...args.propagationSeconds };
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
    const vaultSecrets = new Map<string, VaultSecretSpec>();
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
    type OwnedSettings = Record<(typeof componentOwnedSettings)[number], pulumi.Input<string>>;
    // issue 16: the managed agent's Application Insights destination takes no metrics (app.ts), so
    // the processes export none there unless settings say otherwise; spans carry what alerts need.
    const telemetryDefaults = receiverInfraTelemetryDefaults;
    const environmentFor = (owned: OwnedSettings) =>
      receiverEnvironment<pulumi.Input<string>>(specs, {
        plain: { ...telemetryDefaults, ...args.settings, ...owned },
        secrets: settingsWithSecrets,
      });
    environmentFor(
      Object.fromEntries(componentOwnedSettings.map((setting) => [setting, "placeholder"])) as OwnedSettings,
    );
    // The heal job's variables: heal's schema plus the receiver settings it shares, same vault secrets.
    type HealPlaceholders = Record<(typeof healPlaceholderSettings)[number], pulumi.Input<string>>;
    const healEnvironmentFor = (plain: HealPlaceholders, patSecretName?: string) =>
      receiverEnvironment<pulumi.Input<string>>(healJobSettings, {
        plain: {
          ...telemetryDefaults,
          ...Object.fromEntries(Object.entries(args.settings ?? {}).filter(([k]) => k in healJobSettings)),
          ...(args.healJob && {
            HOOKFLEET_HEAL_RECENT_HOURS: String(healRecentHoursFor(args.healJob.cronExpression)),
          }),
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
          Object.fromEntries(
            healPlaceholderSettings.map((setting) => [setting, "placeholder"]),
          ) as HealPlaceholders,
          group.adoPatSecret ? secretNameFor(group.adoPatSecret) : undefined,
        );
      }
    }

    // Names: hashed from subscription, project and stack (two adopters' `dev` stacks no longer
    // collide on the global Cosmos DB, Key Vault and registry names), or the user's nameSuffix.
    const clientConfig = authorization.getClientConfigOutput({ parent: this });
    const suffix = args.nameSuffix
      ? pulumi.output(args.nameSuffix)
      : clientConfig.subscriptionId.apply((sub) =>
          subscriptionSuffix(sub, pulumi.getProject(), pulumi.getStack()),
        );
    const names = suffix.apply((s) => receiverResourceNames(name, s));
    const pinNames = args.nameSuffix === undefined;

    // The group holds everything, so one delete removes the receiver; an existing one is reused as is.
    const group = args.resourceGroupName
      ? undefined
      : new resources.ResourceGroup(
          `${name}-rg`,
          {
            resourceGroupName: names.apply((n) => n.resourceGroup),
            location: args.location ?? new pulumi.Config("azure-native").get("location") ?? "westeurope",
            tags,
          },
          { parent: this, ...(pinNames ? { ignoreChanges: ["resourceGroupName"] } : {}) },
        );
    const resourceGroupName: pulumi.Output<string> = group
      ? group.name
      : pulumi.output(args.resourceGroupName!);
    const location: pulumi.Output<string> = group
      ? group.location
      : args.location
        ? pulumi.output(args.location)
        : resources.getResourceGroupOutput({ resourceGroupName }, { parent: this }).location;
    const scope: ReceiverScope = {
      name,
      component: this,
      placed: { resourceGroupName, location, tags },
      names,
      suffix,
      subscriptionId: clientConfig.subscriptionId,
      tenantId: clientConfig.tenantId,
      pinNames,
    };

    const { insights, workspace } = createMonitoring(scope, args.logRetentionDays ?? 30);

    // The app's one identity: every role goes to it and to nothing else.
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      { ...scope.placed, resourceName: nameOf(scope, "managedIdentity") },
      namedChild(scope, "resourceName"),
    );

    const store = createStore(scope, {
      cosmosMode,
      cosmosMaxThroughput: args.cosmosMaxThroughput,
      databaseName,
      containerName,
      identity,
      identityPropagationSeconds: waits.identity,
    });
    const vault = createVault(scope, {
      identity,
      secrets: vaultSecrets,
      purgeProtection: args.keyVaultPurgeProtection !== false,
    });
    const image = createReceiverImage(scope, {
      image: args.image,
      acrResourceId: args.acrResourceId,
      imageBuild: args.imageBuild,
      identity,
    });

    // Container Apps validates every Key Vault reference (and the registry pull) as the identity when
    // it creates a revision, and fails with "Unable to get value using Managed identity … for secret"
    // while a new role assignment has not reached Key Vault yet (microsoft/azure-container-apps#930,
    // #1174); Azure RBAC may take minutes to apply a new assignment ("Troubleshoot Azure RBAC",
    // learn.microsoft.com). So the first revision waits, boundedly, after the roles; again only when
    // a role assignment is replaced.
    const roles = [vault.readerRole, store.dataRole, ...(image.pullRole ? [image.pullRole] : [])];
    const rolesReady =
      waits.roles > 0
        ? new PropagationWait(
            `${name}-role-propagation`,
            {
              seconds: waits.roles,
              triggers: roles.map((r) => r.id),
              reason:
                "new role assignments reaching Key Vault, the registry and Cosmos DB before Container Apps validates them (microsoft/azure-container-apps#930, #1174)",
            },
            child,
          )
        : undefined;
    // The first revision or run must find its roles in place (and its image built).
    const before = [...roles, ...(rolesReady ? [rolesReady] : []), ...(image.build ? [image.build] : [])];

    const environment = createEnvironment(scope, workspace, insights);

    // Environment from the settings schema: plain values inline, secrets by reference to Key Vault.
    // Container App secrets are application-scope: changing one creates no revision, and running
    // revisions keep the old value (learn.microsoft.com/azure/container-apps/manage-secrets). This plain
    // env var sits in the template (revision-scope), so each credential change rolls a new revision in the
    // same update, before the hooks (whose URL comes from the app's outputs) switch to a new value. It is a
    // hash of the hashes (credentials) and of the versioned URIs of other secrets the app reads, never of
    // a secret value, so it may be plain (and visible in the preview's diff).
    const otherAppSecretVersions = vault.secrets
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
      COSMOS_ENDPOINT: store.account.documentEndpoint,
      AZURE_CLIENT_ID: identity.clientId,
      COSMOS_DATABASE: databaseName,
      COSMOS_CONTAINER: containerName,
    };
    // Versioned URI, so the new revision (rolled by the fingerprint above) reads the new value; the same
    // on the job(s), whose next runs read a new credential version.
    const vaultReferences = new Map<string, VaultReference>(
      vault.secrets.map((s) => [
        s.secretName,
        { name: s.secretName, keyVaultUrl: s.secret.properties.secretUriWithVersion, identity: identity.id },
      ]),
    );
    const containerApp = createReceiverApp(scope, {
      environment,
      identityId: identity.id,
      image: image.image,
      registries: image.registries,
      env: environmentFor({
        HOOKFLEET_CREDENTIALS_FINGERPRINT: fingerprint,
        ...storeSettings,
        PORT: String(targetPort),
        METRICS_PORT: String(metricsPort),
      }),
      secrets: vault.secrets
        .filter((s) => s.setting !== undefined && specs[s.setting]?.source === "secret")
        .map((s) => vaultReferences.get(s.secretName)!),
      targetPort,
      metricsPort,
      cpu: args.cpu ?? 0.5,
      memory: args.memory ?? "1Gi",
      minReplicas,
      maxReplicas,
      concurrentRequests: args.concurrentRequests ?? 50,
      terminationGracePeriodSeconds: shutdownGraceSeconds + 5,
      dependsOn: before,
    });

    const fqdn = containerApp.configuration.apply((c) => c?.ingress?.fqdn ?? "");
    const healJobs = args.healJob
      ? createHealJobs(scope, {
          job: args.healJob,
          environment,
          identityId: identity.id,
          image: image.image,
          registries: image.registries,
          envFor: (urls, patSecretName) =>
            healEnvironmentFor(
              {
                ...storeSettings,
                // The origin: both routes (token and Basic) start with it, and nothing else of ours does.
                HOOKFLEET_WEBHOOK_BASE_URL: pulumi.interpolate`https://${fqdn}`,
                HOOKFLEET_HEAL_ORG_URLS: pulumi.all(urls).apply((u) => u.join(" ")),
              },
              patSecretName,
            ),
          vaultReferences,
          dependsOn: before,
        })
      : [];

    // On-call: alerts on the telemetry and the dashboard (issue 16; docs/telemetry.md).
    const alerts = createAlerts(scope, {
      alerts: args.alerts ?? {},
      healJob: args.healJob,
      healJobs,
      workspace,
    });
    const dashboard = args.dashboard === false ? undefined : createDashboard(scope, workspace);

    this.webhookBaseUrl = pulumi.interpolate`https://${fqdn}/api/v1/webhooks`;
    this.cosmosEndpoint = store.account.documentEndpoint;
    this.identityPrincipalId = identity.principalId;
    this.identityClientId = identity.clientId;
    this.identityId = identity.id;
    this.keyVaultUri = vault.vault.properties.vaultUri;
    this.secretUris = pulumi
      .all(vault.secrets.map((s) => s.secret.properties.secretUriWithVersion))
      .apply((uris) => Object.fromEntries(vault.secrets.map((s, i) => [s.secretName, uris[i]])));
    this.resourceGroupName = resourceGroupName;
    this.managedEnvironmentId = environment.id;
    this.containerAppName = containerApp.name;
    this.appInsightsConnectionString = pulumi.secret(insights.connectionString);
    this.healJobName = healJobs.length ? healJobs[0].name : pulumi.output(undefined);
    this.healJobNames = pulumi.all(healJobs.map((j) => j.name));
    this.image = image.image;
    this.registryLoginServer = image.build ? image.build.loginServer : pulumi.output("");
    this.alertRuleIds = pulumi.all(alerts.rules.map((r) => r.id));
    this.dashboardId = dashboard ? dashboard.id : pulumi.output(undefined);

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
      image: this.image,
      registryLoginServer: this.registryLoginServer,
      alertRuleIds: this.alertRuleIds,
      dashboardId: this.dashboardId,
    });
  }
}
