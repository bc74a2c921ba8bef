/**
 * Typed errors of the ADO client. Every failure that reaches a caller is an `AdoError`: it carries
 * the HTTP status (0 when no response arrived), ADO's own message (with its TF… code and typeKey
 * when ADO sent them) and the request that failed as `METHOD url` with the query string's secrets
 * never present (credentials travel only in headers, which are not recorded).
 */

/** The body ADO sends with a failed call (`{ $id, innerException, message, typeName, typeKey, errorCode, eventId }`). */
export interface AdoErrorBody {
  message?: string;
  typeName?: string;
  typeKey?: string;
  errorCode?: number;
  eventId?: number;
}

export type AdoErrorKind =
  /** ADO answered with a non-success status. */
  | "http"
  /** The connection failed or was reset before an answer arrived. */
  | "network"
  /** The PAT lifecycle API was called with a credential that is not a Microsoft Entra user token. */
  | "patNeedsUserToken"
  /** The PAT lifecycle API refused the request because of an organization policy. */
  | "patPolicy"
  /** The caller's configuration is wrong (no vssps URL, bad options, missing projects…). */
  | "config";

export interface AdoErrorInit {
  kind?: AdoErrorKind;
  status?: number;
  method?: string;
  url?: string;
  body?: AdoErrorBody;
  /** Seconds ADO asked to wait (Retry-After) on the last attempt, if any. */
  retryAfterSeconds?: number;
  attempts?: number;
  cause?: unknown;
}

/** The first `TF123456` code in a message, e.g. `TF400813`. */
function tfCodeOf(message: string | undefined): string | undefined {
  return message?.match(/\bTF\d{5,6}\b/)?.[0];
}

/** Drops the query string values that could hold secrets; keeps the path and api-version. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}

export class AdoError extends Error {
  readonly kind: AdoErrorKind;
  /** HTTP status, 0 when there was no response. */
  readonly status: number;
  readonly method?: string;
  /** The request URL (never with credentials). */
  readonly url?: string;
  /** ADO's message without our prefix. */
  readonly adoMessage?: string;
  /** ADO's `typeKey`, e.g. `SubscriptionNotFoundException`, `PatLifespanPolicyViolation`. */
  readonly typeKey?: string;
  /** The TF… code in ADO's message, if any. */
  readonly tfCode?: string;
  readonly errorCode?: number;
  readonly retryAfterSeconds?: number;
  /** How many attempts were made before giving up. */
  readonly attempts?: number;

  constructor(message: string, init: AdoErrorInit = {}) {
    const where = init.method && init.url ? ` (${init.method} ${redactUrl(init.url)})` : "";
    const status = init.status ? `${init.status}: ` : "";
    super(`${status}${message}${where}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AdoError";
    this.kind = init.kind ?? "http";
    this.status = init.status ?? 0;
    this.method = init.method;
    this.url = init.url ? redactUrl(init.url) : undefined;
    this.adoMessage = init.body?.message;
    this.typeKey = init.body?.typeKey;
    this.tfCode = tfCodeOf(init.body?.message);
    this.errorCode = init.body?.errorCode;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.attempts = init.attempts;
  }

  /** True for answers that say the thing does not exist. */
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** `err instanceof AdoError` across module copies (jest, Pulumi's serialized closures). */
export function isAdoError(err: unknown): err is AdoError {
  return err instanceof AdoError || (err instanceof Error && err.name === "AdoError" && "kind" in err);
}
