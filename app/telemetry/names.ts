/**
 * The one source of truth for HookFleet's telemetry names: span names, metric names, attribute keys
 * and the values the alerts compare against. The receiver and the heal job emit exactly these; the
 * alert queries and the dashboard in components/receiver are built from exactly these (they import
 * this module like they import app/settings.ts), so the two cannot drift apart.
 *
 * Pure module: no I/O, no OpenTelemetry import, no Pulumi. Vendor-neutral: nothing here knows about
 * Application Insights (that mapping lives with the queries, in components/receiver/telemetry-kql.ts).
 *
 * Nothing secret is ever an attribute: no URL (a URL token is in the path), no header, no body, no
 * credential, no ADO error text unscrubbed. See docs/telemetry.md for each name's meaning.
 */

/** `service.name` of each process (overridable with OTEL_SERVICE_NAME). */
export const serviceNames = {
  receiver: "hookfleet-receiver",
  heal: "hookfleet-heal",
} as const;

/** Instrumentation scope of every tracer and meter. */
export const instrumentationScope = "hookfleet";

/** OpenTelemetry span kinds, by name (the API's SpanKind enum values are numbers). */
export type SpanKindName = "server" | "client" | "internal";

export const spans = {
  /** One per request on a delivery route (POST token or Basic route, OPTIONS handshake). Kind server. */
  delivery: { name: "hookfleet.delivery", kind: "server" },
  /** One per message-store call made for a delivery or a replay. Kind client. Name suffixed `.<operation>`. */
  store: { name: "hookfleet.store", kind: "client" },
  /** One per heal run, from start to report. Kind internal. */
  healRun: { name: "hookfleet.heal.run", kind: "internal" },
  /** One per organization a heal run looked at (child of the run). Kind internal. */
  healOrg: { name: "hookfleet.heal.org", kind: "internal" },
  /** One per hook a heal run found not enabled, or replayed for (child of the run). Kind internal. */
  healHook: { name: "hookfleet.heal.hook", kind: "internal" },
} as const satisfies Record<string, { name: string; kind: SpanKindName }>;

/** Span name of a store call: `hookfleet.store.create`, `hookfleet.store.get`, … */
export function storeSpanName(operation: StoreOperation): string {
  return `${spans.store.name}.${operation}`;
}

export const storeOperations = ["create", "get", "list", "ping"] as const;
export type StoreOperation = (typeof storeOperations)[number];

/** Attribute keys (span and metric attributes). */
export const attrs = {
  /** Delivery route kind: `token`, `basic`, or `handshake` (CloudEvents OPTIONS). */
  route: "hookfleet.route",
  /** Receiver system id the request authenticated as (absent when authentication failed). */
  system: "hookfleet.system",
  /** Event type of the delivery (ADO `eventType`, Event Grid `eventType` / CloudEvents `type`). */
  eventType: "hookfleet.event_type",
  /** ADO organization (`contoso`) the event came from, or the heal run looked at; see org.ts. */
  org: "hookfleet.org",
  /** What became of a delivery: one of `deliveryOutcomes`. */
  outcome: "hookfleet.outcome",
  /** Why a delivery was rejected: one of `rejectReasons` (only with outcome `rejected`). */
  rejectReason: "hookfleet.reject_reason",
  /** Events a delivery carried (1 for ADO, n for an Event Grid batch). */
  events: "hookfleet.events",
  /** Of those, newly stored. */
  stored: "hookfleet.stored",
  /** Of those, already stored (retries). */
  duplicates: "hookfleet.duplicates",
  /** HTTP status of the answer (OpenTelemetry semantic conventions name). */
  httpStatus: "http.response.status_code",
  /** HTTP method (semantic conventions). */
  httpMethod: "http.request.method",
  /** Route template, never the path (the path carries the URL token). Semantic conventions. */
  httpRoute: "http.route",
  /**
   * How many deliveries (delivery span) or store calls (store span) this span stands for, a whole
   * number: 1 while its kind of delivery is not thinned, k when one in k was kept (sampling.ts).
   * Absent when sampling is off: count such a span once.
   */
  samplingWeight: "hookfleet.sampling.weight",
  /** Store operation: one of StoreOperation. */
  storeOperation: "hookfleet.store.operation",
  /** Store call result: one of `storeOutcomes`. */
  storeOutcome: "hookfleet.store.outcome",
  /** Store kind (semantic conventions `db.system.name`). */
  dbSystem: "db.system.name",

  /** Heal run result: one of `healOutcomes`. */
  healOutcome: "hookfleet.heal.outcome",
  /** Exit code of the heal command (0 ok, 1 not all repaired, 64 bad arguments or configuration: app/exit-codes.ts). */
  healExitCode: "hookfleet.heal.exit_code",
  /** The run was a dry run (changed nothing). */
  healDryRun: "hookfleet.heal.dry_run",
  /** Which heal job ran: its organizations (org.ts healJobKey of HOOKFLEET_HEAL_ORG_URLS); "" when unset. */
  healJob: "hookfleet.heal.job",
  /** Short, scrubbed reason of a failed run / org / hook. */
  healProblem: "hookfleet.heal.problem",
  /** HookFleet hooks found (run: all orgs; org span: that org). */
  hooks: "hookfleet.heal.hooks",
  /** Of those, not enabled when listed. */
  hooksNotEnabled: "hookfleet.heal.hooks_not_enabled",
  /** Hooks put back to enabled by the run. */
  hooksReenabled: "hookfleet.heal.hooks_reenabled",
  /** Failed deliveries stored by the replay. */
  replayed: "hookfleet.heal.replayed",
  /** Organizations looked at / that could not be listed (run span). */
  orgs: "hookfleet.heal.orgs",
  orgsFailed: "hookfleet.heal.orgs_failed",
  /** Comma-separated names (`project/eventType#id8`) of the hooks found not enabled (run and org spans). */
  hookNames: "hookfleet.heal.hook_names",

  /** ADO subscription id of a hook (heal hook span). */
  hookId: "hookfleet.hook.id",
  /** `project/eventType#id8`: what on-call reads in an alert (heal hook span). */
  hookName: "hookfleet.hook.name",
  /** ADO project name (or id when the name is unknown). */
  project: "hookfleet.project",
  /** Status ADO reported (`disabledBySystem`, `onProbation`, …), and after the heal. */
  hookStatusFound: "hookfleet.hook.status_found",
  hookStatusAfter: "hookfleet.hook.status_after",
  /** What heal did to the hook: enabled, wouldEnable, left, notEnabled, skipped. */
  healAction: "hookfleet.heal.action",
  /** How long the hook was down, in milliseconds (when known). */
  hookDownMs: "hookfleet.hook.down_ms",
  /** Hook status, on the `hookfleet.hooks` gauge. */
  hookStatus: "hookfleet.hook.status",
} as const;

/** Per status, the hooks an org has (heal org span): `hookfleet.heal.hooks.<status>`. */
export const hookStatuses = [
  "enabled",
  "onProbation",
  "disabledBySystem",
  "disabledByUser",
  "disabledByInactiveIdentity",
] as const;
export type HookStatusName = (typeof hookStatuses)[number];
export function hooksWithStatusAttr(status: HookStatusName): string {
  return `${attrs.hooks}.${status}`;
}

export const deliveryOutcomes = {
  /** At least one event newly stored (201). */
  stored: "stored",
  /** Every event was already stored: a retry (201 with the original id). */
  duplicate: "duplicate",
  /** Refused: see `rejectReasons` (4xx). */
  rejected: "rejected",
  /** The store throttled or was down: 503 with Retry-After, the sender retries. */
  unavailable: "unavailable",
  /** Any other 5xx: a bug. */
  error: "error",
  /** CloudEvents OPTIONS or Event Grid subscription validation: nothing to store. */
  handshake: "handshake",
} as const;
export type DeliveryOutcome = (typeof deliveryOutcomes)[keyof typeof deliveryOutcomes];

export const rejectReasons = {
  /** 404: unknown, malformed, expired or revoked URL token. */
  notFound: "not-found",
  /** 401: Basic credential missing or wrong. */
  unauthorized: "unauthorized",
  /** 400: not an ADO event or Event Grid array, or a field missing. */
  badRequest: "bad-request",
  /** 400: not JSON. */
  invalidJson: "invalid-json",
  /** 413: body over 1 MB. */
  tooLarge: "too-large",
  /** 415: content type neither JSON nor CloudEvents JSON. */
  unsupportedMediaType: "unsupported-media-type",
  /** Any other 4xx. */
  other: "other",
} as const;
export type RejectReason = (typeof rejectReasons)[keyof typeof rejectReasons];

export const storeOutcomes = {
  ok: "ok",
  duplicate: "duplicate",
  unavailable: "unavailable",
  error: "error",
} as const;
export type StoreOutcome = (typeof storeOutcomes)[keyof typeof storeOutcomes];

export const healOutcomes = {
  /** Every hook found is healthy or was repaired (exit 0). */
  ok: "ok",
  /** Something could not be repaired (exit 1 with a report). */
  notRepaired: "not-repaired",
  /** Bad arguments or configuration (exit 64, app/exit-codes.ts). */
  configError: "config-error",
  /** The message store could not be opened (exit 1, no report). */
  storeUnavailable: "store-unavailable",
  /** The run threw. */
  error: "error",
} as const;
export type HealOutcome = (typeof healOutcomes)[keyof typeof healOutcomes];

/** Value of `hookfleet.org` when the event names no organization (Event Grid, a sparse payload). */
export const unknownOrg = "unknown";
/** Value of `hookfleet.event_type` when the request was refused before its body was read. */
export const unknownEventType = "unknown";

export const metrics = {
  /** Counter, `{delivery}`: events received, by system × event type × outcome (+ route, org, reason). */
  deliveries: { name: "hookfleet.deliveries", unit: "{delivery}", kind: "counter" },
  /** Histogram, seconds: store call latency, by operation × outcome. */
  storeDuration: { name: "hookfleet.store.duration", unit: "s", kind: "histogram" },
  /** Counter, `{run}`: heal runs, by outcome. */
  healRuns: { name: "hookfleet.heal.runs", unit: "{run}", kind: "counter" },
  /** Counter, `{hook}`: hooks a heal run found not enabled, by org × status found. */
  hooksNotEnabled: { name: "hookfleet.heal.hooks_not_enabled", unit: "{hook}", kind: "counter" },
  /** Counter, `{hook}`: hooks a heal run put back to enabled, by org. */
  hooksReenabled: { name: "hookfleet.heal.hooks_reenabled", unit: "{hook}", kind: "counter" },
  /** Counter, `{delivery}`: failed deliveries a heal run stored (replayed), by org × system. */
  replayed: { name: "hookfleet.heal.replayed", unit: "{delivery}", kind: "counter" },
  /** Gauge, `{hook}`: HookFleet hooks per org × status, as the last heal run saw them. */
  hooks: { name: "hookfleet.hooks", unit: "{hook}", kind: "gauge" },
} as const satisfies Record<string, { name: string; unit: string; kind: "counter" | "histogram" | "gauge" }>;

/**
 * Bucket bounds, in seconds, of the store latency histograms: `hookfleet.store.duration` here and
 * the Prometheus `hookfleet_store_latency_seconds` (app/metrics.ts). Cosmos DB point writes take
 * milliseconds, throttled ones seconds.
 */
export const storeDurationBuckets: readonly number[] = [
  0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Longest value of a free-text attribute (hook name lists, problems). */
export const maxAttributeLength = 1024;
