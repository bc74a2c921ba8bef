/**
 * The program's stack config, read once and checked before anything is created: every key of
 * Pulumi.yaml (where each is declared with its default and meaning) becomes a typed field here, and
 * a mistake fails the preview with the key's name. index.ts only composes what this returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { healSettings, maxRecentHours, parseRecentHours } from "../../app/heal/settings";
import { parseDeliveryTraceLimit } from "../../app/telemetry/settings";
import { nameSuffixRule, type CosmosCapacityMode } from "../receiver";
import { policyProblems } from "../credentials/rotation";
import { parseRegistryId } from "../receiver/arm";
import type { AuthMode } from "../hooks/hook-fleet";
import type { MessagesToSend, ResourceDetailsToSend } from "../hooks/mapping";
import { DESTINATIONS_KEY, parseDestinations, type DestinationConfig } from "./destinations";
import { parseOrganizations, type OrganizationConfig } from "./organizations";
import { secrecyFromStackFile, secrecyOfKey } from "./plain-text";
import { ACR_RESOURCE_ID_ENV, IMAGE_ENV } from "./image-env";
import { stackFileValue } from "./stack-file";

/** Schedule of one rotating credential (`<prefix>RotateEveryDays`, `…OverlapHours`, `…RotationNonce`). */
export interface RotationConfig {
  rotateEveryDays: number;
  overlapHours: number;
  rotationNonce: string;
}

export interface ProgramConfig {
  stack: string;
  organizations: OrganizationConfig[];
  /** Where hooks deliver; without `destinations` in the stack, the implied receiver alone. */
  destinations: DestinationConfig[];
  /** The receiver this stack deploys on Azure, or the one already running at `receiverUrl`. */
  receiver: {
    /** Whether a receiver destination exists at all (else no receiver credentials are made). */
    wanted: boolean;
    deploy: boolean;
    /** Base URL of a receiver the program does not deploy ("" when deployed or not wanted). */
    url: string;
    /** Revision endpoint of the host running that receiver (LocalReceiverRevision); "" for none. */
    revisionUrl: string;
    location: string;
    resourceGroupName?: string;
    image?: string;
    minReplicas: number;
    maxReplicas: number;
    acrResourceId?: string;
    nameSuffix?: string;
    keyVaultPurgeProtection: boolean;
    cosmosCapacity: CosmosCapacityMode;
    cosmosMaxThroughput: number;
    /** HOOKFLEET_DELIVERY_TRACES_PER_SECOND for the receiver (a number or `all`); unset: its default. */
    deliveryTracesPerSecond?: string;
  };
  /** The receiver's one system: what it stores and how ADO authenticates to it. */
  system: {
    id: string;
    storageMode: "full" | "lean";
    retentionDays: number;
    authMode: AuthMode;
    basicUsername: string;
  };
  /** The receiver destination's what-to-send defaults. */
  whatToSend: {
    resourceDetailsToSend: ResourceDetailsToSend;
    messagesToSend: MessagesToSend;
    detailedMessagesToSend: MessagesToSend;
  };
  rotation: {
    urlToken: RotationConfig;
    basicPassword: RotationConfig;
    readToken: RotationConfig;
    pat: RotationConfig;
  };
  /** Org-scoped PATs for the heal job. */
  managedPats: { enabled: boolean; scopes: string[]; validDays: number };
  heal: {
    enabled: boolean;
    schedule: string;
    probation: "leave" | "enable";
    disabledByUser: "leave" | "enable";
    /** HOOKFLEET_HEAL_RECENT_HOURS; unset: ReceiverInfra derives it from the schedule. */
    recentHours?: number;
    includeEnabled: boolean;
  };
  alerts: { emails: string[]; webhookUrl?: pulumi.Output<string>; quietHours: number };
}

/** Reads and checks the stack config of the running program (keys and defaults: Pulumi.yaml). */
export function readProgramConfig(env: NodeJS.ProcessEnv = process.env): ProgramConfig {
  const config = new pulumi.Config();
  const stack = pulumi.getStack();

  function oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = config.get(key) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new Error(`hookfleet:${key} must be one of ${allowed.join(", ")}; got "${value}"`);
    }
    return value as T;
  }

  function wholeNumber(key: string, fallback: number, min: number): number {
    const value = config.getNumber(key) ?? fallback;
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`hookfleet:${key} must be a whole number ≥ ${min}; got ${value}`);
    }
    return value;
  }

  /** hookfleet:healRecentHours, checked as the heal command checks HOOKFLEET_HEAL_RECENT_HOURS. */
  function healRecentHours(): number | undefined {
    const text = config.get("healRecentHours")?.trim() || undefined;
    if (text === undefined) return undefined;
    const hours = parseRecentHours(text);
    if (hours === undefined) {
      throw new Error(
        `hookfleet:healRecentHours must be a number of hours from 0 to ${maxRecentHours}, e.g. 6 or 0.5; got "${text}"`,
      );
    }
    return hours;
  }

  /** Schedule of one rotating credential: `<prefix>RotateEveryDays`, `…OverlapHours`, `…RotationNonce`. */
  function rotation(prefix: string, everyDays: number): RotationConfig {
    const rotateEveryDays = wholeNumber(`${prefix}RotateEveryDays`, everyDays, 1);
    const overlapHours = wholeNumber(`${prefix}OverlapHours`, 48, 0);
    // The providers' own rule (rotation.ts), checked here too so that the error names the keys.
    const [problem] = policyProblems({ overlapHours, nonce: "" }, rotateEveryDays * 24);
    if (problem)
      throw new Error(`hookfleet:${prefix}OverlapHours and hookfleet:${prefix}RotateEveryDays: ${problem}`);
    return { rotateEveryDays, overlapHours, rotationNonce: config.get(`${prefix}RotationNonce`) ?? "" };
  }

  const organizations = parseOrganizations(config.requireObject<unknown>("organizations"));

  // A destination's url and Basic password must be secrets: the stack file says which of its values
  // are `secure`, Pulumi which keys hold any (plain-text.ts).
  const projectRoot = pulumi.runtime.getRootDirectory() || process.cwd();
  const destinationsAreSecret = isConfigSecret(DESTINATIONS_KEY);
  const inStackFile = stackFileValue(projectRoot, stack, DESTINATIONS_KEY);
  const destinations = parseDestinations(destinationsValue(config.get("destinations")), {
    organizations,
    secrecy:
      inStackFile === undefined
        ? secrecyOfKey(destinationsAreSecret)
        : secrecyFromStackFile(inStackFile, destinationsAreSecret),
  });
  const receiverWanted = destinations.some((d) => d.kind === "receiver");

  const deployReceiver = config.getBoolean("deployReceiver") ?? true;
  if (!receiverWanted && deployReceiver) {
    throw new Error(
      `${DESTINATIONS_KEY} lists no destination of kind receiver, so the receiver this stack deploys would get no hooks: ` +
        `add {name: receiver, kind: receiver} to ${DESTINATIONS_KEY}, or set hookfleet:deployReceiver to false`,
    );
  }
  const receiverUrl = receiverWanted ? (config.get("receiverUrl") ?? "") : "";
  if (receiverWanted && !deployReceiver && !/^https?:\/\/.+/.test(receiverUrl)) {
    throw new Error("hookfleet:receiverUrl must be set (http(s)://…) when hookfleet:deployReceiver is false");
  }
  const revisionUrl = receiverWanted ? (config.get("receiverRevisionUrl") ?? "") : "";
  if (revisionUrl !== "" && (deployReceiver || !/^https?:\/\/\S+$/.test(revisionUrl))) {
    throw new Error(
      "hookfleet:receiverRevisionUrl must be an http(s) URL, and is for a receiver the program does not deploy (deployReceiver: false)",
    );
  }
  const minReplicas = wholeNumber("minReplicas", 1, 0);
  const maxReplicas = wholeNumber("maxReplicas", 3, 1);
  if (minReplicas > maxReplicas) {
    throw new Error(`hookfleet:minReplicas (${minReplicas}) exceeds hookfleet:maxReplicas (${maxReplicas})`);
  }
  // Only a stack that runs the image CI promotes reads it from the environment, and then over the
  // stack file, as `--config` did: CI's deploy names what it promotes. Any other stack ignores a
  // HOOKFLEET_IMAGE left in someone's shell and builds its own.
  const promoted = config.getBoolean("imagePromoted") ?? false;
  const fromEnv = (name: string) => (promoted ? env[name]?.trim() || undefined : undefined);
  const acrResourceId = fromEnv(ACR_RESOURCE_ID_ENV) ?? (config.get("acrResourceId") || undefined);
  if (acrResourceId && !parseRegistryId(acrResourceId)) {
    throw new Error(
      `hookfleet:acrResourceId (or ${ACR_RESOURCE_ID_ENV}) must be a registry's ARM id: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>`,
    );
  }
  const image = fromEnv(IMAGE_ENV) ?? (config.get("image") || undefined);
  // A stack CI deploys runs the image CI built once; without one, a run from the committed stack
  // file would build and roll out another (and, with no acrResourceId, create a registry).
  if (promoted && deployReceiver && !image) {
    throw new Error(
      `hookfleet:imagePromoted is true: this stack runs the image CI promotes and never builds its own, so ` +
        `${IMAGE_ENV} (or hookfleet:image) must name it. npm run up, drift and rotate set it to the deployed ` +
        `image (stack output receiverInfo.image) when it is unset; to deploy another, set it yourself.`,
    );
  }
  const nameSuffix = config.get("nameSuffix") || undefined;
  if (nameSuffix !== undefined && !nameSuffixRule.test(nameSuffix)) {
    throw new Error(`hookfleet:nameSuffix must be 1–12 lower-case letters and digits; got "${nameSuffix}"`);
  }
  // Telemetry of the deployed receiver (docs/telemetry.md, "Sampling of delivery traces"), checked
  // as the receiver itself checks it, so that a bad value fails the preview rather than the revision.
  const deliveryTracesPerSecond = config.get("deliveryTracesPerSecond")?.trim() || undefined;
  if (
    deliveryTracesPerSecond !== undefined &&
    parseDeliveryTraceLimit(deliveryTracesPerSecond) === undefined
  ) {
    throw new Error(
      `hookfleet:deliveryTracesPerSecond must be a number of traces per second above 0, or "all"; got "${deliveryTracesPerSecond}"`,
    );
  }
  const receiver: ProgramConfig["receiver"] = {
    wanted: receiverWanted,
    deploy: deployReceiver,
    url: deployReceiver ? "" : receiverUrl.replace(/\/+$/, ""),
    revisionUrl,
    location: config.get("location") ?? "westeurope",
    resourceGroupName: config.get("resourceGroupName") || undefined,
    // Empty: the image is built from app/ in Azure (ACR Tasks) into acrResourceId's registry or the stack's own.
    image,
    minReplicas,
    maxReplicas,
    acrResourceId,
    nameSuffix,
    keyVaultPurgeProtection: config.getBoolean("keyVaultPurgeProtection") ?? true,
    cosmosCapacity: oneOf<CosmosCapacityMode>("cosmosCapacity", ["serverless", "autoscale"], "serverless"),
    cosmosMaxThroughput: wholeNumber("cosmosMaxThroughput", 1000, 1000),
    deliveryTracesPerSecond,
  };

  const system: ProgramConfig["system"] = {
    id: config.get("systemId") ?? "devops",
    storageMode: oneOf("storageMode", ["full", "lean"] as const, "full"),
    retentionDays: wholeNumber("retentionDays", 1825, 1),
    authMode: oneOf("authMode", ["urlToken", "basic", "both"] as const, "urlToken"),
    basicUsername: config.get("basicUsername") ?? "hookfleet",
  };
  const sendOptions = ["all", "text", "html", "markdown", "none"] as const;
  const whatToSend: ProgramConfig["whatToSend"] = {
    resourceDetailsToSend: oneOf<ResourceDetailsToSend>(
      "resourceDetailsToSend",
      ["all", "minimal", "none"],
      "all",
    ),
    messagesToSend: oneOf<MessagesToSend>("messagesToSend", sendOptions, "all"),
    detailedMessagesToSend: oneOf<MessagesToSend>("detailedMessagesToSend", sendOptions, "all"),
  };

  const patRotation = rotation("pat", 60);
  const managedPats: ProgramConfig["managedPats"] = {
    enabled: config.getBoolean("managePat") ?? false,
    scopes: config.getObject<string[]>("patScopes") ?? ["vso.hooks_write", "vso.project"],
    validDays: wholeNumber("patValidDays", 90, 1),
  };
  if (managedPats.enabled && patRotation.rotateEveryDays >= managedPats.validDays) {
    throw new Error(
      "hookfleet:patRotateEveryDays must be below hookfleet:patValidDays, or the PAT expires in use",
    );
  }

  // The heal job (app/heal): re-enables hooks ADO disabled and replays their failed deliveries between runs.
  const healSchedule = config.get("healSchedule") ?? "0 * * * *";
  if (healSchedule.trim().split(/\s+/).length !== 5) {
    throw new Error(
      `hookfleet:healSchedule must be a 5-field cron expression (UTC), e.g. "0 * * * *"; got "${healSchedule}"`,
    );
  }
  const leaveOrEnable = ["leave", "enable"] as const;
  const heal: ProgramConfig["heal"] = {
    enabled: deployReceiver && (config.getBoolean("healEnabled") ?? true),
    schedule: healSchedule,
    probation: oneOf("healProbation", leaveOrEnable, healSettings.HOOKFLEET_HEAL_PROBATION.default),
    disabledByUser: oneOf(
      "healDisabledByUser",
      leaveOrEnable,
      healSettings.HOOKFLEET_HEAL_DISABLED_BY_USER.default,
    ),
    recentHours: healRecentHours(),
    includeEnabled: config.getBoolean("healIncludeEnabled") ?? false,
  };

  // On-call alerts (issue 16, docs/telemetry.md): who is told, and when an organization counts as quiet.
  const alertEmails = config.getObject<string[]>("alertEmails") ?? [];
  if (
    !Array.isArray(alertEmails) ||
    alertEmails.some((e) => typeof e !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e))
  ) {
    throw new Error("hookfleet:alertEmails must be a list of email addresses, e.g. [oncall@example.com]");
  }
  // A secret (`pulumi config set --secret alertWebhookUrl …`): webhook URLs often carry their key.
  const alertWebhookValue = config.get("alertWebhookUrl") ?? "";
  if (alertWebhookValue !== "" && !/^https:\/\/\S+$/.test(alertWebhookValue)) {
    // Never echo the value: it is a secret.
    throw new Error("hookfleet:alertWebhookUrl must be an https:// URL (or empty for none)");
  }
  const quietHours = wholeNumber("quietHours", 24, 1);
  if (quietHours > 24) {
    throw new Error(
      `hookfleet:quietHours must be at most 24 (Azure log alerts look back two days); got ${quietHours}`,
    );
  }

  return {
    stack,
    organizations,
    destinations,
    receiver,
    system,
    whatToSend,
    rotation: {
      urlToken: rotation("urlToken", 90),
      basicPassword: rotation("basicPassword", 90),
      readToken: rotation("readToken", 90),
      pat: patRotation,
    },
    managedPats,
    heal,
    alerts: {
      emails: alertEmails,
      webhookUrl: alertWebhookValue ? pulumi.secret(alertWebhookValue) : undefined,
      quietHours,
    },
  };
}

/**
 * The `destinations` value as JSON. Parsed here rather than with `config.getObject`, whose error quotes
 * the value, and this one holds secrets. (The CLI hands a YAML list over as JSON; only a value set by
 * hand as a string can fail.)
 */
function destinationsValue(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(
      `${DESTINATIONS_KEY} must be a list of destinations (YAML in the stack file); its value is not one`,
    );
  }
}

/**
 * Whether Pulumi marks a config key secret (`PULUMI_CONFIG_SECRET_KEYS`, which the language host
 * sets from the stack; under mocks, `setAllConfig`'s secret keys). The SDK exports
 * `runtime.isConfigSecret` (runtime/config.js) but leaves it out of its typings (`@internal`), hence
 * the cast. Should a later SDK drop it, every key counts as plain: a credential the stack file does
 * not show as `secure` is then refused, so nothing plain is ever let through.
 */
function isConfigSecret(key: string): boolean {
  const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  return typeof fn === "function" ? fn(key) : false;
}
