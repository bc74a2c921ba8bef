/**
 * `hookfleet:destinations`: where the hooks deliver. Pure: the raw config value in, the checked
 * destinations out, or one error listing every mistake, each naming its key (never a secret value).
 *
 * Two kinds:
 * - `receiver` (at most one): the receiver this stack deploys (or `receiverUrl`), with the
 *   credentials the program generates and rotates. With no destinations at all it is implied, named
 *   `receiver`, covering every organization with each one's projects and events: exactly what a stack
 *   had before destinations existed.
 * - `webhook`: a hosted receiver (a SaaS product). Its `url` may carry a token and its Basic
 *   password is a password, so both must be secrets in the stack file
 *   (`pulumi config set --secret --path 'hookfleet:destinations[1].url' …`; plain-text.ts).
 */
import type { ProjectFilter } from "../../ado/types";
import { FULL_SCOPES, MAX_PAT_VALIDITY_DAYS } from "../credentials/ado-pat-provider";
import { policyProblems } from "../credentials/rotation";
import type { EventSelection } from "../hooks/hook-fleet";
import {
  BASIC_AUTH_MAX_LENGTH,
  isLoopbackUrl,
  MESSAGES_VALUES,
  RESOURCE_DETAILS_VALUES,
  type MessagesToSend,
  type ResourceDetailsToSend,
} from "../hooks/mapping";
import { parseEvents, parseProjects, type OrganizationConfig } from "./organizations";
import { credentialInUrl, isCredentialHeader, type SecrecyOf } from "./plain-text";

export const DESTINATIONS_KEY = "hookfleet:destinations";
export const DESTINATION_KINDS = ["receiver", "webhook"] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];
/** The name of the receiver destination a stack without `destinations` has. */
export const IMPLIED_RECEIVER_NAME = "receiver";

/** What to send, per destination; undefined: the default (receiver: the stack's keys; webhook: all). */
export interface WhatToSend {
  resourceDetailsToSend?: ResourceDetailsToSend;
  messagesToSend?: MessagesToSend;
  detailedMessagesToSend?: MessagesToSend;
}

interface DestinationCommon extends WhatToSend {
  /** Names hooks and outputs: letters, digits and "-" (lower case). */
  name: string;
  /** Names of the organizations (hookfleet:organizations) its hooks are in, in stack order. */
  organizations: string[];
  /** Projects in each of its organizations; undefined: each organization's own setting. */
  projects?: "all" | ProjectFilter;
  /** Extra HTTP headers ADO sends (values are secrets). */
  httpHeaders: Record<string, string>;
}

export interface ReceiverDestinationConfig extends DestinationCommon {
  kind: "receiver";
  /** Events for every one of its organizations; undefined: each organization's (or HookFleet's defaults). */
  events?: EventSelection[];
  /** True when the stack lists no destinations and this one stands for the receiver as before. */
  implied: boolean;
}

/** A PAT minted for a product (AdoPat), handed over through the stack output `destinationPats`. */
export interface DestinationPatConfig {
  /** Least scopes the product asks for, e.g. vso.code_write, vso.work. */
  scopes: string[];
  /** Validity of each PAT in days (1–365, within the organization's policy). */
  validDays: number;
  /** Days between rotations; below validDays so the PAT never expires in use. */
  rotateEveryDays: number;
  /** Hours the previous PAT stays valid after a rotation: the time to reconnect the product. */
  overlapHours: number;
  /** Any new value rotates the PAT on the next up. */
  rotationNonce: string;
}

export interface WebhookDestinationConfig extends DestinationCommon {
  kind: "webhook";
  /** Where ADO posts (secret: it may carry the product's token). */
  url: string;
  /** Basic user name the product gave ("" when none). */
  basicUsername: string;
  /** Basic password the product gave (secret; "" when none). */
  basicPassword: string;
  /** Event types (required: no guessing what a product wants). */
  events: EventSelection[];
  pat?: DestinationPatConfig;
}

export type DestinationConfig = ReceiverDestinationConfig | WebhookDestinationConfig;

/** Defaults of a destination PAT (validDays and rotateEveryDays as the heal job's `pat*` keys). */
export const DESTINATION_PAT_DEFAULTS = { validDays: 90, rotateEveryDays: 60, overlapHours: 168 } as const;

const COMMON_KEYS = [
  "name",
  "kind",
  "events",
  "organizations",
  "projects",
  "httpHeaders",
  "resourceDetailsToSend",
  "messagesToSend",
  "detailedMessagesToSend",
];
const WEBHOOK_KEYS = ["url", "basicUsername", "basicPassword", "pat"];
const PAT_KEYS = ["scopes", "validDays", "rotateEveryDays", "overlapHours", "rotationNonce"];
/** An HTTP header field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The destination a stack without `destinations` has: the receiver, everywhere, as before. */
export function impliedReceiver(organizations: OrganizationConfig[]): ReceiverDestinationConfig {
  return {
    kind: "receiver",
    name: IMPLIED_RECEIVER_NAME,
    organizations: organizations.map((o) => o.name),
    httpHeaders: {},
    implied: true,
  };
}

export interface ParseDestinationsContext {
  /** The checked `hookfleet:organizations`. */
  organizations: OrganizationConfig[];
  /** How each value inside the key was given (plain-text.ts). */
  secrecy: SecrecyOf;
}

/**
 * Checks `hookfleet:destinations` (the value Pulumi's config holds, secrets decrypted). Absent or
 * empty: the implied receiver. Throws one Error whose message lists every problem, one per line.
 */
export function parseDestinations(raw: unknown, ctx: ParseDestinationsContext): DestinationConfig[] {
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0))
    return [impliedReceiver(ctx.organizations)];
  if (!Array.isArray(raw)) {
    throw new Error(`${DESTINATIONS_KEY} must be a list of {name, kind: receiver | webhook, …}`);
  }
  const problems: string[] = [];
  const destinations: DestinationConfig[] = [];
  raw.forEach((entry: unknown, i) => {
    const found: string[] = [];
    const destination = parseOne(entry, i, ctx, found);
    problems.push(...found);
    if (destination && found.length === 0) destinations.push(destination);
  });

  const names = raw.map((e) => (isObject(e) && typeof e.name === "string" ? e.name : undefined));
  names.forEach((n, i) => {
    const first = names.indexOf(n);
    if (n !== undefined && first !== i)
      problems.push(
        `${DESTINATIONS_KEY}[${i}].name: "${n}" is already the name of ${DESTINATIONS_KEY}[${first}]; names must differ`,
      );
  });
  const receivers = raw.map((e, i) => (isObject(e) && e.kind === "receiver" ? i : -1)).filter((i) => i >= 0);
  if (receivers.length > 1)
    problems.push(
      `${DESTINATIONS_KEY}: at most one destination may be of kind receiver (the receiver this stack deploys); found ${receivers
        .map((i) => `[${i}]`)
        .join(", ")}`,
    );
  // Two destinations on one URL would own the same subscriptions (create adopts an identical one):
  // removing either would delete the other's hooks. Compared, never quoted.
  const urls = raw.map((e) => (isObject(e) && typeof e.url === "string" ? e.url.trim() : undefined));
  urls.forEach((u, i) => {
    const first = urls.indexOf(u);
    if (u !== undefined && first !== i)
      problems.push(
        `${DESTINATIONS_KEY}[${i}].url is the same URL as ${DESTINATIONS_KEY}[${first}].url: one destination per URL (list every event it wants there)`,
      );
  });
  if (problems.length === 1) throw new Error(problems[0]);
  if (problems.length > 1)
    throw new Error(
      `${DESTINATIONS_KEY} has ${problems.length} problems:\n${problems.map((p) => `- ${p}`).join("\n")}`,
    );
  return destinations;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseOne(
  entry: unknown,
  i: number,
  ctx: ParseDestinationsContext,
  problems: string[],
): DestinationConfig | undefined {
  const at = `${DESTINATIONS_KEY}[${i}]`;
  if (!isObject(entry)) {
    problems.push(`${at} must be an object {name, kind: receiver | webhook, …}`);
    return undefined;
  }
  const kind = entry.kind;
  if (!DESTINATION_KINDS.includes(kind as DestinationKind)) {
    problems.push(
      `${at}.kind must be one of ${DESTINATION_KINDS.join(", ")}; got ${JSON.stringify(kind ?? null)}`,
    );
    return undefined;
  }
  const allowed = kind === "webhook" ? [...COMMON_KEYS, ...WEBHOOK_KEYS] : COMMON_KEYS;
  for (const key of Object.keys(entry)) {
    if (allowed.includes(key)) continue;
    problems.push(
      WEBHOOK_KEYS.includes(key)
        ? `${at}.${key} does not apply to kind receiver: the receiver's credentials are generated and rotated by the program${key === "pat" ? " (its heal job's PAT: hookfleet:managePat)" : ""}`
        : `${at}.${key} is not a destination setting (known: ${allowed.join(", ")})`,
    );
  }

  const name = entry.name;
  if (typeof name !== "string" || !/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) {
    problems.push(
      `${at}.name must be lower-case letters, digits and "-" (at most 31): it names the destination's hooks and outputs`,
    );
  } else if (kind === "webhook" && ctx.organizations.some((o) => o.name === name)) {
    problems.push(
      `${at}.name "${name}" is also an organization's name; a webhook destination's hooks are named <destination>-<project id>-<event type> like the receiver's <organization>-…, so choose another name`,
    );
  }

  const organizations = parseOrganizationNames(entry.organizations, at, ctx.organizations, problems);
  const projects = attempt(problems, () =>
    entry.projects === undefined ? undefined : parseProjects(entry.projects, at),
  );
  const events = attempt(problems, () => parseEvents(entry.events, at));
  const httpHeaders = parseHeaders(entry.httpHeaders, at, ctx.secrecy, i, problems);
  const whatToSend: WhatToSend = {
    resourceDetailsToSend: pickOne(entry, "resourceDetailsToSend", RESOURCE_DETAILS_VALUES, at, problems),
    messagesToSend: pickOne(entry, "messagesToSend", MESSAGES_VALUES, at, problems),
    detailedMessagesToSend: pickOne(entry, "detailedMessagesToSend", MESSAGES_VALUES, at, problems),
  };
  const common = { name: name as string, organizations, projects, httpHeaders, ...whatToSend };

  if (events !== undefined && events.length === 0)
    problems.push(
      `${at}.events must list at least one event type (leave it out for the defaults of kind receiver)`,
    );

  if (kind === "receiver") return { ...common, kind: "receiver", events, implied: false };

  // --- webhook
  if (events === undefined && !problems.some((p) => p.startsWith(`${at}.events`)))
    problems.push(
      `${at}.events is required for kind webhook: list the event types the product asks for, e.g. [git.push, git.pullrequest.created]`,
    );

  const url = entry.url;
  let urlOk = false;
  if (typeof url !== "string" || url.trim() === "") {
    problems.push(
      `${at}.url is required for kind webhook: the URL the product gave, set as a secret: pulumi config set --secret --path '${at}.url' <url>`,
    );
  } else {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      problems.push(`${at}.url must be an absolute https:// URL`);
    } else {
      urlOk = true;
      const leak = credentialInUrl(url);
      if (leak && ctx.secrecy([i, "url"]) === "plain")
        problems.push(
          `${at}.url is in plain text but ${leak}; a stack file is committed, so set it as a secret: pulumi config set --secret --path '${at}.url' <url>`,
        );
    }
  }

  const basicUsername = optionalCredential(entry, "basicUsername", at, problems);
  const basicPassword = optionalCredential(entry, "basicPassword", at, problems);
  if (basicPassword && ctx.secrecy([i, "basicPassword"]) === "plain")
    problems.push(
      `${at}.basicPassword is in plain text; a stack file is committed, so set it as a secret: pulumi config set --secret --path '${at}.basicPassword' <password>`,
    );
  if (basicUsername && !basicPassword)
    problems.push(
      `${at}.basicUsername is set but ${at}.basicPassword is not: Basic authentication needs the password`,
    );
  // "You must use HTTPS for basic authentication on a webhook" (MicrosoftDocs
  // service-hooks/services/webhooks.md); loopback only ever reaches a local stand-in, as in the
  // ServiceHook provider's check (components/hooks/mapping.ts).
  if (basicPassword && urlOk && /^http:/i.test(url as string) && !isLoopbackUrl(url as string))
    problems.push(
      `${at}.url must be https:// when ${at}.basicPassword is set: Azure DevOps refuses Basic authentication over http`,
    );

  const pat = parsePat(entry.pat, at, problems);
  if (pat && organizations.length !== 1)
    problems.push(
      `${at}.pat: an ADO PAT is scoped to one organization, and this destination covers ${organizations.length} (${organizations.join(", ")}); set ${at}.organizations to the one the product connects to, or make one destination per organization`,
    );

  return {
    ...common,
    kind: "webhook",
    url: typeof url === "string" ? url.trim() : "",
    basicUsername: basicUsername ?? "",
    basicPassword: basicPassword ?? "",
    events: events ?? [],
    ...(pat ? { pat } : {}),
  };
}

/** Runs a parser that throws with a key-naming message, collecting the message instead. */
function attempt<T>(problems: string[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    problems.push((e as Error).message);
    return undefined;
  }
}

function parseOrganizationNames(
  raw: unknown,
  at: string,
  organizations: OrganizationConfig[],
  problems: string[],
): string[] {
  const known = organizations.map((o) => o.name);
  if (raw === undefined) return known;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((n) => typeof n === "string")) {
    problems.push(
      `${at}.organizations must list organization names from hookfleet:organizations (${known.join(", ")}); leave it out for all`,
    );
    return [];
  }
  const chosen: string[] = [];
  raw.forEach((n: string, j) => {
    const name = n.toLowerCase();
    if (!known.includes(name))
      problems.push(
        `${at}.organizations[${j}] "${n}" is not the name of an organization in hookfleet:organizations (${known.join(", ")})`,
      );
    else if (chosen.includes(name)) problems.push(`${at}.organizations[${j}] lists "${n}" twice`);
    else chosen.push(name);
  });
  // Stack order, whatever order the destination lists them in.
  return known.filter((n) => chosen.includes(n));
}

function parseHeaders(
  raw: unknown,
  at: string,
  secrecy: SecrecyOf,
  i: number,
  problems: string[],
): Record<string, string> {
  if (raw === undefined) return {};
  if (!isObject(raw) || Object.values(raw).some((v) => typeof v !== "string")) {
    problems.push(`${at}.httpHeaders must map header names to string values`);
    return {};
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, string>)) {
    // ADO's httpHeaders input is `Name:value` lines (components/hooks/mapping.ts formatHeaders).
    if (!HEADER_NAME.test(name) || /[\r\n]/.test(value)) {
      problems.push(`${at}.httpHeaders.${name} must be a header name with a one-line value`);
      continue;
    }
    if (isCredentialHeader(name) && secrecy([i, "httpHeaders", name]) === "plain")
      problems.push(
        `${at}.httpHeaders.${name} carries a credential but is in plain text; set it as a secret: pulumi config set --secret --path '${at}.httpHeaders.${name}' <value>`,
      );
    headers[name] = value;
  }
  return headers;
}

function pickOne<T extends string>(
  entry: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  at: string,
  problems: string[],
): T | undefined {
  const v = entry[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !allowed.includes(v as T)) {
    problems.push(`${at}.${key} must be one of ${allowed.join(", ")}; got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v as T;
}

/** A Basic user name or password: 1–256 characters without white space (the Web Hooks consumer). */
function optionalCredential(
  entry: Record<string, unknown>,
  key: "basicUsername" | "basicPassword",
  at: string,
  problems: string[],
): string | undefined {
  const v = entry[key];
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string" || v.length > BASIC_AUTH_MAX_LENGTH || !/^\S+$/.test(v)) {
    problems.push(
      `${at}.${key} must be 1–${BASIC_AUTH_MAX_LENGTH} characters with no spaces (ADO's Web Hooks consumer)`,
    );
    return undefined;
  }
  return v;
}

function parsePat(raw: unknown, at: string, problems: string[]): DestinationPatConfig | undefined {
  if (raw === undefined) return undefined;
  const where = `${at}.pat`;
  if (!isObject(raw)) {
    problems.push(`${where} must be {scopes: [...], validDays, rotateEveryDays}`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw))
    if (!PAT_KEYS.includes(key))
      problems.push(`${where}.${key} is not a PAT setting (known: ${PAT_KEYS.join(", ")})`);
  const scopes = raw.scopes;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === "string" && /^vso\.[a-z_]+$/.test(s))
  )
    // Scope ids as ADO names them, e.g. vso.code_write, vso.work (shared/design/azure-devops-facts.md).
    problems.push(`${where}.scopes must list the PAT's scopes, e.g. [vso.code_write, vso.work]`);
  else if (scopes.some((s: string) => FULL_SCOPES.includes(s)))
    problems.push(
      `${where}.scopes must not grant full access (${FULL_SCOPES.join(", ")}): list the least the product needs`,
    );
  const whole = (key: string, fallback: number, min: number, max = Infinity): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      problems.push(
        `${where}.${key} must be a whole number ${max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`}; got ${JSON.stringify(v)}`,
      );
      return fallback;
    }
    return v;
  };
  const validDays = whole("validDays", DESTINATION_PAT_DEFAULTS.validDays, 1, MAX_PAT_VALIDITY_DAYS);
  const rotateEveryDays = whole("rotateEveryDays", DESTINATION_PAT_DEFAULTS.rotateEveryDays, 1);
  const overlapHours = whole("overlapHours", DESTINATION_PAT_DEFAULTS.overlapHours, 0);
  if (rotateEveryDays >= validDays)
    problems.push(`${where}.rotateEveryDays must be below ${where}.validDays, or the PAT expires in use`);
  // The AdoPat provider's own rule (rotation.ts), checked here too so that the error names the keys.
  for (const problem of policyProblems({ overlapHours, nonce: "" }, rotateEveryDays * 24))
    problems.push(`${where}.overlapHours and ${where}.rotateEveryDays: ${problem}`);
  const nonce = raw.rotationNonce ?? "";
  if (typeof nonce !== "string") problems.push(`${where}.rotationNonce must be a string`);
  if (problems.length > before) return undefined;
  return {
    scopes: [...(scopes as string[])],
    validDays,
    rotateEveryDays,
    overlapHours,
    rotationNonce: nonce as string,
  };
}
