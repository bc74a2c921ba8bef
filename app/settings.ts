/**
 * The receiver's settings schema: every environment variable the service reads.
 *
 * This module is pure (no I/O, no Pulumi) so that `components/receiver` can import it and set
 * exactly these variables on the Container App: the component and the service cannot drift apart.
 * Parsing and validation of the values lives in `app/config.ts`.
 */

import { telemetrySettings } from "./telemetry/settings";

/** How a setting reaches the container. */
export type SettingSource =
  /** A plain value, safe to show in the portal. */
  | "plain"
  /** A secret: must come from Key Vault through the app's identity, never a plain env value. */
  | "secret";

export interface SettingSpec {
  /** What the service does with it. */
  description: string;
  /** Must the deployed service (production mode) have it? */
  requiredInProduction: boolean;
  /** Plain value or Key Vault secret. */
  source: SettingSource;
  /** Default used when unset (documented in the README). */
  default?: string;
}

/**
 * System and token JSON shapes (the values of HOOKFLEET_SYSTEMS, HOOKFLEET_URL_TOKENS,
 * HOOKFLEET_READ_TOKENS). Only SHA-256 hashes of credentials ever reach the receiver.
 */
export interface CredentialHash {
  /** Lower-case hex SHA-256 of the credential. */
  sha256: string;
  /** ISO time after which this credential is no longer accepted (the rotation overlap end). */
  notAfter?: string;
}

export interface UrlTokenSetting extends CredentialHash {
  /** The system this URL token delivers to. */
  systemId: string;
}

export interface SystemSetting {
  /** System id: partition of the message store, e.g. `devops`. */
  id: string;
  /** "full" keeps the whole payload as `body`; "lean" keeps a ~1 KB projection. */
  storageMode: "full" | "lean";
  /** Retention in days, enforced by Cosmos DB TTL. */
  retentionDays: number;
  /** Hashes of accepted Basic-auth passwords (current, and previous during an overlap). */
  basicPasswords?: CredentialHash[];
  /** If set, the Basic-auth username must match; otherwise it is ignored. */
  basicUsername?: string;
  /** Require both a URL token and a Basic password on the token route (defence in depth). */
  requireBoth?: boolean;
}

export const receiverSettings = {
  PORT: {
    description: "HTTP port the service listens on.",
    requiredInProduction: false,
    source: "plain",
    default: "7071",
  },
  HOST: {
    description:
      "Address the service binds to. Unset: 0.0.0.0 in production mode (the container's ingress), 127.0.0.1 in local mode.",
    requiredInProduction: false,
    source: "plain",
    default: "0.0.0.0",
  },
  HOOKFLEET_MODE: {
    description:
      "`production` never creates databases or containers and refuses to start without COSMOS_ENDPOINT; `local` may start an embedded store.",
    requiredInProduction: true,
    source: "plain",
    default: "local",
  },
  COSMOS_ENDPOINT: {
    description: "Cosmos DB account endpoint. Unset in local mode: an embedded in-memory store is started.",
    requiredInProduction: true,
    source: "plain",
  },
  COSMOS_KEY: {
    description:
      "Cosmos DB account key. Unset: Microsoft Entra auth through DefaultAzureCredential (managed identity).",
    requiredInProduction: false,
    source: "secret",
  },
  AZURE_CLIENT_ID: {
    description: "Client id of the user-assigned managed identity DefaultAzureCredential should use.",
    requiredInProduction: false,
    source: "plain",
  },
  COSMOS_DATABASE: {
    description: "Cosmos DB database name.",
    requiredInProduction: false,
    source: "plain",
    default: "hookfleet",
  },
  COSMOS_CONTAINER: {
    description: "Cosmos DB container holding messages (partition key /systemId).",
    requiredInProduction: false,
    source: "plain",
    default: "messages",
  },
  HOOKFLEET_SYSTEMS: {
    description:
      "JSON array of systems: {id, storageMode, retentionDays, basicPasswords?, basicUsername?, requireBoth?}.",
    requiredInProduction: true,
    source: "secret",
  },
  HOOKFLEET_URL_TOKENS: {
    description: "JSON array of accepted URL-token hashes: {sha256, systemId, notAfter?}.",
    requiredInProduction: true,
    source: "secret",
  },
  HOOKFLEET_READ_TOKENS: {
    description: "JSON array of accepted read-API bearer-token hashes: {sha256, notAfter?}.",
    requiredInProduction: true,
    source: "secret",
  },
  HOOKFLEET_CREDENTIALS_FINGERPRINT: {
    description:
      "Set by ReceiverInfra, ignored by the service: a 16-hex, non-secret hash of the credential hashes (and of the versions of other Key Vault secrets the app reads). Container App secrets are application-scope: changing one creates no revision, and running revisions keep the old value (learn.microsoft.com/azure/container-apps/manage-secrets). This plain env var is in the template (revision-scope), so every credential change rolls a new revision.",
    requiredInProduction: false,
    source: "plain",
  },
  METRICS_PORT: {
    description: "Port of the internal /metrics listener; unset serves /metrics on the main port.",
    requiredInProduction: false,
    source: "plain",
  },
  LOG_LEVEL: {
    description: "pino log level.",
    requiredInProduction: false,
    source: "plain",
    default: "info",
  },
  SHUTDOWN_GRACE_MS: {
    description: "How long SIGTERM waits for in-flight requests before exiting, 0-600000 ms.",
    requiredInProduction: false,
    source: "plain",
    default: "10000",
  },
  // issue 16: the standard OTEL_* variables the telemetry reads (app/telemetry/settings.ts).
  ...telemetrySettings,
} as const satisfies Record<string, SettingSpec>;

export type ReceiverSettingName = keyof typeof receiverSettings;

/** The Cosmos DB layout the service expects; ReceiverInfra provisions exactly this. */
export const messageStoreLayout = {
  partitionKeyPath: "/systemId",
  /** The payload is never queried: excluding it from indexing cuts write RU. */
  excludedIndexPaths: ["/body/*", "/projection/*"],
  /** -1 turns TTL on with no default, so each message's `ttl` (from retention) applies. */
  defaultTtl: -1,
} as const;
