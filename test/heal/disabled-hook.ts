/**
 * The heal job's starting point, shared by the suites that run it as a process: a URL-token hook
 * whose receiver is down (connection refused), so the emulator retries, puts it on probation and
 * disables it, with its failed delivery in the notification history.
 */
import net from "node:net";
import { AdoClient } from "../../ado/client";
import type { SubscriptionInput } from "../../ado/types";
import type { AdoEmulator } from "../../devkit/ado-emulator";

/** A loopback port with nothing listening: deliveries to it are refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Creates a git.push hook in the emulator's first project towards `<closed port>/api/v1/webhooks/<token>`,
 * raises one push, and returns once ADO has disabled the hook: its id and the dead receiver's base URL.
 */
export async function hookDisabledByDownReceiver(
  emu: AdoEmulator,
  token: string,
): Promise<{ hookId: string; base: string; client: AdoClient }> {
  const base = `http://127.0.0.1:${await closedPort()}`;
  const client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  const input: SubscriptionInput = {
    publisherId: "tfs",
    eventType: "git.push",
    resourceVersion: "1.0",
    consumerId: "webHooks",
    consumerActionId: "httpRequest",
    publisherInputs: { projectId: emu.projects()[0].id },
    consumerInputs: { url: `${base}/api/v1/webhooks/${token}` },
  };
  const hookId = (await client.createSubscription(input)).id;
  await emu.emit("git.push");
  await emu.idle();
  if (emu.subscription(hookId)?.status !== "disabledBySystem")
    throw new Error(`the emulator did not disable hook ${hookId} (${emu.subscription(hookId)?.status})`);
  return { hookId, base, client };
}
