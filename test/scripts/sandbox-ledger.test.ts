/**
 * The sandbox's event ledger against real receivers: two hosted products' stand-ins
 * (scripts/lib/sandbox-receivers.ts `hostedProduct`, each the real receiver with its embedded store),
 * delivered to over HTTP with the URL token each minted, read back through their read API. What a
 * destination should hold and what it does hold are told apart per destination: lost, stored where
 * not subscribed, test deliveries, and a destination nobody read.
 */
import { EventLedger } from "../../scripts/lib/sandbox-ledger";
import {
  hostedProduct,
  startReceiverHost,
  type HostedProduct,
  type ReceiverHost,
} from "../../scripts/lib/sandbox-receivers";
import { sampleEvent } from "../../devkit/ado-events";

jest.setTimeout(60_000);

let host: ReceiverHost;
const products: Record<string, HostedProduct> = {
  alpha: hostedProduct("alpha"),
  beta: hostedProduct("beta"),
};

beforeAll(async () => {
  host = await startReceiverHost(Object.values(products).map((p) => p.spec));
});
afterAll(() => host?.close());

/** Delivers an event to a product with the URL token it minted, as ADO would; resolves with the status. */
async function deliver(
  name: string,
  event: { id: string },
  token = products[name].urlToken,
): Promise<number> {
  const res = await fetch(host.get(name).receiver.webhookUrl(token), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(event),
  });
  return res.status;
}

const reader = (name: string) => ({
  name,
  url: host.get(name).receiver.url,
  readToken: products[name].readToken,
});

it("a hosted product's stand-in takes deliveries with the URL token it minted only, and shows them with its read token only", async () => {
  expect(await deliver("alpha", sampleEvent("git.push"), products.beta.urlToken)).toBe(404);
  const res = await fetch(`${host.get("alpha").receiver.url}/api/v1/messages`, {
    headers: { authorization: `Bearer ${products.beta.readToken}` },
  });
  expect(res.status).toBe(401);
});

it("tells per destination what it should hold, what it holds once, what it lost and what it holds without subscribing", async () => {
  const ledger = new EventLedger();
  const both = sampleEvent("git.push");
  const alphaOnly = sampleEvent("workitem.created");
  const betaOnly = sampleEvent("build.complete");
  const test = sampleEvent("git.push");
  ledger.add(both.id, ["alpha", "beta"]);
  ledger.add(alphaOnly.id, ["alpha"]);
  ledger.add(betaOnly.id, ["beta"]);

  expect(await deliver("alpha", both)).toBe(201);
  expect(await deliver("beta", both)).toBe(201);
  // Twice to alpha (ADO retries), once to beta although only alpha subscribed to it.
  expect(await deliver("alpha", alphaOnly)).toBeLessThan(300);
  expect(await deliver("alpha", alphaOnly)).toBeLessThan(300);
  expect(await deliver("beta", alphaOnly)).toBe(201);
  // betaOnly never arrives; an event nobody raised (a test delivery) reaches alpha.
  expect(await deliver("alpha", test)).toBe(201);

  const check = await ledger.check([reader("alpha"), reader("beta")]);
  expect(check).toEqual({
    events: 3,
    stored: 2,
    lost: [`beta: ${betaOnly.id}`],
    // A redelivered event is one message: the receiver's ids are per (system, event).
    duplicated: 0,
    unexpected: [`beta: ${alphaOnly.id}`],
    receivers: {
      alpha: { expected: 2, stored: 2, lost: [], duplicated: 0, unexpected: [], other: 1 },
      beta: {
        expected: 2,
        stored: 1,
        lost: [betaOnly.id],
        duplicated: 0,
        unexpected: [alphaOnly.id],
        other: 0,
      },
    },
  });

  // A destination that should hold events but is not read holds none of them.
  const unread = await ledger.check([reader("alpha")]);
  expect(unread.lost).toEqual([`beta: ${both.id}`, `beta: ${betaOnly.id}`]);
  expect(unread.stored).toBe(1);
});
