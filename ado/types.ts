/**
 * Shapes of the Azure DevOps REST resources HookFleet uses (api-version 7.1), and the surface of
 * the one ADO client in `ado/`. Field names follow Microsoft's REST specification
 * (vsts-rest-api-specs, hooks/7.1/serviceHooks.json and tokens/7.1/tokens.json, copied in
 * ../shared/ado-spec/). The wire shapes are typed as sparse as ADO sends them: a field the spec's
 * examples leave out is optional here, and the readers in `ado/wire.ts` say what its absence means.
 */

/** REST status strings (the node client's numeric enum is not used on the wire). */
export type SubscriptionStatus =
  "enabled" | "onProbation" | "disabledByUser" | "disabledBySystem" | "disabledByInactiveIdentity";

export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = [
  "enabled",
  "onProbation",
  "disabledByUser",
  "disabledBySystem",
  "disabledByInactiveIdentity",
];

/** ADO masks confidential consumer inputs (basicAuthPassword) on read with this literal. */
export const MASKED_SECRET = "********";

export interface IdentityRef {
  id?: string;
  displayName?: string;
  uniqueName?: string;
}

/**
 * A service hook subscription as ADO returns it. Microsoft's GET subscriptions example
 * (hooks/7.1/httpExamples/subscriptions/GET__hooks_subscriptions_.json) leaves `status` and
 * `probationRetries` out of enabled subscriptions and has `resourceVersion: null` on some: read
 * them with `subscriptionStatus()` / `probationRetriesOf()` (ado/wire.ts), never directly.
 */
export interface Subscription {
  id: string;
  url?: string;
  publisherId: string;
  eventType: string;
  /** null or absent: ADO's default version of the event (the example has both). */
  resourceVersion?: string | null;
  consumerId: string;
  consumerActionId: string;
  publisherInputs: Record<string, string>;
  consumerInputs: Record<string, string>;
  /** Absent means `enabled` (see subscriptionStatus). */
  status?: SubscriptionStatus;
  /** The spec types it as a string ("byte"), the examples as a number; absent means 0. */
  probationRetries?: number | string;
  lastProbationRetryDate?: string;
  createdBy?: IdentityRef;
  createdDate?: string;
  modifiedBy?: IdentityRef;
  modifiedDate?: string;
  eventDescription?: string;
  actionDescription?: string;
}

/** What a create or replace sends. `status` defaults to enabled on create. */
export interface SubscriptionInput {
  publisherId: string;
  eventType: string;
  /** Left out or null: ADO's default version (a subscription read back with `resourceVersion: null`). */
  resourceVersion?: string | null;
  consumerId: string;
  consumerActionId: string;
  publisherInputs: Record<string, string>;
  consumerInputs: Record<string, string>;
  status?: SubscriptionStatus;
}

export interface InputFilterCondition {
  inputId: string;
  inputValue: string;
  operator: "equals" | "notEquals";
  caseSensitive?: boolean;
}

export interface SubscriptionsQuery {
  publisherId?: string;
  eventType?: string;
  consumerId?: string;
  consumerActionId?: string;
  publisherInputFilters?: { conditions: InputFilterCondition[] }[];
  consumerInputFilters?: { conditions: InputFilterCondition[] }[];
}

export interface ResourceContainer {
  id: string;
  baseUrl?: string;
}

/** A delivered ADO event (the body of a Web Hooks POST). */
export interface AdoEvent {
  id: string;
  eventType: string;
  publisherId: string;
  message?: { text?: string; html?: string; markdown?: string };
  detailedMessage?: { text?: string; html?: string; markdown?: string };
  resource: Record<string, unknown>;
  resourceVersion: string;
  resourceContainers: {
    collection?: ResourceContainer;
    account?: ResourceContainer;
    project?: ResourceContainer;
  };
  createdDate: string;
  subscriptionId?: string;
  notificationId?: number;
}

export type NotificationStatus = "queued" | "processing" | "requestInProgress" | "completed";
export type NotificationResult = "pending" | "succeeded" | "failed" | "filtered";

/** serviceHooks.json `NotificationDetails`: what ADO sent, to whom, and what came back. */
export interface NotificationDetails {
  /** The event as ADO tried to deliver it. */
  event?: AdoEvent;
  /** The event type lives here, not on the Notification (spec). */
  eventType?: string;
  publisherId?: string;
  publisherInputs?: Record<string, string>;
  consumerId?: string;
  consumerActionId?: string;
  consumerInputs?: Record<string, string>;
  request?: string;
  response?: string;
  errorMessage?: string;
  errorDetail?: string;
  queuedDate?: string;
  dequeuedDate?: string;
  processedDate?: string;
  completedDate?: string;
  requestAttempts?: number;
  requestDuration?: number;
}

/**
 * One delivery attempt in a subscription's notification history (serviceHooks.json
 * `Notification`). `details` is "if available": a list may leave it out, the single GET
 * (Notifications_Get) is where to look then. `status` and `result` are read with
 * `notificationStatus()` / `notificationResult()` (ado/wire.ts): like a subscription's `status`,
 * ADO may leave out an enum's first value.
 */
export interface Notification {
  id: number;
  subscriptionId: string;
  /** The last identity that touched the subscription (or the tester of a test notification). */
  subscriberId?: string;
  eventId?: string;
  status?: NotificationStatus;
  result?: NotificationResult;
  createdDate: string;
  modifiedDate?: string;
  details?: NotificationDetails;
}

export interface Project {
  id: string;
  name: string;
  state: string;
  url?: string;
  description?: string;
  lastUpdateTime?: string;
}

/** A PAT as the PAT lifecycle API describes it (the secret `token` only on create). */
export interface PatToken {
  authorizationId: string;
  displayName: string;
  scope: string;
  targetAccounts?: string[];
  validFrom: string;
  validTo: string;
  token?: string;
}

export interface ProjectFilter {
  /** Exact names or ids; when set, only these (missing ones are an error). */
  names?: string[];
  /** Name globs to include (default: all). */
  include?: string[];
  /** Name globs to exclude. */
  exclude?: string[];
}

export interface NotificationsFilter {
  maxResults?: number;
  status?: NotificationStatus;
  result?: NotificationResult;
}

/** The ADO operations HookFleet needs; implemented by `AdoClient` in `ado/client.ts`. */
export interface AdoApi {
  /** The organization URL this client talks to, e.g. https://dev.azure.com/contoso. */
  readonly orgUrl: string;
  listProjects(filter?: ProjectFilter): Promise<Project[]>;
  /** Org-wide list; `consumerUrlPrefix` keeps only subscriptions whose consumer url starts with it. */
  listSubscriptions(filter?: {
    consumerUrlPrefix?: string;
    publisherId?: string;
    eventType?: string;
  }): Promise<Subscription[]>;
  /** undefined when ADO answers 404. */
  getSubscription(id: string): Promise<Subscription | undefined>;
  createSubscription(input: SubscriptionInput): Promise<Subscription>;
  replaceSubscription(id: string, input: SubscriptionInput): Promise<Subscription>;
  /** false when the subscription was already gone (404). */
  deleteSubscription(id: string): Promise<boolean>;
  querySubscriptions(query: SubscriptionsQuery): Promise<Subscription[]>;
  listNotifications(subscriptionId: string, filter?: NotificationsFilter): Promise<Notification[]>;
  /** One notification with its details (Notifications_Get); undefined when ADO answers 404. */
  getNotification(subscriptionId: string, notificationId: number): Promise<Notification | undefined>;
  /** Asks ADO to send a test event through the subscription; resolves with the delivery outcome. */
  sendTestNotification(subscriptionId: string): Promise<Notification>;
}

/** The PAT lifecycle API (needs a Microsoft Entra *user* token). */
export interface AdoPatApi {
  createPat(request: { displayName: string; scope: string; validTo: string }): Promise<PatToken>;
  listPats(): Promise<PatToken[]>;
  getPat(authorizationId: string): Promise<PatToken | undefined>;
  /** false when it was already gone. */
  revokePat(authorizationId: string): Promise<boolean>;
}
