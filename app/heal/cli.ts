/**
 * The heal command: arguments, environment (app/heal/settings.ts plus the receiver's own settings),
 * clients and store, the run, the output and the exit code. Used by app/heal/main.ts (the container
 * job) and scripts/heal.ts (`npm run heal`).
 */
import { AdoClient } from "../../ado/client";
import { ConfigError, parseConfig, type CredentialSettings, type CosmosSettings } from "../config";
import { EXIT } from "../exit-codes";
import { CosmosMessageStore, type MessageStore } from "../store";
import { errorText, runHeal, type HealPolicy, type HealReport } from "./heal";
import { formatHealReport } from "./report";
import {
  defaultRecentHours,
  healSettings,
  maxRecentHours,
  parseRecentHours,
  type HealSettingName,
} from "./settings";
import type { AdoApi } from "../../ado/types";

export const HEAL_HELP = `Usage: npm run heal -- [--dry-run] [--json] [--org URL]... [--base-url URL]
       [--probation leave|enable] [--disabled-by-user leave|enable] [--recent-hours H]
       [--include-enabled]
       (in the container: node dist/app/heal/main.js)

Finds HookFleet's service hooks that Azure DevOps has disabled or put on probation, replays the
events whose delivery failed (from ADO's notification history) into the receiver's message store,
and puts the hooks back to enabled. Hooks put back to enabled by others (\`pulumi up\`, a person)
since a run last looked have their failed deliveries replayed too. Events already stored are
recognised and not stored twice.

Options:
  --dry-run            report what would be done; change nothing in ADO or in the store
  --json               print the report as JSON on stdout (progress still goes to stderr)
  --org URL            organization to heal (repeatable; default HOOKFLEET_HEAL_ORG_URLS)
  --base-url URL       the receiver's base URL (default HOOKFLEET_WEBHOOK_BASE_URL)
  --probation P        hooks on probation: leave (default) or enable
  --disabled-by-user P hooks a person disabled: leave (default) or enable
  --recent-hours H     also replay failed deliveries of enabled hooks changed (after their
                       creation) in the last H hours: re-enabled by \`pulumi up\` or a person
                       before a run saw them; one ADO call per such hook; 0: off (default ${defaultRecentHours})
  --include-enabled    the same for every enabled hook, however long ago it changed; one ADO
                       call per hook
  -h, --help           this text

Environment: HOOKFLEET_HEAL_ORG_URLS, HOOKFLEET_WEBHOOK_BASE_URL, AZURE_DEVOPS_EXT_PAT (else
Microsoft Entra via DefaultAzureCredential / managed identity, AZURE_CLIENT_ID), COSMOS_ENDPOINT,
COSMOS_KEY, COSMOS_DATABASE, COSMOS_CONTAINER, HOOKFLEET_SYSTEMS, HOOKFLEET_URL_TOKENS,
HOOKFLEET_HEAL_PROBATION, HOOKFLEET_HEAL_DISABLED_BY_USER, HOOKFLEET_HEAL_RECENT_HOURS,
HOOKFLEET_HEAL_INCLUDE_ENABLED, HOOKFLEET_HEAL_HISTORY_MAX, HOOKFLEET_HEAL_CONCURRENCY.
See docs/heal.md.

Exit codes: 0 every hook found is healthy or was repaired (or, dry run, can be); 1 something could
not be repaired (see the report); ${EXIT.usage} bad arguments or configuration.`;

type Env = Record<string, string | undefined>;

/** The last line of a run that failed unexpectedly (app/heal/main.ts). */
export function healFailedLine(err: unknown): string {
  return `heal failed: ${errorText(err)}`;
}

export interface HealArgs {
  help: boolean;
  dryRun: boolean;
  json: boolean;
  orgs: string[];
  baseUrl?: string;
  probation?: HealPolicy;
  disabledByUser?: HealPolicy;
  /** --recent-hours as given (checked with the environment's value in loadHealConfig). */
  recentHours?: string;
  includeEnabled: boolean;
}

/** Parses the command line; throws ConfigError for anything it does not know. */
export function parseHealArgs(argv: readonly string[]): HealArgs {
  const args: HealArgs = { help: false, dryRun: false, json: false, orgs: [], includeEnabled: false };
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith("--") && a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) {
        problems.push(`${flag} needs a value`);
        return undefined;
      }
      i++;
      return v;
    };
    const policy = (v: string | undefined): HealPolicy | undefined => {
      if (v === undefined) return undefined;
      if (v === "leave" || v === "enable") return v;
      problems.push(`${flag} must be "leave" or "enable" (got "${v}")`);
      return undefined;
    };
    switch (flag) {
      case "-h":
      case "--help":
        args.help = true;
        break;
      case "--dry-run":
        args.dryRun = true;
        break;
      case "--json":
        args.json = true;
        break;
      case "--include-enabled":
        args.includeEnabled = true;
        break;
      case "--recent-hours":
        args.recentHours = value();
        break;
      case "--org": {
        const v = value();
        if (v) args.orgs.push(v);
        break;
      }
      case "--base-url":
        args.baseUrl = value();
        break;
      case "--probation":
        args.probation = policy(value());
        break;
      case "--disabled-by-user":
        args.disabledByUser = policy(value());
        break;
      default:
        problems.push(`unknown argument "${a}" (see --help)`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return args;
}

export interface HealConfig {
  orgUrls: string[];
  webhookBaseUrl: string;
  pat?: string;
  cosmos: CosmosSettings & { endpoint: string };
  credentials: Pick<CredentialSettings, "systems" | "urlTokens">;
  probation: HealPolicy;
  disabledByUser: HealPolicy;
  historyMaxResults: number;
  concurrency: number;
  recentHours: number;
  includeEnabled: boolean;
}

function healSetting(env: Env, name: HealSettingName): string | undefined {
  const raw = env[name];
  if (raw !== undefined && raw.trim() !== "") return raw.trim();
  return (healSettings[name] as { default?: string }).default;
}

function httpUrl(name: string, raw: string, problems: string[]): string | undefined {
  try {
    const u = new URL(raw);
    if (u.protocol === "http:" || u.protocol === "https:") return raw.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  problems.push(`${name}: "${raw}" is not an http(s) URL`);
  return undefined;
}

/**
 * The heal configuration from the environment and the command line. The receiver's variables are
 * parsed by the receiver's own parser (app/config.ts), so both read them the same way. Throws
 * ConfigError listing every problem.
 */
export function loadHealConfig(env: Env, args: HealArgs = parseHealArgs([])): HealConfig {
  const problems: string[] = [];
  let receiver: ReturnType<typeof parseConfig> | undefined;
  try {
    // The heal job serves no read API: read tokens are not needed, whatever the mode requires.
    receiver = parseConfig({ ...env, HOOKFLEET_READ_TOKENS: env.HOOKFLEET_READ_TOKENS || "[]" });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }

  const orgSource = args.orgs.length
    ? args.orgs
    : (healSetting(env, "HOOKFLEET_HEAL_ORG_URLS") ?? "").split(/[\s,]+/);
  const orgUrls = orgSource
    .filter((s) => s !== "")
    .map((s) => httpUrl("HOOKFLEET_HEAL_ORG_URLS", s, problems))
    .filter((s): s is string => s !== undefined);
  if (orgSource.every((s) => s === ""))
    problems.push(
      `HOOKFLEET_HEAL_ORG_URLS (or --org) is required: ${healSettings.HOOKFLEET_HEAL_ORG_URLS.description}`,
    );

  const baseRaw = args.baseUrl ?? healSetting(env, "HOOKFLEET_WEBHOOK_BASE_URL");
  const webhookBaseUrl = baseRaw ? httpUrl("HOOKFLEET_WEBHOOK_BASE_URL", baseRaw, problems) : undefined;
  if (!baseRaw)
    problems.push(
      `HOOKFLEET_WEBHOOK_BASE_URL (or --base-url) is required: ${healSettings.HOOKFLEET_WEBHOOK_BASE_URL.description}`,
    );

  const policy = (name: HealSettingName, fromArgs: HealPolicy | undefined): HealPolicy => {
    const v = fromArgs ?? healSetting(env, name);
    if (v === "leave" || v === "enable") return v;
    problems.push(`${name} must be "leave" or "enable" (got "${v}")`);
    return "leave";
  };
  const probation = policy("HOOKFLEET_HEAL_PROBATION", args.probation);
  const disabledByUser = policy("HOOKFLEET_HEAL_DISABLED_BY_USER", args.disabledByUser);
  const positive = (name: HealSettingName, max: number): number => {
    const v = healSetting(env, name) ?? "";
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) {
      problems.push(`${name} must be a whole number 1-${max} (got "${v}")`);
      return 1;
    }
    return n;
  };
  const historyMaxResults = positive("HOOKFLEET_HEAL_HISTORY_MAX", 100_000);
  const includeRaw = healSetting(env, "HOOKFLEET_HEAL_INCLUDE_ENABLED");
  if (includeRaw !== "true" && includeRaw !== "false")
    problems.push(`HOOKFLEET_HEAL_INCLUDE_ENABLED must be "true" or "false" (got "${includeRaw}")`);
  const includeEnabled = args.includeEnabled || includeRaw === "true";
  const recentHours = recentHoursSetting(
    args.recentHours !== undefined ? "--recent-hours" : "HOOKFLEET_HEAL_RECENT_HOURS",
    args.recentHours ?? healSetting(env, "HOOKFLEET_HEAL_RECENT_HOURS") ?? "",
    problems,
  );
  const concurrency = positive("HOOKFLEET_HEAL_CONCURRENCY", 64);

  if (receiver && !receiver.cosmos.endpoint)
    problems.push(
      "COSMOS_ENDPOINT is required: heal writes into the receiver's store (an embedded store would be a different, empty one)",
    );
  if (receiver && receiver.unset.systems)
    problems.push("HOOKFLEET_SYSTEMS is required: heal needs each system's storage mode and retention");

  if (problems.length || !receiver || !webhookBaseUrl) throw new ConfigError(problems);
  return {
    orgUrls,
    webhookBaseUrl,
    pat: env.AZURE_DEVOPS_EXT_PAT || undefined,
    cosmos: { ...receiver.cosmos, endpoint: receiver.cosmos.endpoint as string },
    credentials: { systems: receiver.systems, urlTokens: receiver.urlTokens },
    probation,
    disabledByUser,
    historyMaxResults,
    concurrency,
    recentHours,
    includeEnabled,
  };
}

function recentHoursSetting(name: string, raw: string, problems: string[]): number {
  const hours = parseRecentHours(raw);
  if (hours === undefined)
    problems.push(
      `${name} must be a number of hours from 0 to ${maxRecentHours}, e.g. 6 or 0.5 (got "${raw}")`,
    );
  return hours ?? 0;
}

export interface HealCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface HealCliDeps {
  /** Use these instead of opening Cosmos DB / creating ADO clients (the tests use the real ones). */
  openStore?: (config: HealConfig) => Promise<MessageStore>;
  clientFor?: (orgUrl: string, config: HealConfig) => AdoApi;
  /** Wraps the opened store (issue 16: app/telemetry/heal.ts traces the replay's store calls). */
  instrumentStore?: (store: MessageStore) => MessageStore;
}

function defaultClient(orgUrl: string, config: HealConfig, io: HealCliIo): AdoApi {
  const logger = { warn: (m: string) => io.stderr(`ado: ${m}`) };
  return config.pat
    ? new AdoClient({ orgUrl, auth: { kind: "pat", pat: config.pat }, logger })
    : AdoClient.fromEnvironment(orgUrl, { logger });
}

/** Runs the command; resolves with the exit code (0 ok, 1 something not repaired, 64 bad input: app/exit-codes.ts). */
export async function runHealCli(
  argv: readonly string[],
  env: Env,
  io: HealCliIo,
  deps: HealCliDeps = {},
): Promise<{ code: number; report?: HealReport }> {
  let args: HealArgs;
  let config: HealConfig;
  try {
    args = parseHealArgs(argv);
    if (args.help) {
      io.stdout(HEAL_HELP);
      return { code: 0 };
    }
    config = loadHealConfig(env, args);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(errorText(err).replace("invalid receiver configuration", "invalid heal configuration"));
      return { code: EXIT.usage };
    }
    throw err;
  }

  let store: MessageStore;
  try {
    store = deps.openStore
      ? await deps.openStore(config)
      : await CosmosMessageStore.open({ settings: config.cosmos, createIfMissing: false });
  } catch (err) {
    io.stderr(`heal: cannot open the message store: ${errorText(err)}`);
    return { code: 1 };
  }
  try {
    io.stderr(
      `heal${args.dryRun ? " (dry run)" : ""}: ${config.orgUrls.length} organization(s), hooks under ${config.webhookBaseUrl}`,
    );
    const report = await runHeal({
      orgs: config.orgUrls.map((u) => deps.clientFor?.(u, config) ?? defaultClient(u, config, io)),
      webhookBaseUrl: config.webhookBaseUrl,
      store: deps.instrumentStore ? deps.instrumentStore(store) : store,
      credentials: config.credentials,
      dryRun: args.dryRun,
      probation: config.probation,
      disabledByUser: config.disabledByUser,
      includeEnabled: config.includeEnabled,
      recentHours: config.recentHours,
      historyMaxResults: config.historyMaxResults,
      concurrency: config.concurrency,
      onProgress: (line) => io.stderr(line),
    });
    io.stdout(args.json ? JSON.stringify(report, null, 2) : formatHealReport(report));
    return { code: report.ok ? 0 : 1, report };
  } finally {
    if (!deps.openStore) await store.close();
  }
}
