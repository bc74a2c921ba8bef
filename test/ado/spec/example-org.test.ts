/**
 * The bar: the heal job and the ServiceHook provider run clean against an organization
 * whose subscription list is exactly Microsoft's GET subscriptions example — other consumers
 * (myGet, jenkins, trello, zendesk) beside Web Hooks, no `status` on enabled hooks, null
 * resourceVersions, 2- and 3-digit timestamps. The example server keeps that list and answers
 * PUTs the way the examples do (sparse answers); the history answers are built from the spec's
 * Notification definition (no example is published), with `details` left out of the list as the
 * spec allows ("if available"). Everything goes through the real AdoClient over HTTP.
 */
import { runHeal } from "../../../app/heal/heal";
import type { SystemSetting } from "../../../app/settings";
import { CosmosMessageStore } from "../../../app/store";
import { MASKED_SECRET, type Notification, type Subscription } from "../../../ado/types";
import { subscriptionStatus } from "../../../ado/wire";
import {
  checkServiceHookInputs,
  outputsFromSubscription,
  type ServiceHookOutputs,
} from "../../../components/hooks/mapping";
import { createServiceHookProvider } from "../../../components/hooks/provider";
import { sampleEvent } from "../../../devkit/ado-events";
import { type Route } from "./example-server";
import { exampleOrgSuite } from "./example-suite";
import { completedNotification, EX, GUID, patClient } from "./fixtures";
import { exampleBody } from "./swagger";

jest.setTimeout(30_000);

const RECEIVER = "https://receiver.example.net";
const ROUTE = `${RECEIVER}/api/v1/systems/devops/webhooks`;
const systems: SystemSetting[] = [{ id: "devops", storageMode: "full", retentionDays: 7 }];
const DISABLED = "a3c0ef7e-610c-4321-9a05-6d74e4930c7d"; // build.complete, disabledBySystem
const DISABLED_2 = "11c6b191-6b61-4ca0-96ed-99719ecdd916"; // workitem.created, disabledBySystem
const PROBATION = "be80ffe3-7463-4961-b5fd-f3b075a720c4"; // build.complete, onProbation
const TFVC = "5c11cf6b-b9f6-4403-a2dc-4ff7a1f99f9f"; // tfvc.checkin, enabled (no status)
const COMMENTED = "177922d7-2f1b-410a-8a2c-bad1dce444bc"; // workitem.commented, enabled (no status)

/**
 * An organization holding Microsoft's example list: GET answers it (exactly as published until
 * something changes), PUT answers like ADO's PUT example (no status when enabled; the stored
 * password kept for ********), GET notifications answers `histories`.
 */
function exampleOrg(rewriteUrls: boolean, histories: Record<string, Notification[]> = {}) {
  const body = exampleBody<{ count: number; value: Subscription[] }>(EX.subscriptions);
  if (rewriteUrls)
    for (const s of body.value)
      if (s.consumerInputs.url?.startsWith("http://requestb.in/")) s.consumerInputs.url = ROUTE;
  const state = new Map(body.value.map((s) => [s.id, s]));
  let changed = false;
  const sub = new RegExp(`^/_apis/hooks/subscriptions/(${GUID})$`);
  const routes: Route[] = [
    {
      method: "GET",
      path: "/_apis/projects",
      answer: () => ({ status: 200, body: exampleBody(EX.projects) }),
    },
    {
      method: "GET",
      path: "/_apis/hooks/subscriptions",
      answer: () => ({
        status: 200,
        body: changed ? { count: state.size, value: [...state.values()] } : body,
      }),
    },
    {
      method: "GET",
      path: sub,
      answer: (_r, m) =>
        state.has(m![1]) ? { status: 200, body: state.get(m![1]) } : { status: 404, body: {} },
    },
    {
      method: "PUT",
      path: sub,
      answer: (req, m) => {
        const old = state.get(m![1]);
        if (!old) return { status: 404, body: { message: "gone" } };
        const input = req.body as Subscription;
        const consumerInputs = { ...input.consumerInputs };
        if (consumerInputs.basicAuthPassword === MASKED_SECRET && !old.consumerInputs.basicAuthPassword)
          delete consumerInputs.basicAuthPassword;
        const next: Subscription = {
          ...old,
          resourceVersion: input.resourceVersion ?? null,
          publisherInputs: { ...old.publisherInputs, ...input.publisherInputs },
          consumerInputs,
          status: input.status,
          modifiedDate: "2026-05-12T10:11:12.1033333Z",
        };
        if (next.status === "enabled") delete next.status;
        if (next.status !== "onProbation") delete next.probationRetries;
        state.set(old.id, next);
        changed = true;
        return { status: 200, body: next };
      },
    },
    {
      method: "GET",
      path: new RegExp(`^/_apis/hooks/subscriptions/(${GUID})/notifications$`),
      answer: (_r, m) => {
        // The list leaves `details` out ("if available").
        const list = (histories[m![1]] ?? []).map(({ details: _d, ...n }) => n);
        return { status: 200, body: { count: list.length, value: list } };
      },
    },
    {
      method: "GET",
      path: new RegExp(`^/_apis/hooks/subscriptions/(${GUID})/notifications/(\\d+)$`),
      answer: (_r, m) => {
        const n = (histories[m![1]] ?? []).find((x) => x.id === Number(m![2]));
        return n
          ? { status: 200, body: n }
          : { status: 200, body: completedNotification(m![1], Number(m![2])) };
      },
    },
    {
      method: "POST",
      path: "/_apis/hooks/testnotifications",
      answer: (req) => ({
        status: 200,
        body: {
          id: 99,
          subscriptionId: (req.body as Notification).subscriptionId,
          createdDate: "2026-05-12T10:11:13.5Z",
        },
      }),
    },
  ];
  return { routes, state };
}

const world = exampleOrgSuite();

async function heal(opts: { webhookBaseUrl: string; dryRun?: boolean }) {
  const store = await CosmosMessageStore.open({
    settings: {
      endpoint: world.cosmos.endpoint,
      key: world.cosmos.key,
      database: "hookfleet",
      container: "messages",
    },
    createIfMissing: false,
  });
  try {
    return await runHeal({
      orgs: [patClient(world.server.orgUrl)],
      store,
      credentials: { systems, urlTokens: [] },
      ...opts,
    });
  } finally {
    await store.close();
  }
}

test("heal, the list exactly as published: finds the 7 Web Hooks hooks by URL, touches nothing else, does not crash", async () => {
  const org = exampleOrg(false);
  world.server.routes = org.routes;
  const report = await heal({ webhookBaseUrl: "http://requestb.in/" });
  // The example's enabled hooks were never changed after creation (modifiedDate = createdDate): not read.
  expect(report.orgs).toEqual([{ orgUrl: world.server.orgUrl, hooks: 7, notEnabled: 5, enabledRead: 0 }]);
  // The enabled ones (no status field) are not looked at; the others are reported as found.
  expect(report.hooks.map((h) => [h.id.slice(0, 8), h.statusFound])).toEqual([
    ["11c6b191", "disabledBySystem"],
    ["25bc678f", "onProbation"],
    ["6fd8cd25", "disabledBySystem"],
    ["a3c0ef7e", "disabledBySystem"],
    ["be80ffe3", "onProbation"],
  ]);
  // requestb.in is not a receiver route: nothing to replay into, so nothing is re-enabled.
  for (const h of report.hooks.filter((x) => x.statusFound === "disabledBySystem")) {
    expect(h.action).toBe("notEnabled");
    expect(h.problems).toEqual(["its consumer URL is not a receiver webhook route"]);
  }
  expect(world.server.requests.filter((r) => r.method !== "GET")).toEqual([]);
  expect(report.ok).toBe(false);
});

test("heal, the same list pointing at the receiver: re-enables the disabled hooks, replays what failed, runs clean", async () => {
  const event = {
    ...sampleEvent("build.complete", { org: "fabrikam" }),
    id: "0f6e9f1c-7a3e-4a76-b8d4-5a1d3c2b1a00",
  };
  const item = (n: Partial<Notification> & { id: number; subscriptionId: string }): Notification => ({
    status: "completed",
    result: "failed",
    createdDate: "2014-06-09T14:41:54.6Z",
    ...n,
  });
  const histories: Record<string, Notification[]> = {
    // Two failed attempts of one event; the list has no details, the single GET has the event.
    [DISABLED]: [
      item({
        id: 102,
        subscriptionId: DISABLED,
        eventId: event.id,
        createdDate: "2014-06-09T14:41:54.653Z",
        details: { event, eventType: event.eventType },
      }),
      item({
        id: 101,
        subscriptionId: DISABLED,
        eventId: event.id,
        createdDate: "2014-06-09T14:41:54.6Z",
        details: { event, eventType: event.eventType },
      }),
    ],
    // Failed at …:27.12Z, then delivered at …:27.1234567Z: as text ".12Z" sorts after
    // ".1234567Z", as instants the success is later, so there is nothing to replay.
    [DISABLED_2]: [
      item({
        id: 202,
        subscriptionId: DISABLED_2,
        eventId: "e2",
        result: "succeeded",
        createdDate: "2014-09-30T20:57:27.1234567Z",
      }),
      item({ id: 201, subscriptionId: DISABLED_2, eventId: "e2", createdDate: "2014-09-30T20:57:27.12Z" }),
    ],
  };
  const org = exampleOrg(true, histories);
  world.server.routes = org.routes;
  const report = await heal({ webhookBaseUrl: RECEIVER });
  expect(report.ok).toBe(true);
  // The example's enabled hooks were never changed after creation (modifiedDate = createdDate): not read.
  expect(report.orgs).toEqual([{ orgUrl: world.server.orgUrl, hooks: 7, notEnabled: 5, enabledRead: 0 }]);
  const byId = (id: string) => report.hooks.find((h) => h.id === id)!;
  expect(byId(DISABLED)).toMatchObject({
    statusFound: "disabledBySystem",
    statusAfter: "enabled",
    action: "enabled",
    failedEvents: 1,
    replayed: 1,
    notRecoverable: 0,
    problems: [],
  });
  expect(byId(DISABLED_2)).toMatchObject({ action: "enabled", failedEvents: 0, replayed: 0 });
  expect(byId(PROBATION)).toMatchObject({ statusFound: "onProbation", action: "left", problems: [] });
  // Re-enabled and read back; the enabled hooks now answer with no status, as ADO's do.
  expect(subscriptionStatus(org.state.get(DISABLED)!)).toBe("enabled");
  expect(org.state.get(DISABLED)).not.toHaveProperty("status");
  expect((await world.cosmos.storedMessages("devops")).map((m) => m.sourceEventId)).toEqual([event.id]);
  // One single-notification GET for the event whose details the list left out.
  const singles = world.server.requests.filter((r) => /\/notifications\/\d+$/.test(r.path));
  expect(singles.map((r) => r.path.split("/").pop())).toEqual(["102"]);
  // PUTs only for the three disabled Web Hooks hooks; other consumers' subscriptions untouched.
  const puts = world.server.requests.filter((r) => r.method === "PUT").map((r) => r.path.split("/").pop());
  expect(puts.sort()).toEqual([DISABLED_2, "6fd8cd25-6527-4ad5-8729-e0beab730931", DISABLED].sort());
});

test("the provider: no drift for matching hooks with no status, repairs the disabled one, adopts instead of duplicating", async () => {
  const org = exampleOrg(false);
  world.server.routes = org.routes;
  const warnings: string[] = [];
  const provider = createServiceHookProvider({
    clientFor: (orgUrl) => patClient(orgUrl),
    warn: (m) => warnings.push(m),
  });
  const desired = (id: string, over: Record<string, unknown> = {}) => {
    const s = org.state.get(id)!;
    const { projectId, hostId: _h, tfsSubscriptionId: _t, ...filters } = s.publisherInputs;
    const { inputs, failures } = checkServiceHookInputs({
      orgUrl: world.server.orgUrl,
      projectId,
      eventType: s.eventType,
      filters,
      url: s.consumerInputs.url,
      resourceVersion: s.resourceVersion,
      testDelivery: false,
      ...over,
    });
    expect(failures).toEqual([]);
    return inputs;
  };
  // State as an earlier release recorded it: status spelled out, "all" for what-to-send.
  const stateOf = (id: string): ServiceHookOutputs => ({
    ...outputsFromSubscription(org.state.get(id)!, {
      orgUrl: world.server.orgUrl,
      passwordHash: "",
      testDelivery: false,
      lastTestDelivery: "succeeded",
      adopted: false,
      warnings: [],
    }),
    status: "enabled",
    enabled: true,
  });

  // Refresh + diff of an enabled hook that ADO lists with no status: nothing to do.
  for (const id of [TFVC, COMMENTED]) {
    const read = await provider.read(id, stateOf(id));
    expect((read.props as ServiceHookOutputs).status).toBe("enabled");
    expect(await provider.diff(id, read.props as ServiceHookOutputs, desired(id))).toMatchObject({
      changes: false,
    });
  }
  expect(
    world.server.requests.filter((r) => r.method === "GET").map((r) => r.path.split("/_apis/")[1]),
  ).toEqual([
    "hooks/subscriptions", // one org-wide list serves every read
  ]);

  // The disabled one: drift on status only, an update re-enables it (read back to check).
  const read = (await provider.read(DISABLED, stateOf(DISABLED))).props as ServiceHookOutputs;
  expect(read.status).toBe("disabledBySystem");
  const diff = await provider.diff(DISABLED, read, desired(DISABLED, { testDelivery: true }));
  expect(diff).toMatchObject({ changes: true, replaces: [] });
  const { outs } = await provider.update(DISABLED, read, desired(DISABLED, { testDelivery: true }));
  expect(outs).toMatchObject({ status: "enabled", enabled: true, lastTestDelivery: "succeeded" });
  expect(subscriptionStatus(org.state.get(DISABLED)!)).toBe("enabled");
  expect(warnings).toEqual([]);

  // Create of a hook identical to an existing one: adopted (PUT), no POST.
  world.server.requests.length = 0;
  const created = await createServiceHookProvider({
    clientFor: (u) => patClient(u),
    warn: (m) => warnings.push(m),
  }).create(desired(COMMENTED));
  expect(created.id).toBe(COMMENTED);
  expect(created.outs).toMatchObject({ adopted: true, status: "enabled" });
  expect(world.server.requests.filter((r) => r.method === "POST")).toEqual([]);
});
