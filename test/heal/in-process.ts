/**
 * runHeal as the job runs it, for the suites that call it in-process: storing through the real
 * Cosmos client into a local Cosmos DB server, the one system `devops` (full mode), and the way
 * those suites start: a Basic-auth hook to the recording receiver that the ADO emulator disabled.
 */
import type { AdoClient } from "../../ado/client";
import type { AdoApi, AdoEvent } from "../../ado/types";
import { runHeal, type HealOptions, type HealReport } from "../../app/heal/heal";
import type { SystemSetting } from "../../app/settings";
import { CosmosMessageStore } from "../../app/store";
import type { AdoEmulator } from "../../devkit/ado-emulator";
import { webhookInput, type Receiver } from "../../devkit/recording-receiver";
import type { CosmosTestServer } from "../support/cosmos-server";

export const healSystems: SystemSetting[] = [{ id: "devops", storageMode: "full", retentionDays: 7 }];

/** One heal run over `orgs` (hooks under `webhookBaseUrl`) into `cosmos`; `options` as the job's. */
export async function healInto(
  cosmos: CosmosTestServer,
  orgs: AdoApi[],
  webhookBaseUrl: string,
  options: Partial<HealOptions> = {},
): Promise<HealReport> {
  const store = await CosmosMessageStore.open({
    settings: { endpoint: cosmos.endpoint, key: cosmos.key, database: "hookfleet", container: "messages" },
    createIfMissing: false,
  });
  try {
    return await runHeal({
      orgs,
      webhookBaseUrl,
      store,
      credentials: { systems: healSystems, urlTokens: [] },
      ...options,
    });
  } finally {
    await store.close();
  }
}

/** The messages stored from `event` (by its ADO id) in system `devops`. */
export async function storedCopies(cosmos: CosmosTestServer, event: AdoEvent) {
  return (await cosmos.storedMessages("devops")).filter((m) => m.sourceEventId === event.id);
}

/**
 * A Basic-auth hook to the receiver's system route in the emulator's first project, that ADO
 * disabled after `events` failed (raised at once: an event raised after the hook went on probation
 * would be queued, never attempted). Returns its id and the events raised.
 */
export async function disabledHook(
  emu: AdoEmulator,
  client: AdoClient,
  receiver: Receiver,
  events: (AdoEvent | "git.push")[] = ["git.push"],
): Promise<{ id: string; events: AdoEvent[] }> {
  const url = `${receiver.url}/api/v1/systems/devops/webhooks`;
  const project = emu.projects()[0];
  const sub = await client.createSubscription(webhookInput(url, { projectId: project.id }));
  receiver.respond = () => 500;
  const emitted = (await Promise.all(events.map((e) => emu.emit(e, { project: project.name })))).map(
    (d) => d.event,
  );
  await emu.idle();
  receiver.respond = () => 200;
  if (emu.subscription(sub.id)?.status !== "disabledBySystem")
    throw new Error(`the emulator did not disable hook ${sub.id} (${emu.subscription(sub.id)?.status})`);
  return { id: sub.id, events: emitted };
}
