/**
 * The KQL of the alerts and the dashboard, built from the names the receiver and heal job emit
 * (app/telemetry/names.ts): one source of truth, so a renamed attribute cannot leave an alert
 * silently looking for the old name. Pure functions, tested against Microsoft's KQL parser
 * (test/receiver-infra/telemetry-alerts.test.ts) and against the spans the real processes export
 * (test/telemetry/*).
 *
 * Where spans land: the stack's Application Insights is workspace-based, so its telemetry is in the
 * Log Analytics tables AppRequests and AppDependencies (learn.microsoft.com/azure/azure-monitor/
 * reference/tables/apprequests, …/appdependencies). The OpenTelemetry → Application Insights mapping
 * (open-telemetry/opentelemetry-collector-contrib exporter/azuremonitorexporter/trace_to_envelope.go,
 * spanToEnvelope): server and consumer spans become requests, client, producer and internal spans
 * dependencies; span attributes become `Properties`, except that older exporter versions put
 * integer and double attributes in `Measurements` (setAttributeValueAsPropertyOrMeasurement) while
 * newer ones keep them all in `Properties`. We cannot tell which version the Container Apps agent
 * runs, so numbers are read from either (`num`). A span carrying HTTP attributes may get an
 * HTTP-style `Name` from the exporter, so delivery spans are recognised by their route attribute,
 * not by name.
 */
import {
  attrs,
  deliveryOutcomes,
  healOutcomes,
  hookStatuses,
  hooksWithStatusAttr,
  spans,
  type SpanKindName,
} from "../../app/telemetry/names";

/** Log Analytics table of each span kind (see the module comment). */
export const tableOf: Record<SpanKindName, "AppRequests" | "AppDependencies"> = {
  server: "AppRequests",
  client: "AppDependencies",
  internal: "AppDependencies",
};

const q = (s: string) => JSON.stringify(s);
/** A string attribute. */
export const str = (key: string) => `tostring(Properties[${q(key)}])`;
/** A numeric attribute, wherever the exporter put it. */
export const num = (key: string) => `todouble(coalesce(Properties[${q(key)}], Measurements[${q(key)}]))`;
const list = (values: readonly string[]) => `(${values.map(q).join(", ")})`;

const routeKinds = ["token", "basic", "handshake"] as const;

/**
 * How many deliveries or store calls a row stands for: the sampling weight the receiver gave its
 * trace (app/telemetry/sampling.ts; absent: 1), times ItemCount, which Application Insights raises
 * above 1 when it samples on its own (ingestion sampling; learn.microsoft.com/azure/azure-monitor/
 * reference/tables/apprequests, ItemCount). A whole number.
 */
const weight = `tolong(ItemCount * coalesce(${num(attrs.samplingWeight)}, 1.0))`;

/** Every delivery span (AppRequests rows whose route attribute is a delivery route kind), with its `weight`. */
export function deliverySpans(): string {
  return `${tableOf[spans.delivery.kind]}\n| where ${str(attrs.route)} in ${list(routeKinds)}\n| extend weight = ${weight}`;
}

/** Every span of one of our non-HTTP names (heal, store). */
function named(span: { name: string; kind: SpanKindName }): string {
  return `${tableOf[span.kind]}\n| where Name == ${q(span.name)}`;
}

// ---------------------------------------------------------------------------------------------
// Alerts. Each query returns one row per thing that is wrong (nothing when all is well), so the
// rule fires on "rows > 0" and the same query pasted into Logs shows exactly what is wrong; the
// columns named in `dimensions` split the alert (one per organization, with the hook names).

export interface AlertQuery {
  /** KQL over the workspace. */
  query: string;
  /** Result columns that split the alert into one per value, shown in the notification. */
  dimensions: string[];
}

/** Labels shown per org in the hooks-not-enabled alert; beyond, "(+n more)". */
export const maxHookNamesInAlert = 10;

/** 1. The heal job found hooks not enabled: one row per org, with the hook names. */
export function hooksNotEnabledQuery(): AlertQuery {
  return {
    query: `${named(spans.healHook)}
| extend org = ${str(attrs.org)}, hook = ${str(attrs.hookName)}, status = ${str(attrs.hookStatusFound)}, action = ${str(attrs.healAction)}
| where status != "enabled"
| summarize found = dcount(hook), names = make_set(strcat(hook, " (", status, ", ", action, ")"), ${maxHookNamesInAlert}) by org
| extend hooks = strcat(strcat_array(names, ", "), iff(found > array_length(names), strcat(" (+", tostring(found - array_length(names)), " more)"), ""))
| project org, found, hooks`,
    dimensions: ["org", "hooks"],
  };
}

/**
 * 2. An organization has hooks (the heal job listed them, first more than `quietHours` ago) but
 * nothing was stored from it for `quietHours`. Looks back twice the quiet period.
 */
export function quietOrgQuery(quietHours: number): AlertQuery {
  return {
    query: `let quiet = ${quietHours}h;
let withHooks = ${named(spans.healOrg)}
| where TimeGenerated > ago(2 * quiet)
| extend org = ${str(attrs.org)}, hooks = ${num(attrs.hooks)}
| summarize firstSeen = min(TimeGenerated), arg_max(TimeGenerated, hooks) by org
| where hooks > 0 and firstSeen < ago(quiet);
let storedFrom = ${deliverySpans()}
| where TimeGenerated > ago(quiet)
| where ${str(attrs.outcome)} == ${q(deliveryOutcomes.stored)}
| summarize stored = sum(weight) by org = ${str(attrs.org)};
withHooks
| join kind=leftouter storedFrom on org
| extend stored = coalesce(stored, 0)
| where stored == 0
| project org, hooks = tolong(hooks), quietHours = ${quietHours}`,
    dimensions: ["org"],
  };
}

/** 3. More than `percent` % of the deliveries of the last 15 minutes were answered 5xx (at least `minDeliveries`). */
export function failedDeliveriesQuery(percent: number, minDeliveries: number): AlertQuery {
  const failed = list([deliveryOutcomes.unavailable, deliveryOutcomes.error]);
  return {
    query: `${deliverySpans()}
| where TimeGenerated > ago(15m)
| extend outcome = ${str(attrs.outcome)}
| summarize deliveries = sum(weight), failed = sumif(weight, outcome in ${failed}), unavailable = sumif(weight, outcome == ${q(deliveryOutcomes.unavailable)})
| extend failedPercent = round(100.0 * failed / deliveries, 1)
| where deliveries >= ${minDeliveries} and failedPercent > ${percent}`,
    dimensions: [],
  };
}

/** A heal job as the heal-job alert knows it: its healJobKey, and when it was created (ISO 8601). */
export interface HealJobRef {
  key: string;
  since?: string;
}

/**
 * 4. A heal job failed (its last run did not end ok) or did not run at all in `lookbackMinutes`
 * (the longest gap its schedule allows, plus its timeout and some slack). Dry runs do not count.
 * `detectMissing` false when the schedule's gap is longer than an alert can look back.
 * `jobsSince`: when the (oldest) heal job was created. A job younger than the lookback may not have
 * reached its first scheduled run, so "did not run" waits until it is older (a fresh deploy, or the
 * job just switched on); a job that never runs is reported once it is. Without it, no such grace.
 * `jobs`: with more than one, the stack's jobs by their healJobKey (app/telemetry/org.ts), which each
 * run carries, and each job's own creation time: the last run is judged per job (runs of keys no
 * longer expected are left out), and a job without a run is named once it is older than the
 * lookback. Otherwise the runs are judged together, as one job, with `jobsSince` as the grace.
 */
export function healRunQuery(
  lookbackMinutes: number,
  detectMissing = true,
  jobsSince?: string,
  jobs: readonly HealJobRef[] = [],
): AlertQuery {
  const instant = (at: string | undefined) => {
    const since = Date.parse(at ?? "");
    // Re-printed from the parsed time, so nothing but an ISO 8601 instant reaches the query text.
    return Number.isFinite(since) ? `datetime(${new Date(since).toISOString()})` : undefined;
  };
  const perJob = jobs.length > 1;
  const since = instant(jobsSince);
  let missing = "";
  if (detectMissing && perJob)
    missing = `,
    (datatable(job: string, since: datetime) [${jobs.map((j) => `${q(j.key)}, ${instant(j.since) ?? "datetime(null)"}`).join(", ")}]
     | join kind=leftanti (runs | distinct job) on job
     | where isnull(since) or now() > since + ${lookbackMinutes}m
     | project problem = strcat("no heal run of ", job, ${q(` reported in the last ${lookbackMinutes} minutes`)}))`;
  else if (detectMissing)
    missing = `,
    (print runs = toscalar(runs | count)
     | where runs == 0${since ? ` and now() > ${since} + ${lookbackMinutes}m` : ""}
     | project problem = ${q(`no heal run reported in the last ${lookbackMinutes} minutes`)})`;
  return {
    query: `let runs = ${named(spans.healRun)}
| where TimeGenerated > ago(${lookbackMinutes}m)
| extend outcome = ${str(attrs.healOutcome)}, problem = ${str(attrs.healProblem)}, job = ${str(attrs.healJob)}
| where ${str(attrs.healDryRun)} != "true";
union
    (runs${perJob ? `\n     | where job in ${list(jobs.map((j) => j.key))}` : ""}
     | summarize arg_max(TimeGenerated, outcome, problem) by job = ${perJob ? "job" : `""`}
     | where outcome != ${q(healOutcomes.ok)}
     | project problem = substring(strcat("last heal run", iff(isempty(job), "", strcat(" of ", job)), ": ", outcome, iff(isempty(problem), "", strcat(", ", problem))), 0, 250))${missing}`,
    dimensions: ["problem"],
  };
}

// ---------------------------------------------------------------------------------------------
// Dashboard queries (Azure Workbook, time range from the workbook).

export const dashboardQueries = {
  /** Hooks per status per organization, as the last heal run listed them. */
  hooksByStatus: `${named(spans.healOrg)}
| extend org = ${str(attrs.org)}
| summarize arg_max(TimeGenerated, *) by org
| project org, listedAt = TimeGenerated, ${hookStatuses.map((s) => `${s} = tolong(${num(hooksWithStatusAttr(s))})`).join(", ")}
| order by org asc`,
  /** Deliveries per event type over time. */
  deliveriesByEventType: `${deliverySpans()}
| summarize deliveries = sum(weight) by bin(TimeGenerated, 1h), eventType = ${str(attrs.eventType)}
| render timechart`,
  /** Deliveries per outcome over time (stored, duplicate, rejected, unavailable, …). */
  deliveriesByOutcome: `${deliverySpans()}
| summarize deliveries = sum(weight) by bin(TimeGenerated, 1h), outcome = ${str(attrs.outcome)}
| render timechart`,
  /** Store call latency percentiles over time. */
  storeLatency: `${tableOf[spans.store.kind]}
| where Name startswith ${q(`${spans.store.name}.`)}
| summarize (p50, p95, p99) = percentilesw(DurationMs, ${weight}, 50, 95, 99) by bin(TimeGenerated, 15m)
| render timechart`,
  /** The last heal runs and what they found. */
  lastHealRuns: `${named(spans.healRun)}
| project TimeGenerated, outcome = ${str(attrs.healOutcome)}, dryRun = ${str(attrs.healDryRun)}, hooks = tolong(${num(attrs.hooks)}), notEnabled = tolong(${num(attrs.hooksNotEnabled)}), reenabled = tolong(${num(attrs.hooksReenabled)}), replayed = tolong(${num(attrs.replayed)}), hookNames = ${str(attrs.hookNames)}, problem = ${str(attrs.healProblem)}
| top 20 by TimeGenerated desc`,
} as const;

/** Every attribute key a query reads (`Properties["…"]`), for the tests that compare with emitted spans. */
export function attributesRead(query: string): string[] {
  return [...new Set([...query.matchAll(/Properties\["([^"]+)"\]/g)].map((m) => m[1]))];
}
