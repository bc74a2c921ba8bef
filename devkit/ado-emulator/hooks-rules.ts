/**
 * The service hooks rules of the ADO emulator that need no server: validation of a subscription
 * like ADO's (400 with a message), the wire form of a subscription and a notification (sparse, as
 * Microsoft's examples are), masking of confidential inputs, the `********` replace rules, event
 * matching by project and publisher-input filters, and shaping of the delivered payload.
 * Sources: ../../../../shared/ado-spec/ (Microsoft's spec and examples, which win) and
 * ../../../../shared/design/azure-devops-facts.md. Unconfirmed choices say so inline.
 *
 * These rules are written here again rather than imported from the product (ado/, components/):
 * an emulator that shares the client's reading of ADO cannot catch a wrong reading.
 */
import { eventTypeInfo } from "../../ado/events";
import {
  MASKED_SECRET,
  type AdoEvent,
  type Notification,
  type Subscription,
  type SubscriptionInput,
} from "../../ado/types";

/** Publisher inputs ADO itself adds on create; clients must not be required to send them. */
const SERVER_PUBLISHER_INPUTS = ["hostId", "tfsSubscriptionId"] as const;

/**
 * Confidential consumer inputs per consumer (`isConfidential: true` in the consumer descriptors of
 * hooks/7.1/httpExamples/consumers/; the GET subscriptions example shows them as ********).
 */
const CONFIDENTIAL_CONSUMER_INPUTS: Record<string, readonly string[]> = {
  webHooks: ["basicAuthPassword"],
  jenkins: ["password"],
  trello: ["userToken"],
  zendesk: ["apiToken"],
};
const confidentialOf = (consumerId: string | undefined) =>
  CONFIDENTIAL_CONSUMER_INPUTS[consumerId ?? "webHooks"] ?? CONFIDENTIAL_CONSUMER_INPUTS.webHooks;

/**
 * Possible values of the what-to-send inputs. The Web Hooks descriptor
 * (consumers/GET__hooks_consumers.json) lists "" (All), minimal, none and "" (All), text, html,
 * markdown, none; the docs (service-hooks consumers.md) also name `all`: both are accepted.
 */
const DETAIL_LEVELS = ["", "all", "minimal", "none"];
const MESSAGE_FORMATS = ["", "all", "text", "html", "markdown", "none"];
/** basicAuthUsername / basicAuthPassword: minLength 1, maxLength 256, pattern ^[\S]+$ (same descriptor). */
const BASIC_AUTH_MAX_LENGTH = 256;
const KNOWN_WEBHOOK_INPUTS = new Set([
  "url",
  "httpHeaders",
  "basicAuthUsername",
  "basicAuthPassword",
  "resourceDetailsToSend",
  "messagesToSend",
  "detailedMessagesToSend",
  "acceptUntrustedCerts",
]);

/** An ADO-shaped refusal: HTTP status plus the JSON error body ADO sends. */
export class AdoFault extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly typeKey: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return {
      $id: "1",
      innerException: null,
      message: this.message,
      typeName: `Microsoft.VisualStudio.Services.ServiceHooks.WebApi.${this.typeKey}, Microsoft.VisualStudio.Services.ServiceHooks.WebApi`,
      typeKey: this.typeKey,
      errorCode: 0,
      eventId: 3000,
    };
  }
}

const bad = (message: string, typeKey = "ServiceHookException") => new AdoFault(400, message, typeKey);

/**
 * Azure DevOps Services registers the `rm` (Release Management) publisher's service hooks on the
 * Release service's host, vsrm.dev.azure.com/{org}: creating an rm subscription on the
 * organization's URL fails with "There is no registered handler for the service hooks event type …"
 * (MicrosoftDocs/feedback#916, citing Stack Overflow 48292507), and a client used against real
 * organizations (Rabobank-Archive/rules, VstsService/Requests/Hooks.cs) creates rm subscriptions on
 * vsrm while it lists, reads and deletes every subscription, and reads their notifications, on
 * dev.azure.com. *Unconfirmed*, emulated so that the client must do the same: that replacing an rm
 * subscription and sending it a test notification also need the Release host (they need the same
 * handler), and that the Release host refuses the other publishers' writes.
 */
export function releaseHostRule(publisherId: string, eventType: string, host: "org" | "release"): void {
  if ((publisherId === "rm") === (host === "release")) return;
  throw bad(`There is no registered handler for the service hooks event type ${eventType}.`);
}

function checkStringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw bad(`${name} must be an object of string values.`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw bad(`The value of input '${k}' in ${name} must be a string.`);
  }
  return { ...(value as Record<string, string>) };
}

/**
 * Validates a create or replace body the way ADO does (the exact wording of ADO's messages is
 * *unconfirmed*; the statuses and the reasons are from the facts) and returns it normalized.
 * `projectExists` answers whether a projectId names a project of the organization.
 */
export interface ValidationOptions {
  /** Whether a Basic password may go to an http URL on this machine (the emulator's opt-in). */
  allowBasicAuthOverLoopbackHttp?: boolean;
}

export function validateSubscription(
  body: unknown,
  projectExists: (id: string) => boolean,
  options: ValidationOptions = {},
): SubscriptionInput {
  if (!body || typeof body !== "object") throw bad("The subscription body is missing or not JSON.");
  const b = body as Partial<SubscriptionInput> & Record<string, unknown>;
  if (!b.publisherId) throw bad("Value cannot be null. Parameter name: publisherId", "ArgumentNullException");
  if (!b.eventType) throw bad("Value cannot be null. Parameter name: eventType", "ArgumentNullException");
  const info = eventTypeInfo(String(b.eventType));
  if (!info || info.publisherId !== b.publisherId) {
    throw bad(
      `The event type '${b.eventType}' is not supported by publisher '${b.publisherId}'.`,
      "EventTypeNotFoundException",
    );
  }
  // ADO accepts the preview versions of an event's resource too: publishers list
  // `supportedResourceVersions` "1.0-preview.1" for build.complete and git.push, "1.0-preview.2"
  // for work items (hooks/7.1/httpExamples/eventtypes/), and the GET subscriptions example holds
  // webHooks subscriptions at "1.0-preview.1". Same major.minor as the catalogue's version, with
  // or without a -preview.N suffix, is accepted; left out, it is stored as null (ADO's default).
  const resourceVersion =
    b.resourceVersion === undefined || b.resourceVersion === null || b.resourceVersion === ""
      ? null
      : String(b.resourceVersion);
  const base = (v: string) => v.replace(/-preview(\.\d+)?$/, "");
  if (resourceVersion !== null && base(resourceVersion) !== base(info.resourceVersion)) {
    throw bad(`Resource version '${resourceVersion}' is not supported for event type '${info.eventType}'.`);
  }
  if (b.consumerId !== "webHooks") {
    throw bad(
      `The consumer '${b.consumerId}' is not supported by this emulator (only webHooks).`,
      "ConsumerNotFoundException",
    );
  }
  if (b.consumerActionId !== "httpRequest") {
    throw bad(
      `The action '${b.consumerActionId}' is not supported by consumer 'webHooks'.`,
      "ConsumerActionNotFoundException",
    );
  }
  const publisherInputs = checkStringMap(b.publisherInputs, "publisherInputs");
  const consumerInputs = checkStringMap(b.consumerInputs, "consumerInputs");

  const allowedPublisherInputs = new Set<string>(["projectId", ...info.filters, ...SERVER_PUBLISHER_INPUTS]);
  for (const key of Object.keys(publisherInputs)) {
    if (!allowedPublisherInputs.has(key)) {
      throw bad(
        `Input '${key}' is not a valid publisher input for event type '${info.eventType}'.`,
        "InvalidInputException",
      );
    }
  }
  const projectId = publisherInputs.projectId;
  if (projectId && !projectExists(projectId)) {
    throw bad(
      `TF200016: The following project does not exist: ${projectId}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
      "ProjectDoesNotExistException",
    );
  }

  for (const key of Object.keys(consumerInputs)) {
    if (!KNOWN_WEBHOOK_INPUTS.has(key))
      throw bad(`Input '${key}' is not a valid input for consumer 'webHooks'.`, "InvalidInputException");
  }
  const url = consumerInputs.url;
  if (!url) throw bad("The required input 'url' is missing a value.", "InputValidationException");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(`The input 'url' is not a valid absolute URI: ${url}`, "InputValidationException");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw bad(`The input 'url' must use http or https: ${url}`, "InputValidationException");
  }
  const oneOf = (key: string, allowed: string[]) => {
    const v = consumerInputs[key];
    if (v !== undefined && !allowed.includes(v)) {
      throw bad(
        `The value '${v}' of input '${key}' is not one of: ${allowed.join(", ")}.`,
        "InputValidationException",
      );
    }
  };
  oneOf("resourceDetailsToSend", DETAIL_LEVELS);
  oneOf("messagesToSend", MESSAGE_FORMATS);
  oneOf("detailedMessagesToSend", MESSAGE_FORMATS);
  oneOf("acceptUntrustedCerts", ["true", "false"]);
  if (consumerInputs.httpHeaders) parseHttpHeaders(consumerInputs.httpHeaders);
  for (const key of ["basicAuthUsername", "basicAuthPassword"]) {
    const v = consumerInputs[key];
    if (v !== undefined && (v.length < 1 || v.length > BASIC_AUTH_MAX_LENGTH || /\s/.test(v))) {
      throw bad(
        `The input '${key}' must be 1 to ${BASIC_AUTH_MAX_LENGTH} characters without white space.`,
        "InputValidationException",
      );
    }
  }
  // "Can I use basic authentication when setting up a web hook that isn't HTTPS? No." (service
  // hooks docs; webhooks.md: "You must use HTTPS for basic authentication on a webhook"). The
  // wording of ADO's refusal is *unconfirmed*. ADO cannot reach loopback at all, so tests and the
  // sandbox, whose receivers listen on 127.0.0.1 over http, opt in to an exception.
  if (consumerInputs.basicAuthPassword !== undefined && parsed.protocol === "http:") {
    if (!(options.allowBasicAuthOverLoopbackHttp && isLoopbackHost(parsed.hostname))) {
      throw bad(
        "Basic authentication requires an https URL: the input 'url' uses http.",
        "InputValidationException",
      );
    }
  }

  return {
    publisherId: info.publisherId,
    eventType: info.eventType,
    resourceVersion,
    consumerId: "webHooks",
    consumerActionId: "httpRequest",
    publisherInputs,
    consumerInputs,
    status: b.status,
  };
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h === "[::1]" || /^127\./.test(h);
}

/** `"K1:v1\nK2:v2"` → headers; a line without a colon is a 400 like ADO's input validation. */
export function parseHttpHeaders(value: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of value.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon <= 0)
      throw bad(
        `The input 'httpHeaders' has a line that is not 'Name:value': ${line}`,
        "InputValidationException",
      );
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * What a GET shows, shaped like hooks/7.1/httpExamples/subscriptions/GET__hooks_subscriptions_.json:
 * confidential inputs as `********`; `status` only when it is not `enabled`; `probationRetries`
 * (and the date of the last retry) only while on probation; `resourceVersion` null when the
 * subscription asked for none.
 */
export function maskSubscription(sub: Subscription): Subscription {
  const wire: Subscription = {
    ...structuredClone(sub),
    consumerInputs: maskInputs(sub.consumerInputs, sub.consumerId),
  };
  if (wire.status === "enabled") delete wire.status;
  if (wire.status !== "onProbation") {
    delete wire.probationRetries;
    delete wire.lastProbationRetryDate;
  }
  if (wire.resourceVersion === undefined) wire.resourceVersion = null;
  return wire;
}

export function maskInputs(inputs: Record<string, string>, consumerId?: string): Record<string, string> {
  const out = { ...inputs };
  for (const key of confidentialOf(consumerId)) if (out[key] !== undefined) out[key] = MASKED_SECRET;
  return out;
}

/**
 * What ADO sends for a notification (serviceHooks.json Notification): `eventType` lives in
 * `details`, not on the notification. Like a subscription's `status`, the enums' first values
 * (result `pending`, status `queued`) are left out (*unconfirmed*: no published example shows a
 * notification; the sparse form is the one that catches a client relying on them).
 */
export function wireNotification(n: Notification, options: { details?: boolean } = {}): Notification {
  const wire = structuredClone(n);
  if (wire.result === "pending") delete wire.result;
  if (wire.status === "queued") delete wire.status;
  if (options.details === false) delete wire.details;
  return wire;
}

/**
 * PUT rules for confidential inputs (seen in ADO Server code; the cloud doing the same is
 * *unconfirmed*): `********` keeps the stored secret, another value replaces it, absence deletes it.
 */
export function mergeConfidentialInputs(
  stored: Record<string, string>,
  incoming: Record<string, string>,
  options: { maskKeepsSecret?: boolean; consumerId?: string } = {},
): Record<string, string> {
  const merged = { ...incoming };
  for (const key of confidentialOf(options.consumerId)) {
    if (merged[key] === MASKED_SECRET) {
      // maskKeepsSecret false: the fault knob for "ADO drops the password on a PUT with the mask".
      if (stored[key] !== undefined && options.maskKeepsSecret !== false) merged[key] = stored[key];
      else delete merged[key];
    }
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Matching an event to subscriptions

type Resource = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((acc, k) => (acc && typeof acc === "object" ? (acc as Resource)[k] : undefined), o);
const strs = (...values: unknown[]): string[] =>
  values
    .flat()
    .filter((v) => v !== undefined && v !== null && v !== "")
    .map((v) => String(v));

/** A work item field; workitem.updated carries `{oldValue, newValue}` in `fields` and the whole item in `revision`. */
function fieldOf(r: Resource, name: string): unknown {
  const revision = get(r, "revision.fields") as Resource | undefined;
  const fields = get(r, "fields") as Resource | undefined;
  const v = revision?.[name] ?? fields?.[name];
  if (v && typeof v === "object" && "newValue" in v) return (v as { newValue: unknown }).newValue;
  return v;
}

/** Values in the event a publisher-input filter compares with; undefined = we cannot tell (match). */
const FILTER_VALUES: Record<string, (r: Resource) => string[] | undefined> = {
  repository: (r) => strs(get(r, "repository.id"), get(r, "repository.name")),
  branch: (r) => {
    const refs = strs(
      ((get(r, "refUpdates") as Resource[] | undefined) ?? []).map((u) => u.name),
      get(r, "targetRefName"),
      get(r, "pullRequest.targetRefName"),
    );
    return refs.flatMap((ref) => [ref, ref.replace(/^refs\/heads\//, "")]);
  },
  pushedBy: (r) => strs(get(r, "pushedBy.id"), get(r, "pushedBy.uniqueName"), get(r, "pushedBy.displayName")),
  pullrequestCreatedBy: (r) => strs(get(r, "createdBy.id"), get(r, "createdBy.uniqueName")),
  workItemType: (r) => strs(fieldOf(r, "System.WorkItemType")),
  definitionName: (r) => strs(get(r, "definition.name")),
  buildStatus: (r) => strs(get(r, "status"), get(r, "result")),
  pipelineId: (r) => strs(get(r, "pipeline.id"), get(r, "run.pipeline.id")),
  releaseDefinitionId: (r) =>
    strs(
      get(r, "release.releaseDefinition.id"),
      get(r, "deployment.releaseDefinition.id"),
      get(r, "releaseDefinition.id"),
    ),
};

/**
 * Whether `sub` receives `event`: same publisher and event type, same project when the
 * subscription names one, and every publisher-input filter we can evaluate holds. Filters we
 * cannot evaluate from the payload (tag, changedFields, commentPattern…) match: being lenient
 * here over-delivers in tests rather than hiding a delivery (*unconfirmed* semantics per filter).
 */
export function subscriptionMatches(sub: Subscription, event: AdoEvent): boolean {
  if (sub.publisherId !== event.publisherId || sub.eventType !== event.eventType) return false;
  const inputs = sub.publisherInputs ?? {};
  // Release (rm) events have no project container; their project is resource.project
  // (MicrosoftDocs service-hooks/events.md, the ms.vss-release.* samples).
  const project =
    event.resourceContainers?.project?.id ?? (get(event.resource, "project.id") as string | undefined);
  if (inputs.projectId && inputs.projectId.toLowerCase() !== (project ?? "").toLowerCase()) {
    return false;
  }
  for (const [key, wanted] of Object.entries(inputs)) {
    if (!wanted || key === "projectId" || (SERVER_PUBLISHER_INPUTS as readonly string[]).includes(key))
      continue;
    if (key === "areaPath") {
      const area = String(fieldOf(event.resource, "System.AreaPath") ?? "");
      if (area && !area.toLowerCase().startsWith(wanted.toLowerCase())) return false;
      continue;
    }
    const values = FILTER_VALUES[key]?.(event.resource);
    if (!values || values.length === 0) continue;
    if (!values.some((v) => v.toLowerCase() === wanted.toLowerCase())) return false;
  }
  return true;
}

/** The body ADO POSTs: the event trimmed per resourceDetailsToSend / messagesToSend, plus ids. */
export function deliveredPayload(
  event: AdoEvent,
  consumerInputs: Record<string, string>,
  ids: { subscriptionId: string; notificationId: number },
): AdoEvent {
  const payload: AdoEvent = {
    ...structuredClone(event),
    subscriptionId: ids.subscriptionId,
    notificationId: ids.notificationId,
  };
  // "" is the descriptor's "All" (its default), like an absent key.
  const details = consumerInputs.resourceDetailsToSend || "all";
  if (details === "none") payload.resource = {};
  else if (details === "minimal") {
    const r = event.resource;
    payload.resource = Object.fromEntries(
      Object.entries(r).filter(([k]) => ["id", "url", "_links"].includes(k)),
    );
  }
  const pick = (format: string, msg: AdoEvent["message"]): AdoEvent["message"] | undefined => {
    if (!msg || format === "all") return msg;
    if (format === "none") return undefined;
    return { [format]: (msg as Record<string, string | undefined>)[format] };
  };
  payload.message = pick(consumerInputs.messagesToSend || "all", event.message);
  payload.detailedMessage = pick(consumerInputs.detailedMessagesToSend || "all", event.detailedMessage);
  if (!payload.message) delete payload.message;
  if (!payload.detailedMessage) delete payload.detailedMessage;
  return payload;
}
