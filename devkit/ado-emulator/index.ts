/**
 * ADO emulator: an HTTP server on loopback that stands in for Azure DevOps Services in tests,
 * benchmarks and the sandbox. By default it answers the way Microsoft's published examples do
 * (../shared/ado-spec/, whose README lists the surprises): enabled subscriptions carry no `status`
 * and no `probationRetries`, `resourceVersion` may be null, "" means All, timestamps have 2, 3 or
 * 7 fractional digits, other consumers' subscriptions (myGet, jenkins, trello, zendesk) share the
 * org list, release events have no project container, there is no GET `testnotifications/{id}`,
 * and Basic authentication over http is a 400. Otherwise it follows
 * ../shared/design/azure-devops-facts.md. Where ADO's behaviour is not stated in an official
 * source, the code says *unconfirmed*.
 *
 * Public API (others build on exactly these names; extend, do not rename):
 *
 *   startAdoEmulator(options?: AdoEmulatorOptions): Promise<AdoEmulator>
 *     options.orgs         [{ name, projects?: number | string[] }]  default [{ name: "contoso", projects: 3 }]
 *     options.latencyMs    added to every API request (real ms)       default 0
 *     options.rateLimit    { enabled, budget? = 200, windowMs? = 300000, delayMs? = 500, blockAt? = 1.5 × budget }
 *     options.timeScale    multiplies ADO's retry/probation schedule  default 1 (0.001 = 1000× faster)
 *     options.pat          the PAT every org accepts                   default random
 *     options.port/host    default 0 (random) / 127.0.0.1
 *     options.deliveryTimeoutMs  per delivery attempt                  default 20000
 *     options.patPolicy    { maxLifespanDays? = 365, allowFullScope? = false, allowGlobal? = false }
 *     options.allowBasicAuthOverLoopbackHttp  accept Basic credentials on an http:// URL whose host is
 *                          127.x / localhost / [::1] (tests and the sandbox, whose receivers listen
 *                          there); ADO refuses Basic over http with 400, and so does the emulator
 *                          without this opt-in                                   default false
 *     options.otherConsumers  seed each org with subscriptions of other consumers (myGet, jenkins,
 *                          trello, zendesk), as in Microsoft's GET subscriptions example   default true
 *     options.unconfirmed  how the emulator plays ADO behaviours no source states (fault knobs for
 *                          the code that guards against them): { putMaskKeepsPassword = true,
 *                          putStatusEnables = true, historyRetentionMs = Infinity,
 *                          historyListDetails = true }
 *
 *   AdoEmulator
 *     baseUrl, orgUrl(org?), vsspsUrl(org?), releaseUrl(org?), orgs (names), pat, userToken, otherUserToken,
 *     servicePrincipalToken
 *     emit(event | eventType, { org?, project? }) → Promise<DeliveryReport>   (resolves after the first
 *         delivery round incl. transient retries; probation continues in the background: await idle())
 *     idle() → Promise<void>          every background delivery (probation, test notifications) done
 *     subscriptions(org?) / subscription(id, org?)   stored state, secrets NOT masked (copies)
 *     notifications(subscriptionId, org?)            the delivery history, newest first
 *     projects(org?), addProject(name, { org?, state?, id? }), deleteProject(nameOrId, org?) (drops its hooks)
 *     addSubscription(input, { org? })  a hand-made subscription (no validation, server inputs added)
 *     setSubscriptionStatus(id, status, org?)
 *     pats(org?)                        PATs created through the PAT API (with their secrets)
 *     setTimeScale(x), timeScale, setLatency(ms), setRateLimit(options), setUnconfirmed(partial)
 *     failNext(k, status | "reset", { route?, retryAfterSeconds?, message? })  next k matching API requests fail
 *     failDeliveries({ url, status, org?, project? }) → rule; deliveryFailures(); clearDeliveryFailures(id?)
 *         deliveries (and test deliveries) to a URL prefix fail with that status, nothing is sent
 *     advanceClock(seconds) → { retries }   ADO's delivery clock jumps ahead; every retry due meanwhile runs
 *     counters: { total, byRoute, byStatus, inFlight, maxInFlight, reset() }
 *     close()
 *
 * Routes (per org): GET _apis/ResourceAreas, OPTIONS _apis/{area} (Location, core), GET _apis/projects
 * (+ /{id}), _apis/hooks/subscriptions (GET, POST, GET/PUT/DELETE {id}, GET {id}/notifications,
 * GET {id}/notifications/{notificationId}), POST _apis/hooks/subscriptionsquery, POST
 * _apis/hooks/notificationsquery, POST _apis/hooks/testnotifications (POST only, as published);
 * vssps: {base}/vssps/{org}/_apis/tokens/pats (GET, POST, PUT, DELETE).
 * Release host (options.releaseHost): {base}/vsrm/{org}/_apis/hooks/subscriptions (POST, PUT {id}) and
 * /testnotifications (POST), for rm subscriptions only; the org host refuses those writes for rm.
 * Control surface (control.ts, not ADO, not counted): /_emulator (status), /_emulator/events,
 * /_emulator/delivery-failures, /_emulator/clock, /_emulator/clock/advance.
 * Route keys in `counters.byRoute` look like "GET /_apis/hooks/subscriptions/{id}" and
 * "GET /_apis/hooks/subscriptions/{id}/notifications/{id}".
 */
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { eventTypeInfo } from "../../ado/events";
import { eventProjectId } from "../../ado/wire";
import { digestEquals, sha256Hex } from "../../app/tokens";
import type {
  NotificationDetails,
  AdoEvent,
  IdentityRef,
  Notification,
  NotificationResult,
  NotificationStatus,
  PatToken,
  Project,
  Subscription,
  SubscriptionInput,
  SubscriptionStatus,
} from "../../ado/types";
import { sampleEvent } from "../ado-events";
import {
  AdoFault,
  deliveredPayload,
  maskInputs,
  maskSubscription,
  mergeConfidentialInputs,
  parseHttpHeaders,
  subscriptionMatches,
  validateSubscription,
  releaseHostRule,
  wireNotification,
} from "./hooks-rules";
import { AdoClock } from "./clock";
import { CONTROL_PREFIX, handleControlRequest } from "./control";

export { AdoFault } from "./hooks-rules";

// ---------------------------------------------------------------------------------------------
// Options and public types

export interface EmulatorOrgOptions {
  name: string;
  /** How many projects to generate (Project-001…), or their names. Default 3. */
  projects?: number | string[];
}

export interface RateLimitOptions {
  enabled: boolean;
  /** TSTUs (here: requests) per identity in the window before ADO starts delaying. Default 200. */
  budget?: number;
  /** Sliding window. Default 5 minutes. */
  windowMs?: number;
  /** How long a request is held in the delay phase (ADO: up to 30 s). Default 500 ms. */
  delayMs?: number;
  /** Usage at which requests are blocked with 429 + Retry-After. Default 1.5 × budget. */
  blockAt?: number;
}

export interface PatPolicyOptions {
  maxLifespanDays?: number;
  allowFullScope?: boolean;
  allowGlobal?: boolean;
}

/**
 * ADO behaviours no official source states, as the emulator plays them. The defaults are what
 * azure-devops-facts.md assumes; the other settings are fault knobs for the code that guards
 * against ADO behaving otherwise (ado/replace.ts, the heal job's history notes).
 */
export interface UnconfirmedBehaviour {
  /** A PUT with basicAuthPassword `********` keeps the stored password (false: drops it). */
  putMaskKeepsPassword?: boolean;
  /** A PUT with `status: "enabled"` re-enables a disabled hook (false: the status stays). */
  putStatusEnables?: boolean;
  /** How long the notification history keeps entries, in real ms (default: for ever). */
  historyRetentionMs?: number;
  /**
   * Whether a history *list* carries each entry's `details` (default true). serviceHooks.json says
   * details are "if available"; false plays a list without them (Notifications_Get still has them).
   */
  historyListDetails?: boolean;
}

export interface AdoEmulatorOptions {
  orgs?: EmulatorOrgOptions[];
  latencyMs?: number;
  rateLimit?: RateLimitOptions;
  /** Multiplies ADO's delivery retry and probation schedule; 1 = real time. */
  timeScale?: number;
  pat?: string;
  port?: number;
  host?: string;
  deliveryTimeoutMs?: number;
  patPolicy?: PatPolicyOptions;
  /**
   * Accept Basic credentials on an http:// URL whose host is loopback (127.x, localhost, [::1]).
   * ADO answers 400 to Basic over http (it needs https) and cannot reach loopback at all; tests and
   * the sandbox, whose receivers listen on 127.0.0.1 over plain http, opt in. Default false.
   */
  allowBasicAuthOverLoopbackHttp?: boolean;
  /** Seed each org with other consumers' subscriptions, as ADO's own list has them. Default true. */
  otherConsumers?: boolean;
  /**
   * Serve the Release service's host apart from the organization's, as Azure DevOps Services does:
   * ResourceAreas names it, and `rm` subscriptions are created and replaced only there (see
   * releaseHostRule in hooks-rules.ts). false: one host for everything, as Azure DevOps Server
   * (ResourceAreas answers an empty list). Default true.
   */
  releaseHost?: boolean;
  unconfirmed?: UnconfirmedBehaviour;
}

/** What happened to one subscription's copy of an emitted event (first round). */
export interface SubscriptionDelivery {
  subscriptionId: string;
  /**
   * delivered: a 2xx arrived; failed: every attempt of the round failed (now on probation or disabled);
   * queued: the subscription is on probation, the event waits behind the failed one;
   * notDelivered: the subscription is disabled, ADO drops the event.
   */
  outcome: "delivered" | "failed" | "queued" | "notDelivered";
  attempts: number;
  /** HTTP status of the last attempt (0 = no answer). */
  lastStatus?: number;
  error?: string;
  /** The subscription's status after the round. */
  subscriptionStatus: SubscriptionStatus;
}

export interface DeliveryReport {
  event: AdoEvent;
  org: string;
  /** Subscriptions the event matched (any status). */
  matched: number;
  deliveries: SubscriptionDelivery[];
}

export interface EmulatorCounters {
  total: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  inFlight: number;
  maxInFlight: number;
  reset(): void;
}

export interface FailNextOptions {
  /** Only requests whose route key contains this string (e.g. "/_apis/projects", "POST "). */
  route?: string;
  /** Retry-After (s) on the injected answer; default 1 for 429 and 503. */
  retryAfterSeconds?: number;
  message?: string;
}

/** Deliveries to a URL answered with a status instead of being sent (the receiver failing). */
export interface DeliveryFailureRule {
  /** Deliveries (and test deliveries) whose URL starts with this fail, e.g. a receiver's base URL. */
  url: string;
  /** The HTTP status every such attempt gets (400–599): 408/502/503/504 are transient for ADO. */
  status: number;
  /** Only events of this organization (name). */
  org?: string;
  /** Only events of this project (name or id). */
  project?: string;
}

export interface DeliveryFailure extends DeliveryFailureRule {
  id: string;
  /** Attempts it has failed so far. */
  matched: number;
}

/** What `advanceClock` did. */
export interface ClockAdvance {
  /** ADO seconds the clock moved. */
  seconds: number;
  /** Delivery attempts made during the jump (the retries that fell due, and what they set off). */
  attempts: number;
  timeScale: number;
}

export interface AdoEmulator {
  readonly baseUrl: string;
  readonly orgs: string[];
  orgUrl(org?: string): string;
  vsspsUrl(org?: string): string;
  /** The Release service's host of the org (`options.releaseHost`; else the org URL). */
  releaseUrl(org?: string): string;
  /** The PAT every organization accepts (HTTP Basic, any user name). */
  readonly pat: string;
  /** An Entra user access token (JWT-shaped, unsigned): accepted everywhere, incl. the PAT API. */
  readonly userToken: string;
  /**
   * A colleague's Entra user token, accepted like userToken. The PAT API shows each user only the
   * PATs they created (tokens/7.1/tokens.json: PATs are "for the requesting user").
   */
  readonly otherUserToken: string;
  /** An Entra app-only token (service principal): accepted by the org APIs, refused by the PAT API. */
  readonly servicePrincipalToken: string;
  emit(event: AdoEvent | string, options?: { org?: string; project?: string }): Promise<DeliveryReport>;
  idle(): Promise<void>;
  subscriptions(org?: string): Subscription[];
  subscription(id: string, org?: string): Subscription | undefined;
  notifications(subscriptionId: string, org?: string): Notification[];
  projects(org?: string): Project[];
  addProject(name: string, options?: { org?: string; state?: string; id?: string }): Project;
  deleteProject(nameOrId: string, org?: string): boolean;
  addSubscription(input: SubscriptionInput & { id?: string }, options?: { org?: string }): Subscription;
  setSubscriptionStatus(id: string, status: SubscriptionStatus, org?: string): void;
  pats(org?: string): PatToken[];
  /** Seeds a PAT as if it had been created earlier (state fixtures: test/fixtures/state). */
  addPat(pat: PatToken & { token: string; revoked?: boolean }, options?: { org?: string }): PatToken;
  readonly timeScale: number;
  setTimeScale(scale: number): void;
  setLatency(ms: number): void;
  setRateLimit(options: RateLimitOptions): void;
  /** Changes how unconfirmed ADO behaviours are played (see UnconfirmedBehaviour). */
  setUnconfirmed(behaviour: UnconfirmedBehaviour): void;
  failNext(count: number, failure: number | "reset", options?: FailNextOptions): void;
  /** From now on, deliveries matching the rule fail with its status (nothing is sent). */
  failDeliveries(rule: DeliveryFailureRule): DeliveryFailure;
  deliveryFailures(): DeliveryFailure[];
  /** Removes one rule by id, or all; returns how many were removed. */
  clearDeliveryFailures(id?: string): number;
  /**
   * Moves ADO's delivery clock forward by `seconds`, running every retry that falls due on the way,
   * in order (a hook on probation can go through all of its retries and be disabled).
   */
  advanceClock(seconds: number): Promise<ClockAdvance>;
  readonly counters: EmulatorCounters;
  close(): Promise<void>;
}

const DEFAULT_UNCONFIRMED: Required<UnconfirmedBehaviour> = {
  putMaskKeepsPassword: true,
  putStatusEnables: true,
  historyRetentionMs: Number.POSITIVE_INFINITY,
  historyListDetails: true,
};

/** ADO's delivery schedule (troubleshoot.md), in seconds before the scale is applied. */
export const TRANSIENT_RETRY_SCHEDULE_S = [1, 2, 4, 8, 16, 32, 60, 60];
export const PROBATION_RETRY_SCHEDULE_S = [20 * 60, 40 * 60, 80 * 60, 160 * 60, 320 * 60, 640 * 60, 900 * 60];
const TRANSIENT_STATUSES = new Set([408, 502, 503, 504]);

const ADO_AUDIENCE = "499b84ac-1321-427f-aa17-267ca6975798";
const LOCATION_AREA_ID = "e81700f7-3be2-46de-8624-2eb35882fcaa";
const PROJECTS_LOCATION_ID = "603fe2ac-9723-48b9-88ad-09305aa6c6e1";
/** Resource area ids: azure-devops-node-api 17.0.1 WebApi.getCoreApi, ReleaseApi.RESOURCE_AREA_ID. */
const CORE_AREA_ID = "79134c72-4a58-4b42-976c-04e7115f32bf";
const RELEASE_AREA_ID = "efc2f575-36ef-48e9-b672-0c6fb4a48ac5";

// ---------------------------------------------------------------------------------------------
// State

interface StoredPat extends PatToken {
  token: string;
  org: string;
  revoked: boolean;
  /** The identity id of the user who created it: only they see and manage it. */
  owner: string;
}

/** A subscription as the emulator holds it: status and retries always set (the wire form drops them). */
type HeldSubscription = Subscription & { status: SubscriptionStatus; probationRetries: number };

interface StoredSubscription {
  sub: HeldSubscription;
  /** Events waiting while on probation; [0] is the one being retried. */
  pending: AdoEvent[];
  /** Bumped when probation must stop (status changed, deleted). */
  generation: number;
}

interface OrgState {
  name: string;
  hostId: string;
  projects: Project[];
  subs: Map<string, StoredSubscription>;
  notifications: Notification[];
  testNotifications: Map<number, Notification>;
}

interface Identity extends IdentityRef {
  kind: "user" | "servicePrincipal";
}

/** Token comparison by fixed-length digest (house rule), so timing says nothing about the token. */
const sameSecret = (a: string, b: string) => digestEquals(sha256Hex(a), sha256Hex(b));

function fakeJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.${randomBytes(16).toString("base64url")}`;
}

function newPatSecret(): string {
  // ADO PATs are 52 (legacy) or 84 characters; the shape does not matter to the client.
  return randomBytes(39).toString("base64url").replace(/[-_]/g, "a").slice(0, 52);
}

/**
 * Fractional digits of ADO's timestamps, used in turn: Microsoft's examples mix 2, 3 and 7
 * ("2014-10-27T15:37:26.23Z", "…:24.873Z", "2020-11-02T22:56:52.1033333Z"), and trailing zeros
 * are dropped. A client that compares them as strings gets the order wrong within a second.
 */
const FRACTION_DIGITS = [7, 3, 2, 7, 2, 3];
let lastTicks = 0n;
let fractionTurn = 0;

/**
 * Now as ADO writes it: 100 ns ticks (.NET) cut to this turn's number of digits, never ahead of
 * the clock, and strictly later than the previous timestamp (at full precision when the cut one
 * would not be), so the emulator's own order of events is kept.
 */
function nowIso(): string {
  const nowMs = performance.timeOrigin + performance.now();
  const seconds = Math.floor(nowMs / 1000);
  const nowTicks = BigInt(seconds) * 10_000_000n + BigInt(Math.floor((nowMs - seconds * 1000) * 10_000));
  let digits = FRACTION_DIGITS[fractionTurn++ % FRACTION_DIGITS.length];
  let ticks = (nowTicks / 10n ** BigInt(7 - digits)) * 10n ** BigInt(7 - digits);
  if (ticks <= lastTicks) {
    ticks = nowTicks > lastTicks ? nowTicks : lastTicks + 1n;
    digits = 7;
  }
  lastTicks = ticks;
  const whole = new Date(Number(ticks / 10_000_000n) * 1000).toISOString().slice(0, 19);
  const fraction = (ticks % 10_000_000n).toString().padStart(7, "0").slice(0, digits).replace(/0+$/, "");
  return `${whole}${fraction ? `.${fraction}` : ""}Z`;
}

// ---------------------------------------------------------------------------------------------

export async function startAdoEmulator(options: AdoEmulatorOptions = {}): Promise<AdoEmulator> {
  const emulator = new Emulator(options);
  await emulator.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return emulator;
}

class Emulator implements AdoEmulator {
  baseUrl = "";
  readonly pat: string;
  readonly userToken: string;
  readonly otherUserToken: string;
  readonly servicePrincipalToken: string;
  private latencyMs: number;
  private rateLimit: Required<RateLimitOptions>;
  private readonly deliveryTimeoutMs: number;
  private readonly patPolicy: Required<PatPolicyOptions>;
  private readonly allowBasicAuthOverLoopbackHttp: boolean;
  private readonly releaseHost: boolean;
  private unconfirmed: Required<UnconfirmedBehaviour>;
  private readonly orgStates = new Map<string, OrgState>();
  private readonly patStore = new Map<string, StoredPat>();
  private readonly usage = new Map<string, number[]>();
  private faults: { failure: number | "reset"; options: FailNextOptions }[] = [];
  private deliveryFailureRules: DeliveryFailure[] = [];
  private failureSeq = 0;
  private attemptsMade = 0;
  private readonly server: http.Server;
  private readonly deliveryAgent = new http.Agent({ keepAlive: false });
  private readonly deliveryAgentTls = new https.Agent({ keepAlive: false });
  private readonly background = new Set<Promise<unknown>>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly clock: AdoClock;
  private closed = false;
  private notificationSeq = 0;
  private readonly userIdentity: Identity = {
    kind: "user",
    id: randomUUID(),
    displayName: "Emulator User",
    uniqueName: "user@emulator.invalid",
  };
  private readonly otherUser: Identity = {
    kind: "user",
    id: randomUUID(),
    displayName: "Another Engineer",
    uniqueName: "colleague@emulator.invalid",
  };
  /** Who made the other consumers' subscriptions: another team of the organization. */
  private readonly otherTeam: Identity = {
    kind: "user",
    id: randomUUID(),
    displayName: "Fabrikam Release Team",
    uniqueName: "release-team@emulator.invalid",
  };
  private readonly spIdentity: Identity = {
    kind: "servicePrincipal",
    id: randomUUID(),
    displayName: "hookfleet-sp",
    uniqueName: "hookfleet-sp@emulator.invalid",
  };
  readonly counters: EmulatorCounters = {
    total: 0,
    byRoute: {},
    byStatus: {},
    inFlight: 0,
    maxInFlight: 0,
    reset() {
      this.total = 0;
      this.byRoute = {};
      this.byStatus = {};
      this.maxInFlight = this.inFlight;
    },
  };

  constructor(options: AdoEmulatorOptions) {
    this.pat = options.pat ?? newPatSecret();
    this.userToken = fakeJwt({
      aud: ADO_AUDIENCE,
      scp: "user_impersonation",
      idtyp: "user",
      oid: this.userIdentity.id,
      upn: this.userIdentity.uniqueName,
    });
    this.otherUserToken = fakeJwt({
      aud: ADO_AUDIENCE,
      scp: "user_impersonation",
      idtyp: "user",
      oid: this.otherUser.id,
      upn: this.otherUser.uniqueName,
    });
    this.servicePrincipalToken = fakeJwt({
      aud: ADO_AUDIENCE,
      roles: [],
      idtyp: "app",
      oid: this.spIdentity.id,
    });
    this.clock = new AdoClock(options.timeScale ?? 1);
    this.latencyMs = options.latencyMs ?? 0;
    this.rateLimit = normalizeRateLimit(options.rateLimit);
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 20_000;
    this.patPolicy = {
      maxLifespanDays: 365,
      allowFullScope: false,
      allowGlobal: false,
      ...options.patPolicy,
    };
    this.allowBasicAuthOverLoopbackHttp = options.allowBasicAuthOverLoopbackHttp ?? false;
    this.releaseHost = options.releaseHost ?? true;
    this.unconfirmed = { ...DEFAULT_UNCONFIRMED, ...options.unconfirmed };
    for (const org of options.orgs ?? [{ name: "contoso", projects: 3 }]) {
      this.addOrg(org);
      if (options.otherConsumers ?? true) this.seedOtherConsumers(this.org(org.name));
    }
    if (this.orgStates.size === 0) throw new Error("the emulator needs at least one organization");
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        const addr = this.server.address() as AddressInfo;
        this.baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
        // Projects and seeded subscriptions made before the port was known get their full URL.
        for (const org of this.orgStates.values()) {
          for (const p of org.projects) if (p.url?.startsWith("/")) p.url = `${this.baseUrl}${p.url}`;
          for (const { sub } of org.subs.values())
            if (sub.url?.startsWith("/")) sub.url = `${this.baseUrl}${sub.url}`;
        }
        resolve();
      });
    });
  }

  get orgs(): string[] {
    return [...this.orgStates.keys()];
  }

  private addOrg(options: EmulatorOrgOptions): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(options.name))
      throw new Error(`bad organization name: ${options.name}`);
    const org: OrgState = {
      name: options.name,
      hostId: randomUUID(),
      projects: [],
      subs: new Map(),
      notifications: [],
      testNotifications: new Map(),
    };
    this.orgStates.set(options.name.toLowerCase(), org);
    const spec = options.projects ?? 3;
    const names =
      typeof spec === "number"
        ? Array.from({ length: spec }, (_, i) => `Project-${String(i + 1).padStart(3, "0")}`)
        : spec;
    for (const name of names) this.addProject(name, { org: options.name });
  }

  /**
   * Other consumers' subscriptions, as in hooks/7.1/httpExamples/subscriptions/
   * GET__hooks_subscriptions_.json (same consumers, actions, inputs, null resourceVersion, masked
   * secrets), in the org's first project. They share the org-wide list with HookFleet's hooks and
   * are never delivered to (consumers other than Web Hooks are not emulated). All enabled, so that
   * counts of hooks not enabled stay about HookFleet's own.
   */
  private seedOtherConsumers(org: OrgState): void {
    const project = org.projects[0];
    if (!project) return;
    const seed = (input: SubscriptionInput) => this.newSubscription(org, input, this.otherTeam);
    const base = { resourceVersion: null, status: "enabled" as const };
    seed({
      ...base,
      publisherId: "tfs",
      eventType: "build.complete",
      consumerId: "myGet",
      consumerActionId: "publishPackage",
      publisherInputs: {
        buildStatus: "Succeeded",
        definitionName: "CustomerAddressModule",
        projectId: project.id,
      },
      consumerInputs: { feedId: "fabrikam-package", packageSourceId: randomUUID() },
    });
    seed({
      ...base,
      publisherId: "tfs",
      eventType: "build.complete",
      consumerId: "jenkins",
      consumerActionId: "triggerGenericBuild",
      publisherInputs: { buildStatus: "", definitionName: "", projectId: project.id },
      consumerInputs: {
        buildName: "GitBuild",
        serverBaseUrl: "http://ossbinjenkins.cloudapp.net:8080/",
        username: "ossadmin",
        password: randomBytes(12).toString("base64url"),
      },
    });
    seed({
      ...base,
      publisherId: "tfs",
      eventType: "git.push",
      consumerId: "trello",
      consumerActionId: "createCard",
      publisherInputs: { branch: "master", projectId: project.id, repository: randomUUID() },
      consumerInputs: {
        addToTop: "True",
        boardId: "531e1ae7f8f090f93829e83c",
        listId: "531e1babb29c372b47783433",
        userToken: randomBytes(16).toString("hex"),
      },
    });
    seed({
      ...base,
      publisherId: "tfs",
      eventType: "workitem.commented",
      consumerId: "zendesk",
      consumerActionId: "createPrivateComment",
      publisherInputs: { areaPath: "", commentPattern: "Zendesk:", projectId: project.id, workItemType: "" },
      consumerInputs: {
        accountName: "FabrikamFiber",
        username: "fabrikamfiber3@hotmail.com",
        apiToken: randomBytes(16).toString("hex"),
      },
    });
  }

  private org(name?: string): OrgState {
    const org = name ? this.orgStates.get(name.toLowerCase()) : this.orgStates.values().next().value;
    if (!org) throw new Error(`no organization ${name} in the emulator`);
    return org;
  }

  orgUrl(org?: string): string {
    return `${this.baseUrl}/${this.org(org).name}`;
  }

  vsspsUrl(org?: string): string {
    return `${this.baseUrl}/vssps/${this.org(org).name}`;
  }

  releaseUrl(org?: string): string {
    return this.releaseHost ? `${this.baseUrl}/vsrm/${this.org(org).name}` : this.orgUrl(org);
  }

  // -------------------------------------------------------------------------------------------
  // Direct state access for tests

  projects(org?: string): Project[] {
    return structuredClone(this.org(org).projects);
  }

  addProject(name: string, options: { org?: string; state?: string; id?: string } = {}): Project {
    const org = this.org(options.org);
    const id = options.id ?? randomUUID();
    const project: Project = {
      id,
      name,
      state: options.state ?? "wellFormed",
      url: `${this.baseUrl}/${org.name}/_apis/projects/${id}`,
      description: `${name} (emulated)`,
      lastUpdateTime: nowIso(),
    };
    org.projects.push(project);
    return structuredClone(project);
  }

  deleteProject(nameOrId: string, org?: string): boolean {
    const o = this.org(org);
    const i = o.projects.findIndex(
      (p) => p.id === nameOrId || p.name.toLowerCase() === nameOrId.toLowerCase(),
    );
    if (i < 0) return false;
    const [gone] = o.projects.splice(i, 1);
    // A project's service hook subscriptions go with it (*unconfirmed*, but they are project-scoped).
    for (const [key, stored] of o.subs) {
      if (stored.sub.publisherInputs.projectId?.toLowerCase() === gone.id.toLowerCase()) {
        stored.generation++;
        o.subs.delete(key);
      }
    }
    return true;
  }

  subscriptions(org?: string): Subscription[] {
    return [...this.org(org).subs.values()].map((s) => structuredClone(s.sub));
  }

  subscription(id: string, org?: string): Subscription | undefined {
    const s = this.org(org).subs.get(id.toLowerCase());
    return s ? structuredClone(s.sub) : undefined;
  }

  notifications(subscriptionId: string, org?: string): Notification[] {
    return structuredClone(
      this.org(org)
        .notifications.filter((n) => n.subscriptionId.toLowerCase() === subscriptionId.toLowerCase())
        .reverse(),
    );
  }

  addSubscription(input: SubscriptionInput & { id?: string }, options: { org?: string } = {}): Subscription {
    const org = this.org(options.org);
    const sub = this.newSubscription(org, input, this.userIdentity, input.id);
    return structuredClone(sub);
  }

  setSubscriptionStatus(id: string, status: SubscriptionStatus, org?: string): void {
    const stored = this.org(org).subs.get(id.toLowerCase());
    if (!stored) throw new Error(`no subscription ${id}`);
    this.changeStatus(stored, status);
  }

  pats(org?: string): PatToken[] {
    const o = this.org(org);
    return [...this.patStore.values()].filter((p) => p.org === o.name).map((p) => structuredClone(p));
  }

  addPat(pat: PatToken & { token: string; revoked?: boolean }, options: { org?: string } = {}): PatToken {
    const o = this.org(options.org);
    // Made by the emulator's user (userToken).
    const stored: StoredPat = {
      ...structuredClone(pat),
      org: o.name,
      revoked: pat.revoked ?? false,
      owner: this.userIdentity.id ?? "",
    };
    this.patStore.set(stored.authorizationId.toLowerCase(), stored);
    return structuredClone(pat);
  }

  get timeScale(): number {
    return this.clock.scale;
  }

  setTimeScale(scale: number): void {
    this.clock.setScale(scale);
  }

  async advanceClock(seconds: number): Promise<ClockAdvance> {
    const before = this.attemptsMade;
    await this.clock.advance(seconds, () => this.settled());
    return { seconds, attempts: this.attemptsMade - before, timeScale: this.clock.scale };
  }

  /**
   * Resolves when every background delivery is either done or parked on the clock (waiting for its
   * next retry): the work a clock jump set off has finished. Bounded by the delivery timeout.
   */
  private async settled(): Promise<void> {
    const until = Date.now() + this.deliveryTimeoutMs + 1000;
    let quietTurns = 0;
    while (!this.closed && Date.now() < until && quietTurns < 2) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      quietTurns = this.background.size <= this.clock.pending ? quietTurns + 1 : 0;
    }
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  setRateLimit(options: RateLimitOptions): void {
    this.rateLimit = normalizeRateLimit(options);
    this.usage.clear();
  }

  setUnconfirmed(behaviour: UnconfirmedBehaviour): void {
    this.unconfirmed = { ...this.unconfirmed, ...behaviour };
  }

  failNext(count: number, failure: number | "reset", options: FailNextOptions = {}): void {
    for (let i = 0; i < count; i++) this.faults.push({ failure, options });
  }

  failDeliveries(rule: DeliveryFailureRule): DeliveryFailure {
    const problem = deliveryFailureProblem(rule);
    if (problem) throw new Error(problem);
    if (rule.org !== undefined) this.org(rule.org);
    const failure: DeliveryFailure = {
      id: `f${++this.failureSeq}`,
      url: rule.url,
      status: rule.status,
      ...(rule.org !== undefined ? { org: rule.org } : {}),
      ...(rule.project !== undefined ? { project: rule.project } : {}),
      matched: 0,
    };
    this.deliveryFailureRules.push(failure);
    return { ...failure };
  }

  deliveryFailures(): DeliveryFailure[] {
    return this.deliveryFailureRules.map((r) => ({ ...r }));
  }

  clearDeliveryFailures(id?: string): number {
    const before = this.deliveryFailureRules.length;
    this.deliveryFailureRules = id === undefined ? [] : this.deliveryFailureRules.filter((r) => r.id !== id);
    return before - this.deliveryFailureRules.length;
  }

  async idle(): Promise<void> {
    while (this.background.size > 0 && !this.closed) await Promise.allSettled([...this.background]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
    this.clock.close();
    this.deliveryAgent.destroy();
    this.deliveryAgentTls.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** A cancellable wait in real ms: close() ends every wait at once so jest exits. */
  private wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(
          () => {
            this.timers.delete(entry);
            resolve();
          },
          Math.max(0, ms),
        ),
        resolve,
      };
      this.timers.add(entry);
    });
  }

  /**
   * A wait of `seconds` of ADO time on the emulator's clock (clock.ts): seconds × 1000 × timeScale
   * real ms. setTimeScale re-arms the waits under way for their remaining ADO time, and
   * advanceClock jumps over them, so a test can let a hook fall on probation and then fast-forward.
   */
  private waitScaled(seconds: number): Promise<void> {
    return this.clock.wait(seconds);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.background.add(p);
    void p.finally(() => this.background.delete(p)).catch(() => undefined);
    return p;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP front door: counters, latency, faults, auth, rate limit, routing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
      // The control surface is not ADO: no counters, latency, injected faults or rate limit.
      await this.handleControl(req, res, url.pathname.slice(CONTROL_PREFIX.length));
      return;
    }
    const route = routeKey(req.method ?? "GET", url.pathname);
    const c = this.counters;
    c.total++;
    c.byRoute[route] = (c.byRoute[route] ?? 0) + 1;
    c.inFlight++;
    c.maxInFlight = Math.max(c.maxInFlight, c.inFlight);
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        c.inFlight--;
      }
    };
    res.on("close", done);
    res.on("finish", () => {
      c.byStatus[String(res.statusCode)] = (c.byStatus[String(res.statusCode)] ?? 0) + 1;
    });
    try {
      const body = await readBody(req);
      if (this.latencyMs > 0) await this.wait(this.latencyMs);
      const faultIndex = this.faults.findIndex((f) => !f.options.route || route.includes(f.options.route));
      if (faultIndex >= 0) {
        const [fault] = this.faults.splice(faultIndex, 1);
        if (fault.failure === "reset") {
          req.socket.destroy();
          return;
        }
        const status = fault.failure;
        const headers: Record<string, string> = {};
        if (status === 429 || status === 503 || fault.options.retryAfterSeconds !== undefined) {
          headers["Retry-After"] = String(fault.options.retryAfterSeconds ?? 1);
        }
        throw new AdoFault(
          status,
          fault.options.message ?? `Injected failure ${status}.`,
          "InjectedFaultException",
          headers,
        );
      }
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      if (parts[0] === "vssps") {
        await this.handlePats(req, res, parts.slice(1), url, body);
        return;
      }
      const onReleaseHost = this.releaseHost && parts[0] === "vsrm";
      const orgParts = onReleaseHost ? parts.slice(1) : parts;
      const org = this.orgStates.get((orgParts[0] ?? "").toLowerCase());
      if (!org || orgParts[1] !== "_apis")
        throw new AdoFault(404, `No organization or API at ${url.pathname}.`, "NotFoundException");
      const identity = this.authenticate(req, org);
      await this.applyRateLimit(req, res, identity);
      const host = onReleaseHost ? "release" : "org";
      await this.handleOrg(req, res, org, orgParts.slice(2), url, body, identity, host);
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      if (err instanceof AdoFault) {
        sendJson(res, err.status, err.body(), err.headers);
      } else {
        sendJson(
          res,
          500,
          new AdoFault(500, `Emulator error: ${(err as Error).message}`, "InternalServerError").body(),
        );
      }
    }
  }

  /** control.ts: the emulator's own routes, for the emulator's PAT or user token. */
  private async handleControl(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
  ): Promise<void> {
    try {
      const [scheme, value = ""] = (req.headers.authorization ?? "").split(" ", 2);
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const allowed =
        (/^basic$/i.test(scheme) && sameSecret(decoded.slice(decoded.indexOf(":") + 1), this.pat)) ||
        (/^bearer$/i.test(scheme) && sameSecret(value, this.userToken));
      if (!allowed) {
        sendJson(res, 401, {
          error: "unauthorized",
          message: "the control routes take the emulator's PAT (Basic, any user name) or its user token",
        });
        return;
      }
      const text = await readBody(req);
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        sendJson(res, 400, { error: "bad-request", message: "the body is not valid JSON" });
        return;
      }
      const answer = await handleControlRequest(this, req.method ?? "GET", path, body);
      sendJson(res, answer.status, answer.body);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: "emulator-error", message: (err as Error).message });
    }
  }

  /** Org APIs take the PAT (Basic, any user), a PAT made through the PAT API, or an Entra bearer token. */
  private authenticate(req: http.IncomingMessage, org: OrgState): Identity {
    const header = req.headers.authorization ?? "";
    const [scheme, value = ""] = header.split(" ", 2);
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const secret = decoded.slice(decoded.indexOf(":") + 1);
      if (sameSecret(secret, this.pat)) return this.userIdentity;
      for (const p of this.patStore.values()) {
        if (
          p.org === org.name &&
          !p.revoked &&
          Date.parse(p.validTo) > Date.now() &&
          sameSecret(secret, p.token)
        ) {
          return p.owner === this.otherUser.id ? this.otherUser : this.userIdentity;
        }
      }
    } else if (/^bearer$/i.test(scheme)) {
      if (sameSecret(value, this.userToken)) return this.userIdentity;
      if (sameSecret(value, this.otherUserToken)) return this.otherUser;
      if (sameSecret(value, this.servicePrincipalToken)) return this.spIdentity;
    }
    // Real ADO answers an anonymous browser-like request with 203 + a sign-in page and a bad
    // credential with 401; the emulator always answers 401 (*unconfirmed* for every case).
    throw new AdoFault(
      401,
      "TF400813: The user '' is not authorized to access this resource.",
      "UnauthorizedRequestException",
    );
  }

  /**
   * Per-identity sliding window (rate-limits.md): under `budget` nothing happens; from `budget`
   * to `blockAt` each request is held `delayMs` and carries X-RateLimit-Delay; at `blockAt` the
   * answer is 429 with Retry-After until enough of the window has passed. Each request costs one
   * TSTU here (ADO weighs by load: *unconfirmed* mapping). Headers appear from half the budget on.
   */
  private async applyRateLimit(
    _req: http.IncomingMessage,
    res: http.ServerResponse,
    identity: Identity,
  ): Promise<void> {
    const rl = this.rateLimit;
    if (!rl.enabled) return;
    // Per identity, not per credential: every PAT of a user shares that user's budget, as in ADO.
    const key = `${identity.kind}:${identity.id}`;
    const now = Date.now();
    const stamps = (this.usage.get(key) ?? []).filter((t) => t > now - rl.windowMs);
    this.usage.set(key, stamps);
    // rate-limits.md: Reset is when usage would be back to 0 if all requests stopped now, i.e.
    // when the newest request (this one) leaves the window.
    const resetAt = Math.ceil((now + rl.windowMs) / 1000);
    const headers = (used: number): Record<string, string> => ({
      "X-RateLimit-Resource": "Core",
      "X-RateLimit-Limit": String(rl.budget),
      "X-RateLimit-Remaining": String(Math.max(0, rl.budget - used)),
      "X-RateLimit-Reset": String(resetAt),
    });
    if (stamps.length >= rl.blockAt) {
      const freeAt = stamps[stamps.length - rl.blockAt] + rl.windowMs;
      const retryAfter = Math.max(1, Math.ceil((freeAt - now) / 1000));
      throw new AdoFault(
        429,
        `TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'.`,
        "RequestBlockedException",
        { ...headers(stamps.length), "Retry-After": String(retryAfter) },
      );
    }
    stamps.push(now);
    const used = stamps.length;
    if (used >= rl.budget / 2) for (const [k, v] of Object.entries(headers(used))) res.setHeader(k, v);
    if (used > rl.budget) {
      res.setHeader("X-RateLimit-Delay", String(rl.delayMs / 1000));
      await this.wait(rl.delayMs);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Org routes

  private async handleOrg(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    org: OrgState,
    path: string[],
    url: URL,
    body: string,
    identity: Identity,
    host: "org" | "release",
  ): Promise<void> {
    const method = req.method ?? "GET";
    const [area, a1, a2, a3] = path;
    if (this.releaseHost) {
      // Which host may write which publisher's subscriptions (hooks-rules.ts releaseHostRule).
      const publisher = this.publisherWritten(org, method, path, body);
      if (host === "release" && publisher === undefined)
        throw new AdoFault(
          404,
          `The emulator's Release host serves only the writes of rm subscriptions, not '${method} /_apis/${path.join("/")}'.`,
          "NotFoundException",
        );
      if (publisher) releaseHostRule(publisher.publisherId, publisher.eventType, host);
    }

    // Location service, so the real azure-devops-node-api finds its routes (facts: the node client).
    if (method === "OPTIONS") return sendJson(res, 200, locationsFor(area ?? ""));
    if (area?.toLowerCase() === "resourceareas" && method === "GET") {
      // An empty answer makes WebApi keep the URL it was given (on-premises style). With a Release
      // host, the areas HookFleet looks up, as Azure DevOps Services lists them: each area's id
      // with the base URL of the service that hosts it (ResourceAreaInfo: id, name, locationUrl;
      // azure-devops-node-api 17.0.1 interfaces/LocationsInterfaces.d.ts, WebApi._getResourceAreaUrl).
      if (!this.releaseHost) return sendJson(res, 200, { count: 0, value: null });
      return sendJson(
        res,
        200,
        collection([
          { id: CORE_AREA_ID, name: "core", locationUrl: `${this.orgUrl(org.name)}/` },
          { id: RELEASE_AREA_ID, name: "Release", locationUrl: `${this.releaseUrl(org.name)}/` },
        ]),
      );
    }
    if (area === "connectionData" && method === "GET") {
      return sendJson(res, 200, {
        authenticatedUser: identity,
        instanceId: org.hostId,
        locationServiceData: {},
      });
    }

    if (area === "projects" && method === "GET") {
      if (a1) {
        const p = org.projects.find((x) => x.id === a1 || x.name.toLowerCase() === a1.toLowerCase());
        if (!p) throw projectMissing(a1);
        return sendJson(res, 200, p);
      }
      return this.listProjects(res, org, url);
    }

    if (area === "hooks") {
      const a4 = path[4];
      if (a1 === "subscriptions") {
        if (!a2) {
          if (method === "GET") return this.listSubscriptionsRoute(res, org, url);
          if (method === "POST") return this.createSubscriptionRoute(res, org, body, identity);
        } else if (!a3) {
          if (method === "GET") return sendJson(res, 200, maskSubscription(this.stored(org, a2).sub));
          if (method === "PUT") return this.replaceSubscriptionRoute(res, org, a2, body, identity);
          if (method === "DELETE") {
            const stored = this.stored(org, a2);
            stored.generation++;
            org.subs.delete(a2.toLowerCase());
            res.writeHead(204).end();
            return;
          }
        } else if (a3 === "notifications" && method === "GET" && !a4) {
          // Notifications_List: maxResults, status, result.
          this.stored(org, a2);
          const q = url.searchParams;
          const list = this.queryNotifications(org, {
            subscriptionIds: [a2],
            maxResults: q.get("maxResults") ? clampInt(q.get("maxResults"), 100, 1, 10_000) : undefined,
            status: q.get("status") ?? undefined,
            resultType: q.get("result") ?? undefined,
          });
          const details = this.unconfirmed.historyListDetails;
          return sendJson(res, 200, collection(list.map((n) => wireNotification(n, { details }))));
        } else if (a3 === "notifications" && method === "GET" && a4) {
          // Notifications_Get: one notification with its details (test notifications included).
          return sendJson(res, 200, wireNotification(this.notificationById(org, a2, a4)));
        }
      }
      if (a1 === "subscriptionsquery" && method === "POST")
        return this.querySubscriptionsRoute(res, org, body);
      if (a1 === "notificationsquery" && method === "POST")
        return this.notificationsQueryRoute(res, org, body);
      // POST only: serviceHooks.json has no GET testnotifications/{id} (any version 4.1–7.2), so a
      // GET falls through to the 404 below, as with ADO.
      if (a1 === "testnotifications" && method === "POST" && !a2)
        return this.testNotificationRoute(res, org, body, identity);
    }
    throw new AdoFault(
      404,
      `The API '${method} /_apis/${path.join("/")}' is not emulated.`,
      "NotFoundException",
    );
  }

  /**
   * The publisher and event type a request writes, for the writes that need the publisher's
   * handler (releaseHostRule): creating or replacing a subscription (its body), a test notification
   * (its details, else the subscription's). undefined for every other request; null for such a
   * write whose body names no publisher (its route then answers the 400).
   */
  private publisherWritten(
    org: OrgState,
    method: string,
    path: string[],
    body: string,
  ): { publisherId: string; eventType: string } | null | undefined {
    const [area, a1, a2, a3] = path;
    if (area !== "hooks") return undefined;
    const write =
      (a1 === "subscriptions" && ((method === "POST" && !a2) || (method === "PUT" && a2 && !a3))) ||
      (a1 === "testnotifications" && method === "POST" && !a2);
    if (!write) return undefined;
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      return null;
    }
    const b = (parsed ?? {}) as {
      publisherId?: unknown;
      eventType?: unknown;
      subscriptionId?: unknown;
      details?: { publisherId?: unknown; eventType?: unknown };
    };
    const stored =
      a1 === "testnotifications" && typeof b.subscriptionId === "string"
        ? org.subs.get(b.subscriptionId.toLowerCase())?.sub
        : undefined;
    const publisherId =
      a1 === "testnotifications" ? (b.details?.publisherId ?? stored?.publisherId) : b.publisherId;
    const eventType = a1 === "testnotifications" ? (b.details?.eventType ?? stored?.eventType) : b.eventType;
    return typeof publisherId === "string" && typeof eventType === "string"
      ? { publisherId, eventType }
      : null;
  }

  private listProjects(res: http.ServerResponse, org: OrgState, url: URL): void {
    const stateFilter = (url.searchParams.get("stateFilter") ?? "wellFormed").toLowerCase();
    const numericStates: Record<string, string> = {
      "-1": "all",
      "0": "new",
      "1": "wellformed",
      "2": "deleting",
      "3": "createpending",
    };
    const wanted = numericStates[stateFilter] ?? stateFilter;
    const matching = org.projects.filter((p) => wanted === "all" || p.state.toLowerCase() === wanted);
    const top = clampInt(url.searchParams.get("$top"), 100, 1, 10_000);
    // The continuation token is the next offset here; ADO's format is opaque (*unconfirmed*).
    const skip = clampInt(
      url.searchParams.get("continuationToken") ?? url.searchParams.get("$skip"),
      0,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    const page = matching.slice(skip, skip + top);
    const headers: Record<string, string> = {};
    if (skip + top < matching.length) headers["x-ms-continuationtoken"] = String(skip + top);
    sendJson(res, 200, collection(page.map((p) => ({ ...p, revision: 1, visibility: "private" }))), headers);
  }

  private stored(org: OrgState, id: string): StoredSubscription {
    const s = org.subs.get(id.toLowerCase());
    if (!s) {
      // Wording *unconfirmed*.
      throw new AdoFault(
        404,
        `Subscription with id '${id}' does not exist.`,
        "SubscriptionNotFoundException",
      );
    }
    return s;
  }

  private listSubscriptionsRoute(res: http.ServerResponse, org: OrgState, url: URL): void {
    const q = url.searchParams;
    const list = [...org.subs.values()]
      .map((s) => s.sub)
      .filter(
        (s) =>
          (!q.get("publisherId") || s.publisherId === q.get("publisherId")) &&
          (!q.get("eventType") || s.eventType === q.get("eventType")) &&
          (!q.get("consumerId") || s.consumerId === q.get("consumerId")) &&
          (!q.get("consumerActionId") || s.consumerActionId === q.get("consumerActionId")),
      );
    sendJson(res, 200, collection(list.map(maskSubscription)));
  }

  private newSubscription(
    org: OrgState,
    input: SubscriptionInput,
    identity: Identity,
    id?: string,
  ): HeldSubscription {
    const subId = id ?? randomUUID();
    const now = nowIso();
    const who: IdentityRef = {
      id: identity.id,
      displayName: identity.displayName,
      uniqueName: identity.uniqueName,
    };
    const sub: HeldSubscription = {
      id: subId,
      url: `${this.baseUrl}/${org.name}/_apis/hooks/subscriptions/${subId}`,
      publisherId: input.publisherId,
      eventType: input.eventType,
      // Not asked for: null, ADO's default version (GET subscriptions example).
      resourceVersion: input.resourceVersion || null,
      consumerId: input.consumerId,
      consumerActionId: input.consumerActionId,
      // ADO adds inputs of its own (facts); drift comparison must ignore them.
      publisherInputs: { ...input.publisherInputs, hostId: org.hostId, tfsSubscriptionId: randomUUID() },
      consumerInputs: { ...input.consumerInputs },
      status: input.status ?? "enabled",
      probationRetries: 0,
      createdBy: who,
      createdDate: now,
      modifiedBy: who,
      modifiedDate: now,
      eventDescription: `Any ${input.eventType} event`,
      actionDescription: input.consumerInputs.url ? `To host ${safeHost(input.consumerInputs.url)}` : "",
    };
    org.subs.set(subId.toLowerCase(), { sub, pending: [], generation: 0 });
    return sub;
  }

  private createSubscriptionRoute(
    res: http.ServerResponse,
    org: OrgState,
    body: string,
    identity: Identity,
  ): void {
    const input = validateSubscription(
      parseJsonBody(body),
      (id) => org.projects.some((p) => p.id.toLowerCase() === id.toLowerCase()),
      { allowBasicAuthOverLoopbackHttp: this.allowBasicAuthOverLoopbackHttp },
    );
    if (input.status && !["enabled", "disabledByUser"].includes(input.status)) {
      throw new AdoFault(
        400,
        `A new subscription cannot have status '${input.status}'.`,
        "InvalidSubscriptionException",
      );
    }
    const sub = this.newSubscription(org, input, identity);
    sendJson(res, 200, maskSubscription(sub));
  }

  private replaceSubscriptionRoute(
    res: http.ServerResponse,
    org: OrgState,
    id: string,
    body: string,
    identity: Identity,
  ): void {
    const stored = this.stored(org, id);
    const input = validateSubscription(
      parseJsonBody(body),
      (pid) => org.projects.some((p) => p.id.toLowerCase() === pid.toLowerCase()),
      { allowBasicAuthOverLoopbackHttp: this.allowBasicAuthOverLoopbackHttp },
    );
    const old = stored.sub;
    const sub: HeldSubscription = {
      ...old,
      publisherId: input.publisherId,
      eventType: input.eventType,
      resourceVersion: input.resourceVersion,
      consumerId: input.consumerId,
      consumerActionId: input.consumerActionId,
      // Server-added inputs survive a replace that leaves them out (*unconfirmed*, harmless).
      publisherInputs: {
        hostId: old.publisherInputs.hostId,
        tfsSubscriptionId: old.publisherInputs.tfsSubscriptionId,
        ...input.publisherInputs,
      },
      consumerInputs: mergeConfidentialInputs(old.consumerInputs, input.consumerInputs, {
        maskKeepsSecret: this.unconfirmed.putMaskKeepsPassword,
        consumerId: input.consumerId,
      }),
      modifiedBy: { id: identity.id, displayName: identity.displayName, uniqueName: identity.uniqueName },
      modifiedDate: nowIso(),
      actionDescription: `To host ${safeHost(input.consumerInputs.url)}`,
    };
    stored.sub = sub;
    // Absent status keeps the current one (*unconfirmed*); "enabled" is how a hook is re-enabled
    // (*unconfirmed*: with putStatusEnables false, a disabled hook stays disabled).
    const ignored =
      input.status === "enabled" && !this.unconfirmed.putStatusEnables && old.status !== "enabled";
    if (input.status && input.status !== old.status && !ignored) this.changeStatus(stored, input.status);
    sendJson(res, 200, maskSubscription(stored.sub));
  }

  /** A status change from outside the delivery loop stops probation and drops queued events. */
  private changeStatus(stored: StoredSubscription, status: SubscriptionStatus): void {
    stored.generation++;
    stored.pending = [];
    stored.sub.status = status;
    if (status === "enabled") {
      stored.sub.probationRetries = 0;
      delete stored.sub.lastProbationRetryDate;
    }
  }

  private querySubscriptionsRoute(res: http.ServerResponse, org: OrgState, body: string): void {
    const q = (parseJsonBody(body) ?? {}) as {
      publisherId?: string;
      eventType?: string;
      consumerId?: string;
      consumerActionId?: string;
      publisherInputFilters?: { conditions?: Condition[] }[];
      consumerInputFilters?: { conditions?: Condition[] }[];
    };
    // Every filter and every condition must hold (AND); ADO's combination rule is *unconfirmed*.
    const holds = (inputs: Record<string, string>, filters?: { conditions?: Condition[] }[]) =>
      (filters ?? []).every((f) => (f.conditions ?? []).every((c) => conditionHolds(inputs, c)));
    const results = [...org.subs.values()]
      .map((s) => s.sub)
      .filter(
        (s) =>
          (!q.publisherId || s.publisherId === q.publisherId) &&
          (!q.eventType || s.eventType === q.eventType) &&
          (!q.consumerId || s.consumerId === q.consumerId) &&
          (!q.consumerActionId || s.consumerActionId === q.consumerActionId) &&
          holds(s.publisherInputs, q.publisherInputFilters) &&
          holds(s.consumerInputs, q.consumerInputFilters),
      )
      .map(maskSubscription);
    sendJson(res, 200, { ...q, results });
  }

  /** The history still kept (UnconfirmedBehaviour.historyRetentionMs). */
  private kept(n: Notification): boolean {
    return Date.now() - Date.parse(n.createdDate) <= this.unconfirmed.historyRetentionMs;
  }

  /** History entries matching a NotificationsQuery (serviceHooks.json field names), newest first. */
  private queryNotifications(org: OrgState, q: NotificationQuery): Notification[] {
    const ids = q.subscriptionIds?.map((s) => s.toLowerCase());
    const min = q.minCreatedDate ? Date.parse(q.minCreatedDate) : undefined;
    const max = q.maxCreatedDate ? Date.parse(q.maxCreatedDate) : undefined;
    const list = org.notifications
      .filter(
        (n) =>
          this.kept(n) &&
          (!ids || ids.includes(n.subscriptionId.toLowerCase())) &&
          (!q.publisherId || n.details?.publisherId === q.publisherId) &&
          (!q.status || n.status === q.status) &&
          (!q.resultType || n.result === q.resultType) &&
          // Instants, not text: ADO's timestamps have 2, 3 or 7 fractional digits.
          (min === undefined || Date.parse(n.createdDate) >= min) &&
          (max === undefined || Date.parse(n.createdDate) <= max),
      )
      .reverse(); // newest first (*unconfirmed* order)
    let picked = list;
    if (q.maxResultsPerSubscription !== undefined && ids) {
      // "Only takes effect when a list of subscription ids is supplied in the query" (spec).
      const per = new Map<string, number>();
      picked = list.filter((n) => {
        const k = n.subscriptionId.toLowerCase();
        per.set(k, (per.get(k) ?? 0) + 1);
        return per.get(k)! <= q.maxResultsPerSubscription!;
      });
    }
    // Default page size when maxResults is left out: *unconfirmed*.
    return structuredClone(picked.slice(0, q.maxResults ?? 100));
  }

  /**
   * POST notificationsquery with serviceHooks.json's NotificationsQuery: subscriptionIds,
   * publisherId, resultType, status, min/maxCreatedDate, maxResults, maxResultsPerSubscription,
   * includeDetails. Fields the spec does not have (e.g. `result`, `eventType`) are ignored, as a
   * .NET service ignores unknown JSON members. Without includeDetails the results carry no
   * details and the per-subscription summary is filled (*unconfirmed* how ADO splits the two).
   */
  private notificationsQueryRoute(res: http.ServerResponse, org: OrgState, body: string): void {
    const q = (parseJsonBody(body) ?? {}) as NotificationQuery & Record<string, unknown>;
    const results = this.queryNotifications(org, q);
    const summary = new Map<string, Map<string, number>>();
    for (const n of results) {
      const per = summary.get(n.subscriptionId) ?? new Map<string, number>();
      const result = n.result ?? "pending";
      per.set(result, (per.get(result) ?? 0) + 1);
      summary.set(n.subscriptionId, per);
    }
    sendJson(res, 200, {
      ...q,
      results: results.map((n) => wireNotification(n, { details: q.includeDetails === true })),
      summary: [...summary].map(([subscriptionId, per]) => ({
        subscriptionId,
        results: [...per].map(([result, notificationCount]) => ({ result, notificationCount })),
      })),
    });
  }

  /** Notifications_Get: a history entry or a test notification of that subscription, else 404. */
  private notificationById(org: OrgState, subscriptionId: string, notificationId: string): Notification {
    const id = Number(notificationId);
    const sid = subscriptionId.toLowerCase();
    const n =
      org.notifications.find((x) => x.id === id && x.subscriptionId.toLowerCase() === sid) ??
      // Test notifications are readable here too (*unconfirmed*; there is no other published way).
      [...org.testNotifications.values()].find((x) => x.id === id && x.subscriptionId.toLowerCase() === sid);
    if (!n || !this.kept(n)) {
      throw new AdoFault(
        404,
        `Notification ${notificationId} of subscription ${subscriptionId} does not exist.`,
        "NotificationNotFoundException",
      );
    }
    return structuredClone(n);
  }

  /**
   * Test delivery (Notifications_Create, POST only): answers at once with the new notification
   * (queued) and delivers a sample event in the background; Notifications_Get
   * (`subscriptions/{id}/notifications/{notificationId}`) shows the outcome. Test deliveries do not
   * touch the subscription's status or its history list (*unconfirmed*).
   */
  private testNotificationRoute(
    res: http.ServerResponse,
    org: OrgState,
    body: string,
    identity: Identity,
  ): void {
    const q = (parseJsonBody(body) ?? {}) as {
      subscriptionId?: string;
      details?: Pick<
        NotificationDetails,
        "eventType" | "publisherId" | "publisherInputs" | "consumerId" | "consumerActionId" | "consumerInputs"
      >;
    };
    const stored = q.subscriptionId ? org.subs.get(q.subscriptionId.toLowerCase()) : undefined;
    if (q.subscriptionId && !stored) this.stored(org, q.subscriptionId);
    const eventType = q.details?.eventType ?? stored?.sub.eventType;
    const info = eventType ? eventTypeInfo(eventType) : undefined;
    if (!eventType || !info)
      throw new AdoFault(400, `Unknown event type '${eventType}'.`, "EventTypeNotFoundException");
    const inputs = mergeConfidentialInputs(
      stored?.sub.consumerInputs ?? {},
      q.details?.consumerInputs ?? stored?.sub.consumerInputs ?? {},
    );
    if (!inputs.url)
      throw new AdoFault(400, "The required input 'url' is missing a value.", "InputValidationException");
    const id = ++this.notificationSeq;
    const queued = nowIso();
    const n: Notification = {
      id,
      subscriptionId: q.subscriptionId ?? "00000000-0000-0000-0000-000000000000",
      subscriberId: identity.id,
      status: "queued",
      result: "pending",
      createdDate: queued,
      details: {
        eventType,
        publisherId: q.details?.publisherId ?? info.publisherId,
        publisherInputs: q.details?.publisherInputs ?? stored?.sub.publisherInputs ?? {},
        consumerId: q.details?.consumerId ?? "webHooks",
        consumerActionId: q.details?.consumerActionId ?? "httpRequest",
        consumerInputs: maskInputs(inputs),
        queuedDate: queued,
      },
    };
    org.testNotifications.set(id, n);
    const project = org.projects.find((p) => p.state === "wellFormed");
    const event = sampleEvent(eventType, {
      org: org.name,
      project: project ? { id: project.id, name: project.name } : undefined,
    });
    // The answer is the notification as queued, before the delivery below starts.
    const answer = wireNotification(n);
    this.track(
      (async () => {
        n.status = "processing";
        const started = Date.now();
        const outcome = await this.send(
          org,
          event,
          inputs,
          deliveredPayload(event, inputs, { subscriptionId: n.subscriptionId, notificationId: id }),
        );
        const { subscriptionId: _s, notificationId: _n, ...sentEvent } = event;
        Object.assign(n, {
          status: "completed" as NotificationStatus,
          result: (outcome.ok ? "succeeded" : "failed") as NotificationResult,
          eventId: event.id,
          modifiedDate: nowIso(),
          details: {
            ...n.details,
            event: sentEvent as AdoEvent,
            request: `POST ${inputs.url}`,
            response: outcome.responseText,
            errorMessage: outcome.ok ? undefined : outcome.error,
            requestAttempts: 1,
            requestDuration: (Date.now() - started) / 1000,
            completedDate: nowIso(),
          },
        });
      })(),
    );
    sendJson(res, 200, answer);
  }

  // -------------------------------------------------------------------------------------------
  // PAT lifecycle API (vssps)

  private async handlePats(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    parts: string[],
    url: URL,
    body: string,
  ): Promise<void> {
    const org = this.orgStates.get((parts[0] ?? "").toLowerCase());
    if (!org || parts.slice(1).join("/") !== "_apis/tokens/pats") {
      throw new AdoFault(404, `No PAT API at ${url.pathname}.`, "NotFoundException");
    }
    // Only a Microsoft Entra *user* token (facts). The status and wording for a refused
    // credential are *unconfirmed*: 401 and a message that says why.
    const [scheme, value = ""] = (req.headers.authorization ?? "").split(" ", 2);
    const bearer = /^bearer$/i.test(scheme);
    const caller =
      bearer && sameSecret(value, this.userToken)
        ? this.userIdentity
        : bearer && sameSecret(value, this.otherUserToken)
          ? this.otherUser
          : undefined;
    if (!caller) {
      const what =
        /^bearer$/i.test(scheme) && sameSecret(value, this.servicePrincipalToken)
          ? "a service principal"
          : "this credential";
      throw new AdoFault(
        401,
        `The PAT lifecycle API accepts only Microsoft Entra user tokens; ${what} cannot manage personal access tokens.`,
        "UnauthorizedRequestException",
      );
    }
    await this.applyRateLimit(req, res, caller);
    const callerId = caller.id ?? "";
    const method = req.method ?? "GET";
    const q = url.searchParams;
    // Each user sees and manages only their own PATs; another user's is answered as unknown
    // (*unconfirmed*: ADO may answer it otherwise, but never with the PAT).
    const ownPat = (authorizationId: string | null | undefined) => {
      const p = this.patStore.get((authorizationId ?? "").toLowerCase());
      return p && p.org === org.name && p.owner === callerId ? p : undefined;
    };
    const mine = () => [...this.patStore.values()].filter((p) => p.org === org.name && p.owner === callerId);
    const publicPat = (p: StoredPat): PatToken => ({
      authorizationId: p.authorizationId,
      displayName: p.displayName,
      scope: p.scope,
      targetAccounts: p.targetAccounts,
      validFrom: p.validFrom,
      validTo: p.validTo,
    });
    const result = (patTokenError: string, patToken: PatToken | null = null) =>
      sendJson(res, 200, { patToken, patTokenError });

    if (method === "GET" && q.get("authorizationId")) {
      const p = ownPat(q.get("authorizationId"));
      if (!p)
        throw new AdoFault(
          404,
          `Authorization ${q.get("authorizationId")} not found.`,
          "AuthorizationNotFoundException",
        );
      return result("none", publicPat(p));
    }
    if (method === "GET") {
      const option = (q.get("displayFilterOption") ?? "active").toLowerCase();
      const now = Date.now();
      const filtered = mine().filter((p) => {
        const expired = Date.parse(p.validTo) <= now;
        if (option === "all") return true;
        if (option === "revoked") return p.revoked;
        if (option === "expired") return expired && !p.revoked;
        return !p.revoked && !expired;
      });
      const top = clampInt(q.get("$top"), 20, 1, 100);
      if (Number(q.get("$top")) > 100)
        throw new AdoFault(400, "$top must be at most 100.", "InvalidArgumentValueException");
      const skip = clampInt(q.get("continuationToken"), 0, 0, Number.MAX_SAFE_INTEGER);
      const page = filtered.slice(skip, skip + top);
      return sendJson(res, 200, {
        patTokens: page.map(publicPat),
        continuationToken: skip + top < filtered.length ? String(skip + top) : "",
      });
    }
    if (method === "POST" || method === "PUT") {
      const b = (parseJsonBody(body) ?? {}) as {
        authorizationId?: string;
        displayName?: string;
        scope?: string;
        validTo?: string;
        allOrgs?: boolean;
      };
      const existing = method === "PUT" ? ownPat(b.authorizationId) : undefined;
      if (method === "PUT" && !existing) return result("authorizationNotFound");
      const displayName = b.displayName ?? existing?.displayName;
      const scope = b.scope ?? existing?.scope;
      const validTo = b.validTo ?? existing?.validTo;
      if (!displayName) return result("displayNameRequired");
      if (!scope) return result("invalidScope");
      const validToMs = Date.parse(validTo ?? "");
      if (!Number.isFinite(validToMs) || validToMs <= Date.now()) return result("invalidValidTo");
      // Policy violations come back as patTokenError in a 200 answer, as the spec's PatTokenResult
      // suggests (*unconfirmed*: ADO may use a 400 instead; the client handles both).
      if (b.allOrgs && !this.patPolicy.allowGlobal) return result("globalPatPolicyViolation");
      if (/\bapp_token\b/.test(scope) && !this.patPolicy.allowFullScope)
        return result("fullScopePatPolicyViolation");
      if (validToMs > Date.now() + this.patPolicy.maxLifespanDays * 86_400_000)
        return result("patLifespanPolicyViolation");
      if (existing) {
        Object.assign(existing, { displayName, scope, validTo: new Date(validToMs).toISOString() });
        return result("none", publicPat(existing));
      }
      const p: StoredPat = {
        authorizationId: randomUUID(),
        displayName,
        scope,
        targetAccounts: [org.hostId],
        validFrom: nowIso(),
        validTo: new Date(validToMs).toISOString(),
        token: newPatSecret(),
        org: org.name,
        revoked: false,
        owner: callerId,
      };
      this.patStore.set(p.authorizationId.toLowerCase(), p);
      return result("none", { ...publicPat(p), token: p.token });
    }
    if (method === "DELETE") {
      const p = ownPat(q.get("authorizationId"));
      if (!p || p.revoked) {
        // *unconfirmed*: ADO may answer 204 for an unknown id as well.
        throw new AdoFault(
          404,
          `Authorization ${q.get("authorizationId")} not found.`,
          "AuthorizationNotFoundException",
        );
      }
      p.revoked = true;
      res.writeHead(204).end();
      return;
    }
    throw new AdoFault(405, `${method} is not supported by the PAT API.`, "MethodNotAllowed");
  }

  // -------------------------------------------------------------------------------------------
  // Delivery and the failure policy

  async emit(
    eventOrType: AdoEvent | string,
    options: { org?: string; project?: string } = {},
  ): Promise<DeliveryReport> {
    const org = this.org(options.org);
    let event: AdoEvent;
    if (typeof eventOrType === "string") {
      const project = options.project
        ? org.projects.find(
            (p) => p.id === options.project || p.name.toLowerCase() === options.project!.toLowerCase(),
          )
        : org.projects.find((p) => p.state === "wellFormed");
      if (!project) throw new Error(`no project ${options.project ?? ""} in ${org.name}`);
      event = sampleEvent(eventOrType, { org: org.name, project: { id: project.id, name: project.name } });
    } else {
      event = structuredClone(eventOrType);
    }
    // Only Web Hooks subscriptions are delivered to: other consumers (myGet, jenkins…) are not emulated.
    const matching = [...org.subs.values()].filter(
      (s) => s.sub.consumerId === "webHooks" && subscriptionMatches(s.sub, event),
    );
    const deliveries = await Promise.all(matching.map((s) => this.track(this.deliver(org, s, event))));
    return { event, org: org.name, matched: matching.length, deliveries };
  }

  /** One event to one subscription: the transient retry round, then probation or success. */
  private async deliver(
    org: OrgState,
    stored: StoredSubscription,
    event: AdoEvent,
  ): Promise<SubscriptionDelivery> {
    const sub = stored.sub;
    const report = (
      outcome: SubscriptionDelivery["outcome"],
      attempts: number,
      last?: AttemptResult,
    ): SubscriptionDelivery => ({
      subscriptionId: sub.id,
      outcome,
      attempts,
      lastStatus: last?.status,
      error: last && !last.ok ? last.error : undefined,
      subscriptionStatus: stored.sub.status,
    });
    if (sub.status.startsWith("disabled")) {
      // ADO does not deliver events raised while a hook is disabled, nor later (facts). Whether it
      // records them in the history is *unconfirmed*; the emulator records nothing.
      return report("notDelivered", 0);
    }
    if (sub.status === "onProbation") {
      stored.pending.push(event);
      return report("queued", 0);
    }
    const generation = stored.generation;
    let last: AttemptResult | undefined;
    let attempts = 0;
    for (let i = 0; ; i++) {
      last = await this.attempt(org, stored, event);
      attempts++;
      if (last.ok) return report("delivered", attempts, last);
      if (this.closed || stored.generation !== generation) return report("failed", attempts, last);
      if (last.status === 410) {
        this.systemDisable(stored);
        return report("failed", attempts, last);
      }
      const transient = last.status === 0 || TRANSIENT_STATUSES.has(last.status);
      if (!transient || i >= TRANSIENT_RETRY_SCHEDULE_S.length) break;
      await this.waitScaled(TRANSIENT_RETRY_SCHEDULE_S[i]);
    }
    // Enduring failure: on probation ("Enabled (restricted)"), retried on the long schedule.
    if (stored.sub.status === "enabled" && stored.generation === generation) {
      stored.sub.status = "onProbation";
      stored.sub.probationRetries = 0;
      stored.pending = [event];
      void this.track(this.probation(org, stored));
    } else if (stored.sub.status === "onProbation") {
      stored.pending.push(event);
    }
    return report("failed", attempts, last);
  }

  private async probation(org: OrgState, stored: StoredSubscription): Promise<void> {
    const generation = stored.generation;
    const stillMine = () =>
      !this.closed && stored.generation === generation && stored.sub.status === "onProbation";
    for (let k = 0; k < PROBATION_RETRY_SCHEDULE_S.length; k++) {
      await this.waitScaled(PROBATION_RETRY_SCHEDULE_S[k]);
      if (!stillMine() || stored.pending.length === 0) return;
      const result = await this.attempt(org, stored, stored.pending[0]);
      if (!stillMine()) return;
      stored.sub.probationRetries = k + 1;
      stored.sub.lastProbationRetryDate = nowIso();
      if (result.ok) {
        // One success restores the hook; the events queued behind it go out in order.
        const queued = stored.pending.slice(1);
        stored.pending = [];
        stored.sub.status = "enabled";
        stored.sub.probationRetries = 0;
        for (const e of queued) await this.deliver(org, stored, e);
        return;
      }
      if (result.status === 410) return this.systemDisable(stored);
    }
    if (stillMine()) this.systemDisable(stored);
  }

  private systemDisable(stored: StoredSubscription): void {
    stored.generation++;
    stored.pending = [];
    stored.sub.status = "disabledBySystem";
    stored.sub.modifiedDate = nowIso();
  }

  /** One HTTP attempt, recorded in the notification history with the event. */
  private async attempt(org: OrgState, stored: StoredSubscription, event: AdoEvent): Promise<AttemptResult> {
    this.attemptsMade++;
    const id = ++this.notificationSeq;
    const inputs = stored.sub.consumerInputs;
    const payload = deliveredPayload(event, inputs, { subscriptionId: stored.sub.id, notificationId: id });
    const created = nowIso();
    const outcome = await this.send(org, event, inputs, payload);
    // The history keeps the event (serviceHooks.json Event: no per-delivery subscriptionId or
    // notificationId), as it was sent otherwise (trimmed per what-to-send).
    const { subscriptionId: _s, notificationId: _n, ...sentEvent } = payload;
    const n: Notification = {
      id,
      subscriptionId: stored.sub.id,
      subscriberId: stored.sub.modifiedBy?.id,
      eventId: event.id,
      status: "completed",
      result: outcome.ok ? "succeeded" : "failed",
      createdDate: created,
      modifiedDate: nowIso(),
      details: {
        event: sentEvent as AdoEvent,
        // The event type lives in details (serviceHooks.json NotificationDetails).
        eventType: event.eventType,
        publisherId: event.publisherId,
        publisherInputs: { ...stored.sub.publisherInputs },
        consumerId: stored.sub.consumerId,
        consumerActionId: stored.sub.consumerActionId,
        consumerInputs: maskInputs(inputs),
        request: `POST ${inputs.url}`,
        response: outcome.responseText,
        errorMessage: outcome.ok ? undefined : outcome.error,
        errorDetail: outcome.ok ? undefined : outcome.responseText,
        queuedDate: created,
        requestAttempts: 1,
        completedDate: nowIso(),
      },
    };
    org.notifications.push(n);
    return outcome;
  }

  /**
   * One delivery: the answer a failure rule (failDeliveries) dictates, without sending anything, or
   * the POST itself.
   */
  private send(
    org: OrgState,
    event: AdoEvent,
    inputs: Record<string, string>,
    payload: AdoEvent,
  ): Promise<AttemptResult> {
    const rule = this.failureFor(org, event, inputs.url ?? "");
    if (!rule) return this.post(inputs, payload);
    rule.matched++;
    return Promise.resolve({
      ok: false,
      status: rule.status,
      error: `HTTP ${rule.status} (failure ${rule.id} injected by the emulator)`,
      responseText: `${rule.status} Injected by the ADO emulator (failure ${rule.id})\n`,
    });
  }

  /** The first failure rule that applies to a delivery of `event` in `org` to `url`. */
  private failureFor(org: OrgState, event: AdoEvent, url: string): DeliveryFailure | undefined {
    if (this.deliveryFailureRules.length === 0) return undefined;
    const projectId = eventProjectId(event)?.toLowerCase();
    const project = org.projects.find((p) => p.id.toLowerCase() === projectId);
    return this.deliveryFailureRules.find(
      (r) =>
        url.startsWith(r.url) &&
        (r.org === undefined || r.org.toLowerCase() === org.name.toLowerCase()) &&
        (r.project === undefined ||
          r.project.toLowerCase() === projectId ||
          r.project.toLowerCase() === project?.name.toLowerCase()),
    );
  }

  /** POSTs a payload with the subscription's Basic credentials and headers. */
  private post(inputs: Record<string, string>, payload: AdoEvent): Promise<AttemptResult> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(inputs.url);
      } catch {
        resolve({ ok: false, status: 0, error: `bad url ${inputs.url}`, responseText: "" });
        return;
      }
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": String(Buffer.byteLength(body)),
        "User-Agent": "VSServices/16.0 (ADO emulator)",
      };
      try {
        Object.assign(headers, inputs.httpHeaders ? parseHttpHeaders(inputs.httpHeaders) : {});
      } catch {
        /* validated on create; a hand-made subscription may carry junk, which ADO would not send */
      }
      if (inputs.basicAuthUsername || inputs.basicAuthPassword) {
        headers.Authorization = `Basic ${Buffer.from(`${inputs.basicAuthUsername ?? ""}:${inputs.basicAuthPassword ?? ""}`).toString("base64")}`;
      }
      const isTls = target.protocol === "https:";
      const req = (isTls ? https : http).request(
        target,
        {
          method: "POST",
          headers,
          agent: isTls ? this.deliveryAgentTls : this.deliveryAgent,
          timeout: this.deliveryTimeoutMs,
          rejectUnauthorized: isTls ? inputs.acceptUntrustedCerts !== "true" : undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8").slice(0, 2000);
            const ok = status >= 200 && status < 300;
            resolve({
              ok,
              status,
              responseText: `${status} ${res.statusMessage ?? ""}\n${text}`,
              error: ok ? undefined : `HTTP ${status} ${res.statusMessage ?? ""}`.trim(),
            });
          });
          res.on("error", (err) => resolve({ ok: false, status: 0, error: err.message, responseText: "" }));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.deliveryTimeoutMs} ms`)));
      req.on("error", (err) => resolve({ ok: false, status: 0, error: err.message, responseText: "" }));
      req.end(body);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

interface AttemptResult {
  ok: boolean;
  /** 0 when no HTTP answer arrived (refused, reset, timeout). Treated as transient (*unconfirmed*). */
  status: number;
  error?: string;
  responseText: string;
}

interface Condition {
  inputId: string;
  inputValue: string;
  operator?: "equals" | "notEquals";
  caseSensitive?: boolean;
}

/** serviceHooks.json NotificationsQuery (the fields a query may set). */
interface NotificationQuery {
  subscriptionIds?: string[];
  publisherId?: string;
  status?: string;
  resultType?: string;
  maxResults?: number;
  maxResultsPerSubscription?: number;
  includeDetails?: boolean;
  minCreatedDate?: string;
  maxCreatedDate?: string;
}

function conditionHolds(inputs: Record<string, string>, c: Condition): boolean {
  const actual = inputs[c.inputId] ?? "";
  const equal = c.caseSensitive
    ? actual === c.inputValue
    : actual.toLowerCase() === (c.inputValue ?? "").toLowerCase();
  return c.operator === "notEquals" ? !equal : equal;
}

/** What is wrong with a failure rule, or undefined. */
export function deliveryFailureProblem(rule: Partial<DeliveryFailureRule>): string | undefined {
  if (typeof rule.url !== "string" || !/^https?:\/\/\S+$/.test(rule.url))
    return "url must be an http(s) URL (deliveries whose URL starts with it fail)";
  if (!Number.isInteger(rule.status) || rule.status! < 400 || rule.status! > 599)
    return "status must be a whole number from 400 to 599";
  if (rule.org !== undefined && (typeof rule.org !== "string" || rule.org === ""))
    return "org must be an organization name";
  if (rule.project !== undefined && (typeof rule.project !== "string" || rule.project === ""))
    return "project must be a project name or id";
  return undefined;
}

function normalizeRateLimit(options?: RateLimitOptions): Required<RateLimitOptions> {
  const budget = options?.budget ?? 200;
  return {
    enabled: options?.enabled ?? false,
    budget,
    windowMs: options?.windowMs ?? 300_000,
    delayMs: options?.delayMs ?? 500,
    blockAt: options?.blockAt ?? Math.ceil(budget * 1.5),
  };
}

function clampInt(value: string | null | undefined, fallback: number, min: number, max: number): number {
  const n = value === null || value === undefined || value === "" ? NaN : Number(value);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(n)));
}

function collection<T>(value: T[]): { count: number; value: T[] } {
  return { count: value.length, value };
}

function projectMissing(name: string): AdoFault {
  return new AdoFault(
    404,
    `TF200016: The following project does not exist: ${name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
    "ProjectDoesNotExistWithNameException",
  );
}

function safeHost(url: string | undefined): string {
  try {
    return new URL(url ?? "").host;
  } catch {
    return "";
  }
}

function parseJsonBody(body: string): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    throw new AdoFault(400, "The request body is not valid JSON.", "VssRequestContentException");
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8; api-version=7.1",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/**
 * "GET /contoso/_apis/hooks/subscriptions/3f…" → "GET /_apis/hooks/subscriptions/{id}";
 * ".../subscriptions/3f…/notifications/12" → ".../subscriptions/{id}/notifications/{id}".
 */
function routeKey(method: string, pathname: string): string {
  const parts = pathname.split("/").filter(Boolean);
  const host = parts[0] === "vssps" || parts[0] === "vsrm" ? parts[0] : undefined;
  const rest = parts.slice(host ? 2 : 1);
  if (rest[0] === "_apis" && rest[1] === "hooks") {
    if (rest[3]) rest[3] = "{id}";
    if (rest[4] === "notifications" && rest[5]) rest[5] = "{id}";
  } else if (rest[0] === "_apis" && rest[1] === "projects" && rest[2]) rest[2] = "{id}";
  return `${method} ${host ? `/${host}` : ""}/${rest.join("/")}`;
}

/**
 * The OPTIONS answers of the location service for the areas the node client uses here. With the
 * default versions (max 7.2, released 7.1, resource version 4) azure-devops-node-api 17 asks for
 * projects at 7.2-preview.4; a location that tops at 7.1 makes it ask for 7.1 (its
 * VsoClient.autoNegotiateApiVersion). Exported for other loopback stand-ins of ADO in tests.
 */
export function locationsFor(
  area: string,
  versions: { maxVersion: string; releasedVersion: string; resourceVersion: number } = {
    maxVersion: "7.2",
    releasedVersion: "7.1",
    resourceVersion: 4,
  },
): { count: number; value: unknown[] } {
  const loc = (id: string, areaName: string, resourceName: string, routeTemplate: string) => ({
    id,
    area: areaName,
    resourceName,
    routeTemplate,
    minVersion: "1.0",
    ...versions,
  });
  switch (area.toLowerCase()) {
    case "location":
      return collection([
        {
          ...loc(LOCATION_AREA_ID, "Location", "ResourceAreas", "_apis/{resource}/{areaId}"),
          resourceVersion: 1,
        },
      ]);
    case "core":
      return collection([loc(PROJECTS_LOCATION_ID, "core", "projects", "_apis/{resource}/{*projectId}")]);
    default:
      return collection([]);
  }
}
