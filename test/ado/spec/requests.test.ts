/**
 * Every request HookFleet sends to Azure DevOps, checked against Microsoft's spec: the real
 * AdoClient talks HTTP to the example server, each request it made is matched to its spec
 * operation and checked (path, api-version, query parameters, body schema: required fields, enum
 * values, types, no field the spec does not have). The bodies are the ones the product builds:
 * the ServiceHook provider's create and update bodies, the heal job's re-enable body.
 */
import { reenableInput } from "../../../app/heal/heal";
import type { Subscription } from "../../../ado/types";
import { checkServiceHookInputs, toSubscriptionInput } from "../../../components/hooks/mapping";
import { startExampleServer, type ExampleServer } from "./example-server";
import { EX, exampleRoutes, patClient, userClient } from "./fixtures";
import { apiVersionOf, exampleBody, readExample, SpecSet } from "./swagger";

/** The ADO operations HookFleet calls (docs/ado.md lists them with the test that covers each). */
export const OPERATIONS_WE_CALL = [
  "Projects_List",
  "Subscriptions_List",
  "Subscriptions_Get",
  "Subscriptions_Create",
  "Subscriptions_Replace Subscription",
  "Subscriptions_Delete",
  "Subscriptions_Create Subscriptions Query",
  "Notifications_List",
  "Notifications_Get",
  "Notifications_Create",
  "Pats_Create",
  "Pats_List",
  "Pats_Get",
  "Pats_Revoke",
].sort();

const specs = new SpecSet();
let server: ExampleServer;

beforeAll(async () => {
  server = await startExampleServer(exampleRoutes());
});
afterAll(() => server.close());

test("every request the client sends conforms to the spec, and every call of ours is one of its operations", async () => {
  const client = patClient(server.orgUrl, { testNotificationTimeoutMs: 5_000 });
  const pats = userClient(server.orgUrl, server.vsspsUrl);
  const list = exampleBody<{ value: Subscription[] }>(EX.subscriptions).value;
  const disabled = list.find((s) => s.status === "disabledBySystem")!;
  const { inputs, failures } = checkServiceHookInputs({
    orgUrl: server.orgUrl,
    projectId: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c",
    eventType: "build.complete",
    filters: { definitionName: "MyWebSite CI", buildStatus: "Failed" },
    url: "https://myservice.example/api/v1/webhooks/alw_example",
    httpHeaders: { "X-Env": "prod" },
    basicAuthUsername: "hookfleet",
    basicAuthPassword: "an-example-password",
    messagesToSend: "text",
  });
  expect(failures).toEqual([]);

  await client.listProjects();
  await client.listSubscriptions({ consumerUrlPrefix: "https://myservice.example/" });
  await client.listSubscriptions({ publisherId: "tfs", eventType: "build.complete" });
  await client.getSubscription(disabled.id);
  // The provider's bodies: create, and an update that keeps the stored password (the mask).
  await client.createSubscription(toSubscriptionInput(inputs));
  await client.replaceSubscription(disabled.id, toSubscriptionInput(inputs, { keepStoredPassword: true }));
  // The heal job's re-enable body: the subscription as read, status enabled.
  await client.replaceSubscription(disabled.id, reenableInput(disabled));
  // A subscription read with resourceVersion null, put back as read.
  await client.replaceSubscription(list[0].id, reenableInput(list[0]));
  await client.deleteSubscription(disabled.id);
  await client.querySubscriptions({
    publisherId: "tfs",
    consumerId: "webHooks",
    publisherInputFilters: [{ conditions: [{ inputId: "projectId", inputValue: "x", operator: "equals" }] }],
    consumerInputFilters: [
      { conditions: [{ inputId: "url", inputValue: "y", operator: "notEquals", caseSensitive: false }] },
    ],
  });
  await client.listNotifications(disabled.id, { maxResults: 1000, status: "completed", result: "failed" });
  await client.getNotification(disabled.id, 7);
  const test = await client.sendTestNotification(disabled.id);
  expect(test.result).toBe("succeeded"); // followed through Notifications_Get
  await pats.createPat({
    displayName: "hookfleet",
    scope: "vso.hooks_write vso.project",
    validTo: "2027-01-01T00:00:00Z",
  });
  await pats.listPats();
  await pats.getPat("3d3aca0c-9ad3-4b07-8334-08ec8b1ddc32");
  await pats.revokePat("3d3aca0c-9ad3-4b07-8334-08ec8b1ddc32");

  const problems = server.requests.flatMap((r) => specs.checkRequest(r));
  expect(problems).toEqual([]);
  const called = [...new Set(server.requests.map((r) => specs.find(r.method, r.path, r.query)!.operationId))];
  expect(called.sort()).toEqual(OPERATIONS_WE_CALL);
  // Api versions as documented: 7.1 for hooks and projects (the node client negotiates it with
  // the location service and sends it in the Accept header), 7.1-preview.1 for PATs.
  expect(new Set(server.requests.map((r) => apiVersionOf(r)))).toEqual(new Set(["7.1", "7.1-preview.1"]));
});

test("the bodies hold what the spec's examples hold, and what-to-send 'all' is left out (\"\" is ADO's All)", async () => {
  server.requests.length = 0;
  const { inputs } = checkServiceHookInputs({
    orgUrl: server.orgUrl,
    projectId: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c",
    eventType: "build.complete",
    filters: { definitionName: "MyWebSite CI", buildStatus: "Failed" },
    url: "https://myservice/myhookeventreceiver",
    resourceVersion: "1.0-preview.1",
  });
  await patClient(server.orgUrl).createSubscription(toSubscriptionInput(inputs));
  // Microsoft's POST example body, plus the status we ask for: nothing else.
  expect(server.requests[0].body).toEqual({
    ...(readExample(EX.create).parameters.body as object),
    status: "enabled",
  });
});
