/**
 * Entry point of the receiver container (`npm run receiver`, `node dist/app/main.js`).
 * Reads the environment, and in local mode fills in what is missing: an embedded in-memory store
 * and a freshly minted token for a system named `devops`, printed for scripts to pick up.
 */
import { ConfigError, parseConfig, type CredentialSettings, type ReceiverConfig } from "./config";
import { EXIT } from "./exit-codes";
import { startReceiver } from "./receiver";
import { serviceNames } from "./telemetry/names";
import { startTelemetry, TelemetryConfigError, type Telemetry } from "./telemetry/sdk";
import { mintToken, sha256Hex } from "./tokens";

const HELP = `Usage: npm run receiver   (or: node dist/app/main.js)

Starts the HookFleet webhook receiver. Configuration comes from environment variables
(see docs/receiver.md): PORT, HOST, HOOKFLEET_MODE, COSMOS_ENDPOINT, COSMOS_KEY,
COSMOS_DATABASE, COSMOS_CONTAINER, AZURE_CLIENT_ID, HOOKFLEET_SYSTEMS, HOOKFLEET_URL_TOKENS,
HOOKFLEET_READ_TOKENS, METRICS_PORT, LOG_LEVEL, SHUTDOWN_GRACE_MS, and the standard OpenTelemetry
variables (OTEL_EXPORTER_OTLP_ENDPOINT turns traces and metrics over OTLP on; see docs/telemetry.md).

In local mode (the default) it listens on 127.0.0.1 unless HOST is set; with no COSMOS_ENDPOINT an
in-memory store is started on its own thread (not durable); without HOOKFLEET_SYSTEMS it has one
system, "devops"; and tokens not configured are minted and printed as
  webhook url: <url>
  read token: <token>
With the in-memory store it also prints how to run the heal job against it:
  heal: COSMOS_ENDPOINT=… COSMOS_KEY=… HOOKFLEET_SYSTEMS=… HOOKFLEET_URL_TOKENS=… … npm run heal -- --org <url>
SIGTERM or SIGINT drains in-flight requests (SHUTDOWN_GRACE_MS) and exits.
Exit codes: 0 stopped, 1 failed to start or to stop, 64 bad configuration (every mistake listed).`;

/**
 * Local mode: mint whatever tokens are missing, so `npm run receiver` works with no set-up. The
 * systems are already in the configuration (a `devops` system when HOOKFLEET_SYSTEMS is unset).
 */
function localCredentials(config: ReceiverConfig): {
  credentials: CredentialSettings;
  minted: { url?: string; read?: string };
} {
  const { systems } = config;
  const minted: { url?: string; read?: string } = {};
  let urlTokens = config.urlTokens;
  if (config.unset.urlTokens && systems.length) {
    minted.url = mintToken();
    urlTokens = [{ sha256: sha256Hex(minted.url), systemId: systems[0].id }];
  }
  let readTokens = config.readTokens;
  if (config.unset.readTokens) {
    minted.read = mintToken();
    readTokens = [{ sha256: sha256Hex(minted.read) }];
  }
  return { credentials: { systems, urlTokens, readTokens }, minted };
}

/**
 * How to run the heal job against this receiver's embedded store (docs/heal.md): the store's address
 * and key (the well-known emulator key, which the embedded store does not check), the receiver's
 * systems and URL-token hashes (never a token), its base URL. Only the organization is left to add.
 */
function healCommand(
  url: string,
  store: { endpoint: string; key: string },
  credentials: CredentialSettings,
): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return [
    `COSMOS_ENDPOINT=${store.endpoint}`,
    `COSMOS_KEY=${quote(store.key)}`,
    `HOOKFLEET_SYSTEMS=${quote(JSON.stringify(credentials.systems))}`,
    `HOOKFLEET_URL_TOKENS=${quote(JSON.stringify(credentials.urlTokens))}`,
    `HOOKFLEET_WEBHOOK_BASE_URL=${url}`,
    "npm run heal -- --org <ADO organization URL>",
  ].join(" ");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return;
  }
  if (args.length) {
    console.error(
      `receiver: unexpected argument "${args[0]}": configuration comes from the environment\n\n${HELP}`,
    );
    process.exit(EXIT.usage);
  }
  let config: ReceiverConfig;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(EXIT.usage);
    }
    throw err;
  }
  // issue 16: OpenTelemetry from the standard OTEL_* variables; off without an endpoint.
  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry(process.env, {
      serviceName: serviceNames.receiver,
      sampleDeliveryTraces: true,
    });
  } catch (err) {
    if (err instanceof TelemetryConfigError) {
      console.error(`invalid telemetry configuration: ${err.message}`);
      process.exit(EXIT.usage);
    }
    throw err;
  }
  const { credentials, minted } =
    config.mode === "local" ? localCredentials(config) : { credentials: config, minted: {} };
  if (config.mode === "local" && !config.cosmos.endpoint)
    console.error(
      "note: no COSMOS_ENDPOINT: using an embedded in-memory Cosmos DB server (its own thread); data is NOT durable and is lost on exit",
    );
  const receiver = await startReceiver({
    credentials,
    mode: config.mode,
    cosmos: config.cosmos,
    port: config.port,
    host: config.host,
    metricsPort: config.metricsPort,
    logLevel: config.logLevel,
    shutdownGraceMs: config.shutdownGraceMs,
    defaultMetrics: true,
    telemetry,
  });
  // Before the lines below announce that the receiver is up: a supervisor that reads them and
  // signals at once must reach the drain, not the default SIGTERM/SIGINT handling, which exits at
  // once (Node.js docs, process, "Signal events").
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: draining in-flight requests (up to ${config.shutdownGraceMs} ms)`);
    receiver.close().then(
      () => process.exit(EXIT.ok),
      (err) => {
        console.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(EXIT.failed);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Plain lines on stdout, one per credential, so scripts can read them (`grep '^webhook url:'`).
  if (minted.url) console.log(`webhook url: ${receiver.webhookUrl(minted.url)}`);
  if (minted.read) console.log(`read token: ${minted.read}`);
  if (receiver.embeddedCosmos)
    console.log(`heal: ${healCommand(receiver.url, receiver.embeddedCosmos, credentials)}`);
  console.error(
    `receiver listening on ${receiver.url}${receiver.metricsUrl ? `, metrics on ${receiver.metricsUrl}` : ""}` +
      (receiver.embeddedCosmos ? `; embedded store at ${receiver.embeddedCosmos.endpoint}` : ""),
  );
  if (telemetry.enabled) console.error(telemetry.description);
}

main().catch((err: unknown) => {
  console.error(`receiver failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(EXIT.failed);
});
