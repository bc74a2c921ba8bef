/**
 * Pure functions behind the ServiceHook provider: desired inputs → ADO subscription body, live
 * subscription → recorded outputs, outputs vs desired inputs → diff, and "is this live subscription
 * the one we would create?" (adoption). No I/O here, so every rule is tested directly.
 */
import { eventTypeInfo } from "../../ado/events";
import { scrubText } from "../../app/scrub";
import { sha256Hex } from "../../app/tokens";
import { UNKNOWN_INPUT } from "../dynamic/unknown";
import { MASKED_SECRET, Subscription, SubscriptionInput, SubscriptionStatus } from "../../ado/types";
import { probationRetriesOf, subscriptionStatus } from "../../ado/wire";
import { normaliseOrgUrl, orgIdentity } from "./org-url";

export const WEBHOOKS_CONSUMER = "webHooks";
export const HTTP_REQUEST_ACTION = "httpRequest";

/**
 * What-to-send values as a stack names them. ADO's Web Hooks consumer descriptor
 * (hooks/7.1/httpExamples/consumers/GET__hooks_consumers.json, webHooks/httpRequest) lists
 * `""` ("All") as the default, besides minimal/none and text/html/markdown/none; the docs
 * (service-hooks consumers.md) call it `all`. "all" here means that default.
 */
export const RESOURCE_DETAILS_VALUES = ["all", "minimal", "none"] as const;
export const MESSAGES_VALUES = ["all", "text", "html", "markdown", "none"] as const;
/**
 * Basic credentials per the same descriptor: basicAuthUsername and basicAuthPassword are each
 * 1–256 characters matching `^[\S]+$` (no whitespace).
 */
export const BASIC_AUTH_MAX_LENGTH = 256;
const BASIC_AUTH_PATTERN = /^\S+$/;
export type ResourceDetailsToSend = (typeof RESOURCE_DETAILS_VALUES)[number];
export type MessagesToSend = (typeof MESSAGES_VALUES)[number];

/** What a ServiceHook wants, as the provider receives it (secrets already unwrapped by the engine). */
export interface ServiceHookInputs {
  /** Organization URL in its canonical spelling (org-url.ts), e.g. https://dev.azure.com/contoso. */
  orgUrl: string;
  /** Project id (GUID): the `projectId` publisher input. */
  projectId: string;
  eventType: string;
  publisherId: string;
  resourceVersion: string;
  /** Publisher input filters besides projectId (catalogue filter ids → value). */
  filters: Record<string, string>;
  /** Consumer URL (may contain the receiver's URL token: secret). */
  url: string;
  /** Extra HTTP headers ADO sends (values may be secret). */
  httpHeaders: Record<string, string>;
  /** Basic username ("" for none). */
  basicAuthUsername: string;
  /** Basic password ("" for none). Secret. Never stored in outputs: only its hash is. */
  basicAuthPassword: string;
  resourceDetailsToSend: ResourceDetailsToSend;
  messagesToSend: MessagesToSend;
  detailedMessagesToSend: MessagesToSend;
  /** Desired status: true → enabled, false → disabledByUser. */
  enabled: boolean;
  /** Send ADO's test notification after create/update and record the outcome. */
  testDelivery: boolean;
}

export type TestDeliveryOutcome = "succeeded" | "failed" | "skipped" | "unknown";

/**
 * What a ServiceHook records in state. Desired-like fields hold the *live* values after a read. The
 * subscription id is the resource id and is not stored again.
 */
export interface ServiceHookOutputs extends Omit<ServiceHookInputs, "basicAuthPassword"> {
  /** Live status as ADO reports it. */
  status: SubscriptionStatus;
  probationRetries: number;
  /** SHA-256 (hex) of the password last set, "" when none: ADO masks the password on read. */
  passwordHash: string;
  /** Whether ADO reported a stored password (the masked value) at the last read or write. */
  passwordSet: boolean;
  /** Outcome of the last test notification. */
  lastTestDelivery: TestDeliveryOutcome;
  /** True when create found and adopted an identical subscription (interrupted earlier run). */
  adopted: boolean;
  /**
   * What the user must act on after the last create/update (e.g. the test delivery failed); [] when
   * nothing. A plain output: ADO's words in it are scrubbed (app/scrub.ts).
   */
  warnings: string[];
}

/** The facts outputsFromSubscription carries over from state, because ADO does not hold them. */
export type CarriedFacts = Pick<
  ServiceHookOutputs,
  "orgUrl" | "passwordHash" | "testDelivery" | "lastTestDelivery" | "adopted" | "warnings"
>;

/**
 * The carried facts of stored outputs, with a default for each one state written by an earlier
 * release may lack (stored state is a contract: every release reads what earlier ones wrote).
 */
export function carriedFacts(stored: Partial<Record<keyof CarriedFacts, unknown>>): CarriedFacts {
  const lastTestDelivery = stored.lastTestDelivery;
  return {
    orgUrl: typeof stored.orgUrl === "string" ? stored.orgUrl : "",
    passwordHash: typeof stored.passwordHash === "string" ? stored.passwordHash : "",
    testDelivery: typeof stored.testDelivery === "boolean" ? stored.testDelivery : true,
    lastTestDelivery:
      lastTestDelivery === "succeeded" ||
      lastTestDelivery === "failed" ||
      lastTestDelivery === "skipped" ||
      lastTestDelivery === "unknown"
        ? lastTestDelivery
        : "unknown",
    adopted: typeof stored.adopted === "boolean" ? stored.adopted : false,
    // Scrubbed again: a release before the scrubbing stored ADO's words as they came.
    warnings: Array.isArray(stored.warnings)
      ? stored.warnings.filter((w): w is string => typeof w === "string").map((w) => scrubText(w))
      : [],
  };
}

/**
 * Outputs that are always secret: the resource's additionalSecretOutputs. `httpHeaders` is not
 * listed: it is secret exactly when its input is (the engine marks an output secret when the input
 * of the same name is, pulumi/pulumi step_executor.go), so an empty `{}` is not stored encrypted.
 */
export const SERVICE_HOOK_SECRET_OUTPUTS = ["url", "basicAuthPassword", "passwordHash"] as const;

/** Fields whose change needs a new subscription (they identify what the subscription listens to). */
export const REPLACE_FIELDS = ["orgUrl", "projectId", "eventType", "publisherId"] as const;

/** Fixed-length digest of a secret (the receiver's credential digest), "" for none. */
export function secretHash(value: string | undefined): string {
  return value ? sha256Hex(value) : "";
}

/** ADO's `httpHeaders` format is `K1:v1\nK2:v2`. */
export function formatHeaders(headers: Record<string, string>): string {
  return Object.keys(headers)
    .sort()
    .map((k) => `${k}:${headers[k]}`)
    .join("\n");
}

export function parseHeaders(text: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of (text ?? "").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    result[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return result;
}

/** Drops empty values: ADO and its UI store an unset filter as "". */
function nonEmpty(record: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([, v]) => v !== undefined && v !== ""));
}

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const x = nonEmpty(a);
  const y = nonEmpty(b);
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}

/**
 * The publisher filters HookFleet manages on a live subscription: catalogue filter ids only. Keys
 * ADO adds itself (hostId, tfsSubscriptionId, …) and projectId are not filters.
 */
export function managedFilters(
  eventType: string,
  publisherInputs: Record<string, string>,
): Record<string, string> {
  const known = new Set(eventTypeInfo(eventType)?.filters ?? []);
  return nonEmpty(Object.fromEntries(Object.entries(publisherInputs).filter(([k]) => known.has(k))));
}

/**
 * A stored what-to-send value as the program names it: ADO's `""` ("All", the descriptor's default)
 * and an absent key read as "all", so neither is drift against a desired "all".
 */
function whatToSend<T extends string>(stored: string | undefined): T | "all" {
  return stored === undefined || stored === "" ? "all" : (stored as T);
}

/**
 * Whether a URL names this machine. ADO cannot deliver to loopback at all ("Webhooks can't target
 * localhost (loopback) … addresses", MicrosoftDocs service-hooks/services/webhooks.md), so such a
 * URL only ever reaches a local stand-in: the ADO emulator of the tests and the sandbox.
 */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** The consumer URL prefix an org-wide list is narrowed by: scheme, host and port of the URL. */
export function consumerUrlPrefix(url: string): string {
  return `${new URL(url).origin}/`;
}

/**
 * The subscription body for a create or a PUT. On a PUT, an unchanged password is sent as ADO's
 * mask (`********` keeps the stored secret) so the secret is only transmitted when it changes; an
 * empty desired password leaves the key out, which deletes it. A what-to-send value of "all" is
 * left out: the consumer descriptor's possible values spell All as `""` (its default) and do not
 * list `all`, so leaving the key out is the one form every reading accepts.
 */
export function toSubscriptionInput(
  desired: ServiceHookInputs,
  opts: { keepStoredPassword?: boolean } = {},
): SubscriptionInput {
  const consumerInputs: Record<string, string> = { url: desired.url };
  if (desired.resourceDetailsToSend !== "all")
    consumerInputs.resourceDetailsToSend = desired.resourceDetailsToSend;
  if (desired.messagesToSend !== "all") consumerInputs.messagesToSend = desired.messagesToSend;
  if (desired.detailedMessagesToSend !== "all")
    consumerInputs.detailedMessagesToSend = desired.detailedMessagesToSend;
  if (Object.keys(desired.httpHeaders).length > 0)
    consumerInputs.httpHeaders = formatHeaders(desired.httpHeaders);
  if (desired.basicAuthUsername) consumerInputs.basicAuthUsername = desired.basicAuthUsername;
  if (desired.basicAuthPassword) {
    consumerInputs.basicAuthPassword = opts.keepStoredPassword ? MASKED_SECRET : desired.basicAuthPassword;
  }
  return {
    publisherId: desired.publisherId,
    eventType: desired.eventType,
    resourceVersion: desired.resourceVersion,
    consumerId: WEBHOOKS_CONSUMER,
    consumerActionId: HTTP_REQUEST_ACTION,
    publisherInputs: { ...nonEmpty(desired.filters), projectId: desired.projectId },
    consumerInputs,
    status: desired.enabled ? "enabled" : "disabledByUser",
  };
}

/** Whether a PUT may send the mask instead of the password: ADO holds exactly the desired one. */
export function canKeepStoredPassword(
  olds: Pick<ServiceHookOutputs, "passwordHash" | "passwordSet">,
  desiredPassword: string,
) {
  return desiredPassword !== "" && olds.passwordSet && olds.passwordHash === secretHash(desiredPassword);
}

/**
 * Outputs recorded from a live subscription. Desired-only facts (testDelivery, the password hash,
 * the last test outcome) come from `previous`, because ADO does not hold them.
 */
export function outputsFromSubscription(sub: Subscription, previous: CarriedFacts): ServiceHookOutputs {
  const ci = sub.consumerInputs ?? {};
  const storedPassword = ci.basicAuthPassword ?? "";
  return {
    orgUrl: previous.orgUrl,
    projectId: sub.publisherInputs?.projectId ?? "",
    eventType: sub.eventType,
    publisherId: sub.publisherId,
    // null (ADO's default version, GET subscriptions example) is recorded as "": no drift.
    resourceVersion: sub.resourceVersion ?? "",
    filters: managedFilters(sub.eventType, sub.publisherInputs ?? {}),
    url: ci.url ?? "",
    httpHeaders: parseHeaders(ci.httpHeaders),
    basicAuthUsername: ci.basicAuthUsername ?? "",
    resourceDetailsToSend: whatToSend<ResourceDetailsToSend>(ci.resourceDetailsToSend),
    messagesToSend: whatToSend<MessagesToSend>(ci.messagesToSend),
    detailedMessagesToSend: whatToSend<MessagesToSend>(ci.detailedMessagesToSend),
    enabled: subscriptionStatus(sub) === "enabled",
    status: subscriptionStatus(sub),
    probationRetries: probationRetriesOf(sub),
    // A password removed by hand leaves nothing to compare against: forget its hash.
    passwordHash: storedPassword ? previous.passwordHash : "",
    passwordSet: storedPassword !== "",
    testDelivery: previous.testDelivery,
    lastTestDelivery: previous.lastTestDelivery,
    adopted: previous.adopted,
    warnings: previous.warnings,
  };
}

/** One reason a hook differs from what the program wants. */
export type DriftField =
  | (typeof REPLACE_FIELDS)[number]
  | "status"
  | "resourceVersion"
  | "filters"
  | "url"
  | "httpHeaders"
  | "basicAuthUsername"
  | "basicAuthPassword"
  | "resourceDetailsToSend"
  | "messagesToSend"
  | "detailedMessagesToSend";

/** Fields where the recorded (refreshed) outputs differ from the desired inputs. */
export function driftFields(olds: ServiceHookOutputs, news: ServiceHookInputs): DriftField[] {
  const drift: DriftField[] = [];
  // The organization by identity: a different spelling of the same org is no change.
  if (orgIdentity(olds.orgUrl ?? "") !== orgIdentity(news.orgUrl)) drift.push("orgUrl");
  for (const f of REPLACE_FIELDS) if (f !== "orgUrl" && (olds[f] ?? "") !== news[f]) drift.push(f);
  const wantStatus: SubscriptionStatus = news.enabled ? "enabled" : "disabledByUser";
  // Any status other than the wanted one is drift, including onProbation ("Enabled (restricted)"):
  // a PUT back to enabled is the only documented way out short of a successful retry.
  // Recorded by an older release or read from ADO: absent status means enabled (ado/wire.ts).
  if (subscriptionStatus(olds) !== wantStatus) drift.push("status");
  // An empty recorded version is ADO's `null`: its default version, not a different one. A version
  // ADO stored is kept as sent (the POST/PUT examples echo "1.0-preview.1"), so any other
  // difference is real and converges after one PUT.
  if (olds.resourceVersion && olds.resourceVersion !== news.resourceVersion) drift.push("resourceVersion");
  if (!sameRecord(olds.filters, news.filters)) drift.push("filters");
  if (olds.url !== news.url) drift.push("url");
  if (!sameRecord(olds.httpHeaders, news.httpHeaders)) drift.push("httpHeaders");
  if ((olds.basicAuthUsername ?? "") !== news.basicAuthUsername) drift.push("basicAuthUsername");
  const wantPassword = news.basicAuthPassword !== "";
  if (
    wantPassword !== Boolean(olds.passwordSet) ||
    (olds.passwordHash ?? "") !== secretHash(news.basicAuthPassword)
  ) {
    drift.push("basicAuthPassword");
  }
  if (whatToSend(olds.resourceDetailsToSend) !== news.resourceDetailsToSend)
    drift.push("resourceDetailsToSend");
  if (whatToSend(olds.messagesToSend) !== news.messagesToSend) drift.push("messagesToSend");
  if (whatToSend(olds.detailedMessagesToSend) !== news.detailedMessagesToSend)
    drift.push("detailedMessagesToSend");
  return drift;
}

/**
 * Pulumi's diff result for a ServiceHook: event type, project or org change → replace, always
 * creating the new subscription before deleting the old one, so that no event finds no hook. That
 * holds for a change of organization too: when both URLs reach one organization (a renamed org),
 * the create adopts the live subscription and the old resource's delete leaves it alone (provider.ts,
 * `adoptedHere`); when they are two organizations, both exist for a moment, each in its own org.
 */
export function diffServiceHook(
  olds: ServiceHookOutputs,
  news: ServiceHookInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: false; drift: DriftField[] } {
  const drift = driftFields(olds, news);
  const replaces = drift.filter((f) => (REPLACE_FIELDS as readonly string[]).includes(f));
  // testDelivery is a local behaviour switch: a change is recorded without a call to ADO.
  const localChange = olds.testDelivery !== news.testDelivery;
  return {
    changes: drift.length > 0 || localChange,
    replaces,
    deleteBeforeReplace: false,
    drift,
  };
}

/**
 * Whether a live subscription is the one `desired` would create (same project, event, filters, URL,
 * consumer): create adopts it instead of making a duplicate after an interrupted run.
 */
export function isAdoptable(sub: Subscription, desired: ServiceHookInputs): boolean {
  return (
    sub.consumerId === WEBHOOKS_CONSUMER &&
    sub.publisherId === desired.publisherId &&
    sub.eventType === desired.eventType &&
    sub.publisherInputs?.projectId === desired.projectId &&
    sub.consumerInputs?.url === desired.url &&
    sameRecord(managedFilters(sub.eventType, sub.publisherInputs ?? {}), desired.filters)
  );
}

export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * Validates and normalizes raw inputs (defaults: publisher and resource version from the event
 * catalogue, what-to-send all/all/all, enabled, test delivery on). Failure reasons never quote a
 * secret value.
 */
export function checkServiceHookInputs(raw: Record<string, unknown>): {
  inputs: ServiceHookInputs;
  failures: CheckFailure[];
} {
  const allFailures: CheckFailure[] = [];
  const str = (k: string): string => (typeof raw[k] === "string" ? (raw[k] as string) : "");
  // Inputs unknown during a preview are validated on the real run, when they are known.
  const failures = {
    push: (f: CheckFailure) => {
      if (raw[f.property] !== UNKNOWN_INPUT) allFailures.push(f);
    },
  };
  const record = (k: string): Record<string, string> => {
    const v = raw[k];
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v)) {
      failures.push({ property: k, reason: "must be a map of strings" });
      return {};
    }
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([a, b]) => [a, String(b)]));
  };
  const eventType = str("eventType");
  const info = eventTypeInfo(eventType);
  if (!info) failures.push({ property: "eventType", reason: `unknown ADO event type "${eventType}"` });
  const filters = nonEmpty(record("filters"));
  for (const key of Object.keys(filters)) {
    if (info && !info.filters.includes(key)) {
      failures.push({
        property: "filters",
        reason: `"${key}" is not a filter of ${eventType} (known: ${info.filters.join(", ")})`,
      });
    }
  }
  const orgUrl = normaliseOrgUrl(str("orgUrl")) ?? str("orgUrl");
  if (normaliseOrgUrl(str("orgUrl")) === undefined)
    failures.push({
      property: "orgUrl",
      reason:
        "must be an organization URL such as https://dev.azure.com/<org> (or https://<org>.visualstudio.com)",
    });
  const projectId = str("projectId");
  if (!projectId) failures.push({ property: "projectId", reason: "required" });
  const url = str("url");
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("scheme");
  } catch {
    failures.push({ property: "url", reason: "must be an absolute http(s) URL" });
  }
  const username = str("basicAuthUsername");
  const password = str("basicAuthPassword");
  if (password === MASKED_SECRET) {
    failures.push({ property: "basicAuthPassword", reason: "must not be ADO's mask ********" });
  }
  // The Web Hooks consumer's limits (see BASIC_AUTH_MAX_LENGTH); the values are never quoted.
  for (const [property, value] of [
    ["basicAuthUsername", username],
    ["basicAuthPassword", password],
  ] as const) {
    if (value !== "" && (value.length > BASIC_AUTH_MAX_LENGTH || !BASIC_AUTH_PATTERN.test(value))) {
      failures.push({
        property,
        reason: `must be 1–${BASIC_AUTH_MAX_LENGTH} characters with no spaces or blanks (ADO's Web Hooks consumer)`,
      });
    }
  }
  // "You must use HTTPS for basic authentication on a webhook" (MicrosoftDocs
  // service-hooks/services/webhooks.md): ADO refuses the subscription. Loopback URLs are let
  // through: ADO cannot reach them at all, so they only ever serve a local emulator (isLoopbackUrl).
  if (password !== "" && raw.url !== UNKNOWN_INPUT && /^http:/i.test(url) && !isLoopbackUrl(url)) {
    failures.push({
      property: "url",
      reason:
        "must be an https URL when basicAuthPassword is set: Azure DevOps refuses Basic authentication over http",
    });
  }
  const pick = <T extends string>(k: string, allowed: readonly T[]): T => {
    const v = str(k) || "all";
    if (!allowed.includes(v as T))
      failures.push({ property: k, reason: `must be one of ${allowed.join(", ")}` });
    return v as T;
  };
  const inputs: ServiceHookInputs = {
    orgUrl,
    projectId,
    eventType,
    publisherId: str("publisherId") || info?.publisherId || "",
    resourceVersion: str("resourceVersion") || info?.resourceVersion || "",
    filters,
    url,
    httpHeaders: record("httpHeaders"),
    basicAuthUsername: username,
    basicAuthPassword: password,
    resourceDetailsToSend: pick("resourceDetailsToSend", RESOURCE_DETAILS_VALUES),
    messagesToSend: pick("messagesToSend", MESSAGES_VALUES),
    detailedMessagesToSend: pick("detailedMessagesToSend", MESSAGES_VALUES),
    enabled: raw.enabled === undefined ? true : raw.enabled === true,
    testDelivery: raw.testDelivery === undefined ? true : raw.testDelivery === true,
  };
  return { inputs, failures: allFailures };
}
