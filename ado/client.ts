/**
 * The one Azure DevOps client of HookFleet: projects, service hook subscriptions, their delivery
 * history, and the PAT lifecycle API, with one auth, throttling and retry policy for all of them.
 *
 * Public API (other parts build on exactly these names):
 *   new AdoClient({ orgUrl, auth, vsspsUrl?, maxConcurrency? = 8, maxRetries? = 5, retryBaseMs? = 500,
 *                   maxRetryDelayMs? = 60000, maxPaceMs? = 2000, projectsPageSize? = 100, requestTimeoutMs? = 100000,
 *                   testNotificationTimeoutMs? = 30000, logger? })
 *   auth: { kind: "pat", pat } | { kind: "entra", credential: TokenCredential }
 *   AdoClient.fromEnvironment(orgUrl, options?)  PAT from AZURE_DEVOPS_EXT_PAT, else DefaultAzureCredential
 *   AdoApi (ado/types.ts): listProjects, listSubscriptions, getSubscription, createSubscription,
 *     replaceSubscription, deleteSubscription, querySubscriptions, listNotifications, getNotification,
 *     sendTestNotification
 *   AdoPatApi (ado/types.ts): createPat, listPats, getPat, revokePat
 *   Errors: AdoError (ado/errors.ts) with status, kind, adoMessage, typeKey, tfCode, method, url.
 *
 * Why these pieces: `azure-devops-node-api` is Microsoft's client; its CoreApi lists projects and its
 * HTTP client (typed-rest-client with rate-limit header parsing) carries every other call too, so
 * there is one HTTP stack. It has no service hooks or PAT lifecycle API classes, hence the direct calls.
 * Both it and `@azure/identity` are loaded lazily: Pulumi cannot serialize closures that capture the
 * node client (pulumi/pulumi#18997), and a PAT-only run need not load identity at all.
 */
import type { TokenCredential } from "@azure/identity";
import type {
  IRequestHandler,
  IRequestOptions,
} from "azure-devops-node-api/interfaces/common/VsoBaseInterfaces";
import type { IHttpClientResponse } from "azure-devops-node-api/interfaces/common/VsoBaseInterfaces";
import type { CoreApi } from "azure-devops-node-api/CoreApi";
import type { WebApi } from "azure-devops-node-api";
import picomatch from "picomatch";
import { AdoError, type AdoErrorBody, redactUrl } from "./errors";
import type { PublisherId } from "./events";
import { notificationStatus } from "./wire";
import type {
  AdoApi,
  AdoPatApi,
  Notification,
  NotificationsFilter,
  PatToken,
  Project,
  ProjectFilter,
  Subscription,
  SubscriptionInput,
  SubscriptionsQuery,
} from "./types";

/** Azure DevOps' application id: the audience of Entra tokens for ADO. */
export const ADO_RESOURCE_ID = "499b84ac-1321-427f-aa17-267ca6975798";
export const ADO_SCOPE = `${ADO_RESOURCE_ID}/.default`;
export const HOOKS_API_VERSION = "7.1";
export const PAT_API_VERSION = "7.1-preview.1";
/** The Release Management publisher (events.ts), whose hooks live on the Release service's host. */
const RELEASE_PUBLISHER: PublisherId = "rm";

export type AdoAuth = { kind: "pat"; pat: string } | { kind: "entra"; credential: TokenCredential };

/** Where the client reports retries and throttling. Messages never contain credentials. */
export interface AdoLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
}

export interface AdoClientOptions {
  /** e.g. https://dev.azure.com/contoso (no trailing slash needed). */
  orgUrl: string;
  auth: AdoAuth;
  /** PAT lifecycle API base, e.g. https://vssps.dev.azure.com/contoso; derived for dev.azure.com orgs. */
  vsspsUrl?: string;
  /** Requests in flight at once for this organization (shared by clients of the same org). Default 8. */
  maxConcurrency?: number;
  /** Retries after the first attempt for throttled or transient failures. Default 5. */
  maxRetries?: number;
  /** First backoff step; doubled per retry, with jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** Cap of one backoff wait (also caps Retry-After). Default 60 s. */
  maxRetryDelayMs?: number;
  /**
   * Spacing of the org's request starts when X-RateLimit-Remaining reaches zero (none above a
   * quarter of X-RateLimit-Limit, linear in between). Default 2 s.
   */
  maxPaceMs?: number;
  /** $top of each projects page. Default 100 (ADO's own default). */
  projectsPageSize?: number;
  /** Socket timeout of one request. Default 100 s. */
  requestTimeoutMs?: number;
  /** How long sendTestNotification waits for ADO to finish the test delivery. Default 30 s. */
  testNotificationTimeoutMs?: number;
  logger?: AdoLogger;
}

const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);
/** Statuses after which the server has certainly not acted, so even a create may be retried. */
const NOT_PROCESSED_STATUSES = new Set([408, 429, 503]);
const NETWORK_RETRY_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);
/** 404 answers in a row after which sendTestNotification stops following a test notification. */
const TEST_NOTIFICATION_MAX_MISSES = 3;
/** Refresh an Entra token this long before it expires. */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------
// Per-organization gate: bounded concurrency and one shared pacing gate.

/** Pacing starts when X-RateLimit-Remaining falls below this share of X-RateLimit-Limit. */
const PACE_BELOW_RATIO = 0.25;

/** Why a request's start was held, for the logger. */
interface PaceWait {
  waitMs: number;
  reason: "pause" | "pace";
}

class OrgGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Starts are admitted one at a time, in order, by this chain (at most maxConcurrency long). */
  private turn: Promise<void> = Promise.resolve();
  /** Sleepers to wake when newer headers or a pause arrive, so they recompute their start. */
  private readonly wakers = new Set<() => void>();
  /** No request starts before this time (Retry-After / X-RateLimit-Delay), for every caller. */
  private pauseUntil = 0;
  /** When the org's latest request started; the pacing interval counts from it, across all slots. */
  private lastStartAt = 0;
  private remaining?: number;
  private limit?: number;
  /** X-RateLimit-Reset in ms: usage is back to zero then, so no pacing wait reaches past it. */
  private resetAt?: number;

  constructor(readonly maxConcurrency: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.maxConcurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Holds every caller of the org until `until` (a later pause wins; pauses do not add up). */
  pause(until: number): void {
    if (until <= this.pauseUntil) return;
    this.pauseUntil = until;
    this.wake();
  }

  /** The latest answer's rate-limit headers; absent headers mean the budget is fine again. */
  observe(remaining: number | undefined, limit: number | undefined, resetSeconds: number | undefined): void {
    this.remaining = remaining;
    this.limit = limit;
    this.resetAt = resetSeconds !== undefined ? resetSeconds * 1000 : undefined;
    this.wake();
  }

  /**
   * Minimum spacing of starts from the latest headers: 0 above a quarter of the budget, then
   * growing linearly to maxPaceMs as Remaining reaches zero. One interval for the whole org,
   * recomputed at every start, so a rate rather than a queue of reserved slots.
   */
  private intervalMs(maxPaceMs: number): number {
    const { remaining, limit } = this;
    if (remaining === undefined || !limit || limit <= 0) return 0;
    const ratio = Math.max(0, remaining) / limit;
    return ratio >= PACE_BELOW_RATIO ? 0 : maxPaceMs * (1 - ratio / PACE_BELOW_RATIO);
  }

  /**
   * Waits (holding a concurrency slot, so at most maxConcurrency callers wait here) until the org
   * may start its next request: after any pause and one pacing interval after the previous start.
   * The start time is recomputed whenever newer headers or a pause arrive.
   */
  async admit(maxPaceMs: number): Promise<PaceWait | undefined> {
    const previous = this.turn;
    let done!: () => void;
    this.turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    const began = Date.now();
    let reason: PaceWait["reason"] = "pace";
    try {
      for (;;) {
        const now = Date.now();
        let paced = this.lastStartAt + this.intervalMs(maxPaceMs);
        if (this.resetAt !== undefined) paced = Math.min(paced, this.resetAt);
        const startAt = Math.max(this.pauseUntil, paced);
        if (startAt <= now) break;
        if (this.pauseUntil > now) reason = "pause";
        await this.sleepUnlessWoken(startAt - now);
      }
      this.lastStartAt = Date.now();
    } finally {
      done();
    }
    const waitMs = this.lastStartAt - began;
    return waitMs > 0 ? { waitMs, reason } : undefined;
  }

  private sleepUnlessWoken(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakers.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakers.add(finish);
    });
  }

  private wake(): void {
    for (const finish of [...this.wakers]) finish();
  }
}

/** Clients of the same org (and bound) share one gate, so many short-lived clients still respect it. */
const gates = new Map<string, OrgGate>();
function gateFor(orgUrl: string, maxConcurrency: number): OrgGate {
  const key = `${orgUrl.toLowerCase()}|${maxConcurrency}`;
  let gate = gates.get(key);
  if (!gate) {
    gate = new OrgGate(maxConcurrency);
    gates.set(key, gate);
  }
  return gate;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

// ---------------------------------------------------------------------------------------------
// Auth

interface JwtClaims {
  scp?: string;
  roles?: string[];
  idtyp?: string;
  oid?: string;
  sub?: string;
}

/** Reads (does not verify) a JWT's claims; undefined when the token is not a JWT. */
function jwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split(".");
  if (parts.length < 2) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as JwtClaims;
  } catch {
    return undefined;
  }
}

/** An app-only token (service principal, managed identity): `idtyp: app`, or roles without scp. */
function isAppOnlyToken(token: string): boolean {
  const claims = jwtClaims(token);
  if (!claims) return false;
  if (claims.idtyp) return claims.idtyp === "app";
  return !claims.scp;
}

class AuthState {
  private header = "";
  private expiresAt = 0;
  private refreshAt = 0;
  private refreshing?: Promise<void>;
  token = "";

  constructor(readonly auth: AdoAuth) {
    if (auth.kind === "pat") {
      if (!auth.pat) throw new AdoError("the PAT is empty", { kind: "config" });
      this.header = `Basic ${Buffer.from(`:${auth.pat}`).toString("base64")}`;
    }
  }

  /** The Authorization header value, with the Entra token refreshed before it expires. */
  async authorization(): Promise<string> {
    if (this.auth.kind === "pat") return this.header;
    const now = Date.now();
    if (!this.header || now >= this.refreshAt) {
      if (!this.refreshing) {
        const refreshing = this.refresh().finally(() => (this.refreshing = undefined));
        // A failed background refresh is retried on the next call; callers that wait see the error.
        refreshing.catch(() => undefined);
        this.refreshing = refreshing;
      }
      // A still-valid token keeps serving while a refresh runs; an expired one waits for it.
      if (!this.header || now >= this.expiresAt - 30_000) await this.refreshing;
    }
    return this.header;
  }

  private async refresh(): Promise<void> {
    if (this.auth.kind !== "entra") return;
    let token;
    try {
      token = await this.auth.credential.getToken(ADO_SCOPE);
    } catch (err) {
      throw new AdoError(
        `could not get a Microsoft Entra token for Azure DevOps: ${(err as Error).message}`,
        {
          kind: "config",
          cause: err,
        },
      );
    }
    if (!token) throw new AdoError("the credential returned no token for Azure DevOps", { kind: "config" });
    this.token = token.token;
    this.header = `Bearer ${token.token}`;
    this.expiresAt = token.expiresOnTimestamp;
    this.refreshAt = Math.min(
      token.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY,
      token.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Shapes of raw answers

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Collection<T> {
  count?: number;
  value?: T[];
}

interface PatTokenResult {
  patToken?: PatToken | null;
  patTokenError?: string;
}

interface PagedPatTokens {
  patTokens?: PatToken[];
  continuationToken?: string | null;
}

interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  url: string;
  body?: unknown;
  /** False for calls that must not run twice (creates): resets and 502/504 are then not retried. */
  idempotent?: boolean;
}

/** What the retry loop learns from one attempt. */
interface AttemptOutcome {
  status: number;
  networkCode?: string;
  retryAfterSeconds?: number;
  delaySeconds?: number;
  remaining?: number;
  limit?: number;
  /** X-RateLimit-Reset: epoch seconds at which usage is back to zero. */
  resetSeconds?: number;
}

function headerOf(headers: RawResponse["headers"], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function num(v: string | number | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterOf(value: string | undefined): number | undefined {
  const seconds = num(value);
  if (seconds !== undefined || !value) return seconds;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : undefined;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type Query = Record<string, string | number | undefined>;

/** A REST URL with the query parameters that have a value, then the api-version. */
function apiUrl(base: string, apiVersion: string, query: Query): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
  url.searchParams.set("api-version", apiVersion);
  return url.toString();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** https://dev.azure.com/{org} or https://{org}.visualstudio.com → https://vssps.dev.azure.com/{org}. */
export function deriveVsspsUrl(orgUrl: string): string | undefined {
  const url = new URL(orgUrl);
  if (url.hostname === "dev.azure.com") {
    const org = url.pathname.split("/").filter(Boolean)[0];
    return org ? `https://vssps.dev.azure.com/${org}` : undefined;
  }
  const vs = url.hostname.match(/^([^.]+)\.visualstudio\.com$/);
  return vs ? `https://vssps.dev.azure.com/${vs[1]}` : undefined;
}

// ---------------------------------------------------------------------------------------------

export class AdoClient implements AdoApi, AdoPatApi {
  readonly orgUrl: string;
  readonly vsspsUrl?: string;
  private readonly authState: AuthState;
  private readonly gate: OrgGate;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxPaceMs: number;
  private readonly pageSize: number;
  private readonly requestTimeoutMs: number;
  private readonly testTimeoutMs: number;
  private readonly logger?: AdoLogger;
  private readonly requestHandler: IRequestHandler;
  private currentAuthorization = "";
  private httpClientPromise?: Promise<{
    request(
      verb: string,
      url: string,
      data: string,
      headers: Record<string, string>,
    ): Promise<IHttpClientResponse>;
  }>;
  private coreApiPromise?: Promise<CoreApi>;
  private releaseUrlPromise?: Promise<string>;
  private web?: WebApi;

  constructor(options: AdoClientOptions) {
    if (!options?.orgUrl) throw new AdoError("orgUrl is required", { kind: "config" });
    try {
      new URL(options.orgUrl);
    } catch {
      throw new AdoError(`orgUrl is not a URL: ${options.orgUrl}`, { kind: "config" });
    }
    if (!options.auth) throw new AdoError("auth is required", { kind: "config" });
    this.orgUrl = trimSlash(options.orgUrl);
    this.vsspsUrl = options.vsspsUrl ? trimSlash(options.vsspsUrl) : deriveVsspsUrl(this.orgUrl);
    this.authState = new AuthState(options.auth);
    const maxConcurrency = options.maxConcurrency ?? 8;
    if (!(maxConcurrency >= 1)) throw new AdoError("maxConcurrency must be at least 1", { kind: "config" });
    this.gate = gateFor(this.orgUrl, Math.floor(maxConcurrency));
    this.maxRetries = Math.max(0, options.maxRetries ?? 5);
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.maxPaceMs = options.maxPaceMs ?? 2_000;
    this.pageSize = Math.min(Math.max(1, options.projectsPageSize ?? 100), 500);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 100_000;
    this.testTimeoutMs = options.testNotificationTimeoutMs ?? 30_000;
    this.logger = options.logger;
    // The node client's auth hook is synchronous, so the header is refreshed before each attempt
    // (see `attempt`) and this handler only copies it onto the request.
    this.requestHandler = {
      prepareRequest: (req) => {
        req.headers = { ...(req.headers ?? {}), Authorization: this.currentAuthorization };
      },
      canHandleAuthentication: () => false,
      handleAuthentication: () => Promise.reject(new Error("not supported")),
    };
  }

  /**
   * A client for `orgUrl` with the credential the environment offers: a PAT in
   * `AZURE_DEVOPS_EXT_PAT` (the variable the az devops CLI uses), else DefaultAzureCredential
   * (workload identity, managed identity, az login…).
   */
  static fromEnvironment(orgUrl: string, options: Omit<AdoClientOptions, "orgUrl" | "auth"> = {}): AdoClient {
    const pat = process.env.AZURE_DEVOPS_EXT_PAT;
    if (pat) return new AdoClient({ ...options, orgUrl, auth: { kind: "pat", pat } });
    // Loaded here so PAT-only users and Pulumi closures do not pull identity in.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DefaultAzureCredential } = require("@azure/identity") as typeof import("@azure/identity");
    return new AdoClient({
      ...options,
      orgUrl,
      auth: { kind: "entra", credential: new DefaultAzureCredential() },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Projects

  async listProjects(filter: ProjectFilter = {}): Promise<Project[]> {
    const all = await this.fetchAllProjects();
    const wellFormed = all.filter((p) => p.state === "wellFormed");
    let chosen = wellFormed;
    if (filter.names?.length) {
      const wanted = filter.names.map((n) => n.toLowerCase());
      const missing = filter.names.filter(
        (n) =>
          !wellFormed.some(
            (p) => p.name.toLowerCase() === n.toLowerCase() || p.id.toLowerCase() === n.toLowerCase(),
          ),
      );
      if (missing.length) {
        throw new AdoError(
          `projects not found (or not wellFormed) in ${this.orgUrl}: ${missing.join(", ")}`,
          {
            kind: "config",
          },
        );
      }
      chosen = wellFormed.filter(
        (p) => wanted.includes(p.name.toLowerCase()) || wanted.includes(p.id.toLowerCase()),
      );
    }
    // ADO project names are case-insensitive, so the globs are too.
    const include = filter.include?.length
      ? picomatch(filter.include, { nocase: true, dot: true })
      : undefined;
    const exclude = filter.exclude?.length
      ? picomatch(filter.exclude, { nocase: true, dot: true })
      : undefined;
    return chosen
      .filter((p) => (include ? include(p.name) : true) && !(exclude && exclude(p.name)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every project of the org (all states), paged with $top/$skip through the node client's CoreApi. */
  private async fetchAllProjects(): Promise<Project[]> {
    const byId = new Map<string, Project>();
    for (let skip = 0; ; skip += this.pageSize) {
      const page = await this.withRetries(
        { method: "GET", url: `${this.orgUrl}/_apis/projects` },
        async () => {
          const core = await this.coreApi();
          // CoreApi ignores the x-ms-continuationtoken header (azure-devops-facts.md), so $top/$skip it is.
          // stateFilter is typed `any` by the node client; the REST name keeps non-wellFormed ones visible.
          return core.getProjects("all", this.pageSize, skip);
        },
      );
      const known = byId.size;
      for (const p of page ?? []) {
        byId.set(p.id ?? "", {
          id: p.id ?? "",
          name: p.name ?? "",
          state: String(p.state ?? ""),
          url: p.url,
          description: p.description,
          lastUpdateTime: p.lastUpdateTime ? new Date(p.lastUpdateTime).toISOString() : undefined,
        });
      }
      // A short page is the last one; a page with nothing new means the server ignored $skip.
      if (!page || page.length < this.pageSize || byId.size === known) break;
    }
    return [...byId.values()];
  }

  /** The node client's connection: one per client, which keeps the resource areas once it has them. */
  private webApi(): WebApi {
    if (!this.web) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { WebApi } = require("azure-devops-node-api") as typeof import("azure-devops-node-api");
      this.web = new WebApi(this.orgUrl, this.requestHandler, this.nodeClientOptions());
    }
    return this.web;
  }

  private coreApi(): Promise<CoreApi> {
    this.coreApiPromise ??= this.webApi()
      .getCoreApi()
      .catch((err: unknown) => {
        this.coreApiPromise = undefined; // the location lookups are retried on the next attempt
        throw err;
      });
    return this.coreApiPromise;
  }

  /**
   * The base URL of the Release service of the organization: where subscriptions of the `rm`
   * publisher must be written (RELEASE_PUBLISHER). The node client finds it as for its ReleaseApi:
   * the organization's resource areas name the service that hosts each area (vsrm.dev.azure.com/
   * {org} on Azure DevOps Services; an empty list on Azure DevOps Server keeps the collection URL).
   */
  private releaseUrl(): Promise<string> {
    this.releaseUrlPromise ??= this.withRetries(
      { method: "GET", url: `${this.orgUrl}/_apis/ResourceAreas` },
      () => this.webApi().getReleaseApi(),
    )
      .then((api) => trimSlash(api.baseUrl))
      .catch((err: unknown) => {
        this.releaseUrlPromise = undefined;
        throw err;
      });
    return this.releaseUrlPromise;
  }

  private nodeClientOptions(): IRequestOptions {
    return { socketTimeout: this.requestTimeoutMs, allowRetries: false, keepAlive: false };
  }

  // -------------------------------------------------------------------------------------------
  // Service hooks

  private hooksUrl(path: string, query: Query = {}): string {
    return apiUrl(`${this.orgUrl}/_apis/hooks/${path}`, HOOKS_API_VERSION, query);
  }

  /**
   * The URL of a write that needs the publisher's handler (creating or replacing a subscription,
   * a test notification): on the Release service's host for `rm`, as Azure DevOps Services
   * registers that publisher's hooks there; on the organization's otherwise. Reads and deletes
   * of every subscription stay on the organization's host. Sources: an rm subscription created on
   * dev.azure.com fails, on vsrm works (MicrosoftDocs/feedback#916); a client used against real
   * organizations creates them on vsrm and reads and deletes them on dev.azure.com
   * (Rabobank-Archive/rules, VstsService/Requests/Hooks.cs). Replace and test on vsrm are
   * *unconfirmed* (docs/ado.md "Release hooks").
   */
  private async hooksWriteUrl(publisherId: string, path: string, query: Query = {}): Promise<string> {
    const base = publisherId === RELEASE_PUBLISHER ? await this.releaseUrl() : this.orgUrl;
    return apiUrl(`${base}/_apis/hooks/${path}`, HOOKS_API_VERSION, query);
  }

  async listSubscriptions(
    filter: { consumerUrlPrefix?: string; publisherId?: string; eventType?: string } = {},
  ): Promise<Subscription[]> {
    // Subscriptions_List: one org-wide answer, every consumer (myGet, jenkins… share it), no paging
    // parameters in the spec.
    const res = await this.json<Collection<Subscription>>({
      method: "GET",
      url: this.hooksUrl("subscriptions", { publisherId: filter.publisherId, eventType: filter.eventType }),
    });
    const all = (res?.value ?? []).map(withInputMaps);
    const prefix = filter.consumerUrlPrefix;
    return prefix ? all.filter((s) => (s.consumerInputs.url ?? "").startsWith(prefix)) : all;
  }

  async getSubscription(id: string): Promise<Subscription | undefined> {
    try {
      const sub = await this.json<Subscription>({
        method: "GET",
        url: this.hooksUrl(`subscriptions/${encodeURIComponent(id)}`),
      });
      return withInputMaps(sub);
    } catch (err) {
      if (err instanceof AdoError && err.status === 404) return undefined;
      throw err;
    }
  }

  async createSubscription(input: SubscriptionInput): Promise<Subscription> {
    const sub = await this.json<Subscription>({
      method: "POST",
      url: await this.hooksWriteUrl(input.publisherId, "subscriptions"),
      body: { status: "enabled", ...input },
      idempotent: false,
    });
    return withInputMaps(sub);
  }

  async replaceSubscription(id: string, input: SubscriptionInput): Promise<Subscription> {
    const sub = await this.json<Subscription>({
      method: "PUT",
      url: await this.hooksWriteUrl(input.publisherId, `subscriptions/${encodeURIComponent(id)}`),
      body: { ...input, id },
    });
    return withInputMaps(sub);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    try {
      await this.json({ method: "DELETE", url: this.hooksUrl(`subscriptions/${encodeURIComponent(id)}`) });
      return true;
    } catch (err) {
      if (err instanceof AdoError && err.status === 404) return false;
      throw err;
    }
  }

  async querySubscriptions(query: SubscriptionsQuery): Promise<Subscription[]> {
    const res = await this.json<SubscriptionsQuery & { results?: Subscription[] }>({
      method: "POST",
      url: this.hooksUrl("subscriptionsquery"),
      body: query,
    });
    return (res?.results ?? []).map(withInputMaps);
  }

  async listNotifications(subscriptionId: string, filter: NotificationsFilter = {}): Promise<Notification[]> {
    const res = await this.json<Collection<Notification>>({
      method: "GET",
      url: this.hooksUrl(`subscriptions/${encodeURIComponent(subscriptionId)}/notifications`, {
        maxResults: filter.maxResults,
        status: filter.status,
        result: filter.result,
      }),
    });
    return res?.value ?? [];
  }

  async getNotification(subscriptionId: string, notificationId: number): Promise<Notification | undefined> {
    try {
      return await this.json<Notification>({
        method: "GET",
        url: this.hooksUrl(
          `subscriptions/${encodeURIComponent(subscriptionId)}/notifications/${encodeURIComponent(String(notificationId))}`,
        ),
      });
    } catch (err) {
      if (err instanceof AdoError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Posts a test notification for the subscription (its stored inputs; ADO keeps the masked secret)
   * and follows it with Notifications_Get (`subscriptions/{id}/notifications/{notificationId}`)
   * until ADO has finished the delivery or the timeout passes. There is no published GET
   * `testnotifications/{id}` (serviceHooks.json has a POST only, in every version 4.1–7.2).
   * Whether a test notification is visible through Notifications_Get is *unconfirmed*: after
   * TEST_NOTIFICATION_MAX_MISSES answers of 404 in a row the last known state is returned (not
   * completed, so callers report the outcome as unknown) instead of polling until the timeout.
   */
  async sendTestNotification(subscriptionId: string): Promise<Notification> {
    const sub = await this.getSubscription(subscriptionId);
    if (!sub) throw new AdoError(`subscription ${subscriptionId} not found`, { status: 404, kind: "http" });
    let notification = await this.json<Notification>({
      method: "POST",
      url: await this.hooksWriteUrl(sub.publisherId, "testnotifications", { useRealData: "false" }),
      body: {
        subscriptionId,
        details: {
          publisherId: sub.publisherId,
          eventType: sub.eventType,
          consumerId: sub.consumerId,
          consumerActionId: sub.consumerActionId,
          publisherInputs: sub.publisherInputs,
          consumerInputs: sub.consumerInputs,
        },
      },
      idempotent: false,
    });
    const deadline = Date.now() + this.testTimeoutMs;
    let pollMs = 100;
    let misses = 0;
    while (notificationStatus(notification) !== "completed" && Date.now() < deadline) {
      await sleep(pollMs);
      pollMs = Math.min(pollMs * 2, 2_000);
      const latest = await this.getNotification(
        notification.subscriptionId || subscriptionId,
        notification.id,
      );
      if (!latest) {
        if (++misses >= TEST_NOTIFICATION_MAX_MISSES) {
          this.logger?.debug?.("ado test notification not visible through Notifications_Get", {
            subscriptionId,
            notificationId: notification.id,
          });
          break;
        }
        continue;
      }
      misses = 0;
      notification = latest;
    }
    return notification;
  }

  // -------------------------------------------------------------------------------------------
  // PAT lifecycle (vssps)

  private patUrl(query: Query = {}): string {
    if (!this.vsspsUrl) {
      throw new AdoError(
        `no vsspsUrl for ${this.orgUrl}: pass vsspsUrl (https://vssps.dev.azure.com/{org})`,
        {
          kind: "config",
        },
      );
    }
    return apiUrl(`${this.vsspsUrl}/_apis/tokens/pats`, PAT_API_VERSION, query);
  }

  /** The PAT lifecycle API takes only an Entra *user* token; say so before ADO does. */
  private async requireUserToken(): Promise<void> {
    const hint =
      "the PAT lifecycle API accepts only a Microsoft Entra user token (audience " +
      `${ADO_RESOURCE_ID}); a PAT, service principal or managed identity cannot create, list or revoke PATs`;
    if (this.authState.auth.kind === "pat")
      throw new AdoError(`${hint}; this client uses a PAT`, { kind: "patNeedsUserToken" });
    await this.authState.authorization();
    if (isAppOnlyToken(this.authState.token)) {
      throw new AdoError(
        `${hint}; this client's token is an app-only (service principal / managed identity) token`,
        {
          kind: "patNeedsUserToken",
        },
      );
    }
  }

  /** Maps ADO's refusal of a non-user token onto the clear error. */
  private async patCall<T>(spec: RequestSpec): Promise<T> {
    await this.requireUserToken();
    try {
      return await this.json<T>(spec);
    } catch (err) {
      if (err instanceof AdoError && (err.status === 401 || err.status === 403)) {
        throw new AdoError(
          `the PAT lifecycle API refused the credential (it accepts only a Microsoft Entra user token): ${err.adoMessage ?? err.message}`,
          {
            kind: "patNeedsUserToken",
            status: err.status,
            method: spec.method,
            url: spec.url,
            body: { message: err.adoMessage, typeKey: err.typeKey },
          },
        );
      }
      if (err instanceof AdoError && err.typeKey && /policy/i.test(err.typeKey)) {
        throw new AdoError(`PAT refused by organization policy (${err.typeKey}): ${err.adoMessage ?? ""}`, {
          kind: "patPolicy",
          status: err.status,
          method: spec.method,
          url: spec.url,
          body: { message: err.adoMessage, typeKey: err.typeKey },
        });
      }
      throw err;
    }
  }

  private patResult(result: PatTokenResult | undefined, spec: RequestSpec): PatToken {
    const error = result?.patTokenError;
    if (error && error !== "none") {
      const kind = /policy/i.test(error) ? "patPolicy" : "http";
      const explain: Record<string, string> = {
        patLifespanPolicyViolation: "validTo is beyond the organization's maximum PAT lifespan",
        globalPatPolicyViolation: "the organization does not allow all-organizations (global) PATs",
        fullScopePatPolicyViolation: "the organization does not allow full-scope PATs; name explicit scopes",
      };
      throw new AdoError(`PAT request refused: ${error}${explain[error] ? ` (${explain[error]})` : ""}`, {
        kind,
        status: 400,
        method: spec.method,
        url: spec.url,
        body: { message: error, typeKey: error },
      });
    }
    if (!result?.patToken)
      throw new AdoError("the PAT API answered without a token", { method: spec.method, url: spec.url });
    return result.patToken;
  }

  async createPat(request: { displayName: string; scope: string; validTo: string }): Promise<PatToken> {
    // Org-scoped only: global PATs are being retired (azure-devops-facts.md).
    const spec: RequestSpec = {
      method: "POST",
      url: this.patUrl(),
      body: { ...request, allOrgs: false },
      idempotent: false,
    };
    return this.patResult(await this.patCall<PatTokenResult>(spec), spec);
  }

  async listPats(): Promise<PatToken[]> {
    const all: PatToken[] = [];
    let continuationToken: string | undefined;
    do {
      const page: PagedPatTokens | undefined = await this.patCall<PagedPatTokens>({
        method: "GET",
        url: this.patUrl({ displayFilterOption: "active", $top: 100, continuationToken }),
      });
      all.push(...(page?.patTokens ?? []));
      continuationToken = page?.continuationToken || undefined;
    } while (continuationToken);
    return all;
  }

  async getPat(authorizationId: string): Promise<PatToken | undefined> {
    const spec: RequestSpec = { method: "GET", url: this.patUrl({ authorizationId }) };
    let result: PatTokenResult | undefined;
    try {
      result = await this.patCall<PatTokenResult>(spec);
    } catch (err) {
      if (err instanceof AdoError && err.status === 404) return undefined;
      throw err;
    }
    if (!result?.patToken || result.patTokenError === "authorizationNotFound") return undefined;
    return this.patResult(result, spec);
  }

  async revokePat(authorizationId: string): Promise<boolean> {
    try {
      await this.patCall({ method: "DELETE", url: this.patUrl({ authorizationId }) });
      return true;
    } catch (err) {
      if (err instanceof AdoError && err.status === 404) return false;
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // HTTP: one stack (the node client's typed-rest-client), one retry and throttling policy.

  private httpClient() {
    this.httpClientPromise ??= (async () => {
      type Bases = typeof import("azure-devops-node-api/AdoHttpClientBases");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { AdoHttpClient } = require("azure-devops-node-api/AdoHttpClientBases") as Bases;
      return new AdoHttpClient("hookfleet-ado-client", [this.requestHandler], this.nodeClientOptions());
    })();
    return this.httpClientPromise;
  }

  /** Sends a request and parses its JSON answer; non-2xx answers become AdoErrors. */
  private async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.withRetries(spec, async () => {
      const http = await this.httpClient();
      const headers: Record<string, string> = { Accept: "application/json" };
      let data = "";
      if (spec.body !== undefined) {
        data = JSON.stringify(spec.body);
        headers["Content-Type"] = "application/json; charset=utf-8";
      }
      const response = await http.request(spec.method, spec.url, data, headers);
      const body = await response.readBody();
      const raw: RawResponse = {
        status: response.message.statusCode ?? 0,
        headers: response.message.headers,
        body,
      };
      if (raw.status < 200 || raw.status >= 300) throw new HttpStatusError(raw);
      // ADO answers a request it could not authenticate with 203 and a sign-in page.
      if (raw.status === 203 && /text\/html/i.test(headerOf(raw.headers, "content-type") ?? "")) {
        throw new HttpStatusError({
          ...raw,
          status: 401,
          body: JSON.stringify({
            message: "ADO answered with a sign-in page: the credential was not accepted",
          }),
        });
      }
      // Every operation HookFleet calls answers JSON, or nothing to a DELETE (serviceHooks.json,
      // tokens.json, core.json). Anything else with a 2xx (a sign-in page reached through a
      // redirect, a proxy's page) must fail, not read as an empty list or a blank subscription.
      const expectsJson = spec.method !== "DELETE" && raw.status !== 204;
      if ((expectsJson || body.trim()) && parseJson(body) === undefined) {
        const type = headerOf(raw.headers, "content-type") ?? "no content type";
        throw new AdoError(
          `the answer has ${body.trim() ? "a body that is not JSON" : "no body"} (${type}): ` +
            "not Azure DevOps' REST API at this URL, or a sign-in or proxy page; check the organization URL and the credential",
          { status: raw.status, method: spec.method, url: spec.url },
        );
      }
      return raw;
    });
    return parseJson(res.body) as T;
  }

  /**
   * Runs one logical request with the org gate, pacing and retries. `attemptFn` throws an
   * HttpStatusError for a non-2xx answer, a node client error (statusCode, result, rateLimit) or a
   * network error; anything retryable is retried with backoff, the rest becomes an AdoError.
   */
  private async withRetries<T>(spec: RequestSpec, attemptFn: () => Promise<T>): Promise<T> {
    const idempotent = spec.idempotent ?? true;
    for (let attempt = 1; ; attempt++) {
      // The slot first, then the pacing gate: only slot holders wait for a start, so the gate's
      // queue is never longer than maxConcurrency however many callers there are.
      await this.gate.acquire();
      let outcome: AttemptOutcome;
      let failure: unknown;
      try {
        const held = await this.gate.admit(this.maxPaceMs);
        if (held) this.logger?.debug?.("ado request held by the org's throttling gate", { ...held });
        this.currentAuthorization = await this.authState.authorization();
        const result = await attemptFn();
        this.learn(rateLimitOf(result));
        return result;
      } catch (err) {
        if (err instanceof AdoError) throw err;
        failure = err;
        outcome = outcomeOf(err);
        this.learn(outcome);
      } finally {
        this.gate.release();
      }
      const retryable = outcome.networkCode
        ? NETWORK_RETRY_CODES.has(outcome.networkCode) &&
          (idempotent || outcome.networkCode === "ECONNREFUSED")
        : RETRYABLE_STATUSES.has(outcome.status) &&
          (idempotent || NOT_PROCESSED_STATUSES.has(outcome.status));
      if (!retryable || attempt > this.maxRetries) throw toAdoError(spec, failure, outcome, attempt);
      let wait: number;
      if (outcome.retryAfterSeconds !== undefined && outcome.retryAfterSeconds > 0) {
        // Retry-After holds the whole org until one instant (see learn); this caller waits at the
        // gate with the others instead of adding a wait of its own.
        wait = 0;
      } else {
        const backoff = Math.min(this.maxRetryDelayMs, this.retryBaseMs * 2 ** (attempt - 1));
        wait = backoff / 2 + Math.random() * (backoff / 2);
      }
      this.logger?.warn?.("ado request retried", {
        method: spec.method,
        url: redactUrl(spec.url),
        status: outcome.status || undefined,
        network: outcome.networkCode,
        attempt,
        waitMs: Math.round(wait),
        retryAfterSeconds: outcome.retryAfterSeconds,
      });
      await sleep(wait);
    }
  }

  /** Hands an answer's throttling headers to the org's gate. */
  private learn(o: Partial<AttemptOutcome> | undefined): void {
    // ADO sends the X-RateLimit-* headers only near or past the limit: an answer without them
    // means the budget is fine again, so stale pacing state is dropped.
    this.gate.observe(o?.remaining, o?.limit, o?.resetSeconds);
    if (!o) return;
    if (o.retryAfterSeconds !== undefined && o.retryAfterSeconds > 0) {
      this.gate.pause(Date.now() + Math.min(this.maxRetryDelayMs, o.retryAfterSeconds * 1000));
    }
    // ADO already delayed this request; holding the next ones as long keeps us out of the 429 phase.
    if (o.delaySeconds && o.delaySeconds > 0) {
      this.gate.pause(Date.now() + Math.min(this.maxRetryDelayMs, o.delaySeconds * 1000));
      this.logger?.debug?.("ado asked to slow down (X-RateLimit-Delay)", { delaySeconds: o.delaySeconds });
    }
  }
}

/**
 * The spec does not promise `publisherInputs` / `consumerInputs` on a subscription: an absent map
 * reads as empty, so callers can index it.
 */
function withInputMaps(sub: Subscription): Subscription {
  return { ...sub, publisherInputs: sub.publisherInputs ?? {}, consumerInputs: sub.consumerInputs ?? {} };
}

/** A non-2xx answer from our own calls, before it becomes an AdoError. */
class HttpStatusError extends Error {
  constructor(readonly response: RawResponse) {
    super(`HTTP ${response.status}`);
  }
}

interface NodeClientRateLimit {
  retryAfter?: number;
  delay?: number;
  remaining?: number;
  limit?: number;
  reset?: number;
}

type RateLimitState = Pick<AttemptOutcome, "delaySeconds" | "remaining" | "limit" | "resetSeconds">;

/** The X-RateLimit-* headers of one of our own answers. */
function rateLimitFromHeaders(h: RawResponse["headers"]): RateLimitState {
  return {
    delaySeconds: num(headerOf(h, "x-ratelimit-delay")),
    remaining: num(headerOf(h, "x-ratelimit-remaining")),
    limit: num(headerOf(h, "x-ratelimit-limit")),
    resetSeconds: num(headerOf(h, "x-ratelimit-reset")),
  };
}

/** The same headers as the node client already parsed them (CoreApi answers and errors). */
function rateLimitFromNodeClient(rl: NodeClientRateLimit | undefined): RateLimitState {
  return { delaySeconds: rl?.delay, remaining: rl?.remaining, limit: rl?.limit, resetSeconds: rl?.reset };
}

function rateLimitOf(result: unknown): Partial<AttemptOutcome> | undefined {
  if (result && typeof result === "object") {
    if ("headers" in result && "status" in result)
      return rateLimitFromHeaders((result as RawResponse).headers);
    const rl = (result as { rateLimit?: NodeClientRateLimit }).rateLimit;
    if (rl) return rateLimitFromNodeClient(rl);
  }
  return undefined;
}

function outcomeOf(err: unknown): AttemptOutcome {
  if (err instanceof HttpStatusError) {
    const h = err.response.headers;
    return {
      status: err.response.status,
      retryAfterSeconds: retryAfterOf(headerOf(h, "retry-after")),
      ...rateLimitFromHeaders(h),
    };
  }
  const e = err as {
    statusCode?: number;
    code?: string;
    rateLimit?: NodeClientRateLimit;
    cause?: { code?: string };
  };
  if (typeof e?.statusCode === "number") {
    return {
      status: e.statusCode,
      retryAfterSeconds: e.rateLimit?.retryAfter,
      ...rateLimitFromNodeClient(e.rateLimit),
    };
  }
  const code = e?.code ?? e?.cause?.code;
  if (typeof code === "string") return { status: 0, networkCode: code };
  // typed-rest-client reports a socket timeout as a plain Error("Request timeout: …").
  if (err instanceof Error && /timeout/i.test(err.message))
    return { status: 0, networkCode: "ESOCKETTIMEDOUT" };
  return { status: 0, networkCode: "UNKNOWN" };
}

function bodyOf(err: unknown): AdoErrorBody | undefined {
  if (err instanceof HttpStatusError) {
    const parsed = parseJson(err.response.body);
    if (parsed && typeof parsed === "object") return parsed as AdoErrorBody;
    const text = err.response.body.trim();
    return text ? { message: text.slice(0, 500) } : undefined;
  }
  const result = (err as { result?: unknown })?.result;
  if (result && typeof result === "object") return result as AdoErrorBody;
  return undefined;
}

function toAdoError(spec: RequestSpec, err: unknown, outcome: AttemptOutcome, attempts: number): AdoError {
  if (outcome.networkCode) {
    const unsure = spec.idempotent === false ? " (the request may or may not have been processed)" : "";
    // Node's network error messages name the address and the code, never a credential.
    const detail = err instanceof Error && err.message ? ` (${err.message})` : "";
    return new AdoError(`no answer from Azure DevOps: ${outcome.networkCode}${detail}${unsure}`, {
      kind: "network",
      method: spec.method,
      url: spec.url,
      attempts,
      cause: err,
    });
  }
  const body = bodyOf(err);
  const message = body?.message ?? (err instanceof Error ? err.message : String(err));
  return new AdoError(message, {
    kind: "http",
    status: outcome.status,
    method: spec.method,
    url: spec.url,
    body,
    retryAfterSeconds: outcome.retryAfterSeconds,
    attempts,
  });
}
