/**
 * The sandbox's local receivers and the host that runs them: what Azure Container Apps is for the
 * deployed receiver. Each receiver is the real one (app/receiver.ts) with its embedded store; the
 * host serves, for a receiver the program configures, the revision endpoint that
 * `LocalReceiverRevision` (components/receiver/local-revision-provider.ts) hands new credential
 * settings to:
 *
 *   PUT /receivers/{name}/revision   Bearer <token>, CredentialSettings → {revision} once it runs with them
 *   GET /receivers/{name}/revision   → {revision} of the settings in force
 *
 * Receivers are a list: the sandbox's own (settings from the program) and a hosted product's
 * stand-in (`hostedProduct`: credentials it minted itself, given to the stack as a destination).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, type CredentialSettings } from "../../app/config";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { digestEquals, mintToken, sha256Hex } from "../../app/tokens";
import { settingsRevision } from "../../components/receiver/local-revision-provider";

export interface LocalReceiverSpec {
  /** Name in the host's routes and in the sandbox's output. */
  name: string;
  /** Port to listen on when free (else any free one); default any. */
  port?: number;
  /** Settings it starts with (default: accepts nothing until the first revision). */
  credentials?: CredentialSettings;
  /** Its settings come from the program through the host's revision endpoint. */
  revisions: boolean;
}

export interface LocalReceiver {
  name: string;
  receiver: RunningReceiver;
  /** The revision endpoint, for a receiver whose settings come from the program. */
  revisionUrl?: string;
  /** Revisions applied so far. */
  revisionCount(): number;
  /** Fingerprint of the settings in force. */
  revision(): string;
}

export interface ReceiverHost {
  /** Base URL of the host's own endpoint. */
  url: string;
  /** The bearer token of the revision endpoints (HOOKFLEET_RECEIVER_REVISION_TOKEN for the program). */
  token: string;
  receivers: LocalReceiver[];
  get(name: string): LocalReceiver;
  close(): Promise<void>;
}

const NOTHING: CredentialSettings = {
  systems: [{ id: "devops", storageMode: "full", retentionDays: 7 }],
  urlTokens: [],
  readTokens: [],
};

/**
 * A hosted product's stand-in, as a URL-token product works (docs/destinations.md): it mints a URL
 * token and "gives" you a webhook URL that carries it (`webhookUrl(urlToken)` of its running
 * receiver), and a read token for looking at what it stored; it runs knowing only their hashes. The
 * tokens live in this process: into the stack's secret config and the `--keep` file, never printed.
 */
export interface HostedProduct {
  spec: LocalReceiverSpec;
  /** The URL token in the webhook URL it gives (`alw_…`). */
  urlToken: string;
  /** Bearer token of its read API. */
  readToken: string;
}

export function hostedProduct(name: string, port?: number): HostedProduct {
  const urlToken = mintToken();
  const readToken = mintToken();
  return {
    urlToken,
    readToken,
    spec: {
      name,
      port,
      revisions: false,
      // One system named after the product: its URL token delivers there (app/config.ts).
      credentials: {
        systems: [{ id: name, storageMode: "full", retentionDays: 7 }],
        urlTokens: [{ sha256: sha256Hex(urlToken), systemId: name }],
        readTokens: [{ sha256: sha256Hex(readToken) }],
      },
    },
  };
}

/** Listens on `preferred` when it is free, else on any free port. */
export async function preferPort<T>(
  start: (port: number) => Promise<T>,
  preferred: number | undefined,
): Promise<T> {
  if (preferred === undefined) return start(0);
  try {
    return await start(preferred);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    return start(0);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: http.IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new Error(`body larger than ${limit} bytes`));
      else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new Error("the body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

/**
 * Starts the receivers (real ones, each with its embedded store) and the host's endpoint on
 * 127.0.0.1. `onRevision` hears of each revision applied.
 */
export async function startReceiverHost(
  specs: LocalReceiverSpec[],
  options: {
    port?: number;
    logLevel?: string;
    onRevision?: (name: string, revision: string, settings: CredentialSettings) => void;
  } = {},
): Promise<ReceiverHost> {
  const token = mintToken();
  const started: {
    spec: LocalReceiverSpec;
    receiver: RunningReceiver;
    applied: CredentialSettings;
    count: number;
  }[] = [];
  const server = http.createServer((req, res) => void handle(req, res));
  try {
    for (const spec of specs) {
      const applied = spec.credentials ?? NOTHING;
      const receiver = await preferPort(
        (port) => startReceiver({ port, credentials: applied, logLevel: options.logLevel ?? "warn" }),
        spec.port,
      );
      started.push({ spec, receiver, applied, count: 0 });
    }
    await preferPort(
      (port) =>
        new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
          });
        }),
      options.port,
    );
  } catch (err) {
    await Promise.all(started.map((s) => s.receiver.close()));
    server.close();
    throw err;
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = /^\/receivers\/([^/]+)\/revision$/.exec(new URL(req.url ?? "/", url).pathname);
    const entry = match ? started.find((s) => s.spec.name === match[1] && s.spec.revisions) : undefined;
    if (!entry) return send(res, 404, { message: `no receiver takes revisions at ${req.url}` });
    const [scheme, given = ""] = (req.headers.authorization ?? "").split(" ", 2);
    if (!/^bearer$/i.test(scheme) || !digestEquals(sha256Hex(given), sha256Hex(token)))
      return send(res, 401, { message: "a valid bearer token is required" });
    if (req.method === "GET") return send(res, 200, { revision: settingsRevision(entry.applied) });
    if (req.method !== "PUT") return send(res, 405, { message: "GET or PUT" });
    let body: CredentialSettings;
    try {
      body = (await readJson(req)) as CredentialSettings;
      // Validated by the receiver itself: a refused set leaves the one in force (app/receiver.ts).
      entry.receiver.setCredentials(body);
    } catch (err) {
      const message = err instanceof ConfigError ? err.problems.join("; ") : (err as Error).message;
      return send(res, 400, { message });
    }
    entry.applied = body;
    entry.count++;
    const revision = settingsRevision(body);
    options.onRevision?.(entry.spec.name, revision, body);
    send(res, 200, { revision });
  }

  const receivers: LocalReceiver[] = started.map((s) => ({
    name: s.spec.name,
    receiver: s.receiver,
    revisionUrl: s.spec.revisions
      ? `${url}/receivers/${encodeURIComponent(s.spec.name)}/revision`
      : undefined,
    revisionCount: () => s.count,
    revision: () => settingsRevision(s.applied),
  }));
  return {
    url,
    token,
    receivers,
    get(name) {
      const r = receivers.find((x) => x.name === name);
      if (!r) throw new Error(`no local receiver named ${name}`);
      return r;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all(started.map((s) => s.receiver.close()));
    },
  };
}
