/**
 * The programmatic receiver: start it, point deliveries at `url`, swap its credentials while it
 * runs, drain and close it. Used by app/main.ts, the tests of every part and the benchmark.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import {
  ConfigError,
  validateCredentialSettings,
  type CosmosSettings,
  type CredentialSettings,
  type ReceiverMode,
} from "./config";
import { CredentialHolder } from "./credentials";
import { startEmbeddedCosmos, type EmbeddedCosmos } from "./embedded-cosmos";
import type { LineSink } from "./logging";
import { ReceiverMetrics } from "./metrics";
import { buildServer } from "./server";
import { CosmosMessageStore, type MessageStore } from "./store";
import { ReceiverTelemetry } from "./telemetry/receiver";
import type { Telemetry } from "./telemetry/sdk";

export interface StartReceiverOptions {
  /** Systems, URL-token hashes and read-token hashes (validated; a mistake throws ConfigError). */
  credentials: CredentialSettings;
  /** `production` never creates the database or container and needs `cosmos.endpoint`. Default `local`. */
  mode?: ReceiverMode;
  /** Cosmos DB to use. Without an endpoint (local mode) an embedded in-memory store is started. */
  cosmos?: Partial<CosmosSettings>;
  /** Use this store instead of Cosmos DB (tests and the benchmark's pipeline-only row). */
  store?: MessageStore;
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve /metrics on its own port instead of the main one. */
  metricsPort?: number;
  /** Default `info`. */
  logLevel?: string;
  /** Where JSON log lines go (default stdout); tokens are always redacted. */
  logStream?: LineSink;
  /** How long close() waits for in-flight requests before cutting them off. Default 10 s. */
  shutdownGraceMs?: number;
  /** Collect Node's default process metrics too (the service does; tests need not). */
  defaultMetrics?: boolean;
  /**
   * OpenTelemetry (app/telemetry/sdk.ts startTelemetry); default off. The receiver shuts it down
   * (exporting what is left) when it closes.
   */
  telemetry?: Telemetry;
}

export interface RunningReceiver {
  /** Base URL, e.g. http://127.0.0.1:43121 */
  url: string;
  port: number;
  /** Base URL of the metrics listener when it has its own port. */
  metricsUrl?: string;
  /** `${url}/api/v1/webhooks/${token}` */
  webhookUrl(token: string): string;
  store: MessageStore;
  metrics: ReceiverMetrics;
  app: FastifyInstance;
  /** The embedded store, when one was started (not durable). */
  embeddedCosmos?: EmbeddedCosmos;
  /**
   * Replace systems, URL tokens and read tokens at once, as a new Container App revision's
   * settings would. Validated first (throws ConfigError, keeping the old set); requests in
   * flight finish with the set they started with.
   */
  setCredentials(next: CredentialSettings): void;
  /** The credential settings in force. */
  credentials(): CredentialSettings;
  /** Stop accepting, finish in-flight requests (up to the grace period), close everything. */
  close(): Promise<void>;
}

function checked(c: CredentialSettings): CredentialSettings {
  const { settings, problems } = validateCredentialSettings(c);
  if (!settings) throw new ConfigError(problems);
  return settings;
}

export async function startReceiver(opts: StartReceiverOptions): Promise<RunningReceiver> {
  const mode = opts.mode ?? "local";
  const holder = new CredentialHolder(checked(opts.credentials));
  let embeddedCosmos: EmbeddedCosmos | undefined;
  let store = opts.store;
  if (!store) {
    let endpoint = opts.cosmos?.endpoint;
    let key = opts.cosmos?.key;
    if (!endpoint) {
      if (mode === "production") throw new ConfigError(["COSMOS_ENDPOINT is required in production mode"]);
      embeddedCosmos = await startEmbeddedCosmos();
      endpoint = embeddedCosmos.endpoint;
      key = embeddedCosmos.key;
    }
    store = await CosmosMessageStore.open({
      settings: {
        endpoint,
        key,
        database: opts.cosmos?.database ?? "hookfleet",
        container: opts.cosmos?.container ?? "messages",
        managedIdentityClientId: opts.cosmos?.managedIdentityClientId,
      },
      // With Entra auth the app's identity cannot create them anyway; they are provisioned by Pulumi.
      createIfMissing: mode === "local",
    });
  }
  const metrics = new ReceiverMetrics({ defaultMetrics: opts.defaultMetrics });
  let draining = false;
  const app = buildServer({
    credentials: holder,
    store,
    metrics,
    logLevel: opts.logLevel ?? "info",
    logStream: opts.logStream,
    serveMetrics: opts.metricsPort === undefined,
    isDraining: () => draining,
    telemetry: opts.telemetry?.enabled ? new ReceiverTelemetry(opts.telemetry) : undefined,
  });
  const host = opts.host ?? "127.0.0.1";
  await app.listen({ port: opts.port ?? 0, host });
  const { port } = app.server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const url = `http://${shownHost}:${port}`;

  let metricsServer: http.Server | undefined;
  let metricsUrl: string | undefined;
  if (opts.metricsPort !== undefined) {
    const m = metrics;
    metricsServer = http.createServer((req, res) => {
      if (req.method === "GET" && req.url === "/metrics")
        m.registry.metrics().then(
          (text) => res.writeHead(200, { "content-type": m.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => metricsServer!.listen(opts.metricsPort, host, resolve));
    metricsUrl = `http://${shownHost}:${(metricsServer.address() as AddressInfo).port}`;
  }

  const finalStore = store;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      const grace = opts.shutdownGraceMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      // fastify.close() stops accepting, answers new requests 503 and waits for in-flight ones.
      await Promise.race([
        app.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            app.server.closeAllConnections();
            resolve();
          }, grace);
        }),
      ]);
      clearTimeout(timer);
      if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
      await finalStore.close();
      if (embeddedCosmos) await embeddedCosmos.close();
      // Last, so the spans of the requests that drained are exported too.
      await opts.telemetry?.shutdown();
    })();
    return closing;
  };

  return {
    url,
    port,
    metricsUrl,
    webhookUrl: (token) => `${url}/api/v1/webhooks/${token}`,
    store: finalStore,
    metrics,
    app,
    embeddedCosmos,
    setCredentials: (next) => holder.swap(checked(next)),
    credentials: () => holder.current.settings,
    close,
  };
}
