/**
 * The heal job's telemetry: a span for the run (store calls of the replay are its children), one per
 * organization and one per hook found not enabled, and the heal counters, all from the run's report.
 * `runHealWithTelemetry` is what app/heal/main.ts (the scheduled job, `npm run heal`) runs: the heal
 * command wrapped so that every run that gets past `--help` leaves a `hookfleet.heal.run` span, with
 * its outcome, even when the configuration is bad or the store cannot be opened.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from "@opentelemetry/api";
import { runHealCli, type HealCliDeps, type HealCliIo } from "../heal/cli";
import type { HealReport, HookHealResult } from "../heal/heal";
import type { MessageStore } from "../store";
import {
  attrs,
  healOutcomes,
  hookStatuses,
  hooksWithStatusAttr,
  maxAttributeLength,
  metrics as metricNames,
  serviceNames,
  spans,
  type HealOutcome,
  type HookStatusName,
} from "./names";
import { EXIT } from "../exit-codes";
import { adoOrgName, healJobKey } from "./org";
import { scrubText } from "../scrub";
import { startTelemetry, TelemetryConfigError, telemetryOff, type Telemetry } from "./sdk";
import { storeDurationHistogram, TracedStore } from "./store";

type Env = Record<string, string | undefined>;

/** What the alert shows for a hook: `project/eventType#first-8-of-id`. */
export function hookLabel(h: Pick<HookHealResult, "project" | "projectId" | "eventType" | "id">): string {
  return `${h.project ?? h.projectId ?? "?"}/${h.eventType}#${h.id.slice(0, 8)}`;
}

/** Labels joined with ", ", cut (with the count of the rest) to fit one attribute. */
export function labelList(labels: readonly string[], max = maxAttributeLength): string {
  let out = "";
  for (let i = 0; i < labels.length; i++) {
    const rest = labels.length - i;
    const next = out ? `${out}, ${labels[i]}` : labels[i];
    const tail = rest > 1 ? ` (+${rest - 1} more)` : "";
    if (next.length + tail.length > max) return `${out} (+${rest} more)`;
    out = next;
  }
  return out;
}

/** The result of one heal command, as the wrapper saw it. */
export interface HealRunResult {
  code: number;
  report?: HealReport;
  error?: unknown;
  /** What the command said when it stopped without a report (scrubbed before export). */
  message?: string;
}

/** Exit code and report → outcome (names.ts healOutcomes). */
export function healOutcomeOf(result: HealRunResult): HealOutcome {
  if (result.error !== undefined) return healOutcomes.error;
  if (result.code === EXIT.usage) return healOutcomes.configError;
  if (result.code === EXIT.ok) return healOutcomes.ok;
  return result.report ? healOutcomes.notRepaired : healOutcomes.storeUnavailable;
}

const notEnabled = (h: HookHealResult) => h.statusFound !== "enabled";

export class HealRunTelemetry {
  private readonly span?: Span;
  private readonly started = Date.now();

  /** `job`: healJobKey of the organizations this job heals ("" when not known). */
  constructor(
    private readonly telemetry: Telemetry,
    private readonly job = "",
  ) {
    this.span = telemetry.tracer?.startSpan(spans.healRun.name, { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
  }

  /** The store as the run uses it: its calls are children of the run span. */
  instrumentStore(store: MessageStore): MessageStore {
    if (!this.telemetry.enabled) return store;
    return new TracedStore(store, {
      tracer: this.telemetry.tracer,
      histogram: storeDurationHistogram(this.telemetry),
      parent: this.span ? trace.setSpan(ROOT_CONTEXT, this.span) : ROOT_CONTEXT,
    });
  }

  /** `--help` ran: no run to record. */
  discard(): void {
    // An unended span is never exported.
  }

  /** Records the run: spans (run, orgs, hooks) and counters. */
  end(result: HealRunResult): void {
    const outcome = healOutcomeOf(result);
    const report = result.report;
    const dryRun = report?.dryRun ?? false;
    const problem =
      result.error !== undefined
        ? result.error instanceof Error
          ? result.error.message
          : String(result.error)
        : (report?.orgs.find((o) => o.error)?.error ??
          report?.hooks.flatMap((h) => h.problems.map((p) => `${hookLabel(h)}: ${p}`))[0] ??
          (result.code !== 0 ? result.message : undefined));
    this.recordMetrics(outcome, dryRun, report);
    if (!this.span) return;

    const parent = trace.setSpan(ROOT_CONTEXT, this.span);
    const down = report?.hooks.filter(notEnabled) ?? [];
    const runAttributes: Attributes = {
      [attrs.healOutcome]: outcome,
      [attrs.healExitCode]: result.code,
      [attrs.healDryRun]: dryRun,
      [attrs.healJob]: this.job,
    };
    if (report) {
      Object.assign(runAttributes, {
        [attrs.orgs]: report.orgs.length,
        [attrs.orgsFailed]: report.orgs.filter((o) => o.error).length,
        [attrs.hooks]: report.totals.hooks,
        [attrs.hooksNotEnabled]: report.totals.notEnabled,
        [attrs.hooksReenabled]: dryRun ? 0 : report.totals.enabled,
        [attrs.replayed]: dryRun ? 0 : report.totals.replayed,
        [attrs.hookNames]: labelList(down.map(hookLabel)),
      });
    }
    if (problem) runAttributes[attrs.healProblem] = scrubText(problem, maxAttributeLength);

    for (const org of report?.orgs ?? []) {
      const name = adoOrgName(org.orgUrl);
      const hooksHere = report!.hooks.filter((h) => h.orgUrl === org.orgUrl);
      const downHere = hooksHere.filter(notEnabled);
      const a: Attributes = {
        [attrs.org]: name,
        [attrs.hooks]: org.hooks,
        [attrs.hooksNotEnabled]: org.notEnabled,
        [attrs.hookNames]: labelList(downHere.map(hookLabel)),
      };
      for (const [status, n] of Object.entries(statusCounts(org.hooks, org.notEnabled, downHere)))
        a[hooksWithStatusAttr(status as HookStatusName)] = n;
      if (org.error) a[attrs.healProblem] = scrubText(org.error, maxAttributeLength);
      const span = this.telemetry.tracer!.startSpan(
        spans.healOrg.name,
        { kind: SpanKind.INTERNAL, attributes: a, startTime: this.started },
        parent,
      );
      if (org.error) span.setStatus({ code: SpanStatusCode.ERROR, message: "could not list subscriptions" });
      span.end();
    }

    for (const h of report?.hooks ?? []) {
      const a: Attributes = {
        [attrs.org]: adoOrgName(h.orgUrl),
        [attrs.hookId]: h.id,
        [attrs.hookName]: hookLabel(h),
        [attrs.project]: h.project ?? h.projectId ?? "",
        [attrs.eventType]: h.eventType,
        [attrs.hookStatusFound]: h.statusFound,
        [attrs.hookStatusAfter]: h.statusAfter,
        [attrs.healAction]: h.action,
        [attrs.replayed]: h.replayed,
        [attrs.healDryRun]: dryRun,
      };
      if (h.systemId) a[attrs.system] = h.systemId;
      if (h.downtimeMs !== undefined) a[attrs.hookDownMs] = h.downtimeMs;
      if (h.problems.length) a[attrs.healProblem] = scrubText(h.problems.join("; "), maxAttributeLength);
      const span = this.telemetry.tracer!.startSpan(
        spans.healHook.name,
        { kind: SpanKind.INTERNAL, attributes: a, startTime: this.started },
        parent,
      );
      if (h.problems.length) span.setStatus({ code: SpanStatusCode.ERROR, message: "not repaired" });
      span.end();
    }

    this.span.setAttributes(runAttributes);
    if (outcome !== healOutcomes.ok) this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    this.span.end();
  }

  private recordMetrics(outcome: HealOutcome, dryRun: boolean, report: HealReport | undefined): void {
    const meter = this.telemetry.meter;
    if (!meter) return;
    meter
      .createCounter(metricNames.healRuns.name, {
        unit: metricNames.healRuns.unit,
        description: "Heal runs, by outcome.",
      })
      .add(1, { [attrs.healOutcome]: outcome, [attrs.healDryRun]: dryRun });
    if (!report) return;
    const notEnabledCounter = meter.createCounter(metricNames.hooksNotEnabled.name, {
      unit: metricNames.hooksNotEnabled.unit,
      description: "Hooks a heal run found not enabled, by organization and status.",
    });
    const reenabledCounter = meter.createCounter(metricNames.hooksReenabled.name, {
      unit: metricNames.hooksReenabled.unit,
      description: "Hooks a heal run put back to enabled, by organization.",
    });
    const replayedCounter = meter.createCounter(metricNames.replayed.name, {
      unit: metricNames.replayed.unit,
      description: "Failed deliveries a heal run stored, by organization and system.",
    });
    const hooksGauge = meter.createGauge(metricNames.hooks.name, {
      unit: metricNames.hooks.unit,
      description: "HookFleet hooks per organization and status, as the last heal run listed them.",
    });
    for (const h of report.hooks) {
      const org = adoOrgName(h.orgUrl);
      if (notEnabled(h))
        notEnabledCounter.add(1, { [attrs.org]: org, [attrs.hookStatusFound]: h.statusFound });
      if (dryRun) continue;
      if (h.action === "enabled") reenabledCounter.add(1, { [attrs.org]: org });
      if (h.replayed)
        replayedCounter.add(h.replayed, { [attrs.org]: org, [attrs.system]: h.systemId ?? "unknown" });
    }
    for (const org of report.orgs) {
      if (org.error) continue;
      const down = report.hooks.filter((h) => h.orgUrl === org.orgUrl && notEnabled(h));
      for (const [status, n] of Object.entries(statusCounts(org.hooks, org.notEnabled, down)))
        hooksGauge.record(n, { [attrs.org]: adoOrgName(org.orgUrl), [attrs.hookStatus]: status });
    }
  }
}

/** Hooks per status in one org: the not-enabled ones by their status, the rest enabled. */
export function statusCounts(
  hooks: number,
  notEnabledCount: number,
  down: readonly Pick<HookHealResult, "statusFound">[],
): Record<HookStatusName, number> {
  const counts = Object.fromEntries(hookStatuses.map((s) => [s, 0])) as Record<HookStatusName, number>;
  counts.enabled = Math.max(0, hooks - notEnabledCount);
  for (const h of down) if (h.statusFound in counts) counts[h.statusFound as HookStatusName]++;
  return counts;
}

/**
 * The heal command with its telemetry: what the container job and `npm run heal` run. Telemetry
 * is exported (and the process may exit) only after the run span is recorded and flushed.
 */
export async function runHealWithTelemetry(
  argv: readonly string[],
  env: Env,
  io: HealCliIo,
  deps: HealCliDeps = {},
): Promise<{ code: number; report?: HealReport }> {
  let telemetry: Telemetry = telemetryOff;
  try {
    telemetry = await startTelemetry(env, { serviceName: serviceNames.heal });
  } catch (err) {
    if (!(err instanceof TelemetryConfigError)) throw err;
    io.stderr(`invalid telemetry configuration: ${err.message}`);
    return { code: EXIT.usage };
  }
  // The job is named by the organizations it is set to heal (its environment), not by --org.
  const run = new HealRunTelemetry(
    telemetry,
    healJobKey((env.HOOKFLEET_HEAL_ORG_URLS ?? "").split(/[\s,]+/)),
  );
  // The command's own words for a run that never got to a report (bad configuration, store down).
  const lastErrors: string[] = [];
  const watched: HealCliIo = {
    stdout: io.stdout,
    stderr: (text) => {
      lastErrors.push(text);
      if (lastErrors.length > 3) lastErrors.shift();
      io.stderr(text);
    },
  };
  try {
    const result = await runHealCli(argv, env, watched, {
      ...deps,
      instrumentStore: (store) => run.instrumentStore(deps.instrumentStore?.(store) ?? store),
    });
    const help = result.code === 0 && !result.report;
    if (help) run.discard();
    else run.end(result.report ? result : { ...result, message: lastErrors.join("\n") });
    return result;
  } catch (err) {
    run.end({ code: 1, error: err });
    throw err;
  } finally {
    await telemetry.shutdown();
  }
}
