/**
 * How to read ADO's sparse answers. Microsoft's own examples (../shared/ado-spec/, see its README)
 * leave fields out that our first release took for granted; these readers say, in one place, what
 * an absent field means. Pure functions: no I/O.
 */
import type {
  AdoEvent,
  Notification,
  NotificationResult,
  NotificationStatus,
  Subscription,
  SubscriptionStatus,
} from "./types";

/**
 * A subscription's status. hooks/7.1/httpExamples/subscriptions/GET__hooks_subscriptions_.json
 * gives `status` only to onProbation / disabledBySystem subscriptions: `enabled` is the first
 * value of serviceHooks.json's SubscriptionStatus enum, which the service leaves out. (A 2026
 * capture shows `"status": "enabled"` spelled out: both read the same.)
 */
export function subscriptionStatus(sub: Pick<Subscription, "status">): SubscriptionStatus {
  return sub.status ?? "enabled";
}

/** True for disabledByUser, disabledBySystem and disabledByInactiveIdentity. */
export function isDisabled(status: SubscriptionStatus): boolean {
  return status.startsWith("disabled");
}

/**
 * Delivery retries during probation. Absent on enabled subscriptions (same example); the spec
 * types it as a string of format "byte", the examples send a number: both read as a number.
 */
export function probationRetriesOf(sub: Pick<Subscription, "probationRetries">): number {
  const n = Number(sub.probationRetries ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/**
 * A notification's result. No published example shows a notification; like a subscription's
 * status, the enum's first value (`pending`, serviceHooks.json NotificationResult) may be left
 * out (*unconfirmed*), so absence reads as pending: not delivered.
 */
export function notificationResult(n: Pick<Notification, "result">): NotificationResult {
  return n.result ?? "pending";
}

/** A notification's status; absent reads as the enum's first value, `queued` (*unconfirmed*). */
export function notificationStatus(n: Pick<Notification, "status">): NotificationStatus {
  return n.status ?? "queued";
}

/**
 * The event a notification carried, when the entry holds it (`details` is "if available" in
 * serviceHooks.json's Notification: a list may leave it out; Notifications_Get has it).
 */
export function notificationEvent(n: Pick<Notification, "details">): AdoEvent | undefined {
  const event = n.details?.event;
  return event && typeof event === "object" ? event : undefined;
}

/** The ADO event id of a notification: its `eventId`, else the id of the event it carries. */
export function notificationEventId(n: Pick<Notification, "eventId" | "details">): string | undefined {
  return n.eventId ?? notificationEvent(n)?.id;
}

/**
 * An ADO timestamp as epoch milliseconds (NaN when absent or unreadable). ADO writes 2, 3 or 7
 * fractional digits (`…:26.23Z`, `…:24.873Z`, `…:52.1033333Z` in the examples), so timestamps are
 * compared as instants, never as strings: "….12Z" sorts after "….1234567Z" as text.
 */
export function instant(timestamp: string | undefined | null): number {
  return timestamp ? Date.parse(timestamp) : Number.NaN;
}

/** Orders two ADO timestamps by instant; unreadable ones sort first. */
export function compareInstants(a: string | undefined, b: string | undefined): number {
  const x = instant(a);
  const y = instant(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
  return x - y;
}

/**
 * The project an event belongs to: `resourceContainers.project.id`, or for release (`rm`) events,
 * whose samples carry only the collection and account containers, `resource.project.id`
 * (MicrosoftDocs azure-devops-docs, service-hooks/events.md, the ms.vss-release.* samples).
 */
export function eventProjectId(event: unknown): string | undefined {
  const o = event as { resourceContainers?: unknown; resource?: unknown } | null;
  if (!o || typeof o !== "object") return undefined;
  const pick = (container: unknown, key: string): string | undefined => {
    const v =
      container && typeof container === "object" ? (container as Record<string, unknown>)[key] : undefined;
    const id = v && typeof v === "object" ? (v as Record<string, unknown>).id : undefined;
    return typeof id === "string" && id !== "" ? id : undefined;
  };
  return pick(o.resourceContainers, "project") ?? pick(o.resource, "project");
}
