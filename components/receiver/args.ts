/**
 * ReceiverInfra's arguments, their validation and the pure helpers around them. Validation runs
 * before any resource exists, so a bad argument creates nothing.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CredentialHash, ReceiverSettingName, SystemSetting, UrlTokenSetting } from "../../app/settings";
import { healSettings, type HealSettingName } from "../../app/heal/settings";
import { validateAlerts, type AlertsArgs } from "./alerts";
import { MAX_PROPAGATION_WAIT_SECONDS } from "./propagation";
import { nameSuffixRule } from "./names";

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
  /**
   * Heal options (HOOKFLEET_HEAL_PROBATION…); default: the schema defaults, but
   * HOOKFLEET_HEAL_RECENT_HOURS twice the schedule's longest gap, at least 6 (schedule.ts).
   */
  settings?: Partial<Record<HealOptionName, pulumi.Input<string>>>;
  /** Command run in the receiver image; default `["node", "dist/app/heal/main.js"]`. */
  command?: string[];
  /** Longest run of one execution in seconds; default 1800. */
  timeoutSeconds?: number;
}

/** The heal job's command in the receiver image (app/heal/main.ts, built by tsconfig.build.json). */
export const defaultHealCommand = ["node", "dist/app/heal/main.js"];

/** How the receiver image is built in Azure when no prebuilt `image` is given. */
export interface ImageBuildArgs {
  /** Repository in the registry; default `hookfleet/receiver`. */
  repository?: string;
  /** Longest build in seconds; default 1800. */
  timeoutSeconds?: number;
  /** Build context relative to the project root; default `.` (with app/Dockerfile and .dockerignore). */
  contextDir?: string;
  /** Dockerfile relative to the context; default `app/Dockerfile`. */
  dockerfile?: string;
}

/** Cosmos DB capacity: pay per request, or provisioned autoscale throughput. */
export type CosmosCapacityMode = "serverless" | "autoscale";

export interface ReceiverInfraArgs {
  /**
   * A prebuilt receiver image (`registry/repository:tag` or `…@sha256:…`), pulled with the app's
   * identity when it lives in an ACR. Default: none, and the image is built from app/ in Azure (ACR
   * Tasks) into `acrResourceId`'s registry, or into a registry this component creates.
   */
  image?: pulumi.Input<string>;
  /** Cloud build settings, when `image` is not given. */
  imageBuild?: ImageBuildArgs;
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
  /**
   * ARM id of an existing container registry: it holds `image`, or (no `image`) receives the cloud
   * build. The identity gets AcrPull on it. Default: with `image`, none (a public image, or AcrPull
   * granted by you); without, a registry owned by this component (admin user off).
   */
  acrResourceId?: pulumi.Input<string>;
  /** CPU cores per replica; default 0.5. */
  cpu?: number;
  /** Memory per replica (Container Apps wants 2 GiB per core); default "1Gi". */
  memory?: string;
  /** Log Analytics retention in days; default 30. */
  logRetentionDays?: number;
  /** Key Vault purge protection; default true (turn off only for throwaway sandboxes: it cannot be undone). */
  keyVaultPurgeProtection?: boolean;
  /**
   * Replaces the name suffix (1–12 lower-case letters and digits) hashed from subscription, project
   * and stack, e.g. when a global Cosmos DB, Key Vault or registry name is taken. Setting it renames
   * (replaces) the resources of an existing stack; without it, names stay as state recorded them.
   */
  nameSuffix?: string;
  /** Port of the internal /metrics listener (METRICS_PORT), reachable inside the environment only; default 9090. */
  metricsPort?: number;
  /** Bounded waits for Azure's propagation delays (see components/receiver/propagation.ts); seconds. */
  propagationSeconds?: {
    /** After a new identity, before its Cosmos DB data role is assigned; default 30. */
    identity?: number;
    /** After new role assignments, before the app and jobs first use them; default 60. */
    roles?: number;
  };
  /** Tags on every resource, merged over `app: hookfleet, component: receiver, stack: <stack>`. */
  tags?: Record<string, string>;
  /** Optional scheduled job (the hook heal job) in the same environment, as the same identity; default none. */
  healJob?: HealJobArgs;
  /** Azure Monitor alerts on the telemetry and who they notify (components/receiver/alerts.ts); default: the rules, notifying nobody. */
  alerts?: AlertsArgs;
  /** Create the on-call Azure Workbook (components/receiver/dashboard.ts); default true. */
  dashboard?: boolean;
}

/** Settings the component itself fills in; `args.settings` cannot override them. */
export const componentOwnedSettings = [
  "HOOKFLEET_MODE",
  "COSMOS_ENDPOINT",
  "AZURE_CLIENT_ID",
  "COSMOS_DATABASE",
  "COSMOS_CONTAINER",
  "PORT",
  "METRICS_PORT",
  "HOOKFLEET_CREDENTIALS_FINGERPRINT",
] as const;

/** The registry host of an image reference when it is an Azure Container Registry, else undefined. */
export function acrServerOf(image: string): string | undefined {
  const host = image.split("/")[0].toLowerCase();
  return image.includes("/") && /^[a-z0-9]+\.azurecr\.io$/.test(host) ? host : undefined;
}

/** Plain heal-job settings the component fills in (see the job's construction). */
export const healPlaceholderSettings = [
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

export function validate(args: ReceiverInfraArgs, minReplicas: number, maxReplicas: number): void {
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
  if (args.metricsPort !== undefined) {
    wholeNumber(args.metricsPort, "metricsPort", 1);
    if (args.metricsPort === (args.targetPort ?? 7071))
      throw new Error(
        "ReceiverInfra: metricsPort must differ from targetPort (metrics stay off the public port)",
      );
  }
  if (args.nameSuffix !== undefined && !nameSuffixRule.test(args.nameSuffix)) {
    throw new Error(
      `ReceiverInfra: nameSuffix must be 1–12 lower-case letters and digits, got "${args.nameSuffix}"`,
    );
  }
  for (const [key, seconds] of Object.entries(args.propagationSeconds ?? {})) {
    if (
      seconds !== undefined &&
      (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_PROPAGATION_WAIT_SECONDS)
    )
      throw new Error(
        `ReceiverInfra: propagationSeconds.${key} must be a whole number from 0 to ${MAX_PROPAGATION_WAIT_SECONDS}, got ${seconds}`,
      );
  }
  if (args.imageBuild && args.image !== undefined) {
    throw new Error("ReceiverInfra: imageBuild applies only without image (a prebuilt image is not built)");
  }
  if (args.imageBuild?.timeoutSeconds !== undefined) {
    const t = args.imageBuild.timeoutSeconds;
    if (!Number.isInteger(t) || t < 300 || t > 28800)
      throw new Error(`ReceiverInfra: imageBuild.timeoutSeconds must be from 300 to 28800, got ${t}`);
  }
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
  validateAlerts(args.alerts);
  for (const owned of componentOwnedSettings) {
    if (args.settings?.[owned] !== undefined)
      throw new Error(`ReceiverInfra: ${owned} is set by the component; remove it from settings`);
  }
}
