/**
 * ReceiverInfra's on-call side (issue 16) under recording mocks: the environment's managed
 * OpenTelemetry agent wired to the stack's Application Insights, the processes' telemetry settings,
 * the action group, the four alert rules and the workbook. Every query is parsed and bound by
 * Microsoft's KQL library against the workspace tables, and must return the columns its rule
 * splits on. (That the queries read what the processes emit: test/telemetry/*.)
 */
import * as pulumi from "@pulumi/pulumi";
import { attrs, spans } from "../../app/telemetry/names";
import { alertRuleSpecs, type AlertsArgs } from "../../components/receiver";
import { healLookbackMinutes, validateAlerts } from "../../components/receiver/alerts";
import { dashboardPanels } from "../../components/receiver/dashboard";
import { alertWindowAtLeast, cronMaxGapMinutes, isoMinutes } from "../../components/receiver/schedule";
import { attributesRead } from "../../components/receiver/telemetry-kql";
import { analyzeKql } from "../support/kql";
import { isSecretValue, mockAzure, type RecordedResource } from "../support/pulumi-mocks";
import { deploy, type Deployment } from "./deploy";

const image = "ghcr.io/example/hookfleet-receiver:1.4.0";
const webhook = "https://hooks.example.com/alerts?key=never-plain-webhook-key";
const healJob = {
  cronExpression: "0 * * * *",
  organizations: [{ url: "https://dev.azure.com/contoso" }],
};

interface EnvEntry {
  name: string;
  value?: string;
  secretRef?: string;
}
const envOf = (r: RecordedResource): EnvEntry[] => r.inputs.template.containers[0].env;

let d: Deployment;
let bare: Deployment;
beforeAll(async () => {
  d = await deploy("oncall", {
    image,
    healJob,
    alerts: {
      emails: ["oncall@example.com", "platform@example.com"],
      webhookUrl: pulumi.secret(webhook),
      quietHours: 12,
    },
  });
  bare = await deploy("bare", { image });
}, 60_000);

describe("the managed OpenTelemetry agent", () => {
  it("sends traces and logs to the stack's Application Insights, and no metrics (App Insights takes none)", () => {
    const env = d.one("app:ManagedEnvironment");
    const insights = d.one("applicationinsights:Component");
    expect(env.inputs.appInsightsConfiguration).toEqual({
      connectionString: insights.state.connectionString,
    });
    const raw = env.rawInputs.appInsightsConfiguration;
    expect(isSecretValue(raw) || isSecretValue(raw.connectionString)).toBe(true);
    expect(env.inputs.openTelemetryConfiguration).toEqual({
      tracesConfiguration: { destinations: ["appInsights"] },
      logsConfiguration: { destinations: ["appInsights"] },
    });
  });

  it("keeps App Insights' local auth on (the agent sends with the connection string only) and workspace-based", () => {
    const insights = d.one("applicationinsights:Component");
    expect(insights.inputs.disableLocalAuth).toBe(false);
    expect(insights.inputs.workspaceResourceId).toBe(d.one("operationalinsights:Workspace").id);
  });

  it("lets the agent inject the endpoint and protocol, and turns metrics export off in app and job", () => {
    for (const r of [d.one("app:ContainerApp"), d.one("app:Job")]) {
      const names = envOf(r).map((e) => e.name);
      expect(names).not.toContain("OTEL_EXPORTER_OTLP_ENDPOINT");
      expect(names).not.toContain("OTEL_EXPORTER_OTLP_PROTOCOL");
      expect(envOf(r)).toContainEqual({ name: "OTEL_METRICS_EXPORTER", value: "none" });
    }
  });

  it("lets settings turn metrics back on (e.g. with an OTLP metrics destination added by hand)", async () => {
    const on = await deploy("metrics-on", { image, settings: { OTEL_METRICS_EXPORTER: "otlp" } });
    expect(envOf(on.one("app:ContainerApp"))).toContainEqual({
      name: "OTEL_METRICS_EXPORTER",
      value: "otlp",
    });
  });
});

describe("the action group", () => {
  it("mails every configured address and calls the webhook, common alert schema, the URL secret", () => {
    const group = d.one("monitor:ActionGroup");
    expect(group.inputs.location).toBe("Global");
    expect(group.inputs.enabled).toBe(true);
    expect(group.inputs.groupShortName.length).toBeLessThanOrEqual(12);
    expect(group.inputs.emailReceivers).toEqual([
      { name: "email-1", emailAddress: "oncall@example.com", useCommonAlertSchema: true },
      { name: "email-2", emailAddress: "platform@example.com", useCommonAlertSchema: true },
    ]);
    expect(group.inputs.webhookReceivers).toEqual([
      { name: "webhook", serviceUri: webhook, useCommonAlertSchema: true },
    ]);
    expect(isSecretValue(group.rawInputs.webhookReceivers)).toBe(true);
    expect(JSON.stringify(d.children.filter((c) => c !== group).map((c) => c.inputs))).not.toContain(
      "never-plain-webhook-key",
    );
  });

  it("is not created when nobody is to be told; the failed-deliveries rule still is", () => {
    expect(bare.all("monitor:ActionGroup")).toEqual([]);
    const rules = bare.all("monitor:ScheduledQueryRule");
    expect(rules.map((r) => r.name)).toEqual(["bare-alert-failed-deliveries"]);
    expect(rules[0].inputs.actions).toBeUndefined();
  });
});

describe("the alert rules", () => {
  const rule = (key: string) => {
    const found = d.all("monitor:ScheduledQueryRule").find((r) => r.name === `oncall-alert-${key}`);
    if (!found) throw new Error(`no rule ${key}`);
    return found;
  };

  it("exist for the four conditions, on the workspace, notifying the action group", () => {
    const rules = d.all("monitor:ScheduledQueryRule");
    expect(rules.map((r) => r.name).sort()).toEqual(
      ["failed-deliveries", "heal-job", "hooks-not-enabled", "quiet-org"].map((k) => `oncall-alert-${k}`),
    );
    const workspace = d.one("operationalinsights:Workspace");
    const group = d.one("monitor:ActionGroup");
    for (const r of rules) {
      expect(r.inputs.kind).toBe("LogAlert");
      expect(r.inputs.scopes).toEqual([workspace.id]);
      expect(r.inputs.actions.actionGroups).toEqual([group.id]);
      expect(r.inputs.autoMitigate).toBe(true);
      expect(r.inputs.location).toBe(workspace.inputs.location);
      const c = r.inputs.criteria.allOf[0];
      expect(c).toMatchObject({ timeAggregation: "Count", operator: "GreaterThan", threshold: 0 });
      expect(r.inputs.description).toMatch(/docs\/telemetry\.md#/);
    }
  });

  it("look at the right windows: 15 min of deliveries, twice the quiet hours, the heal schedule's gap", () => {
    expect(rule("failed-deliveries").inputs).toMatchObject({
      windowSize: "PT15M",
      evaluationFrequency: "PT5M",
    });
    expect(rule("quiet-org").inputs).toMatchObject({ windowSize: "PT24H", evaluationFrequency: "PT1H" });
    // Hourly heal, 30 min timeout, 15 min slack = 105 min → the 2 h window.
    expect(rule("heal-job").inputs).toMatchObject({ windowSize: "PT2H", evaluationFrequency: "PT15M" });
    // Heal reports hooks only when it runs: the same window, so the alert outlasts the gap between runs.
    expect(rule("hooks-not-enabled").inputs).toMatchObject({
      windowSize: "PT2H",
      evaluationFrequency: "PT15M",
    });
    expect(rule("quiet-org").inputs.criteria.allOf[0].query).toContain("let quiet = 12h;");
  });

  it("with a heal every 6 hours, keep hooks-not-enabled open across the gap between two runs", async () => {
    const sixHourly = await deploy("six-hourly", {
      image,
      healJob: { ...healJob, cronExpression: "0 */6 * * *" },
      alerts: { emails: ["oncall@example.com"] },
    });
    const windowOf = (key: string) =>
      sixHourly.all("monitor:ScheduledQueryRule").find((r) => r.name === `six-hourly-alert-${key}`)!.inputs;
    // 360 min gap + 30 min timeout + 15 min slack = 405 min → the 24 h window (Azure offers 6 h, then 24 h).
    expect(healLookbackMinutes({ cronExpression: "0 */6 * * *" }).minutes).toBe(1440);
    expect(windowOf("hooks-not-enabled")).toMatchObject({
      windowSize: "PT24H",
      evaluationFrequency: "PT15M",
    });
    expect(windowOf("heal-job")).toMatchObject({ windowSize: "PT24H", evaluationFrequency: "PT15M" });
    expect(windowOf("hooks-not-enabled").windowSize).not.toBe("PT1H");
  });

  it("split per organization (and hook names, for hooks not enabled)", () => {
    const dims = (key: string) => rule(key).inputs.criteria.allOf[0].dimensions;
    expect(dims("hooks-not-enabled")).toEqual([
      { name: "org", operator: "Include", values: ["*"] },
      { name: "hooks", operator: "Include", values: ["*"] },
    ]);
    expect(dims("quiet-org")).toEqual([{ name: "org", operator: "Include", values: ["*"] }]);
  });

  it("are KQL that Microsoft's parser accepts against the workspace tables, returning each dimension", () => {
    for (const r of d.all("monitor:ScheduledQueryRule")) {
      const c = r.inputs.criteria.allOf[0];
      const analysis = analyzeKql(c.query);
      expect({ rule: r.name, errors: analysis.errors }).toEqual({ rule: r.name, errors: [] });
      for (const dim of c.dimensions)
        expect({ rule: r.name, dim: dim.name, type: analysis.columns[dim.name] }).toEqual({
          rule: r.name,
          dim: dim.name,
          type: "string",
        });
    }
  });

  it("give a new heal job until its first run is due before reporting it never ran", () => {
    // The job's creation time (ARM systemData.createdAt, from state: the same on every `up`) plus the
    // lookback: a fresh deploy or a job just switched on is not "missing" before its first scheduled
    // run; one older than that with no run in the window is.
    const query: string = rule("heal-job").inputs.criteria.allOf[0].query;
    const job = d.one("app:Job");
    expect(job.state.systemData).toMatchObject({ createdAt: mockAzure.createdAt });
    expect(query).toContain(`| where runs == 0 and now() > datetime(${mockAzure.createdAt}) + 120m`);
    // The last-run-failed part needs no grace: it reads a run that happened.
    expect(query.split("union")[1]).toMatch(
      /summarize arg_max\(TimeGenerated, outcome, problem\) by job = ""\n\s+\| where outcome != "ok"/,
    );
  });

  it("report a missing run at once when the job's creation time is unknown (as before the grace)", () => {
    const [, , , heal] = alertRuleSpecs({}, healJob);
    expect(heal.key).toBe("heal-job");
    expect(heal.query.query).toContain("| where runs == 0\n");
    expect(heal.query.query).not.toContain("now()");
    const withGrace = alertRuleSpecs({}, healJob, "2026-11-29T10:20:30Z")[3].query.query;
    expect(withGrace).toContain("now() > datetime(2026-11-29T10:20:30.000Z) + 120m");
    expect(analyzeKql(withGrace).errors).toEqual([]);
    // Anything but a time is left out rather than pasted into the query.
    expect(alertRuleSpecs({}, healJob, "2026') | take 0 //")[3].query.query).not.toContain("now()");
  });

  it("would be caught by the parser if a query named a column the tables do not have", () => {
    expect(analyzeKql("AppRequests | where Nmae == 'x'").errors).not.toEqual([]);
  });

  it("read attributes by their names in app/telemetry/names.ts", () => {
    const read = new Set(
      d.all("monitor:ScheduledQueryRule").flatMap((r) => attributesRead(r.inputs.criteria.allOf[0].query)),
    );
    expect([...read].sort()).toEqual(
      [
        attrs.route,
        attrs.outcome,
        attrs.org,
        attrs.samplingWeight,
        attrs.hookName,
        attrs.hookStatusFound,
        attrs.healAction,
        attrs.hooks,
        attrs.healOutcome,
        attrs.healProblem,
        attrs.healDryRun,
        attrs.healJob,
      ].sort(),
    );
    expect(rule("heal-job").inputs.criteria.allOf[0].query).toContain(`Name == "${spans.healRun.name}"`);
  });
});

describe("alert arguments", () => {
  it("refuse a quiet period Azure cannot look back over, a bad address, a share out of range", () => {
    expect(() => validateAlerts({ quietHours: 25 })).toThrow(/alerts.quietHours must be .* 1 to 24/);
    expect(() => validateAlerts({ quietHours: 0 })).toThrow(/quietHours/);
    expect(() => validateAlerts({ emails: ["oncall"] })).toThrow(/alerts.emails\[0\]/);
    expect(() => validateAlerts({ failedDeliveriesPercent: 120 })).toThrow(/failedDeliveriesPercent/);
  });

  it("are checked before anything is created", async () => {
    const { ReceiverInfra } = await import("../../components/receiver");
    expect(() => new ReceiverInfra("bad", { image, alerts: { quietHours: 48 } })).toThrow(/quietHours/);
  });

  it("give every rule a window Azure offers, whatever the quiet hours (twice them, rounded up)", () => {
    const heal = { cronExpression: "0 * * * *", organizations: [{ url: "https://dev.azure.com/contoso" }] };
    for (let quietHours = 1; quietHours <= 24; quietHours++) {
      for (const spec of alertRuleSpecs({ quietHours }, heal)) {
        expect(alertWindowAtLeast(spec.windowMinutes)).toBe(spec.windowMinutes);
        if (spec.key === "quiet-org") expect(spec.windowMinutes).toBeGreaterThanOrEqual(2 * quietHours * 60);
      }
    }
    expect(alertRuleSpecs({ quietHours: 5 }, heal).find((s) => s.key === "quiet-org")!.windowMinutes).toBe(
      1440,
    );
  });

  it("without a heal job: only the failed-deliveries rule (the others read what heal reports)", () => {
    const specs = alertRuleSpecs({} as AlertsArgs, undefined);
    expect(specs.map((s) => s.key)).toEqual(["failed-deliveries"]);
    expect(specs[0].query.query).toContain("failedPercent > 5");
  });
});

describe("the heal schedule's longest gap", () => {
  it("reads common cron schedules", () => {
    expect(cronMaxGapMinutes("0 * * * *")).toBe(60);
    expect(cronMaxGapMinutes("*/15 * * * *")).toBe(15);
    expect(cronMaxGapMinutes("0,15,30,45 * * * *")).toBe(15);
    expect(cronMaxGapMinutes("30 2 * * *")).toBe(24 * 60);
    // Weekdays at 02:00: Friday to Monday.
    expect(cronMaxGapMinutes("0 2 * * 1-5")).toBe(72 * 60);
    expect(() => cronMaxGapMinutes("0 * * *")).toThrow(/5 fields/);
    expect(() => cronMaxGapMinutes("61 * * * *")).toThrow(/minute field/);
  });

  it("gives the heal alert its window, or no missed-run detection when the gap is beyond two days", () => {
    expect(healLookbackMinutes({ cronExpression: "*/15 * * * *" })).toEqual({
      minutes: 60,
      detectMissing: true,
    });
    expect(healLookbackMinutes({ cronExpression: "0 2 * * 1-5" })).toEqual({
      minutes: 2880,
      detectMissing: false,
    });
    expect(alertWindowAtLeast(61)).toBe(120);
    expect(isoMinutes(90)).toBe("PT1H30M");
    expect(isoMinutes(15)).toBe("PT15M");
    expect(isoMinutes(2880)).toBe("PT48H");
  });
});

describe("the dashboard", () => {
  it("is a shared workbook over the workspace, each panel a query Microsoft's parser accepts", () => {
    const wb = d.one("applicationinsights:Workbook");
    const workspace = d.one("operationalinsights:Workspace");
    expect(wb.inputs).toMatchObject({ kind: "shared", category: "workbook", sourceId: workspace.id });
    expect(wb.inputs.resourceName).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const content = JSON.parse(wb.inputs.serializedData);
    expect(content.version).toBe("Notebook/1.0");
    const panels = content.items.filter((i: { type: number }) => i.type === 3);
    expect(panels.map((p: { content: { title: string } }) => p.content.title)).toEqual(
      dashboardPanels.map((p) => p.title),
    );
    for (const p of panels) {
      expect(p.content).toMatchObject({
        version: "KqlItem/1.0",
        queryType: 0,
        resourceType: "microsoft.operationalinsights/workspaces",
        crossComponentResources: [workspace.id],
      });
      expect({ title: p.content.title, errors: analyzeKql(p.content.query).errors }).toEqual({
        title: p.content.title,
        errors: [],
      });
    }
  });

  it("shows hooks by status per org, deliveries per event type, store latency, last heal runs", () => {
    const titles = dashboardPanels.map((p) => p.title).join("\n");
    expect(titles).toMatch(/Hooks by status per organization/);
    expect(titles).toMatch(/Deliveries per event type/);
    expect(titles).toMatch(/Store latency/);
    expect(titles).toMatch(/Last heal runs/);
  });
});
