/**
 * Azure Monitor alerts on the receiver's and heal job's telemetry (docs/telemetry.md says what each
 * means and what on-call does): log search alert rules over the workspace the stack's Application
 * Insights writes to, and one action group (email, optional webhook) they notify.
 *
 *   1. hooks not enabled    the heal job found hooks ADO took out of service (names in the alert)
 *   2. quiet organization   an org has hooks but nothing was stored from it for quietHours
 *   3. failed deliveries    the receiver answered 5xx to more than a share of deliveries in 15 min
 *   4. heal job             the heal job failed, or did not run when its schedule says it should
 *
 * 1, 2 and 4 read what the heal job reports, so they exist only with a heal job.
 */
import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor";
import type * as app from "@pulumi/azure-native/app";
import type * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { healJobKey } from "../../app/telemetry/org";
import { healJobGroups, type HealJobArgs } from "./args";
import { alertWindowAtLeast, cronMaxGapMinutes, isoMinutes, maxAlertLookbackMinutes } from "./schedule";
import type { ReceiverScope } from "./scope";
import {
  failedDeliveriesQuery,
  healRunQuery,
  hooksNotEnabledQuery,
  quietOrgQuery,
  type AlertQuery,
  type HealJobRef,
} from "./telemetry-kql";

/** Where alerts go, and their thresholds. */
export interface AlertsArgs {
  /** Email addresses the action group notifies (common alert schema); default none. */
  emails?: string[];
  /** HTTPS webhook the action group calls with the common alert schema; a secret (it may carry a key); default none. */
  webhookUrl?: pulumi.Input<string>;
  /** Hours without anything stored from an organization that has hooks before alert 2 fires; default 24 (1–24). */
  quietHours?: number;
  /** Percent of deliveries answered 5xx in 15 minutes above which alert 3 fires; default 5. */
  failedDeliveriesPercent?: number;
  /** Fewest deliveries in those 15 minutes for alert 3 to judge; default 10. */
  failedDeliveriesMin?: number;
  /** Create no alert rules and no action group; default false. */
  disabled?: boolean;
}

export const alertDefaults = { quietHours: 24, failedDeliveriesPercent: 5, failedDeliveriesMin: 10 } as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks the alert arguments before anything is created (names the bad field). */
export function validateAlerts(alerts: AlertsArgs | undefined): void {
  if (!alerts) return;
  for (const [i, email] of (alerts.emails ?? []).entries())
    if (!EMAIL.test(email))
      throw new Error(`ReceiverInfra: alerts.emails[${i}] is not an email address: "${email}"`);
  const q = alerts.quietHours;
  // The quiet-org rule looks back twice the quiet period, and Azure's log alerts at most two days.
  if (q !== undefined && (!Number.isInteger(q) || q < 1 || q > maxAlertLookbackMinutes / 60 / 2))
    throw new Error(
      `ReceiverInfra: alerts.quietHours must be a whole number of hours from 1 to 24, got ${q}`,
    );
  const p = alerts.failedDeliveriesPercent;
  if (p !== undefined && !(p > 0 && p < 100))
    throw new Error(`ReceiverInfra: alerts.failedDeliveriesPercent must be between 0 and 100, got ${p}`);
  const m = alerts.failedDeliveriesMin;
  if (m !== undefined && (!Number.isInteger(m) || m < 1))
    throw new Error(`ReceiverInfra: alerts.failedDeliveriesMin must be a whole number ≥ 1, got ${m}`);
}

/** How long the heal alert looks back for a run: the schedule's longest gap, the run's timeout, 15 min slack. */
export function healLookbackMinutes(job: Pick<HealJobArgs, "cronExpression" | "timeoutSeconds">): {
  minutes: number;
  detectMissing: boolean;
} {
  const wanted = cronMaxGapMinutes(job.cronExpression) + Math.ceil((job.timeoutSeconds ?? 1800) / 60) + 15;
  const window = alertWindowAtLeast(wanted);
  return window === undefined
    ? { minutes: maxAlertLookbackMinutes, detectMissing: false }
    : { minutes: window, detectMissing: true };
}

export interface AlertRuleSpec {
  /** Logical name suffix and what the rule is about. */
  key: "hooks-not-enabled" | "quiet-org" | "failed-deliveries" | "heal-job";
  displayName: string;
  description: string;
  /** 0 critical … 4 verbose. */
  severity: number;
  query: AlertQuery;
  evaluationMinutes: number;
  windowMinutes: number;
}

/**
 * The rules for these arguments (pure: what `createAlerts` turns into resources). `healJobsSince`:
 * when the oldest heal job was created (ISO 8601), the heal-job rule's grace for a new job.
 */
export function alertRuleSpecs(
  alerts: AlertsArgs,
  healJob: HealJobArgs | undefined,
  healJobsSince?: string,
): AlertRuleSpec[] {
  const quiet = alerts.quietHours ?? alertDefaults.quietHours;
  const percent = alerts.failedDeliveriesPercent ?? alertDefaults.failedDeliveriesPercent;
  const min = alerts.failedDeliveriesMin ?? alertDefaults.failedDeliveriesMin;
  const rules: AlertRuleSpec[] = [
    {
      key: "failed-deliveries",
      displayName: "HookFleet: receiver failing deliveries",
      description: `More than ${percent}% of the last 15 minutes' deliveries (at least ${min}) were answered 5xx: ADO and Event Grid retry, but the store is throttling or down, or the receiver is failing. See docs/telemetry.md#failed-deliveries.`,
      severity: 1,
      query: failedDeliveriesQuery(percent, min),
      evaluationMinutes: 5,
      windowMinutes: 15,
    },
  ];
  if (!healJob) return rules;
  const heal = healLookbackMinutes(healJob);
  rules.push(
    {
      key: "hooks-not-enabled",
      displayName: "HookFleet: hooks found not enabled",
      description:
        "The heal job found service hooks that Azure DevOps disabled or put on probation (names and what heal did in the alert). Events raised while a hook was disabled are lost to ADO. See docs/telemetry.md#hooks-not-enabled.",
      severity: 2,
      query: hooksNotEnabledQuery(),
      evaluationMinutes: 15,
      // The heal job reports hooks only when it runs: the window spans the schedule's longest gap (as
      // the heal-job rule's), so the alert stays until a later run finds the hooks enabled instead of
      // resolving while they are still disabled (autoMitigate resolves a window without rows).
      windowMinutes: heal.minutes,
    },
    {
      key: "quiet-org",
      displayName: "HookFleet: nothing stored from an organization",
      description: `An organization has HookFleet hooks but nothing was stored from it for ${quiet} hours: its hooks may be deleted, failing or pointed elsewhere, or a credential rotation went wrong. See docs/telemetry.md#quiet-organization.`,
      severity: 2,
      query: quietOrgQuery(quiet),
      evaluationMinutes: 60,
      // Twice the quiet period, rounded up to a window Azure offers (validateAlerts keeps it ≤ 2 days);
      // the query bounds itself with ago(2 * quiet), so a longer window changes nothing it finds.
      windowMinutes: alertWindowAtLeast(2 * quiet * 60) ?? maxAlertLookbackMinutes,
    },
    {
      key: "heal-job",
      displayName: "HookFleet: heal job failed or did not run",
      description: heal.detectMissing
        ? `The heal job's last run failed, or no run was reported in ${heal.minutes} minutes (its schedule's longest gap plus its timeout) by a job created longer ago than that. Disabled hooks stay disabled until it runs. See docs/telemetry.md#heal-job.`
        : "The heal job's last run failed. (Its schedule leaves gaps longer than a log alert can look back, so a job that stopped running is not detected.) See docs/telemetry.md#heal-job.",
      severity: 2,
      query: healRunQuery(heal.minutes, heal.detectMissing, healJobsSince),
      evaluationMinutes: 15,
      windowMinutes: heal.minutes,
    },
  );
  return rules;
}

export interface AlertsResources {
  actionGroup?: monitor.ActionGroup;
  rules: monitor.ScheduledQueryRule[];
}

export function createAlerts(
  scope: ReceiverScope,
  args: {
    alerts: AlertsArgs;
    healJob?: HealJobArgs;
    /** The heal job(s) `healJob` created: their creation time is the heal-job rule's grace. */
    healJobs?: app.Job[];
    workspace: operationalinsights.Workspace;
  },
): AlertsResources {
  const { alerts } = args;
  if (alerts.disabled) return { rules: [] };
  const child = { parent: scope.component };
  const emails = alerts.emails ?? [];

  // One action group for all rules; none when nobody is to be told (the rules still show in Azure Monitor).
  const actionGroup =
    emails.length || alerts.webhookUrl !== undefined
      ? new monitor.ActionGroup(
          `${scope.name}-alerts`,
          {
            resourceGroupName: scope.placed.resourceGroupName,
            tags: scope.placed.tags,
            // Action groups are global resources (ARM template reference Microsoft.Insights/actionGroups: location "Global").
            location: "Global",
            // At most 12 characters: it prefixes SMS and is the sender name of notifications.
            groupShortName: "hookfleet",
            enabled: true,
            emailReceivers: emails.map((emailAddress, i) => ({
              name: `email-${i + 1}`,
              emailAddress,
              useCommonAlertSchema: true,
            })),
            // Secret: a webhook URL often carries its key; an empty value sends nowhere.
            webhookReceivers:
              alerts.webhookUrl === undefined
                ? []
                : pulumi
                    .secret(pulumi.output(alerts.webhookUrl))
                    .apply((url) =>
                      url ? [{ name: "webhook", serviceUri: url, useCommonAlertSchema: true }] : [],
                    ),
          },
          child,
        )
      : undefined;

  // Each heal job by the key its runs carry (one job per PAT) and when it was created (ARM's
  // systemData.createdAt, kept in state: the same on every `up` until the job is replaced; Azure
  // documents it as optional: without it, no grace), so the rule judges them one by one.
  // createHealJobs makes the jobs in healJobGroups' order.
  const healJobRefs = pulumi.all(
    (args.healJob ? healJobGroups(args.healJob) : []).map((g, i) =>
      pulumi
        .all([pulumi.all(g.urls), args.healJobs?.[i]?.systemData])
        .apply(([urls, data]): HealJobRef => ({ key: healJobKey(urls), since: data?.createdAt })),
    ),
  );
  // The oldest of them: the grace when the jobs are judged together (one job).
  const healJobsSince = healJobRefs.apply((refs) => {
    const times = refs.map((r) => Date.parse(r.since ?? "")).filter(Number.isFinite);
    return times.length ? new Date(Math.min(...times)).toISOString() : undefined;
  });
  const heal = args.healJob && healLookbackMinutes(args.healJob);
  const rules = alertRuleSpecs(alerts, args.healJob).map(
    (spec) =>
      new monitor.ScheduledQueryRule(
        `${scope.name}-alert-${spec.key}`,
        {
          resourceGroupName: scope.placed.resourceGroupName,
          location: scope.placed.location,
          tags: scope.placed.tags,
          kind: monitor.Kind.LogAlert,
          displayName: spec.displayName,
          description: spec.description,
          severity: spec.severity,
          enabled: true,
          scopes: [args.workspace.id],
          evaluationFrequency: isoMinutes(spec.evaluationMinutes),
          windowSize: isoMinutes(spec.windowMinutes),
          criteria: {
            allOf: [
              {
                // The heal-job rule's query waits for the jobs' creation time (its grace) and names them.
                query:
                  spec.key === "heal-job" && heal
                    ? pulumi
                        .all([healJobsSince, healJobRefs])
                        .apply(
                          ([since, jobs]) =>
                            healRunQuery(heal.minutes, heal.detectMissing, since, jobs).query,
                        )
                    : spec.query.query,
                // Each query returns only the rows that are a problem: alert on any row.
                timeAggregation: monitor.TimeAggregation.Count,
                // The scheduled query rule's operator enum ("GreaterThan", as in Az.Monitor's
                // New-AzScheduledQueryRuleConditionObject example). Not monitor.ConditionOperator:
                // azure-native v3 shares that name with another API's filter enum, whose value is "gt".
                operator: "GreaterThan",
                threshold: 0,
                dimensions: spec.query.dimensions.map((name) => ({
                  name,
                  operator: monitor.DimensionOperator.Include,
                  values: ["*"],
                })),
                failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
              },
            ],
          },
          // Resolved when the query no longer returns the row (the hook is back, deliveries flow).
          autoMitigate: true,
          actions: actionGroup
            ? { actionGroups: [actionGroup.id], customProperties: { runbook: "docs/telemetry.md" } }
            : undefined,
        },
        child,
      ),
  );
  return { actionGroup, rules };
}
