/**
 * Microsoft's example answers (../shared/ado-spec) through the real AdoClient: the example server
 * serves each example's exact body, the client parses it over HTTP, and we assert what HookFleet
 * derives from it — statuses, no drift for a hook that matches, adoption candidates, paging.
 * Where HookFleet's rules come from an example that the client does not fetch (the Web Hooks
 * consumer descriptor, the publishers' event types), the rule is held against the example here.
 */
import type { Subscription } from "../../../ado/types";
import { compareInstants, probationRetriesOf, subscriptionStatus } from "../../../ado/wire";
import {
  BASIC_AUTH_MAX_LENGTH,
  checkServiceHookInputs,
  diffServiceHook,
  isAdoptable,
  outputsFromSubscription,
  secretHash,
  toSubscriptionInput,
  type ServiceHookInputs,
} from "../../../components/hooks/mapping";
import { startAdoEmulator } from "../../../devkit/ado-emulator";
import { webhookInput } from "../../../devkit/recording-receiver";
import { startExampleServer, type ExampleServer } from "./example-server";
import { EX, exampleRoutes, patClient, userClient } from "./fixtures";
import { exampleBody, readExample } from "./swagger";

let server: ExampleServer;
beforeAll(async () => {
  server = await startExampleServer(exampleRoutes());
});
afterAll(() => server.close());
beforeEach(() => {
  server.routes = exampleRoutes();
  server.requests.length = 0;
});

/** The desired hook a stack would declare for a live subscription (its project, event, filters, URL). */
function desiredFor(sub: Subscription, over: Record<string, unknown> = {}): ServiceHookInputs {
  const { projectId, hostId: _h, tfsSubscriptionId: _t, ...filters } = sub.publisherInputs;
  const { inputs, failures } = checkServiceHookInputs({
    orgUrl: server.orgUrl,
    projectId,
    eventType: sub.eventType,
    filters,
    url: sub.consumerInputs.url,
    resourceVersion: sub.resourceVersion ?? undefined,
    testDelivery: false,
    ...over,
  });
  expect(failures).toEqual([]);
  return inputs;
}

const record = (sub: Subscription, d: ServiceHookInputs) =>
  outputsFromSubscription(sub, {
    orgUrl: d.orgUrl,
    passwordHash: secretHash(d.basicAuthPassword),
    testDelivery: d.testDelivery,
    lastTestDelivery: "skipped",
    adopted: false,
    warnings: [],
  });

describe("GET subscriptions (Subscriptions_List): the org list as Microsoft publishes it", () => {
  test("statuses: no status field reads as enabled; probationRetries only on probation; every consumer is listed", async () => {
    const all = await patClient(server.orgUrl).listSubscriptions();
    expect(all).toHaveLength(12);
    const statuses: Record<string, number> = {};
    for (const s of all) statuses[subscriptionStatus(s)] = (statuses[subscriptionStatus(s)] ?? 0) + 1;
    expect(statuses).toEqual({ enabled: 6, onProbation: 3, disabledBySystem: 3 });
    expect(all.filter((s) => s.status === undefined)).toHaveLength(6);
    expect(all.map((s) => probationRetriesOf(s))).toEqual([0, 0, 0, 6, 2, 1, 0, 0, 0, 0, 0, 0]);
    expect(new Set(all.map((s) => s.consumerId))).toEqual(
      new Set(["myGet", "jenkins", "webHooks", "trello", "zendesk"]),
    );
    // Ours are found by consumer URL: only Web Hooks subscriptions have one.
    const ours = await patClient(server.orgUrl).listSubscriptions({
      consumerUrlPrefix: "http://requestb.in/",
    });
    expect(ours.map((s) => s.consumerId)).toEqual(Array(7).fill("webHooks"));
  });

  test("a hook that matches what the stack wants shows no drift, whatever ADO left out", async () => {
    const all = await patClient(server.orgUrl).listSubscriptions({
      consumerUrlPrefix: "http://requestb.in/",
    });
    for (const sub of all) {
      const d = desiredFor(sub);
      const diff = diffServiceHook(record(sub, d), d);
      // The only difference ADO's list shows for these is a status that is not enabled.
      expect(diff.drift).toEqual(subscriptionStatus(sub) === "enabled" ? [] : ["status"]);
      expect(diff.replaces).toEqual([]);
    }
  });

  test("adoption candidates: same project, event, filters, URL and consumer; never another consumer's", async () => {
    const all = await patClient(server.orgUrl).listSubscriptions();
    const byId = (id: string) => all.find((s) => s.id === id)!;
    const candidates = (d: ServiceHookInputs) => all.filter((s) => isAdoptable(s, d)).map((s) => s.id);
    // http://requestb.in/stkb4jst is the URL of five subscriptions: event type and filters tell them apart.
    expect(candidates(desiredFor(byId("a3c0ef7e-610c-4321-9a05-6d74e4930c7d")))).toEqual([
      "a3c0ef7e-610c-4321-9a05-6d74e4930c7d",
    ]);
    // git.push in the same project: the Web Hooks one only, not jenkins' or trello's.
    expect(candidates(desiredFor(byId("25bc678f-dc35-47b3-8924-2c9f907f39a7")))).toEqual([
      "25bc678f-dc35-47b3-8924-2c9f907f39a7",
    ]);
    // A build hook with other filters is not the one we would create.
    const other = desiredFor(byId("a3c0ef7e-610c-4321-9a05-6d74e4930c7d"), {
      filters: { buildStatus: "Failed" },
    });
    expect(candidates(other)).toEqual([]);
  });
});

describe("the other subscription calls", () => {
  test("GET subscriptions/{id}: another consumer's hook, enabled, resourceVersion null", async () => {
    const sub = (await patClient(server.orgUrl).getSubscription("8dea9aba-3a9a-4ad0-860f-2a5c7379e3eb"))!;
    expect(sub).toMatchObject({ consumerId: "myGet", resourceVersion: null });
    expect(subscriptionStatus(sub)).toBe("enabled");
  });

  test("POST subscriptions: Microsoft's request and answer — the hook we asked for, enabled, no drift", async () => {
    const asked = readExample(EX.create).parameters.body as Subscription;
    const d = desiredFor({ ...asked, id: "", publisherInputs: asked.publisherInputs });
    const created = await patClient(server.orgUrl).createSubscription(toSubscriptionInput(d));
    expect(created.id).toBe("fd672255-8b6b-4769-9260-beea83d752ce");
    expect(subscriptionStatus(created)).toBe("enabled");
    expect(diffServiceHook(record(created, d), d)).toMatchObject({ changes: false, drift: [] });
  });

  test("PUT subscriptions/{id}: the answer is read as enabled; its timestamps compare as instants", async () => {
    const put = await patClient(server.orgUrl).replaceSubscription(
      "fd672255-8b6b-4769-9260-beea83d752ce",
      readExample(EX.replace).parameters.body as Subscription,
    );
    expect(subscriptionStatus(put)).toBe("enabled");
    expect(put.consumerInputs.url).toBe("https://myservice/newreceiver");
    // "…:26.23Z" (2 digits) after "…:24.873Z" (3 digits).
    expect(compareInstants(put.modifiedDate, put.createdDate)).toBeGreaterThan(0);
  });

  test("DELETE subscriptions/{id}: 204 is a deletion", async () => {
    expect(await patClient(server.orgUrl).deleteSubscription("fd672255-8b6b-4769-9260-beea83d752ce")).toBe(
      true,
    );
  });
});

describe("GET projects (Projects_List) through azure-devops-node-api's CoreApi", () => {
  const projectsRoute = (answer: (skip: number) => unknown) => ({
    method: "GET",
    path: "/_apis/projects",
    answer: (req: { query: URLSearchParams }) => ({
      status: 200,
      body: answer(Number(req.query.get("$skip") ?? 0)),
    }),
  });

  test("every wellFormed project, sorted by name; a short page ends the paging", async () => {
    server.routes = [
      projectsRoute((skip) => (skip === 0 ? exampleBody(EX.projects) : { count: 0, value: [] })),
    ];
    const projects = await patClient(server.orgUrl, { projectsPageSize: 3 }).listProjects();
    expect(projects.map((p) => p.name)).toEqual(["Fabrikam-Fiber-Git", "Fabrikam-Fiber-TFVC", "TestGit"]);
    expect(projects[2]).toMatchObject({ id: "281f9a5b-af0d-49b4-a1df-fe6f5e5f84d0", state: "wellFormed" });
    expect(server.requests.map((r) => r.query.get("$skip"))).toEqual(["0", "3"]);
  });

  test("a server that ignores $skip does not make the client page for ever", async () => {
    server.routes = [projectsRoute(() => exampleBody(EX.projects))];
    const projects = await patClient(server.orgUrl, { projectsPageSize: 2 }).listProjects();
    expect(projects).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
  });
});

describe("the PAT lifecycle API (vssps, 7.1-preview.1)", () => {
  test('create, get, list (one page: continuationToken ""), revoke (204)', async () => {
    const client = userClient(server.orgUrl, server.vsspsUrl);
    const created = await client.createPat({
      displayName: "new_token",
      scope: "app_token",
      validTo: "2020-12-01T23:46:23.319Z",
    });
    expect(created).toMatchObject({
      authorizationId: "4ab5764f-4193-4f1d-b995-64144880b7d7",
      token: expect.any(String),
    });
    expect(await client.getPat("3d3aca0c-9ad3-4b07-8334-08ec8b1ddc32")).toMatchObject({
      displayName: "analytics_token",
      token: null,
    });
    const all = await client.listPats();
    expect(all.map((p) => p.displayName)).toEqual([
      "all_access_token",
      "work_token",
      "new_token",
      "analytics_token",
    ]);
    expect(server.requests.filter((r) => r.method === "GET" && !r.query.has("authorizationId"))).toHaveLength(
      1,
    );
    expect(await client.revokePat("3d3aca0c-9ad3-4b07-8334-08ec8b1ddc32")).toBe(true);
  });
});

describe("rules held against examples the client does not fetch", () => {
  interface InputDescriptor {
    id: string;
    validation?: { minLength?: number; maxLength?: number; pattern?: string };
    values?: { defaultValue: string; possibleValues: { value: string; displayValue: string }[] };
  }
  const webHooks = exampleBody<{
    value: { id: string; actions: { id: string; inputDescriptors: InputDescriptor[] }[] }[];
  }>(EX.consumers)
    .value.find((c) => c.id === "webHooks")!
    .actions.find((a) => a.id === "httpRequest")!.inputDescriptors;
  const descriptor = (id: string) => webHooks.find((d) => d.id === id)!;

  test.each(["resourceDetailsToSend", "messagesToSend", "detailedMessagesToSend"])(
    "%s: every possible value ADO may store reads as the stack's value, and what we send is one of them",
    (input) => {
      const { possibleValues, defaultValue } = descriptor(input).values!;
      expect(defaultValue).toBe("");
      const base = desiredFor({
        ...webhookInput("https://rx.example/hook", { projectId: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c" }),
        id: "x",
        consumerInputs: { url: "https://rx.example/hook" },
      });
      for (const { value, displayValue } of possibleValues) {
        const wanted = value === "" ? "all" : value; // "" is displayed "All"
        expect(displayValue.toLowerCase()).toBe(wanted);
        const d = { ...base, [input]: wanted } as ServiceHookInputs;
        const sent = toSubscriptionInput(d).consumerInputs[input];
        // Sent as one of the possible values, or left out for the default.
        expect(sent === undefined ? defaultValue : sent).toBe(value);
        const live: Subscription = {
          ...toSubscriptionInput(d),
          id: "x",
          consumerInputs: { ...toSubscriptionInput(d).consumerInputs, [input]: value },
        };
        expect(diffServiceHook(record(live, d), d).drift).toEqual([]);
      }
    },
  );

  test("Basic credentials: the descriptor's limits are the ones the ServiceHook check applies", () => {
    for (const id of ["basicAuthUsername", "basicAuthPassword"]) {
      const v = descriptor(id).validation!;
      expect([v.minLength, v.maxLength, v.pattern]).toEqual([1, BASIC_AUTH_MAX_LENGTH, "^[\\S]+$"]);
      const check = (value: string) =>
        checkServiceHookInputs({
          orgUrl: "https://dev.azure.com/fabrikam",
          projectId: "p",
          eventType: "git.push",
          url: "https://rx.example/hook",
          basicAuthUsername: "u",
          basicAuthPassword: "p",
          [id]: value,
        }).failures.map((f) => f.property);
      expect(check("x".repeat(v.maxLength!))).toEqual([]);
      expect(check("x".repeat(v.maxLength! + 1))).toEqual([id]);
      expect(check("has space")).toEqual([id]);
    }
  });

  test("every resource version the publishers list for our event types is accepted (the emulator, like ADO)", async () => {
    const eventTypes = exampleBody<{ value: { id: string; supportedResourceVersions: string[] }[] }>(
      EX.eventTypes,
    ).value;
    const emu = await startAdoEmulator({ otherConsumers: false, pat: "example-pat" });
    try {
      const client = patClient(emu.orgUrl());
      const projectId = emu.projects()[0].id;
      let accepted = 0;
      for (const e of eventTypes) {
        if (
          ![
            "build.complete",
            "git.push",
            "git.pullrequest.created",
            "tfvc.checkin",
            "workitem.updated",
          ].includes(e.id)
        )
          continue;
        for (const resourceVersion of e.supportedResourceVersions) {
          const input = {
            ...webhookInput("https://rx.example/hook", { projectId }),
            eventType: e.id,
            resourceVersion,
            consumerInputs: { url: "https://rx.example/hook" },
          };
          const sub = await client.createSubscription(input);
          expect(sub.resourceVersion).toBe(resourceVersion);
          accepted++;
        }
      }
      expect(accepted).toBe(6);
    } finally {
      await emu.close();
    }
  });
});
