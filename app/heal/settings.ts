/**
 * The heal job's settings schema: the environment variables it reads besides the receiver's own.
 *
 * Pure module (no I/O, no Pulumi), like app/settings.ts, so that ReceiverInfra can set exactly these
 * variables on a scheduled Container Apps Job. The job also reads the receiver settings named in
 * `healReceiverSettingNames` (same names, same meaning, same Key Vault secrets as the receiver).
 */
import type { ReceiverSettingName, SettingSpec } from "../settings";

export const healSettings = {
  HOOKFLEET_HEAL_ORG_URLS: {
    description:
      "Azure DevOps organization URLs to heal, comma- or whitespace-separated (e.g. https://dev.azure.com/contoso).",
    requiredInProduction: true,
    source: "plain",
  },
  HOOKFLEET_WEBHOOK_BASE_URL: {
    description:
      "The receiver's public base URL (e.g. https://receiver.example.azurecontainerapps.io): subscriptions whose consumer URL starts with it are HookFleet's.",
    requiredInProduction: true,
    source: "plain",
  },
  AZURE_DEVOPS_EXT_PAT: {
    description:
      "ADO PAT (scope vso.hooks_write, vso.project). Unset: Microsoft Entra through DefaultAzureCredential (managed identity; AZURE_CLIENT_ID picks a user-assigned one).",
    requiredInProduction: false,
    source: "secret",
  },
  HOOKFLEET_HEAL_PROBATION: {
    description:
      "`leave` (default): hooks on probation are reported and their failed deliveries replayed, but ADO keeps retrying them; `enable`: PUT them back to enabled too.",
    requiredInProduction: false,
    source: "plain",
    default: "leave",
  },
  HOOKFLEET_HEAL_DISABLED_BY_USER: {
    description:
      "`leave` (default): hooks a person disabled are only reported; `enable`: treat them like disabledBySystem.",
    requiredInProduction: false,
    source: "plain",
    default: "leave",
  },
  HOOKFLEET_HEAL_RECENT_HOURS: {
    description:
      "Also replay failed deliveries of enabled hooks that ADO says were changed after creation within this many hours (re-enabled by `pulumi up` or a person before a run saw them); one ADO call per such hook. 0: off. Keep it above the schedule's longest gap.",
    requiredInProduction: false,
    source: "plain",
    default: "6",
  },
  HOOKFLEET_HEAL_INCLUDE_ENABLED: {
    description:
      "`true`: also replay failed deliveries of every enabled hook, however long ago it changed; one ADO call per hook. Default `false`.",
    requiredInProduction: false,
    source: "plain",
    default: "false",
  },
  HOOKFLEET_HEAL_HISTORY_MAX: {
    description: "maxResults of each notification-history read (deliveries looked at per hook).",
    requiredInProduction: false,
    source: "plain",
    default: "1000",
  },
  HOOKFLEET_HEAL_CONCURRENCY: {
    description:
      "Hooks healed at once; ADO requests are further bounded per organization by the ADO client (8).",
    requiredInProduction: false,
    source: "plain",
    default: "4",
  },
} as const satisfies Record<string, SettingSpec>;

export type HealSettingName = keyof typeof healSettings;

/** How far back a changed enabled hook makes a run read it, by default (HOOKFLEET_HEAL_RECENT_HOURS; selection.ts). */
export const defaultRecentHours = Number(healSettings.HOOKFLEET_HEAL_RECENT_HOURS.default);

/** The most HOOKFLEET_HEAL_RECENT_HOURS takes: a year (ADO keeps far less delivery history anyway). */
export const maxRecentHours = 8760;

/**
 * A HOOKFLEET_HEAL_RECENT_HOURS value: a number of hours from 0 to maxRecentHours, decimals allowed
 * ("6", "0.5"), or undefined when the text is not one. Shared by the heal command and the stack
 * config (components/config/program.ts).
 */
export function parseRecentHours(text: string): number | undefined {
  const n = Number(text);
  return /^\d+(\.\d+)?$/.test(text) && n <= maxRecentHours ? n : undefined;
}

/** Receiver settings the heal job reads too (set them on the job exactly as on the receiver). */
export const healReceiverSettingNames = [
  "HOOKFLEET_MODE",
  "COSMOS_ENDPOINT",
  "COSMOS_KEY",
  "COSMOS_DATABASE",
  "COSMOS_CONTAINER",
  "AZURE_CLIENT_ID",
  "HOOKFLEET_SYSTEMS",
  "HOOKFLEET_URL_TOKENS",
  // issue 16: heal emits the same OpenTelemetry as the receiver (app/telemetry/settings.ts).
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_TRACES_EXPORTER",
  "OTEL_METRICS_EXPORTER",
  "OTEL_SERVICE_NAME",
  "OTEL_BSP_SCHEDULE_DELAY",
  "OTEL_METRIC_EXPORT_INTERVAL",
  "OTEL_SDK_DISABLED",
] as const satisfies readonly ReceiverSettingName[];
