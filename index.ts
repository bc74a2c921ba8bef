/**
 * The HookFleet program: the receiver on Azure, the credentials ADO uses to reach it, and one
 * service hook per (project × event type) in every configured ADO organization.
 *
 * Every setting is declared, with its default and meaning, in Pulumi.yaml; stacks/ holds the
 * values per environment. Config is read once, here at the top, and validated before anything is
 * created, so a mistake in a stack file fails the preview with the key's name.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ProjectFilter } from "./ado/types";
import { healSettings } from "./app/heal/settings";
import type { SystemSetting } from "./app/settings";
import { AdoPat, RotatingSecret } from "./components/credentials";
import { HookFleet, normaliseOrgUrl, type EventSelection, type HookNotEnabled } from "./components/hooks";
import type { MessagesToSend, ResourceDetailsToSend } from "./components/hooks";
import {
  LocalReceiverRevision,
  ReceiverInfra,
  nameSuffixRule,
  type CosmosCapacityMode,
} from "./components/receiver";

// ---------------------------------------------------------------------------------------------
// Configuration (keys and defaults: Pulumi.yaml)

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

interface OrganizationConfig {
  url: string;
  /** Short name used in resource names. */
  name: string;
  projects: "all" | ProjectFilter;
  events?: (string | EventSelection)[];
}

/** Validates `hookfleet:organizations` (objects cannot be typed in Pulumi.yaml). */
function parseOrganizations(raw: unknown): OrganizationConfig[] {
  const where = "hookfleet:organizations";
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new Error(`${where} must list at least one organization: [{url: https://dev.azure.com/<org>, …}]`);
  }
  const orgs = raw.map((entry: unknown, i): OrganizationConfig => {
    const at = `${where}[${i}]`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${at} must be an object with a url`);
    const o = entry as Record<string, unknown>;
    // One spelling per organization (case, trailing slash, legacy {org}.visualstudio.com): a
    // different spelling of the same org must not rename (and so recreate) its hooks.
    const url = typeof o.url === "string" ? normaliseOrgUrl(o.url) : undefined;
    if (!url) {
      throw new Error(`${at}.url must be an organization URL such as https://dev.azure.com/contoso`);
    }
    const name = typeof o.name === "string" && o.name ? o.name : url.split("/").pop()!;
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/i.test(name)) {
      throw new Error(
        `${at}.name "${name}" must be letters, digits and "-" (at most 31), used in resource names`,
      );
    }
    return {
      url,
      name: name.toLowerCase(),
      projects: parseProjects(o.projects, at),
      events: parseEvents(o.events, at),
    };
  });
  const names = orgs.map((o) => o.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`${where}: two organizations are named "${twice}"; set a distinct name on one`);
  return orgs;
}

function parseProjects(raw: unknown, at: string): "all" | ProjectFilter {
  if (raw === undefined || raw === "all") return "all";
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string" && s !== "");
  if (strings(raw)) return { names: raw as string[] };
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { include, exclude, ...rest } = raw as Record<string, unknown>;
    if (
      Object.keys(rest).length === 0 &&
      (include === undefined || strings(include)) &&
      (exclude === undefined || strings(exclude))
    ) {
      return { include: include as string[] | undefined, exclude: exclude as string[] | undefined };
    }
  }
  throw new Error(
    `${at}.projects must be "all", a list of project names, or {include: [globs], exclude: [globs]}`,
  );
}

function parseEvents(raw: unknown, at: string): (string | EventSelection)[] | undefined {
  if (raw === undefined) return undefined; // HookFleet's defaults
  if (!Array.isArray(raw)) throw new Error(`${at}.events must be a list`);
  return raw.map((e: unknown, j) => {
    if (typeof e === "string") return e;
    const o = e as Record<string, unknown> | null;
    if (o && typeof o.type === "string") {
      const filters = (o.filters ?? {}) as Record<string, unknown>;
      if (typeof filters !== "object" || Object.values(filters).some((v) => typeof v !== "string")) {
        throw new Error(`${at}.events[${j}].filters must map publisher inputs to strings`);
      }
      return { eventType: o.type, filters: filters as Record<string, string> };
    }
    throw new Error(`${at}.events[${j}] must be an event type id or {type, filters}`);
  });
}

const organizations = parseOrganizations(config.requireObject<unknown>("organizations"));

const deployReceiver = config.getBoolean("deployReceiver") ?? true;
const receiverUrlSetting = config.get("receiverUrl") ?? "";
if (!deployReceiver && !/^https?:\/\/.+/.test(receiverUrlSetting)) {
  throw new Error("hookfleet:receiverUrl must be set (http(s)://…) when hookfleet:deployReceiver is false");
}
const receiverRevisionUrl = config.get("receiverRevisionUrl") ?? "";
if (receiverRevisionUrl !== "" && (deployReceiver || !/^https?:\/\/\S+$/.test(receiverRevisionUrl))) {
  throw new Error(
    "hookfleet:receiverRevisionUrl must be an http(s) URL, and is for a receiver the program does not deploy (deployReceiver: false)",
  );
}
const location = config.get("location") ?? "westeurope";
const resourceGroupName = config.get("resourceGroupName") || undefined;
// Empty: the image is built from app/ in Azure (ACR Tasks) into acrResourceId's registry or the stack's own.
const image = config.get("image") || undefined;
const minReplicas = wholeNumber("minReplicas", 1, 0);
const maxReplicas = wholeNumber("maxReplicas", 3, 1);
if (minReplicas > maxReplicas) {
  throw new Error(`hookfleet:minReplicas (${minReplicas}) exceeds hookfleet:maxReplicas (${maxReplicas})`);
}
const acrResourceId = config.get("acrResourceId") || undefined;
if (
  acrResourceId &&
  !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[^/]+$/i.test(
    acrResourceId,
  )
) {
  throw new Error(
    "hookfleet:acrResourceId must be a registry's ARM id: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>",
  );
}
const nameSuffix = config.get("nameSuffix") || undefined;
if (nameSuffix !== undefined && !nameSuffixRule.test(nameSuffix)) {
  throw new Error(`hookfleet:nameSuffix must be 1–12 lower-case letters and digits; got "${nameSuffix}"`);
}
const keyVaultPurgeProtection = config.getBoolean("keyVaultPurgeProtection") ?? true;
const cosmosCapacity = oneOf<CosmosCapacityMode>("cosmosCapacity", ["serverless", "autoscale"], "serverless");
const cosmosMaxThroughput = wholeNumber("cosmosMaxThroughput", 1000, 1000);

const systemId = config.get("systemId") ?? "devops";
const storageMode = oneOf("storageMode", ["full", "lean"] as const, "full");
const retentionDays = wholeNumber("retentionDays", 1825, 1);

const authMode = oneOf("authMode", ["urlToken", "basic", "both"] as const, "urlToken");
const basicUsername = config.get("basicUsername") ?? "hookfleet";
const sendOptions = ["all", "text", "html", "markdown", "none"] as const;
const resourceDetailsToSend = oneOf<ResourceDetailsToSend>(
  "resourceDetailsToSend",
  ["all", "minimal", "none"],
  "all",
);
const messagesToSend = oneOf<MessagesToSend>("messagesToSend", sendOptions, "all");
const detailedMessagesToSend = oneOf<MessagesToSend>("detailedMessagesToSend", sendOptions, "all");

/** Schedule of one rotating credential: `<prefix>RotateEveryDays`, `…OverlapHours`, `…RotationNonce`. */
function rotation(prefix: string, everyDays: number) {
  return {
    rotateEveryDays: wholeNumber(`${prefix}RotateEveryDays`, everyDays, 1),
    overlapHours: wholeNumber(`${prefix}OverlapHours`, 48, 0),
    rotationNonce: config.get(`${prefix}RotationNonce`) ?? "",
  };
}
const urlTokenRotation = rotation("urlToken", 90);
const basicPasswordRotation = rotation("basicPassword", 90);
const readTokenRotation = rotation("readToken", 90);
const managePat = config.getBoolean("managePat") ?? false;
const patScopes = config.getObject<string[]>("patScopes") ?? ["vso.hooks_write", "vso.project"];
const patValidDays = wholeNumber("patValidDays", 90, 1);
const patRotation = rotation("pat", 60);
if (managePat && patRotation.rotateEveryDays >= patValidDays) {
  throw new Error(
    "hookfleet:patRotateEveryDays must be below hookfleet:patValidDays, or the PAT expires in use",
  );
}

// The heal job (app/heal): re-enables hooks ADO disabled and replays their failed deliveries between runs.
const healEnabled = deployReceiver && (config.getBoolean("healEnabled") ?? true);
const healSchedule = config.get("healSchedule") ?? "0 * * * *";
if (healSchedule.trim().split(/\s+/).length !== 5) {
  throw new Error(
    `hookfleet:healSchedule must be a 5-field cron expression (UTC), e.g. "0 * * * *"; got "${healSchedule}"`,
  );
}
const leaveOrEnable = ["leave", "enable"] as const;
const healProbation = oneOf("healProbation", leaveOrEnable, healSettings.HOOKFLEET_HEAL_PROBATION.default);
const healDisabledByUser = oneOf(
  "healDisabledByUser",
  leaveOrEnable,
  healSettings.HOOKFLEET_HEAL_DISABLED_BY_USER.default,
);
const healIncludeEnabled = config.getBoolean("healIncludeEnabled") ?? false;

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
const alertWebhookUrl = alertWebhookValue ? pulumi.secret(alertWebhookValue) : undefined;
const quietHours = wholeNumber("quietHours", 24, 1);
if (quietHours > 24) {
  throw new Error(
    `hookfleet:quietHours must be at most 24 (Azure log alerts look back two days); got ${quietHours}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Credentials: generated here, rotated on schedule or by nonce (npm run rotate), never typed by hand.

const usesUrlToken = authMode !== "basic";
const usesBasic = authMode !== "urlToken";

// The secret in the hook URL; the receiver gets its hash, bound to the system.
const urlToken = usesUrlToken
  ? new RotatingSecret("url-token", { kind: "urlToken", systemId, ...urlTokenRotation })
  : undefined;
// The HTTP Basic password set on every hook; the receiver gets its hash.
const basicPassword = usesBasic
  ? new RotatingSecret("basic-password", { kind: "basicPassword", systemId, ...basicPasswordRotation })
  : undefined;
// Bearer token of the receiver's read API (people and the sandbox list stored messages with it).
const readTokenSecret = new RotatingSecret("read-token", { kind: "readToken", ...readTokenRotation });

// One org-scoped PAT per organization, for the receiver's heal job (Key Vault), when asked for.
const patSecretKey = (org: OrganizationConfig) => `ado-pat-${org.name}`;
const pats = managePat
  ? organizations.map(
      (org) =>
        new AdoPat(`${org.name}-pat`, {
          organizationUrl: org.url,
          displayName: `hookfleet-${stack}-${org.name}`,
          scopes: patScopes,
          validityDays: patValidDays,
          rotateBeforeExpiryDays: patValidDays - patRotation.rotateEveryDays,
          overlapHours: patRotation.overlapHours,
          rotationNonce: patRotation.rotationNonce,
        }),
    )
  : [];

// What the receiver accepts: one system, the URL-token hashes, the read-token hashes.
const systems: pulumi.Output<SystemSetting[]> = pulumi
  .all([basicPassword?.hashes ?? pulumi.output(undefined)])
  .apply(([passwords]) => [
    {
      id: systemId,
      storageMode,
      retentionDays,
      ...(passwords ? { basicPasswords: passwords, basicUsername } : {}),
      ...(authMode === "both" ? { requireBoth: true } : {}),
    },
  ]);
const urlTokens = urlToken ? urlToken.urlTokens : pulumi.output([]);
const readTokens = readTokenSecret.hashes;

// ---------------------------------------------------------------------------------------------
// The receiver: on Azure, or (sandbox) one already running at receiverUrl.

const receiver = deployReceiver
  ? new ReceiverInfra("receiver", {
      image,
      location,
      resourceGroupName,
      minReplicas,
      maxReplicas,
      cosmosMode: cosmosCapacity,
      cosmosMaxThroughput: cosmosCapacity === "autoscale" ? cosmosMaxThroughput : undefined,
      systems,
      urlTokens,
      readTokens,
      // Secret in state whatever the resource marks: the PAT value only ever travels as a secret.
      extraSecrets: Object.fromEntries(
        pats.map((pat, i) => [patSecretKey(organizations[i]), pulumi.secret(pat.token)]),
      ),
      acrResourceId,
      nameSuffix,
      keyVaultPurgeProtection,
      // Hourly by default: well inside ADO's notification history, so failed deliveries are still there.
      healJob: healEnabled
        ? {
            cronExpression: healSchedule,
            // With managed PATs each organization uses its own (org-scoped); else the identity (Entra).
            organizations: organizations.map((org) =>
              managePat ? { url: org.url, adoPatSecret: patSecretKey(org) } : { url: org.url },
            ),
            settings: {
              HOOKFLEET_HEAL_PROBATION: healProbation,
              HOOKFLEET_HEAL_DISABLED_BY_USER: healDisabledByUser,
              HOOKFLEET_HEAL_INCLUDE_ENABLED: String(healIncludeEnabled),
            },
          }
        : undefined,
      alerts: { emails: alertEmails, webhookUrl: alertWebhookUrl, quietHours },
    })
  : undefined;

// A receiver run elsewhere whose host takes revisions (the sandbox's): it gets the credential hashes
// before the hooks use them, as a Container App revision does on Azure.
const localRevision =
  !deployReceiver && receiverRevisionUrl
    ? new LocalReceiverRevision("receiver", {
        receiverUrl: receiverUrlSetting.replace(/\/+$/, ""),
        revisionUrl: receiverRevisionUrl,
        settings: pulumi.all([systems, urlTokens, readTokens]).apply(([s, u, r]) => ({
          systems: s,
          urlTokens: u,
          readTokens: r,
        })),
      })
    : undefined;

// ReceiverInfra reports `https://<fqdn>/api/v1/webhooks`; the routes are built from the host part.
// Either way the hooks' URL resolves only once the receiver runs with the current credentials.
const receiverBase: pulumi.Output<string> = receiver
  ? receiver.webhookBaseUrl.apply((u) => u.replace(/\/api\/v1\/webhooks\/?$/, ""))
  : localRevision
    ? localRevision.receiverUrl
    : pulumi.output(receiverUrlSetting.replace(/\/+$/, ""));

// The URL hooks deliver to: the URL-token route, or the Basic route when there is no token.
const hookUrl = pulumi.secret(
  pulumi
    .all([receiverBase, urlToken?.current ?? pulumi.output(undefined)])
    .apply(([base, token]) =>
      token
        ? `${base}/api/v1/webhooks/${token}`
        : `${base}/api/v1/systems/${encodeURIComponent(systemId)}/webhooks`,
    ),
);

// ---------------------------------------------------------------------------------------------
// The hooks: one HookFleet per organization (projects are listed from ADO now, at program time).

const fleets = organizations.map(
  (org) =>
    new HookFleet(org.name, {
      orgUrl: org.url,
      projects: org.projects,
      eventTypes: org.events,
      receiverUrl: hookUrl,
      authMode,
      basicAuthUsername: usesBasic ? basicUsername : undefined,
      basicAuthPassword: basicPassword?.current,
      resourceDetailsToSend,
      messagesToSend,
      detailedMessagesToSend,
    }),
);

// ---------------------------------------------------------------------------------------------
// Stack outputs

const byOrg = <T>(
  pick: (f: HookFleet) => pulumi.Output<T>,
): pulumi.Output<Record<string, pulumi.Unwrap<T>>> =>
  pulumi
    .all(fleets.map(pick))
    .apply((values) => Object.fromEntries(values.map((v, i) => [organizations[i].name, v])));

/** The URL ADO delivers to (secret: it carries the URL token). */
export const webhookUrl = hookUrl;

/** Hooks per live status, per organization, e.g. `{contoso: {enabled: 46, disabledBySystem: 1, …}}`. */
export const hookCounts = byOrg((f) => f.statusCounts);

/** Total hooks managed. */
export const hookTotal = pulumi
  .all(fleets.map((f) => f.hookCount))
  .apply((counts) => counts.reduce((a, b) => a + b, 0));

/** Hooks whose live status is not `enabled` after this run (the next `up` re-enables them). */
export const hooksNotEnabled: pulumi.Output<Record<string, HookNotEnabled[]>> = byOrg(
  (f) => f.hooksNotEnabled,
);

/** Hooks whose test delivery to the receiver failed at their last create/update. */
export const failedTestDeliveries = byOrg((f) => f.failedTestDeliveries);

/**
 * What someone must act on, one line each: hooks whose test delivery did not reach the receiver,
 * a PAT rotation that is due but could not be made in this run. `npm run up` prints them.
 */
export const warnings = pulumi
  .all([...fleets.map((f) => f.warnings), ...pats.map((p) => p.warnings)])
  .apply((lists) => lists.flat());

/** When each credential next needs a run (its scheduled rotation). */
export const credentialsNextRotation = pulumi
  .all([
    urlToken?.nextRotationAt,
    basicPassword?.nextRotationAt,
    readTokenSecret.nextRotationAt,
    ...pats.map((p) => p.nextRotationAt),
  ])
  .apply(([url, basic, read, ...patTimes]) => ({
    ...(url ? { urlToken: url } : {}),
    ...(basic ? { basicPassword: basic } : {}),
    readToken: read,
    ...Object.fromEntries(patTimes.map((t, i) => [`pat-${organizations[i].name}`, t])),
  }));

/** Bearer token of the receiver's read API (secret): `pulumi stack output readToken --show-secrets`. */
export const readToken = pulumi.secret(readTokenSecret.current);

/** Where the receiver runs on Azure (absent when deployReceiver is false). */
export const receiverInfo = receiver
  ? {
      resourceGroupName: receiver.resourceGroupName,
      containerAppName: receiver.containerAppName,
      cosmosEndpoint: receiver.cosmosEndpoint,
      identityClientId: receiver.identityClientId,
      healJobNames: receiver.healJobNames,
    }
  : undefined;

/**
 * For a receiver the program does not deploy (the sandbox): the settings it must run with, as the
 * environment variables app/ reads. Hashes only, but secret all the same.
 */
export const receiverEnvironment = deployReceiver
  ? undefined
  : pulumi.secret(
      pulumi.all([systems, urlTokens, readTokens]).apply(([s, u, r]) => ({
        HOOKFLEET_SYSTEMS: JSON.stringify(s),
        HOOKFLEET_URL_TOKENS: JSON.stringify(u),
        HOOKFLEET_READ_TOKENS: JSON.stringify(r),
      })),
    );
