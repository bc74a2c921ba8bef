/**
 * Shared set-up of the receiver suites: a Cosmos test server, a receiver with a few systems
 * (full, lean, Basic, URL + Basic), and small HTTP helpers. Real HTTP on loopback throughout.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { CredentialSettings } from "../../app/config";
import { startReceiver, type RunningReceiver, type StartReceiverOptions } from "../../app/receiver";
import { mintPassword, mintToken, sha256Hex } from "../../app/tokens";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";

export interface Secrets {
  devopsToken: string;
  leanToken: string;
  bothToken: string;
  expiredToken: string;
  basicPassword: string;
  namedPassword: string;
  bothPassword: string;
  readToken: string;
}

export function makeSecrets(): Secrets {
  return {
    devopsToken: mintToken(),
    leanToken: mintToken(),
    bothToken: mintToken(),
    expiredToken: mintToken(),
    basicPassword: mintPassword(),
    namedPassword: mintPassword(),
    bothPassword: mintPassword(),
    readToken: mintToken(),
  };
}

export function credentialsFor(s: Secrets): CredentialSettings {
  return {
    systems: [
      {
        id: "devops",
        storageMode: "full",
        retentionDays: 1825,
        basicPasswords: [{ sha256: sha256Hex(s.basicPassword) }],
      },
      { id: "lean", storageMode: "lean", retentionDays: 30 },
      {
        id: "named",
        storageMode: "full",
        retentionDays: 7,
        basicUsername: "hookfleet",
        basicPasswords: [{ sha256: sha256Hex(s.namedPassword) }],
      },
      {
        id: "both",
        storageMode: "full",
        retentionDays: 90,
        requireBoth: true,
        basicPasswords: [{ sha256: sha256Hex(s.bothPassword) }],
      },
    ],
    urlTokens: [
      { sha256: sha256Hex(s.devopsToken), systemId: "devops" },
      { sha256: sha256Hex(s.leanToken), systemId: "lean" },
      { sha256: sha256Hex(s.bothToken), systemId: "both" },
      { sha256: sha256Hex(s.expiredToken), systemId: "devops", notAfter: "2020-01-01T00:00:00Z" },
    ],
    readTokens: [{ sha256: sha256Hex(s.readToken) }],
  };
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

export interface Harness {
  cosmos: CosmosTestServer;
  receiver: RunningReceiver;
  secrets: Secrets;
  close(): Promise<void>;
}

/** A receiver with the test secrets' credentials on a Cosmos test server. */
export async function startHarness(extra: Partial<StartReceiverOptions> = {}): Promise<Harness> {
  const cosmos = await startCosmosServer();
  return harnessOn(cosmos, cosmos.endpoint, extra, async () => {});
}

export interface ProxiedHarness extends Harness {
  /** Between the receiver and the Cosmos test server: throttles, delays, counts (startStoreProxy). */
  proxy: StoreProxy;
}

/** The same, with the receiver reaching its store through a store proxy. */
export async function startProxiedHarness(
  extra: Partial<StartReceiverOptions> = {},
): Promise<ProxiedHarness> {
  const cosmos = await startCosmosServer();
  const proxy = await startStoreProxy(cosmos.endpoint);
  return { ...(await harnessOn(cosmos, proxy.endpoint, extra, () => proxy.close())), proxy };
}

async function harnessOn(
  cosmos: CosmosTestServer,
  endpoint: string,
  extra: Partial<StartReceiverOptions>,
  closeBetween: () => Promise<void>,
): Promise<Harness> {
  const secrets = makeSecrets();
  const receiver = await startReceiver({
    credentials: credentialsFor(secrets),
    cosmos: { endpoint, key: cosmos.key },
    logLevel: "silent",
    ...extra,
  });
  return {
    cosmos,
    receiver,
    secrets,
    close: async () => {
      await receiver.close();
      await closeBetween();
      await cosmos.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
}

export async function send(
  url: string,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? "POST", body: init.body, headers: init.headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(url, {
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export type ProxyMode =
  | { kind: "pass" }
  | { kind: "throttle"; retryAfterMs: number }
  /** Let `passes` more document writes through, then throttle every write. */
  | { kind: "throttleAfter"; passes: number; retryAfterMs: number }
  | { kind: "delay"; ms: number };

/**
 * A loopback proxy in front of the Cosmos test server that can throttle (429, as Cosmos does)
 * or delay document writes: the receiver's real client talks to it like to Cosmos DB.
 */
export interface StoreProxy {
  endpoint: string;
  mode: ProxyMode;
  writes: number;
  /** The most document writes that were in flight at once (counted from request to answer). */
  maxConcurrentWrites: number;
  /** The SQL text of every query that went through, in order. */
  queries: string[];
  close(): Promise<void>;
}

export async function startStoreProxy(target: string): Promise<StoreProxy> {
  const t = new URL(target);
  const state = {
    mode: { kind: "pass" } as ProxyMode,
    writes: 0,
    concurrentWrites: 0,
    maxConcurrentWrites: 0,
    queries: [] as string[],
  };
  const server = http.createServer((req, res) => {
    const isDocWrite =
      req.method === "POST" && /\/docs\/?$/.test(req.url ?? "") && !req.headers["x-ms-documentdb-isquery"];
    const mode = state.mode;
    if (isDocWrite) {
      state.writes++;
      state.maxConcurrentWrites = Math.max(state.maxConcurrentWrites, ++state.concurrentWrites);
      res.once("close", () => state.concurrentWrites--);
    }
    let throttled = false;
    if (isDocWrite && mode.kind === "throttle") throttled = true;
    if (isDocWrite && mode.kind === "throttleAfter") throttled = mode.passes-- <= 0;
    if (throttled && (mode.kind === "throttle" || mode.kind === "throttleAfter")) {
      req.resume();
      res.writeHead(429, {
        "content-type": "application/json",
        "x-ms-retry-after-ms": String(mode.retryAfterMs),
        "x-ms-substatus": "3200",
      });
      res.end(JSON.stringify({ code: "TooManyRequests", message: "Request rate is large" }));
      return;
    }
    const forward = () => {
      const upstream = http.request(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      if (req.headers["x-ms-documentdb-isquery"]) {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => state.queries.push(String(JSON.parse(Buffer.concat(chunks).toString()).query)));
      }
      req.pipe(upstream);
    };
    if (isDocWrite && mode.kind === "delay") setTimeout(forward, mode.ms);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get mode() {
      return state.mode;
    },
    set mode(m: ProxyMode) {
      state.mode = m;
    },
    get writes() {
      return state.writes;
    },
    get maxConcurrentWrites() {
      return state.maxConcurrentWrites;
    },
    get queries() {
      return state.queries;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
