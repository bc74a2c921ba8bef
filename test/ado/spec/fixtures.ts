/**
 * Microsoft's example exchanges (../shared/ado-spec) as routes of the example server: every answer
 * our client reads, served with the example's exact body where the spec has one. Where the spec
 * publishes no example (notifications, subscriptionsquery), the answer is built from the spec's
 * definitions and says so.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { AdoClient } from "../../../ado/client";
import type { Route } from "./example-server";
import { exampleBody } from "./swagger";

export const EX = {
  subscriptions: "hooks/7.1/httpExamples/subscriptions/GET__hooks_subscriptions_.json",
  subscription: "hooks/7.1/httpExamples/subscriptions/GET__hooks_subscriptions__subscriptionId_.json",
  create: "hooks/7.1/httpExamples/subscriptions/POST__hooks_subscriptions.json",
  replace: "hooks/7.1/httpExamples/subscriptions/PUT__hooks_subscriptions__newSubscriptionId_.json",
  remove: "hooks/7.1/httpExamples/subscriptions/DELETE__hooks_subscriptions__newSubscriptionId_.json",
  consumers: "hooks/7.1/httpExamples/consumers/GET__hooks_consumers.json",
  eventTypes: "hooks/7.1/httpExamples/eventtypes/GET__hooks_publishers__publisherId__eventTypes.json",
  projects: "core/7.1/httpExamples/projects/GET__projects.json",
  createPat: "tokens/7.1/httpExamples/Pats/CreatePat.json",
  getPat: "tokens/7.1/httpExamples/Pats/GetPat.json",
  listPats: "tokens/7.1/httpExamples/Pats/ListPats.json",
  revokePat: "tokens/7.1/httpExamples/Pats/RevokePat.json",
} as const;

export const GUID = "[0-9a-fA-F-]{36}";
const SUB_PATH = new RegExp(`^/_apis/hooks/subscriptions/(${GUID})$`);
const NOTIFICATIONS_PATH = new RegExp(`^/_apis/hooks/subscriptions/(${GUID})/notifications$`);
const NOTIFICATION_PATH = new RegExp(`^/_apis/hooks/subscriptions/(${GUID})/notifications/(\\d+)$`);

/**
 * A finished delivery as serviceHooks.json's Notification and NotificationDetails describe it
 * (no published example exists): used where an answer must carry one.
 */
export function completedNotification(subscriptionId: string, id: number): Record<string, unknown> {
  return {
    id,
    subscriptionId,
    eventId: "8a9f2bd3-4c31-4b59-9d1a-4e1d2c1f0e7a",
    status: "completed",
    result: "succeeded",
    createdDate: "2014-10-27T15:37:26.23Z",
    modifiedDate: "2014-10-27T15:37:27.1033333Z",
    details: { eventType: "build.complete", publisherId: "tfs", consumerId: "webHooks", requestAttempts: 1 },
  };
}

/** Routes answering every call of AdoClient with Microsoft's examples. */
export function exampleRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/_apis/projects",
      answer: () => ({ status: 200, body: exampleBody(EX.projects) }),
    },
    {
      method: "GET",
      path: "/_apis/hooks/subscriptions",
      answer: () => ({ status: 200, body: exampleBody(EX.subscriptions) }),
    },
    { method: "GET", path: SUB_PATH, answer: () => ({ status: 200, body: exampleBody(EX.subscription) }) },
    {
      method: "POST",
      path: "/_apis/hooks/subscriptions",
      answer: () => ({ status: 200, body: exampleBody(EX.create) }),
    },
    { method: "PUT", path: SUB_PATH, answer: () => ({ status: 200, body: exampleBody(EX.replace) }) },
    { method: "DELETE", path: SUB_PATH, answer: () => ({ status: 204 }) },
    {
      // No example: SubscriptionsQuery answered with its own fields and the results.
      method: "POST",
      path: "/_apis/hooks/subscriptionsquery",
      answer: (req) => ({
        status: 200,
        body: {
          ...(req.body as object),
          results: (exampleBody<{ value: unknown[] }>(EX.subscriptions).value ?? []).slice(0, 2),
        },
      }),
    },
    {
      method: "GET",
      path: NOTIFICATIONS_PATH,
      answer: () => ({ status: 200, body: { count: 0, value: [] } }),
    },
    {
      method: "GET",
      path: NOTIFICATION_PATH,
      answer: (_req, m) => ({ status: 200, body: completedNotification(m![1], Number(m![2])) }),
    },
    {
      // No example: a new test notification, queued (sparse: status and result left out).
      method: "POST",
      path: "/_apis/hooks/testnotifications",
      answer: (req) => ({
        status: 200,
        body: {
          id: 12,
          subscriptionId: (req.body as { subscriptionId: string }).subscriptionId,
          createdDate: "2014-10-27T15:37:26.23Z",
        },
      }),
    },
    {
      method: "POST",
      path: "/_apis/tokens/pats",
      answer: () => ({ status: 200, body: exampleBody(EX.createPat) }),
    },
    {
      method: "GET",
      path: "/_apis/tokens/pats",
      answer: (req) =>
        req.query.has("authorizationId")
          ? { status: 200, body: exampleBody(EX.getPat) }
          : { status: 200, body: exampleBody(EX.listPats) },
    },
    {
      method: "DELETE",
      path: "/_apis/tokens/pats",
      answer: () => ({ status: 204, body: exampleBody(EX.revokePat) }),
    },
  ];
}

/** An Entra *user* token credential (unsigned JWT with idtyp user): what the PAT API accepts. */
export function userCredential(): TokenCredential {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const token = `${enc({ alg: "none" })}.${enc({ idtyp: "user", scp: "user_impersonation" })}.sig`;
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

/** A client of the example server: PAT auth for the org APIs. */
export function patClient(orgUrl: string, extra: Partial<ConstructorParameters<typeof AdoClient>[0]> = {}) {
  return new AdoClient({ orgUrl, auth: { kind: "pat", pat: "example-pat" }, retryBaseMs: 5, ...extra });
}

/** A client with a user token: the PAT lifecycle API too. */
export function userClient(orgUrl: string, vsspsUrl: string) {
  return new AdoClient({
    orgUrl,
    vsspsUrl,
    auth: { kind: "entra", credential: userCredential() },
    retryBaseMs: 5,
  });
}
