/**
 * The heal job when ADO behaves otherwise than the facts assume (emulator knobs, see
 * UnconfirmedBehaviour): a history list without details, a PUT that drops the masked password or
 * does not re-enable, a history ADO no longer keeps. Each is either handled or reported; none is
 * recorded as a repair that did not happen.
 */
import { AdoClient } from "../../ado/client";
import type { AdoEvent } from "../../ado/types";
import { startReceiver, type Receiver } from "../../devkit/recording-receiver";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";
import { disabledHook as disabledHookIn, healInto, storedCopies } from "./in-process";

jest.setTimeout(30_000);

let emu: AdoEmulator;
let receiver: Receiver;
let cosmos: CosmosTestServer;
let client: AdoClient;

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: ["Alpha"] }],
    timeScale: 1e-6,
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  cosmos = await startCosmosServer();
  client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
});
afterAll(async () => {
  await emu?.close();
  await receiver?.close();
  await cosmos?.close();
});
afterEach(async () => {
  emu.setUnconfirmed({
    putMaskKeepsPassword: true,
    putStatusEnables: true,
    historyRetentionMs: Number.POSITIVE_INFINITY,
    historyListDetails: true,
  });
  for (const s of await client.listSubscriptions({ consumerUrlPrefix: receiver.url }))
    await client.deleteSubscription(s.id);
});

/** A hook ADO disabled after one failed event. */
async function disabledHook(): Promise<{ id: string; event: AdoEvent }> {
  const { id, events } = await disabledHookIn(emu, client, receiver);
  return { id, event: events[0] };
}
const heal = () => healInto(cosmos, [client], receiver.url);
const stored = (event: AdoEvent) => storedCopies(cosmos, event);

test("a history list without details: the failed event is fetched with Notifications_Get and replayed", async () => {
  const { id, event } = await disabledHook();
  emu.setUnconfirmed({ historyListDetails: false });
  emu.counters.reset();
  const report = await heal();
  expect(report.hooks[0]).toMatchObject({
    id,
    action: "enabled",
    failedEvents: 1,
    replayed: 1,
    notRecoverable: 0,
  });
  expect(report.ok).toBe(true);
  expect(await stored(event)).toHaveLength(1);
  // One lookup for the one event, though ADO tried it 1 + 7 times.
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions/{id}/notifications/{id}"]).toBe(1);
});

test("a re-enable PUT that drops the masked password: enabled, but reported so that `pulumi up` sets it", async () => {
  const { id } = await disabledHook();
  emu.setUnconfirmed({ putMaskKeepsPassword: false });
  const report = await heal();
  expect(report.hooks[0]).toMatchObject({ id, action: "enabled", statusAfter: "enabled" });
  expect(report.hooks[0].problems).toEqual([expect.stringMatching(/dropped the Basic password.*pulumi up/)]);
  expect(report.ok).toBe(false);
  expect(emu.subscription(id)!.consumerInputs.basicAuthPassword).toBeUndefined();
});

test("a re-enable PUT that ADO ignores: read back, not counted as enabled, the run fails", async () => {
  const { id } = await disabledHook();
  emu.setUnconfirmed({ putStatusEnables: false });
  const report = await heal();
  expect(report.hooks[0]).toMatchObject({ id, action: "notEnabled", statusAfter: "disabledBySystem" });
  expect(report.hooks[0].problems).toEqual([expect.stringMatching(/reads back as disabledBySystem/)]);
  expect(report.totals.enabled).toBe(0);
  expect(report.ok).toBe(false);
});

test("a history ADO no longer keeps: nothing to replay, and the report says why", async () => {
  const { id } = await disabledHook();
  emu.setUnconfirmed({ historyRetentionMs: 0 });
  const report = await heal();
  expect(report.hooks[0]).toMatchObject({ id, action: "enabled", failedEvents: 0 });
  expect(report.hooks[0].notes.join("\n")).toMatch(/history holds none.*history retention/);
});
