/**
 * Parses and validates the receiver's environment (the variables named in app/settings.ts).
 * Every mistake is reported, one clear line each, before the service starts.
 */
import {
  receiverSettings,
  type ReceiverSettingName,
  type SystemSetting,
  type UrlTokenSetting,
} from "./settings";
import type { CredentialHash } from "./settings";
import { parseInstant } from "./instants";
import { MAX_RETENTION_DAYS } from "./messages";
import { SHA256_HEX } from "./tokens";

export type ReceiverMode = "production" | "local";

/** The credential part of the configuration: swappable at run time (a new revision's settings). */
export interface CredentialSettings {
  systems: SystemSetting[];
  urlTokens: UrlTokenSetting[];
  readTokens: CredentialHash[];
}

export interface CosmosSettings {
  /** Unset only in local mode: an embedded store is started. */
  endpoint?: string;
  /** Unset: Microsoft Entra auth through DefaultAzureCredential. */
  key?: string;
  database: string;
  container: string;
  /** User-assigned managed identity client id for DefaultAzureCredential. */
  managedIdentityClientId?: string;
}

export interface ReceiverConfig extends CredentialSettings {
  port: number;
  host: string;
  mode: ReceiverMode;
  cosmos: CosmosSettings;
  metricsPort?: number;
  logLevel: string;
  shutdownGraceMs: number;
  /** Which credential settings were absent from the environment (local mode may mint them). */
  unset: { urlTokens: boolean; readTokens: boolean; systems: boolean };
}

/** All configuration mistakes at once, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid receiver configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Where a local-mode receiver listens when HOST is unset. */
export const LOCAL_HOST = "127.0.0.1";

/**
 * The system a local-mode receiver has when HOOKFLEET_SYSTEMS is unset, so that a URL token minted
 * by `npm run token` (system `devops` by default) is accepted as printed.
 */
export const LOCAL_DEFAULT_SYSTEM: SystemSetting = { id: "devops", storageMode: "full", retentionDays: 1825 };

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
/**
 * The longest SHUTDOWN_GRACE_MS: 10 minutes. Deliveries are answered in seconds (Event Grid gives
 * up on an answer after 30 s, app/server.ts), so a longer drain only delays the shutdown; and
 * above 2,147,483,647 ms Node runs a timer after 1 ms instead (nodejs.org/api/timers.html,
 * setTimeout), which would cut in-flight requests at once.
 */
export const MAX_SHUTDOWN_GRACE_MS = 600_000;
/** A valid system id (also checked by `npm run token --system`). */
export const SYSTEM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Env = Record<string, string | undefined>;

function setting(env: Env, name: ReceiverSettingName): string | undefined {
  const raw = env[name];
  if (raw !== undefined && raw.trim() !== "") return raw.trim();
  const spec = receiverSettings[name] as { default?: string };
  return spec.default;
}

function nonEmpty(raw: string | undefined): string | undefined {
  return raw !== undefined && raw.trim() !== "" ? raw.trim() : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseJsonArray(name: string, raw: string, problems: string[]): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    // JSON.parse's message quotes the text around the mistake, which may hold a hash: say where only.
    const at = /position (\d+)/.exec((err as Error).message);
    problems.push(`${name} is not valid JSON${at ? ` (at character ${at[1]})` : ""}`);
    return undefined;
  }
  if (!Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON array`);
    return undefined;
  }
  return parsed;
}

/**
 * A key the entry's shape does not have, named in the message when it looks like a field name (a
 * typo such as `requirBoth` or `notafter`, which would otherwise turn a check off silently), and
 * not shown otherwise: a key that is not a field name may be a credential pasted in the wrong place.
 */
function unknownKeys(
  where: string,
  v: Record<string, unknown>,
  known: readonly string[],
  problems: string[],
) {
  for (const key of Object.keys(v)) {
    if (known.includes(key)) continue;
    problems.push(
      /^[A-Za-z][A-Za-z0-9]{0,31}$/.test(key)
        ? `${where} has an unknown key "${key}" (known keys: ${known.join(", ")})`
        : `${where} has a key that is none of ${known.join(", ")} (not shown: it does not look like a field name)`,
    );
  }
}

const HASH_KEYS = ["sha256", "notAfter"] as const;
const URL_TOKEN_KEYS = ["sha256", "systemId", "notAfter"] as const;
const SYSTEM_KEYS = [
  "id",
  "storageMode",
  "retentionDays",
  "basicPasswords",
  "basicUsername",
  "requireBoth",
] as const satisfies readonly (keyof SystemSetting)[];

function checkHash(
  where: string,
  v: unknown,
  problems: string[],
  known: readonly string[] = HASH_KEYS,
): CredentialHash | undefined {
  if (!isRecord(v)) {
    problems.push(`${where} must be an object {${known.join(", ")}}`);
    return undefined;
  }
  const before = problems.length;
  unknownKeys(where, v, known, problems);
  const sha = typeof v.sha256 === "string" ? v.sha256.toLowerCase() : undefined;
  if (!sha || !SHA256_HEX.test(sha))
    problems.push(
      `${where}.sha256 must be 64 hex characters (the SHA-256 of the credential, not the credential)`,
    );
  if (v.notAfter !== undefined) {
    // Strict RFC 3339 with a zone (the read API's parser): Date.parse would take 2026-02-30 for
    // March 2, "1" for 2001 (a credential expired on arrival) and a time without zone as local time.
    const instant =
      typeof v.notAfter === "string"
        ? parseInstant(v.notAfter)
        : { problem: "must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z" };
    if ("problem" in instant) problems.push(`${where}.notAfter ${instant.problem}`);
  }
  if (problems.length > before) return undefined;
  return { sha256: sha as string, ...(v.notAfter !== undefined ? { notAfter: String(v.notAfter) } : {}) };
}

/** Validate the three credential arrays (used at start-up and when a running receiver swaps them). */
export function validateCredentialSettings(input: {
  systems: unknown;
  urlTokens: unknown;
  readTokens: unknown;
  names?: { systems: string; urlTokens: string; readTokens: string };
}): { settings?: CredentialSettings; problems: string[] } {
  const names = input.names ?? { systems: "systems", urlTokens: "urlTokens", readTokens: "readTokens" };
  const problems: string[] = [];
  const systems: SystemSetting[] = [];
  const seen = new Set<string>();
  if (!Array.isArray(input.systems)) problems.push(`${names.systems} must be an array`);
  else
    input.systems.forEach((s, i) => {
      const where = `${names.systems}[${i}]`;
      if (!isRecord(s)) return void problems.push(`${where} must be an object`);
      const before = problems.length;
      unknownKeys(where, s, SYSTEM_KEYS, problems);
      if (typeof s.id !== "string" || !SYSTEM_ID.test(s.id))
        problems.push(
          `${where}.id must be 1-64 letters, digits, '.', '_' or '-' (got ${JSON.stringify(s.id)})`,
        );
      else if (seen.has(s.id)) problems.push(`${where}.id "${s.id}" is listed twice`);
      if (s.storageMode !== "full" && s.storageMode !== "lean")
        problems.push(`${where}.storageMode must be "full" or "lean" (got ${JSON.stringify(s.storageMode)})`);
      if (typeof s.retentionDays !== "number" || !Number.isInteger(s.retentionDays) || s.retentionDays < 1)
        problems.push(`${where}.retentionDays must be a whole number of days >= 1`);
      else if (s.retentionDays > MAX_RETENTION_DAYS)
        problems.push(
          `${where}.retentionDays is larger than Cosmos DB's maximum TTL (${MAX_RETENTION_DAYS} days)`,
        );
      let basicPasswords: CredentialHash[] | undefined;
      if (s.basicPasswords !== undefined) {
        if (!Array.isArray(s.basicPasswords)) problems.push(`${where}.basicPasswords must be an array`);
        else
          basicPasswords = s.basicPasswords
            .map((h, j) => checkHash(`${where}.basicPasswords[${j}]`, h, problems))
            .filter((h): h is CredentialHash => h !== undefined);
      }
      if (s.basicUsername !== undefined && (typeof s.basicUsername !== "string" || s.basicUsername === ""))
        problems.push(`${where}.basicUsername must be a non-empty string`);
      if (s.requireBoth !== undefined && typeof s.requireBoth !== "boolean")
        problems.push(`${where}.requireBoth must be true or false`);
      if (s.requireBoth === true && !(Array.isArray(s.basicPasswords) && s.basicPasswords.length > 0))
        problems.push(`${where}.requireBoth needs at least one basicPasswords entry`);
      if (problems.length > before) return;
      seen.add(s.id as string);
      systems.push({
        id: s.id as string,
        storageMode: s.storageMode as "full" | "lean",
        retentionDays: s.retentionDays as number,
        ...(basicPasswords ? { basicPasswords } : {}),
        ...(typeof s.basicUsername === "string" ? { basicUsername: s.basicUsername } : {}),
        ...(s.requireBoth === true ? { requireBoth: true } : {}),
      });
    });

  const urlTokens: UrlTokenSetting[] = [];
  // The system of each URL-token hash: one token delivers to one system, so a hash listed for two
  // would deliver to whichever entry comes first.
  const systemOfHash = new Map<string, { systemId: string; index: number }>();
  if (!Array.isArray(input.urlTokens)) problems.push(`${names.urlTokens} must be an array`);
  else
    input.urlTokens.forEach((t, i) => {
      const where = `${names.urlTokens}[${i}]`;
      const h = checkHash(where, t, problems, URL_TOKEN_KEYS);
      const systemId = isRecord(t) ? t.systemId : undefined;
      if (typeof systemId !== "string" || systemId === "") problems.push(`${where}.systemId is required`);
      else if (Array.isArray(input.systems) && !seen.has(systemId) && systems.length === input.systems.length)
        problems.push(`${where}.systemId "${systemId}" is not one of the configured systems`);
      if (!h || typeof systemId !== "string" || systemId === "") return;
      const other = systemOfHash.get(h.sha256);
      if (other && other.systemId !== systemId)
        return void problems.push(
          `${where}.sha256 is also listed for system "${other.systemId}" (${names.urlTokens}[${other.index}]): a URL token belongs to one system`,
        );
      systemOfHash.set(h.sha256, { systemId, index: i });
      urlTokens.push({ ...h, systemId });
    });

  const readTokens: CredentialHash[] = [];
  if (!Array.isArray(input.readTokens)) problems.push(`${names.readTokens} must be an array`);
  else
    input.readTokens.forEach((t, i) => {
      const h = checkHash(`${names.readTokens}[${i}]`, t, problems);
      if (h) readTokens.push(h);
    });

  return problems.length ? { problems } : { settings: { systems, urlTokens, readTokens }, problems };
}

function parsePort(name: string, raw: string | undefined, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) {
    problems.push(`${name} must be a port number 0-65535 (got "${raw}")`);
    return undefined;
  }
  return n;
}

/** Parse the environment; throws ConfigError listing every problem. */
export function parseConfig(env: Env = process.env): ReceiverConfig {
  const problems: string[] = [];
  const modeRaw = setting(env, "HOOKFLEET_MODE");
  if (modeRaw !== "production" && modeRaw !== "local")
    problems.push(`HOOKFLEET_MODE must be "production" or "local" (got "${modeRaw}")`);
  const mode: ReceiverMode = modeRaw === "production" ? "production" : "local";

  const port = parsePort("PORT", setting(env, "PORT"), problems) ?? 7071;
  const metricsPort = parsePort("METRICS_PORT", setting(env, "METRICS_PORT"), problems);
  // A deployed container must listen on every interface for the ingress to reach it; a local run
  // mints live tokens, so it stays on loopback unless HOST says otherwise.
  const host = nonEmpty(env.HOST) ?? (mode === "production" ? receiverSettings.HOST.default : LOCAL_HOST);
  const logLevel = setting(env, "LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got "${logLevel}")`);
  const graceRaw = setting(env, "SHUTDOWN_GRACE_MS") ?? "10000";
  const shutdownGraceMs = Number(graceRaw);
  if (!/^\d+$/.test(graceRaw) || shutdownGraceMs > MAX_SHUTDOWN_GRACE_MS)
    problems.push(
      `SHUTDOWN_GRACE_MS must be a whole number of milliseconds from 0 to ${MAX_SHUTDOWN_GRACE_MS} (10 minutes) (got "${graceRaw}")`,
    );

  const endpoint = setting(env, "COSMOS_ENDPOINT");
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      problems.push(
        `COSMOS_ENDPOINT must be a URL such as https://myaccount.documents.azure.com:443/ (got "${endpoint}")`,
      );
    }
    if (url && mode === "production" && url.protocol !== "https:")
      problems.push("COSMOS_ENDPOINT must use https in production mode");
  }

  // Every setting required in production, from the shared schema (so components/ and app/ agree).
  if (mode === "production")
    for (const [name, spec] of Object.entries(receiverSettings))
      if (spec.requiredInProduction && (env[name] === undefined || env[name]?.trim() === ""))
        problems.push(`${name} is required in production mode: ${spec.description}`);

  const rawSystems = setting(env, "HOOKFLEET_SYSTEMS");
  const rawUrl = setting(env, "HOOKFLEET_URL_TOKENS");
  const rawRead = setting(env, "HOOKFLEET_READ_TOKENS");
  const systems =
    rawSystems === undefined
      ? mode === "local"
        ? [LOCAL_DEFAULT_SYSTEM]
        : []
      : parseJsonArray("HOOKFLEET_SYSTEMS", rawSystems, problems);
  const urlTokens = rawUrl === undefined ? [] : parseJsonArray("HOOKFLEET_URL_TOKENS", rawUrl, problems);
  const readTokens = rawRead === undefined ? [] : parseJsonArray("HOOKFLEET_READ_TOKENS", rawRead, problems);
  let credentials: CredentialSettings = { systems: [], urlTokens: [], readTokens: [] };
  if (systems && urlTokens && readTokens) {
    const checked = validateCredentialSettings({
      systems,
      urlTokens,
      readTokens,
      names: {
        systems: "HOOKFLEET_SYSTEMS",
        urlTokens: "HOOKFLEET_URL_TOKENS",
        readTokens: "HOOKFLEET_READ_TOKENS",
      },
    });
    problems.push(...checked.problems);
    if (checked.settings) credentials = checked.settings;
  }

  if (problems.length) throw new ConfigError(problems);
  return {
    port,
    host,
    mode,
    cosmos: {
      endpoint,
      key: setting(env, "COSMOS_KEY"),
      database: setting(env, "COSMOS_DATABASE") ?? "hookfleet",
      container: setting(env, "COSMOS_CONTAINER") ?? "messages",
      managedIdentityClientId: setting(env, "AZURE_CLIENT_ID"),
    },
    metricsPort,
    logLevel,
    shutdownGraceMs,
    ...credentials,
    unset: {
      systems: rawSystems === undefined,
      urlTokens: rawUrl === undefined,
      readTokens: rawRead === undefined,
    },
  };
}
