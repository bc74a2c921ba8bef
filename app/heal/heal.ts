/**
 * The heal run: finds HookFleet's service hooks that ADO has taken out of service, replays the
 * events whose delivery failed into the message store, and puts the hooks back to `enabled`.
 *
 * Order per hook: history and replay first, PUT second. Once a hook is enabled again, later runs
 * look at it only while it counts as changed recently (selection.ts), so if the replay failed
 * (store down) and the hook were enabled anyway, the failed events could be forgotten. With the
 * store down the receiver would fail ADO's deliveries too, so keeping such a hook disabled until
 * the next run loses nothing that enabling would save.
 */
import type { CredentialSettings } from "../config";
import { classifyDelivery, type Delivery } from "../events";
import { buildDocuments, DocumentTooLargeError } from "../ingest";
import type { MessageDocument } from "../messages";
import { scrubText } from "../scrub";
import type { SystemSetting } from "../settings";
import type { MessageStore } from "../store";
import { digestEquals, sha256Hex } from "../tokens";
import { selectHooks } from "./selection";
import { defaultRecentHours } from "./settings";
import { AdoError } from "../../ado/errors";
import { replaceAndVerify } from "../../ado/replace";
import type {
  AdoApi,
  AdoEvent,
  Notification,
  Subscription,
  SubscriptionInput,
  SubscriptionStatus,
} from "../../ado/types";
import {
  compareInstants,
  eventProjectId,
  instant,
  isDisabled,
  notificationEvent,
  notificationEventId,
  notificationResult,
  subscriptionStatus,
} from "../../ado/wire";

export type SubscriptionStatusName = SubscriptionStatus;

/** What to do with hooks on probation or disabled by a person. */
export type HealPolicy = "leave" | "enable";

export interface HealOptions {
  /** One ADO client per organization (bounded concurrency and retries live in the client). */
  orgs: AdoApi[];
  /** The receiver's public base URL; subscriptions whose consumer URL starts with it are ours. */
  webhookBaseUrl: string;
  /** The receiver's message store (same database and container). */
  store: MessageStore;
  /** The receiver's systems and URL-token hashes: map a hook's URL to its system. */
  credentials: Pick<CredentialSettings, "systems" | "urlTokens">;
  /** Report what would be done; change nothing in ADO or the store. */
  dryRun?: boolean;
  /** Hooks on probation: `leave` (default) lets ADO keep retrying; `enable` PUTs them enabled. */
  probation?: HealPolicy;
  /** Hooks a person disabled: `leave` (default) reports them only. */
  disabledByUser?: HealPolicy;
  /** maxResults of each notification-history read. Default 1000. */
  historyMaxResults?: number;
  /**
   * Also read the history of every enabled hook and replay its failed deliveries (no PUT). Costs
   * one ADO call per hook. Default false: only the enabled hooks of `recentHours` are read.
   */
  includeEnabled?: boolean;
  /**
   * Also read the history of enabled hooks changed (modifiedDate after createdDate) within this
   * many hours before the run, and replay their failed deliveries (no PUT): hooks that `pulumi up`
   * or a person re-enabled before a run saw them (selection.ts). 0: none. Default 6.
   */
  recentHours?: number;
  /** Hooks healed at once. Default 4. */
  concurrency?: number;
  /** One line per step, for progress output. */
  onProgress?: (line: string) => void;
  /** Clock (tests). */
  now?: () => Date;
}

export type HookAction =
  /** PUT back to enabled. */
  | "enabled"
  /** Dry run: would have been PUT back to enabled. */
  | "wouldEnable"
  /** Left as found by policy (probation, disabled by a person). */
  | "left"
  /** Should have been enabled but was not (see problems). */
  | "notEnabled"
  /** Already enabled again (or gone) when the heal got to it. */
  | "skipped";

export interface HookHealResult {
  orgUrl: string;
  id: string;
  projectId?: string;
  project?: string;
  eventType: string;
  /** The receiver system the hook delivers to, when its URL says so. */
  systemId?: string;
  statusFound: SubscriptionStatusName;
  /** Status after the heal (the same as found unless it was PUT). */
  statusAfter: SubscriptionStatusName | "deleted";
  action: HookAction;
  /** Start of the failure streak: first failed delivery after the last success (else modifiedDate). */
  downSince?: string;
  /** When ADO disabled it (modifiedDate of a disabled hook). */
  disabledAt?: string;
  /** When it was enabled again by this run. */
  enabledAt?: string;
  /** downSince → enabledAt, or → now when still down. */
  downtimeMs?: number;
  /** Distinct events whose delivery failed with no later success (found in the history). */
  failedEvents: number;
  /** Of those, stored by this run (dry run: would be stored). */
  replayed: number;
  /** Of those, already in the store (a duplicate, not stored again). */
  alreadyPresent: number;
  /**
   * Failed deliveries that cannot be replayed ever: no usable event in the history entry, or an
   * event over the receiver's size limit (named in problems). They do not keep the hook disabled.
   */
  notRecoverable: number;
  /** ADO event ids replayed (or, in a dry run, that would be). */
  replayedEventIds: string[];
  /** Why the hook is not fully repaired; any problem makes the run fail (non-zero exit). */
  problems: string[];
  /** Facts worth knowing that are not failures. */
  notes: string[];
}

export interface OrgHealResult {
  orgUrl: string;
  /** HookFleet subscriptions in the org (any status). */
  hooks: number;
  /** Of those, not enabled when listed. */
  notEnabled: number;
  /** Of those, enabled and read for failed deliveries (changed recently, or every one with includeEnabled). */
  enabledRead: number;
  error?: string;
}

export interface HealReport {
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  webhookBaseUrl: string;
  orgs: OrgHealResult[];
  /** Every hook found not enabled, healed or not. */
  hooks: HookHealResult[];
  /** enabled and replayed count what a dry run would do. */
  totals: { hooks: number; notEnabled: number; enabled: number; replayed: number; alreadyPresent: number };
  /** True when every org was listed and no hook has a problem. */
  ok: boolean;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported and tested directly)

/** Prefix of HookFleet's consumer URLs: the base URL with exactly one trailing slash. */
export function consumerPrefix(webhookBaseUrl: string): string {
  const u = new URL(webhookBaseUrl);
  u.search = "";
  u.hash = "";
  return u.href.endsWith("/") ? u.href : `${u.href}/`;
}

export interface HookTarget {
  route: "token" | "basic" | "unknown";
  system?: SystemSetting;
  /** Token route: the token is configured but past its notAfter (rotated out). */
  tokenExpired?: boolean;
  problem?: string;
}

/** A URL path segment decoded, or undefined when its %-encoding is malformed (URIError). */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The receiver system a consumer URL delivers to: `/api/v1/webhooks/{token}` through the URL-token
 * hashes (expired ones included: events sent with them still belong to that system),
 * `/api/v1/systems/{id}/webhooks` by name. Never returns or logs the token.
 */
export function targetOf(
  consumerUrl: string,
  credentials: Pick<CredentialSettings, "systems" | "urlTokens">,
  now = Date.now(),
): HookTarget {
  let path: string;
  try {
    path = new URL(consumerUrl).pathname;
  } catch {
    return { route: "unknown", problem: "consumer URL is not a URL" };
  }
  const systems = new Map(credentials.systems.map((s) => [s.id, s]));
  const token = /\/api\/v1\/webhooks\/([^/]+)\/?$/.exec(path);
  if (token) {
    // A hand-made hook may carry anything: its trouble is that hook's problem, not the run's.
    const decoded = decodeSegment(token[1]);
    if (decoded === undefined)
      return {
        route: "token",
        problem:
          "its URL token has malformed %-encoding, so no receiver token can match it: run `pulumi up` to give the hook a current URL",
      };
    const digest = sha256Hex(decoded);
    const entries = credentials.urlTokens.filter((t) => digestEquals(digest, t.sha256));
    if (entries.length === 0)
      return {
        route: "token",
        problem:
          "its URL token is not one the receiver knows (rotated out or never configured): run `pulumi up` to give the hook a current URL",
      };
    const live = entries.find((e) => e.notAfter === undefined || Date.parse(e.notAfter) > now);
    const entry = live ?? entries[0];
    const system = systems.get(entry.systemId);
    if (!system)
      return { route: "token", problem: `its URL token maps to unknown system "${entry.systemId}"` };
    return { route: "token", system, tokenExpired: !live };
  }
  const basic = /\/api\/v1\/systems\/([^/]+)\/webhooks\/?$/.exec(path);
  if (basic) {
    const id = decodeSegment(basic[1]);
    if (id === undefined)
      return { route: "basic", problem: "the system id in its URL has malformed %-encoding" };
    const system = systems.get(id);
    return system
      ? { route: "basic", system }
      : { route: "basic", problem: `its URL names system "${id}", which the receiver does not configure` };
  }
  return { route: "unknown", problem: "its consumer URL is not a receiver webhook route" };
}

export interface FailedEvent {
  eventId: string;
  /** The event as ADO tried to deliver it (from the history entry), when present. */
  event?: AdoEvent;
  firstFailedAt: string;
  lastFailedAt: string;
}

export interface HistoryAnalysis {
  failed: FailedEvent[];
  /** First failed delivery after the last successful one. */
  downSince?: string;
  lastSuccessAt?: string;
  inspected: number;
}

function byTime(a: Notification, b: Notification): number {
  return compareInstants(a.createdDate, b.createdDate) || a.id - b.id;
}

/** a is later than b, as instants (ADO writes 2, 3 or 7 fractional digits: never compare text). */
function later(a: string, b: string | undefined): boolean {
  return b === undefined || instant(a) > instant(b);
}

/**
 * From a hook's delivery history to the events to replay: every event with a failed (or, if ADO
 * records such, a never-completed) delivery and no successful delivery at or after its last
 * failure. Filtered notifications were never meant to be delivered.
 */
export function analyzeHistory(notifications: readonly Notification[]): HistoryAnalysis {
  const sorted = [...notifications].sort(byTime);
  const lastOk = new Map<string, string>();
  let lastSuccessAt: string | undefined;
  for (const n of sorted)
    if (notificationResult(n) === "succeeded") {
      lastSuccessAt = n.createdDate;
      const id = notificationEventId(n);
      if (id) lastOk.set(id, n.createdDate);
    }
  const failed = new Map<string, FailedEvent>();
  let downSince: string | undefined;
  for (const n of sorted) {
    const result = notificationResult(n);
    if (result === "succeeded" || result === "filtered") continue;
    if (later(n.createdDate, lastSuccessAt)) downSince ??= n.createdDate;
    const eventId = notificationEventId(n);
    if (!eventId) {
      failed.set(`#${n.id}`, {
        eventId: `#${n.id}`,
        firstFailedAt: n.createdDate,
        lastFailedAt: n.createdDate,
      });
      continue;
    }
    const prev = failed.get(eventId);
    failed.set(eventId, {
      eventId,
      event: notificationEvent(n) ?? prev?.event,
      firstFailedAt: prev?.firstFailedAt ?? n.createdDate,
      lastFailedAt: n.createdDate,
    });
  }
  const open = [...failed.values()].filter((f) => {
    const ok = lastOk.get(f.eventId);
    return ok === undefined || instant(ok) < instant(f.lastFailedAt);
  });
  return { failed: open, downSince, lastSuccessAt, inspected: notifications.length };
}

/** A Notifications_Get that failed (after the client's retries): the event may still be there. */
export interface DetailsLookupError {
  eventId: string;
  message: string;
}

/**
 * `details` is "if available" in a history list (serviceHooks.json Notification): for every event
 * still to replay whose event the list did not carry, ask ADO for its latest attempt
 * (Notifications_Get), which has the details. An entry ADO answers without an event, or with 404,
 * stays as it is (counted as not recoverable). A lookup that fails otherwise (429, 5xx, network) is
 * returned in `errors`: its event is not known to be lost, so the caller must not give up on it.
 */
export async function fillMissingDetails(
  client: Pick<AdoApi, "getNotification">,
  subscriptionId: string,
  notifications: readonly Notification[],
): Promise<{ notifications: Notification[]; errors: DetailsLookupError[] }> {
  const missing = analyzeHistory(notifications).failed.filter((f) => !f.event);
  const filled = [...notifications];
  const errors: DetailsLookupError[] = [];
  for (const f of missing) {
    // The latest attempt of the event (or the entry itself when it has no event id).
    const attempts = filled
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => (notificationEventId(n) ?? `#${n.id}`) === f.eventId)
      .sort((a, b) => byTime(b.n, a.n));
    const latest = attempts[0];
    if (!latest) continue;
    try {
      // The hook's own id, not the entry's `subscriptionId`: every field of a Notification is
      // optional in serviceHooks.json, and this history is the hook's (Notifications_List by its id).
      const full = await client.getNotification(subscriptionId, latest.n.id);
      if (full && notificationEvent(full)) filled[latest.i] = { ...latest.n, ...full };
    } catch (err) {
      errors.push({ eventId: f.eventId, message: `notification ${latest.n.id}: ${errorText(err)}` });
    }
  }
  return { notifications: filled, errors };
}

/** The PUT body that re-enables a subscription as read: masked secrets stay `********` (kept by ADO). */
export function reenableInput(sub: Subscription): SubscriptionInput {
  return {
    publisherId: sub.publisherId,
    eventType: sub.eventType,
    resourceVersion: sub.resourceVersion,
    consumerId: sub.consumerId,
    consumerActionId: sub.consumerActionId,
    publisherInputs: { ...sub.publisherInputs },
    consumerInputs: { ...sub.consumerInputs },
    status: "enabled",
  };
}

/**
 * An error's text as heal prints and reports it: scrubbed, since ADO's error text may quote the
 * consumer URL, whose path holds our URL token (app/scrub.ts), and the job's output goes to Log
 * Analytics.
 */
export function errorText(err: unknown): string {
  return scrubText(err instanceof Error ? err.message : String(err));
}

async function pool<T>(items: readonly T[], size: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(size, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  });
  await Promise.all(runners);
}

// ---------------------------------------------------------------------------------------------
// The run

export async function runHeal(opts: HealOptions): Promise<HealReport> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const prefix = consumerPrefix(opts.webhookBaseUrl);
  const progress = opts.onProgress ?? (() => {});
  const dryRun = opts.dryRun ?? false;
  const recentHours = opts.recentHours ?? defaultRecentHours;
  const orgs: OrgHealResult[] = [];
  const hooks: HookHealResult[] = [];
  let total = 0;

  for (const client of opts.orgs) {
    let subs: Subscription[];
    try {
      // One org-wide list call; the prefix filter keeps only HookFleet's subscriptions.
      subs = await client.listSubscriptions({ consumerUrlPrefix: prefix });
    } catch (err) {
      orgs.push({ orgUrl: client.orgUrl, hooks: 0, notEnabled: 0, enabledRead: 0, error: errorText(err) });
      progress(`${client.orgUrl}: could not list subscriptions: ${errorText(err)}`);
      continue;
    }
    total += subs.length;
    const { notEnabled, enabledToRead } = selectHooks(subs, {
      includeEnabled: opts.includeEnabled ?? false,
      recentMs: recentHours * 3_600_000,
      now: now().getTime(),
    });
    const down = [...notEnabled, ...enabledToRead];
    orgs.push({
      orgUrl: client.orgUrl,
      hooks: subs.length,
      notEnabled: notEnabled.length,
      enabledRead: enabledToRead.length,
    });
    progress(
      `${client.orgUrl}: ${subs.length} HookFleet hooks, ${notEnabled.length} not enabled` +
        (enabledToRead.length
          ? `, ${enabledToRead.length} enabled ${opts.includeEnabled ? "" : `and changed in the last ${recentHours} h `}(read for failed deliveries)`
          : ""),
    );
    if (down.length === 0) continue;

    const projectNames = new Map<string, string>();
    try {
      for (const p of await client.listProjects()) projectNames.set(p.id.toLowerCase(), p.name);
    } catch (err) {
      progress(`${client.orgUrl}: project names unavailable (${errorText(err)}); showing ids`);
    }

    await pool(down, opts.concurrency ?? 4, async (sub, i) => {
      const result = await healHook(client, sub, projectNames, opts, now);
      // An enabled hook is worth a line only when something was (or would be) replayed.
      const quiet = result.statusFound === "enabled" && !result.replayed && !result.problems.length;
      if (quiet) return;
      hooks.push(result);
      const what =
        result.action === "enabled" || result.action === "wouldEnable"
          ? `${result.statusFound} → ${result.action === "enabled" ? "enabled" : "enabled (dry run)"}`
          : `${result.statusFound}, ${result.action}`;
      progress(
        `[${i + 1}/${down.length}] ${result.project ?? result.projectId ?? "?"} ${result.eventType} ${result.id}: ${what}; ` +
          `${dryRun ? "would replay" : "replayed"} ${result.replayed}, already stored ${result.alreadyPresent}` +
          (result.problems.length ? `; PROBLEM: ${result.problems.join("; ")}` : ""),
      );
    });
  }

  hooks.sort((a, b) => a.orgUrl.localeCompare(b.orgUrl) || a.id.localeCompare(b.id));
  return {
    startedAt,
    finishedAt: now().toISOString(),
    dryRun,
    webhookBaseUrl: prefix,
    orgs,
    hooks,
    totals: {
      hooks: total,
      notEnabled: hooks.filter((h) => h.statusFound !== "enabled").length,
      // In a dry run: how many would be enabled.
      enabled: hooks.filter((h) => h.action === "enabled" || h.action === "wouldEnable").length,
      replayed: hooks.reduce((n, h) => n + h.replayed, 0),
      alreadyPresent: hooks.reduce((n, h) => n + h.alreadyPresent, 0),
    },
    ok: orgs.every((o) => !o.error) && hooks.every((h) => h.problems.length === 0),
  };
}

async function healHook(
  client: AdoApi,
  sub: Subscription,
  projectNames: Map<string, string>,
  opts: HealOptions,
  now: () => Date,
): Promise<HookHealResult> {
  const dryRun = opts.dryRun ?? false;
  const status = subscriptionStatus(sub);
  const projectId = sub.publisherInputs?.projectId;
  const target = targetOf(sub.consumerInputs?.url ?? "", opts.credentials, now().getTime());
  const r: HookHealResult = {
    orgUrl: client.orgUrl,
    id: sub.id,
    projectId,
    project: projectId ? projectNames.get(projectId.toLowerCase()) : undefined,
    eventType: sub.eventType,
    systemId: target.system?.id,
    statusFound: status,
    statusAfter: status,
    action: "left",
    disabledAt: isDisabled(status) ? sub.modifiedDate : undefined,
    failedEvents: 0,
    replayed: 0,
    alreadyPresent: 0,
    notRecoverable: 0,
    replayedEventIds: [],
    problems: [],
    notes: [],
  };

  // Should this hook go back to enabled?
  let wantEnable: boolean;
  switch (status) {
    case "disabledBySystem":
      wantEnable = true;
      break;
    case "onProbation":
      wantEnable = opts.probation === "enable";
      if (!wantEnable)
        r.notes.push(
          "on probation: ADO keeps retrying and delivers the queued events after one success; left to ADO (policy)",
        );
      break;
    case "disabledByUser":
      wantEnable = opts.disabledByUser === "enable";
      if (!wantEnable) r.notes.push("disabled by a person: left alone (policy)");
      break;
    case "disabledByInactiveIdentity":
      wantEnable = false;
      r.problems.push(
        `the identity that owns it (${sub.createdBy?.uniqueName ?? sub.createdBy?.displayName ?? "unknown"}) is inactive: ` +
          "ADO cannot deliver for it, so enabling would not help; re-create the hook under an active identity (`pulumi up --replace` of that ServiceHook)",
      );
      break;
    default:
      // enabled (changed recently, or includeEnabled): replay only.
      wantEnable = false;
  }
  // A hook a person disabled and that we leave alone is not ours to fix: its troubles are notes.
  // An enabled hook's URL troubles are for `pulumi up`; only events it cannot replay are problems.
  const leftByPolicy = status === "disabledByUser" && !wantEnable;
  const concerns = leftByPolicy || status === "enabled" ? r.notes : r.problems;
  if (target.problem) concerns.push(target.problem);
  if (target.tokenExpired)
    concerns.push(
      "its URL token is past its overlap end and no longer accepted: run `pulumi up` to give the hook the current URL",
    );
  const deliverable = !target.problem && !target.tokenExpired;

  // History: the events that failed, and since when the hook was down.
  let historyOk = true;
  let notifications: Notification[] = [];
  const maxResults = opts.historyMaxResults ?? 1000;
  try {
    notifications = await client.listNotifications(sub.id, { maxResults });
  } catch (err) {
    historyOk = false;
    r.problems.push(`could not read its delivery history: ${errorText(err)}`);
  }
  const listed = notifications.length;
  // Events whose details ADO did not give this time: neither replayed nor lost, retried next run.
  const unread = new Set<string>();
  if (historyOk) {
    const filled = await fillMissingDetails(client, sub.id, notifications);
    notifications = filled.notifications;
    for (const e of filled.errors) {
      unread.add(e.eventId);
      r.problems.push(`could not read a failed delivery's details (retried next run): ${e.message}`);
    }
  }
  const history = analyzeHistory(notifications);
  if (listed >= maxResults)
    r.notes.push(`history read stopped at ${maxResults} entries: older failed deliveries were not looked at`);
  // How long ADO keeps a hook's detailed history is *unconfirmed*: learn.microsoft.com
  // azure/devops/service-hooks/troubleshoot says only that the Service Hooks page "summarizes
  // activity from the last seven days" (earlier versions: "last 14 days"). A hook ADO disabled for
  // failing with no failed delivery left in its history has lost them to that retention.
  if (historyOk && status === "disabledBySystem" && history.failed.length === 0)
    r.notes.push(
      "ADO disabled it for failed deliveries but its history holds none: ADO no longer keeps them (history retention), those events are not recoverable from ADO",
    );
  r.downSince =
    status === "enabled"
      ? history.downSince
      : (history.downSince ?? sub.lastProbationRetryDate ?? sub.modifiedDate);
  r.failedEvents = history.failed.length;

  // Replay every failed event into the store, through the receiver's own document builder. A hook
  // with an event left unread stays as it is, so that the next run looks at its history again.
  let replayOk = historyOk && unread.size === 0;
  if (target.system) {
    const system = target.system;
    let withoutEvent = 0;
    const otherProject: string[] = [];
    for (const f of history.failed) {
      if (unread.has(f.eventId)) continue;
      let delivery: Delivery | undefined;
      try {
        delivery = f.event === undefined ? undefined : classifyDelivery(f.event, {});
      } catch {
        delivery = undefined;
      }
      if (delivery?.kind !== "ado") {
        withoutEvent++;
        continue;
      }
      // An event of another project is not this hook's to replay: a failed test notification's
      // sample data (serviceHooks.json, Notification.subscriberId: "In case of test notifications
      // it can be the tester") or another subscription's event. Events naming no project are kept.
      const eventProject = eventProjectId(delivery.event);
      if (projectId && eventProject && eventProject.toLowerCase() !== projectId.toLowerCase()) {
        otherProject.push(`${f.eventId} (project ${eventProject})`);
        continue;
      }
      let doc: MessageDocument;
      try {
        // The receiver's own builder and size rule (app/ingest.ts): an event it would refuse with
        // 413 the store would refuse on every run (Cosmos DB's 2 MB item limit, app/messages.ts).
        // No delivery body to size it by: the builder measures the document itself (once).
        [doc] = await buildDocuments(system, "ado", [delivery.event], now(), Number.POSITIVE_INFINITY);
      } catch (err) {
        if (!(err instanceof DocumentTooLargeError)) throw err;
        // Permanent for this event only: the hook is still re-enabled for the events to come.
        r.notRecoverable++;
        r.problems.push(`event ${f.eventId} cannot be stored, not recoverable: ${errorText(err)}`);
        continue;
      }
      try {
        const duplicate = dryRun
          ? (await opts.store.get(system.id, doc.id)) !== undefined
          : (await opts.store.create(doc)).duplicate;
        if (duplicate) r.alreadyPresent++;
        else {
          r.replayed++;
          r.replayedEventIds.push(f.eventId);
        }
      } catch (err) {
        // The store's trouble (unreachable, throttling, refused credentials…), not this event's:
        // the hook stays as it is and the next run retries.
        replayOk = false;
        r.problems.push(`replay of event ${f.eventId} failed: ${errorText(err)}`);
        break;
      }
    }
    if (otherProject.length)
      r.notes.push(
        `${otherProject.length} failed deliveries not replayed: their events belong to another project than the hook's ${projectId}: ${otherProject.join(", ")}`,
      );
    r.notRecoverable += withoutEvent;
    if (withoutEvent)
      r.problems.push(`${withoutEvent} failed deliveries carry no event in ADO's history: not recoverable`);
  } else if (history.failed.length) {
    replayOk = false;
    (leftByPolicy ? r.notes : r.problems).push(
      `${history.failed.length} failed events not replayed: the hook's system is unknown`,
    );
  }

  // Enable (after the replay, see the module comment).
  if (wantEnable) {
    if (!deliverable) r.action = "notEnabled";
    else if (!replayOk) {
      r.action = "notEnabled";
      r.notes.push("kept as it is so that the next run retries the replay");
    } else {
      try {
        // Fresh read: the list may be minutes old, and a person or `pulumi up` may have acted since.
        const current = await client.getSubscription(sub.id);
        if (!current) {
          r.action = "skipped";
          r.statusAfter = "deleted";
        } else if (subscriptionStatus(current) === "enabled") {
          r.action = "skipped";
          r.statusAfter = "enabled";
          r.notes.push("enabled again by someone else meanwhile");
        } else if (dryRun) {
          r.action = "wouldEnable";
        } else {
          // Re-enabling by PUT is the only documented path, but *unconfirmed*: read back and check
          // (status, and that the masked password survived), see ado/replace.ts.
          const checked = await replaceAndVerify(client, sub.id, reenableInput(current), { readBack: true });
          const after = subscriptionStatus(checked.subscription);
          r.statusAfter = after;
          r.problems.push(...checked.problems);
          r.notes.push(...checked.repairs);
          if (after === "enabled") {
            r.action = "enabled";
            r.enabledAt = now().toISOString();
          } else {
            r.action = "notEnabled";
          }
        }
      } catch (err) {
        if (err instanceof AdoError && err.status === 404 && err.method === "PUT") {
          // Deleted (or replaced by a concurrent `pulumi up`) between the fresh GET and the PUT.
          // serviceHooks.json lists only 200 for Subscriptions_Replace: a 404 for a subscription
          // that is gone is *unconfirmed*, as is in getSubscription (ado/client.ts).
          r.action = "skipped";
          r.statusAfter = "deleted";
          r.notes.push("deleted (or replaced) while heal re-enabled it: nothing left to enable");
        } else {
          r.action = "notEnabled";
          r.problems.push(`re-enable failed: ${errorText(err)}`);
        }
      }
    }
  }

  if (r.downSince) {
    // An enabled hook came back when it was last modified (the re-enable), if that was later.
    const reenabledAt =
      status === "enabled" && sub.modifiedDate && later(sub.modifiedDate, r.downSince)
        ? instant(sub.modifiedDate)
        : undefined;
    if (reenabledAt !== undefined)
      r.notes.push(`enabled again before this run (modifiedDate ${sub.modifiedDate})`);
    const end = r.enabledAt ? instant(r.enabledAt) : (reenabledAt ?? now().getTime());
    const ms = end - instant(r.downSince);
    if (Number.isFinite(ms)) r.downtimeMs = Math.max(0, ms);
  }
  if (isDisabled(status))
    r.notes.push(
      `events raised while it was disabled (since ${r.disabledAt ?? "?"}) were neither delivered nor recorded by ADO: not recoverable from ADO`,
    );
  else if (r.action === "enabled")
    r.notes.push(
      "events ADO had queued behind the failed delivery during probation may be dropped by the re-enable (ADO behaviour unconfirmed)",
    );
  return r;
}
