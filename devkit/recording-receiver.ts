/** Shared fixtures of the ADO suites: a recording webhook receiver on loopback and hook inputs. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { AdoEvent, Subscription, SubscriptionInput } from "../ado/types";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: AdoEvent;
}

export interface Receiver {
  url: string;
  received: ReceivedRequest[];
  /** Picks the status of each answer (default 200); `received` already holds the request. */
  respond: (request: ReceivedRequest) => number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const receiver: Receiver = {
    url: "",
    received,
    respond: () => 200,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as AdoEvent,
      };
      received.push(request);
      const status = receiver.respond(request);
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export function webhookInput(
  url: string,
  overrides: Partial<SubscriptionInput> & { projectId?: string } = {},
): SubscriptionInput {
  const { projectId, ...rest } = overrides;
  return {
    publisherId: "tfs",
    eventType: "git.push",
    resourceVersion: "1.0",
    consumerId: "webHooks",
    consumerActionId: "httpRequest",
    publisherInputs: projectId ? { projectId } : {},
    consumerInputs: { url, basicAuthUsername: "hookfleet", basicAuthPassword: "s3cret-pass" },
    ...rest,
  };
}

/** Answers `statuses` in order for requests to `path`, then 200; other paths get 200. */
export function scriptFor(path: string, statuses: number[]): (request: ReceivedRequest) => number {
  const queue = [...statuses];
  return (r) => (r.path === path && queue.length ? queue.shift()! : 200);
}

/** The consumers the emulator seeds every org with (other teams' subscriptions, as in ADO's list). */
export const OTHER_CONSUMERS = ["jenkins", "myGet", "trello", "zendesk"];

/** The consumer ids of a list, sorted: an org list with nothing of ours is OTHER_CONSUMERS. */
export function consumersOf(subs: readonly Subscription[]): string[] {
  return subs.map((s) => s.consumerId).sort();
}

/**
 * What a person compares before and after a run: every subscription by id, with its event type and
 * inputs, without its status and timestamps (which ADO changes on its own).
 */
export function subscriptionShape(subs: readonly Subscription[]) {
  return subs
    .map(({ id, eventType, publisherInputs, consumerInputs }) => ({
      id,
      eventType,
      publisherInputs,
      consumerInputs,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
