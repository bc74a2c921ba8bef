/**
 * Reading what the Pulumi CLI prints with `--json`, and turning it into what an operator wants:
 * which resources drifted and how (a hook ADO disabled, deleted or changed).
 *
 * Two shapes arrive:
 * - `pulumi preview --json`: one document, the CLI's PreviewDigest (pkg/display/json.go):
 *   `{config, steps: [{op, urn, provider, oldState, newState, diffReasons, replaceReasons,
 *   detailedDiff: {path: {kind, inputDiff}}}], diagnostics: [{urn, message, severity}],
 *   changeSummary: {op: count}, duration}`; oldState/newState are `{urn, type, id, inputs,
 *   outputs, parent, …}` with secret values replaced by the string "[secret]".
 * - `pulumi up --json` and streaming previews (PULUMI_ENABLE_STREAMING_JSON_PREVIEW): one engine
 *   event per line (sdk/go/common/apitype/events.go): `{sequence, timestamp,
 *   resourcePreEvent: {metadata: {op, urn, type, old, new, keys, diffs, detailedDiff:
 *   {path: {diffKind, inputDiff}}}}, diagnosticEvent, summaryEvent: {resourceChanges}}`.
 * Both become one `PulumiRun`.
 *
 * Refresh steps (`preview --refresh`), read from the pulumi/pulumi source (commit 1b5949891b, 14
 * commits after v3.259.0): the engine first runs a refresh step for every resource of the stored
 * state (pkg/resource/deploy/deployment_executor.go, `refresh`), then plans the update against the
 * refreshed state. In the digest (ShowPreviewDigest, pkg/backend/display/json.go) a refresh step is
 * what the engine announced before running it: op "refresh", oldState the stored state, newState
 * the same state again (NewRefreshStep starts `new` as `old`, pkg/resource/deploy/step.go), no
 * diff. The digest swaps in a refresh's result only when the result's op is "update" or "delete"
 * (since v3.120.0, #16146; "delete" since v3.132.0, #16851), and the engine renames a refresh's op
 * that way only in a standalone `pulumi refresh` (`isRefresh`, pkg/engine/update.go
 * OnResourceStepPost; pkg/engine/deployment.go: not "`up --refresh`"). So in `preview --refresh`
 * refresh steps stay "refresh" in every v3 CLI, and what a refresh found shows in the steps after
 * it: an update step whose oldState is the refreshed state, or a `create` when it found the
 * resource gone. In engine events the refresh's resOutputsEvent keeps op "refresh" too, with `new`
 * null when the resource is gone. A `pulumi refresh --json` digest is another document, not read
 * here. How each fixture of test/scripts/fixtures was made: its README.md.
 *
 * Text that came from outside (diagnostics, which carry provider errors and ADO's words, and the
 * stack's warnings) is scrubbed (app/scrub.ts) before anything here returns or prints it.
 */
import { scrubText } from "../../app/scrub";

/** Step operations of the engine (deploy.StepOp). */
export type StepOp =
  | "same"
  | "create"
  | "update"
  | "delete"
  | "replace"
  | "create-replacement"
  | "delete-replaced"
  | "read"
  | "read-replacement"
  | "refresh"
  | "discard"
  | "discard-replaced"
  | "remove-pending-replace"
  | "import"
  | "import-replacement";

export interface ResourceState {
  urn?: string;
  type?: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  parent?: string;
}

export interface Step {
  op: StepOp | string;
  urn: string;
  /** Resource type token (from the URN when the JSON does not say). */
  type: string;
  old?: ResourceState;
  new?: ResourceState;
  /** Top-level keys that differ (diffReasons / diffs). */
  diffKeys: string[];
  /** Keys that force a replacement (replaceReasons / keys). */
  replaceKeys: string[];
  /** Property path → kind (add, delete, update, *-replace). */
  detailedDiff: Record<string, string>;
}

export interface Diagnostic {
  urn?: string;
  message: string;
  severity: string;
}

export interface PulumiRun {
  steps: Step[];
  diagnostics: Diagnostic[];
  /** op → count, as the engine summarised it (absent when the run stopped before the end). */
  changeSummary?: Record<string, number>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

/** `urn:pulumi:stack::project::parentType$type::name` → `type`. */
export function typeFromUrn(urn: string): string {
  const parts = urn.split("::");
  const qualified = parts.length >= 4 ? parts[2] : "";
  return qualified.split("$").pop() ?? "";
}

/** The resource name, the last URN segment. */
export function nameFromUrn(urn: string): string {
  const parts = urn.split("::");
  return parts.length >= 4 ? parts.slice(3).join("::") : urn;
}

/** True when the URN's type chain (parents included) contains the given type token. */
export function urnHasType(urn: string, type: string): boolean {
  const parts = urn.split("::");
  return parts.length >= 4 && parts[2].split("$").includes(type);
}

function toState(v: unknown): ResourceState | undefined {
  if (!isObject(v)) return undefined;
  return {
    urn: typeof v.urn === "string" ? v.urn : undefined,
    type: typeof v.type === "string" ? v.type : undefined,
    id: typeof v.id === "string" ? v.id : undefined,
    inputs: isObject(v.inputs) ? v.inputs : undefined,
    outputs: isObject(v.outputs) ? v.outputs : undefined,
    parent: typeof v.parent === "string" ? v.parent : undefined,
  };
}

function toDetailedDiff(v: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (!isObject(v)) return result;
  for (const [path, d] of Object.entries(v)) {
    // Digest uses `kind`, engine events `diffKind`.
    if (isObject(d)) result[path] = String(d.kind ?? d.diffKind ?? "update");
  }
  return result;
}

function digestStep(s: Json): Step | undefined {
  if (typeof s.op !== "string" || typeof s.urn !== "string") return undefined;
  const old = toState(s.oldState);
  const neu = toState(s.newState);
  return {
    op: s.op,
    urn: s.urn,
    type: neu?.type ?? old?.type ?? typeFromUrn(s.urn),
    old,
    new: neu,
    diffKeys: asStrings(s.diffReasons),
    replaceKeys: asStrings(s.replaceReasons),
    detailedDiff: toDetailedDiff(s.detailedDiff),
  };
}

function eventStep(metadata: Json): Step | undefined {
  if (typeof metadata.op !== "string" || typeof metadata.urn !== "string") return undefined;
  return {
    op: metadata.op,
    urn: metadata.urn,
    type: typeof metadata.type === "string" ? metadata.type : typeFromUrn(metadata.urn),
    old: toState(metadata.old),
    new: toState(metadata.new),
    diffKeys: asStrings(metadata.diffs),
    replaceKeys: asStrings(metadata.keys),
    detailedDiff: toDetailedDiff(metadata.detailedDiff),
  };
}

function toDiagnostic(d: unknown): Diagnostic | undefined {
  if (!isObject(d) || typeof d.message !== "string") return undefined;
  return {
    urn: typeof d.urn === "string" && d.urn ? d.urn : undefined,
    message: scrubText(d.message.trim()),
    severity: typeof d.severity === "string" ? d.severity : "info",
  };
}

function countsOf(v: unknown): Record<string, number> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) if (typeof n === "number") out[k] = n;
  return out;
}

/**
 * Parses the stdout of a `pulumi … --json` run, either shape. Lines that are not JSON (a plugin
 * printing to stdout) are skipped; input with no JSON at all is an error saying what came instead.
 */
export function parsePulumiJson(text: string): PulumiRun {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const doc: unknown = JSON.parse(trimmed);
      if (isObject(doc) && !("sequence" in doc)) return fromDigest(doc);
    } catch {
      // Not one document: try one event per line below.
    }
  }
  const events: Json[] = [];
  for (const line of trimmed.split(/\r?\n/)) {
    const l = line.trim();
    if (!l.startsWith("{")) continue;
    try {
      const v: unknown = JSON.parse(l);
      if (isObject(v)) events.push(v);
    } catch {
      // A partial line (an interrupted run): the events before it still count.
    }
  }
  if (events.length === 0) {
    const head = trimmed.slice(0, 200) || "(nothing)";
    throw new Error(`expected JSON from pulumi --json, got: ${head}`);
  }
  return fromEvents(events);
}

function fromDigest(doc: Json): PulumiRun {
  const steps = (Array.isArray(doc.steps) ? doc.steps : [])
    .filter(isObject)
    .map(digestStep)
    .filter((s): s is Step => s !== undefined);
  const diagnostics = (Array.isArray(doc.diagnostics) ? doc.diagnostics : [])
    .map(toDiagnostic)
    .filter((d): d is Diagnostic => d !== undefined);
  return { steps, diagnostics, changeSummary: countsOf(doc.changeSummary) };
}

function fromEvents(events: Json[]): PulumiRun {
  // One step per URN and op: the resOutputsEvent (after the step) refines the resourcePreEvent.
  const steps = new Map<string, Step>();
  const diagnostics: Diagnostic[] = [];
  let changeSummary: Record<string, number> | undefined;
  for (const e of events) {
    for (const key of ["resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"]) {
      const payload = e[key];
      if (isObject(payload) && isObject(payload.metadata)) {
        const step = eventStep(payload.metadata);
        if (step) steps.set(`${step.op} ${step.urn}`, step);
      }
    }
    if (isObject(e.diagnosticEvent) && e.diagnosticEvent.ephemeral !== true) {
      const d = toDiagnostic(e.diagnosticEvent);
      if (d && d.severity !== "debug") diagnostics.push(d);
    }
    if (isObject(e.summaryEvent)) changeSummary = countsOf(e.summaryEvent.resourceChanges);
  }
  return { steps: [...steps.values()], diagnostics, changeSummary };
}

// ---------------------------------------------------------------------------------------------
// Drift summary

/** How a resource differs from what the program wants. */
export type DriftKind =
  /** ADO (or a person) disabled the hook or put it on probation: it will be re-enabled. */
  | "disabled"
  /** The resource was deleted outside Pulumi: it will be created again. */
  | "deleted"
  /** A setting differs (URL, filters, headers, password…): it will be updated. */
  | "changed"
  /** A change that needs a new resource (event type, project). */
  | "replaced"
  /** Wanted but never created (e.g. a project created in ADO since the last run). */
  | "missing"
  /** Exists but is no longer wanted (e.g. its project was deleted): it will be removed. */
  | "unwanted";

export interface DriftRow {
  kind: DriftKind;
  urn: string;
  type: string;
  name: string;
  /** The engine's planned operation. */
  op: string;
  /** What differs, e.g. `status: disabledBySystem → enabled` or `changed: url, filters`. Never a value. */
  detail: string;
  /** Live status when the resource reports one (hooks do). */
  status?: string;
  /** When the live status last changed, when the resource reports it. */
  since?: string;
}

export interface DriftSummary {
  rows: DriftRow[];
  /** Counts per kind. */
  counts: Record<DriftKind, number>;
  /** Error diagnostics of the run (a failing provider, a program error). */
  errors: string[];
  /** True when the program wants no change. */
  clean: boolean;
}

/** Ops that change nothing, and ops that are the second half of a replacement already reported. */
const QUIET_OPS = new Set([
  "same",
  "read",
  "refresh",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
]);
const REPLACE_HALVES = new Set([
  "create-replacement",
  "delete-replaced",
  "read-replacement",
  "import-replacement",
]);

/** Status-like output keys our hook resources may use for the live ADO status. */
const STATUS_KEYS = ["status", "liveStatus"];
const SINCE_KEYS = ["statusChangedAt", "lastProbationRetryDate", "modifiedDate"];

function stringField(state: ResourceState | undefined, keys: readonly string[]): string | undefined {
  for (const source of [state?.outputs, state?.inputs]) {
    for (const k of keys) {
      const v = source?.[k];
      if (typeof v === "string" && v !== "" && v !== "[secret]") return v;
    }
  }
  return undefined;
}

function changedKeys(step: Step): string[] {
  const keys = new Set(step.diffKeys);
  for (const path of Object.keys(step.detailedDiff)) keys.add(path.split(/[.[]/)[0]);
  return [...keys].filter((k) => k !== "__provider" && k !== "__inputs").sort();
}

/**
 * URNs the run refreshed: every resource of the stored state (see the top of this file). A
 * `create` of one of them means the refresh found it gone. The refresh step's own newState is the
 * state before the refresh in a digest, so it is never read for what the refresh found.
 */
function refreshedUrns(steps: Step[]): Set<string> {
  return new Set(steps.filter((s) => s.op === "refresh").map((s) => s.urn));
}

function isInfrastructureStep(step: Step): boolean {
  return step.type === "pulumi:pulumi:Stack" || step.type.startsWith("pulumi:providers:");
}

/**
 * The rows an operator reads: one per resource the next `up` would touch, classified. A hook
 * whose refreshed status is not `enabled` is "disabled" whatever else differs, since that is what
 * stopped the events.
 */
export function summariseDrift(run: PulumiRun): DriftSummary {
  const refreshed = refreshedUrns(run.steps);
  const rows: DriftRow[] = [];
  const seen = new Set<string>();

  for (const step of run.steps) {
    if (QUIET_OPS.has(step.op) || isInfrastructureStep(step)) continue;
    if (REPLACE_HALVES.has(step.op) && seen.has(step.urn)) continue;
    seen.add(step.urn);

    // An update step's oldState is the refreshed state: the live status.
    const status = stringField(step.old, STATUS_KEYS);
    const retries = step.old?.outputs?.probationRetries;
    const since = stringField(step.old, SINCE_KEYS);
    const keys = changedKeys(step);
    let kind: DriftKind;
    let detail: string;

    if (step.op === "create" || step.op === "import") {
      const gone = refreshed.has(step.urn);
      kind = gone ? "deleted" : "missing";
      detail = gone ? "gone from the live system; will be created again" : "not created yet; will be created";
    } else if (step.op === "delete") {
      kind = "unwanted";
      detail = "no longer wanted; will be deleted";
    } else if (REPLACE_HALVES.has(step.op) || step.op === "replace") {
      kind = "replaced";
      const why = step.replaceKeys.length ? step.replaceKeys : keys;
      detail = `replace (${why.join(", ") || "forced"})`;
    } else if (status !== undefined && status !== "enabled") {
      kind = "disabled";
      const others = keys.filter((k) => k !== "status");
      const failedRetries =
        typeof retries === "number" && retries > 0 ? ` after ${retries} failed retries` : "";
      detail = `status: ${status}${failedRetries} → enabled${others.length ? `; also ${others.join(", ")}` : ""}`;
    } else {
      kind = "changed";
      detail = `changed: ${keys.join(", ") || "(provider reported a difference)"}`;
    }
    rows.push({
      kind,
      urn: step.urn,
      type: step.type,
      name: nameFromUrn(step.urn),
      op: step.op,
      detail,
      status,
      since,
    });
  }

  const counts: Record<DriftKind, number> = {
    disabled: 0,
    deleted: 0,
    changed: 0,
    replaced: 0,
    missing: 0,
    unwanted: 0,
  };
  for (const r of rows) counts[r.kind]++;
  const errors = run.diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
  return { rows, counts, errors, clean: rows.length === 0 };
}

/** A fixed-width text table of the rows (what drift.mjs prints). */
export function formatDriftTable(summary: DriftSummary, now: Date = new Date()): string {
  if (summary.rows.length === 0) return "No drift: every resource matches the program.";
  // "Down for" only when a provider reported when a hook's status changed.
  const withDowntime = summary.rows.some((r) => r.kind === "disabled" && r.since);
  const header = ["KIND", "RESOURCE", "TYPE", "DETAIL", ...(withDowntime ? ["DOWN FOR"] : [])];
  const body = summary.rows.map((r) => [
    r.kind,
    r.name,
    shortType(r.type),
    r.detail,
    ...(withDowntime ? [r.kind === "disabled" && r.since ? downFor(r.since, now) : ""] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const totals = (Object.entries(summary.counts) as [DriftKind, number][])
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  return [line(header), ...body.map(line), "", `Drift: ${summary.rows.length} resource(s) (${totals}).`].join(
    "\n",
  );
}

/** `pulumi-nodejs:dynamic/hookfleet:ServiceHook` → `ServiceHook`; other types stay whole. */
export function shortType(type: string): string {
  if (type === "pulumi-nodejs:dynamic:Resource") return "dynamic";
  return type.startsWith("pulumi-nodejs:dynamic") ? (type.split(":").pop() ?? type) : type;
}

/** `3h 20m` since an ISO time; empty when the time is unreadable or in the future. */
export function downFor(sinceIso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(sinceIso);
  if (!Number.isFinite(ms) || ms < 0) return "";
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  return `${hours}h ${minutes % 60}m`;
}

// ---------------------------------------------------------------------------------------------
// Stack outputs (`pulumi stack output --json`, secrets shown as "[secret]")

interface HookNotEnabledOutput {
  name?: string;
  projectName?: string;
  eventType?: string;
  status?: string;
}

/** `12 enabled, 1 disabledBySystem` from `{enabled: 12, disabledBySystem: 1, onProbation: 0, …}`. */
function statusLine(byStatus: Record<string, unknown>): string {
  const parts = Object.entries(byStatus)
    .filter(([, n]) => typeof n === "number" && n > 0)
    .map(([status, n]) => `${n} ${status}`);
  return parts.join(", ") || "none";
}

/**
 * What an operator wants to read after an `up`: hooks per status (per organization, and per
 * destination when there are several), the ones not enabled (by name, project, event type), failed
 * test deliveries per destination, the warnings someone must act on (a product to reconnect with its
 * new PAT among them), when each credential next needs a run. Never a secret value.
 */
export function summariseStackOutputs(outputs: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const counts = isObject(outputs.hookCounts) ? outputs.hookCounts : {};
  for (const [org, byStatus] of Object.entries(counts)) {
    if (isObject(byStatus)) lines.push(`hooks in ${org}: ${statusLine(byStatus)}`);
  }
  // One destination (the receiver alone) says nothing the organization lines do not.
  const perDestination = isObject(outputs.destinationHookCounts) ? outputs.destinationHookCounts : {};
  if (Object.keys(perDestination).length > 1) {
    for (const [destination, byStatus] of Object.entries(perDestination)) {
      if (isObject(byStatus)) lines.push(`hooks for destination ${destination}: ${statusLine(byStatus)}`);
    }
  }
  const notEnabled = isObject(outputs.hooksNotEnabled) ? outputs.hooksNotEnabled : {};
  for (const [org, list] of Object.entries(notEnabled)) {
    for (const h of Array.isArray(list) ? (list as HookNotEnabledOutput[]) : []) {
      lines.push(`not enabled in ${org}: ${h.eventType} in ${h.projectName} (${h.status}) — ${h.name}`);
    }
  }
  // Per destination (per organization in stacks written before destinations).
  const failed = isObject(outputs.failedTestDeliveries) ? outputs.failedTestDeliveries : {};
  for (const [destination, list] of Object.entries(failed)) {
    const names = asStrings(list);
    if (names.length)
      lines.push(
        `test delivery failed for ${destination} (${names.length} hook(s), no 2xx): ${names.join(", ")}`,
      );
  }
  // What someone must act on (index.ts `warnings`: failed test deliveries, a product to reconnect
  // with its replacement PAT, deferred PAT rotations). Scrubbed: ADO's words are in them, and a
  // stack last updated by a release that did not scrub them still holds them as they came.
  for (const w of asStrings(outputs.warnings)) lines.push(`warning: ${scrubText(w)}`);
  const next = isObject(outputs.credentialsNextRotation) ? outputs.credentialsNextRotation : {};
  const rotations = Object.entries(next)
    .filter(([, t]) => typeof t === "string")
    .map(([credential, t]) => `${credential} ${t}`);
  if (rotations.length) lines.push(`next credential runs: ${rotations.join(", ")}`);
  return lines;
}
