/**
 * Heal against Microsoft's example organization (../shared/ado-spec: the GET subscriptions example,
 * its disabled Web Hooks hook pointed at the receiver) with delivery histories as sparse as the
 * spec allows: serviceHooks.json makes every Notification field optional and publishes no history
 * example, so the entries below carry only what the tests need. The real AdoClient over HTTP;
 * every request it sends is checked against the spec.
 */
import type { AdoEvent, Notification, Subscription } from "../../ado/types";
import { eventProjectId } from "../../ado/wire";
import { sampleEvent } from "../../devkit/ado-events";
import { type Route } from "../ado/spec/example-server";
import { exampleOrgSuite } from "../ado/spec/example-suite";
import { EX, GUID, patClient } from "../ado/spec/fixtures";
import { exampleBody } from "../ado/spec/swagger";
import { healInto } from "./in-process";

jest.setTimeout(30_000);

const RECEIVER = "https://receiver.example.net";
/** The example's disabledBySystem Web Hooks hook (build.complete, projectId 6ce954b1-…). */
const DISABLED = "a3c0ef7e-610c-4321-9a05-6d74e4930c7d";

const world = exampleOrgSuite();

/**
 * The example organization with DISABLED delivering to the receiver: GET and PUT of subscriptions
 * (PUT keeps what it is sent), its history list as given (without `details`, "if available"), and
 * Notifications_Get of an entry with its event. Returns the subscriptions as they stand.
 */
function exampleOrg(history: Notification[]): Map<string, Subscription> {
  const body = exampleBody<{ value: Subscription[] }>(EX.subscriptions);
  const state = new Map(body.value.map((s) => [s.id, s]));
  state.get(DISABLED)!.consumerInputs.url = `${RECEIVER}/api/v1/systems/devops/webhooks`;
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
      answer: () => ({ status: 200, body: { count: state.size, value: [...state.values()] } }),
    },
    {
      method: "GET",
      path: sub,
      answer: (_r, m) => (state.has(m![1]) ? { status: 200, body: state.get(m![1]) } : { status: 404 }),
    },
    {
      method: "PUT",
      path: sub,
      answer: (req, m) => {
        const next = { ...state.get(m![1])!, ...(req.body as Subscription) };
        state.set(m![1], next);
        return { status: 200, body: next };
      },
    },
    {
      method: "GET",
      path: `/_apis/hooks/subscriptions/${DISABLED}/notifications`,
      answer: () => ({
        status: 200,
        body: { count: history.length, value: history.map(({ details: _d, ...n }) => n) },
      }),
    },
    {
      method: "GET",
      path: new RegExp(`^/_apis/hooks/subscriptions/${DISABLED}/notifications/(\\d+)$`),
      answer: (_r, m) => {
        const n = history.find((x) => x.id === Number(m![1]));
        return n ? { status: 200, body: n } : { status: 404 };
      },
    },
  ];
  world.server.routes = routes;
  return state;
}

/** A failed delivery of `event`, with no `subscriptionId` (optional in the spec). */
function failed(id: number, event: AdoEvent): Notification {
  // Cast: ado/types.ts declares subscriptionId, which the emulator always sets; ADO need not.
  return {
    id,
    eventId: event.id,
    status: "completed",
    result: "failed",
    createdDate: "2014-06-09T14:41:54.6Z",
    details: { event, eventType: event.eventType },
  } as Notification;
}

const heal = () => healInto(world.cosmos, [patClient(world.server.orgUrl)], RECEIVER);

const storedIds = async () => (await world.cosmos.storedMessages("devops")).map((m) => m.sourceEventId);

test("history entries without `subscriptionId`: the event's details are read under the hook's own id and replayed", async () => {
  const event = sampleEvent("build.complete");
  const state = exampleOrg([failed(7, event)]);
  const report = await heal();
  expect(report.hooks.find((h) => h.id === DISABLED)).toMatchObject({
    action: "enabled",
    replayed: 1,
    notRecoverable: 0,
    problems: [],
  });
  const singles = world.server.requests
    .filter((r) => /\/notifications\/\d+$/.test(r.path))
    .map((r) => r.path);
  expect(singles).toEqual([`/${world.server.org}/_apis/hooks/subscriptions/${DISABLED}/notifications/7`]);
  expect(await storedIds()).toContain(event.id);
  expect(state.get(DISABLED)!.status).toBe("enabled");
});

test("an event of another project than the hook's is not replayed, with a note; events naming no project are", async () => {
  // The hook's project is 6ce954b1-… (the example), as is sampleEvent's default project.
  const own = sampleEvent("build.complete");
  // Another project of the example organization (core's GET projects example).
  const tfvc = { id: "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", name: "Fabrikam-Fiber-TFVC" };
  const foreign = sampleEvent("build.complete", { project: tfvc });
  const unnamed = sampleEvent("build.complete");
  delete unnamed.resourceContainers!.project;
  delete (unnamed.resource as { project?: unknown }).project;
  expect(eventProjectId(unnamed)).toBeUndefined();

  const state = exampleOrg([failed(1, own), failed(2, foreign), failed(3, unnamed)]);
  const report = await heal();
  const hook = report.hooks.find((h) => h.id === DISABLED)!;
  expect(hook).toMatchObject({ action: "enabled", failedEvents: 3, replayed: 2, problems: [] });
  expect(hook.replayedEventIds.sort()).toEqual([own.id, unnamed.id].sort());
  expect(hook.notes).toContainEqual(
    expect.stringMatching(
      new RegExp(
        `1 failed deliveries not replayed: .*another project .*${foreign.id} \\(project ${tfvc.id}\\)`,
      ),
    ),
  );
  expect(await storedIds()).not.toContain(foreign.id);
  expect(state.get(DISABLED)!.status).toBe("enabled");
});
