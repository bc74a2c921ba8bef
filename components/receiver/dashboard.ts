/**
 * The on-call dashboard: an Azure Workbook (shared) over the workspace the stack's Application
 * Insights writes to: hooks by status per organization, deliveries per event type and per outcome
 * over time, store latency, the last heal runs. Queries from telemetry-kql.ts (names from
 * app/telemetry/names.ts).
 *
 * The workbook format ("Notebook/1.0" with "KqlItem/1.0" query items, queryType 0 = Logs,
 * resourceType microsoft.operationalinsights/workspaces, crossComponentResources) is the one the
 * portal's Advanced Editor shows and Microsoft's workbook samples use (microsoft/Application-Insights-Workbooks;
 * learn.microsoft.com/azure/azure-monitor/visualize/workbooks-automate).
 */
import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import type * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { stableGuid } from "./names";
import type { ReceiverScope } from "./scope";
import { dashboardQueries } from "./telemetry-kql";

const DAY_MS = 24 * 3600 * 1000;

interface Panel {
  title: string;
  query: string;
  visualization: "table" | "timechart" | "barchart";
  /** Look-back of the panel. */
  durationMs: number;
}

export const dashboardPanels: Panel[] = [
  {
    title: "Hooks by status per organization (last heal run)",
    query: dashboardQueries.hooksByStatus,
    visualization: "table",
    durationMs: 7 * DAY_MS,
  },
  {
    title: "Deliveries per event type",
    query: dashboardQueries.deliveriesByEventType,
    visualization: "timechart",
    durationMs: 7 * DAY_MS,
  },
  {
    title: "Deliveries per outcome",
    query: dashboardQueries.deliveriesByOutcome,
    visualization: "timechart",
    durationMs: 7 * DAY_MS,
  },
  {
    title: "Store latency (ms, p50 / p95 / p99)",
    query: dashboardQueries.storeLatency,
    visualization: "timechart",
    durationMs: DAY_MS,
  },
  {
    title: "Last heal runs",
    query: dashboardQueries.lastHealRuns,
    visualization: "table",
    durationMs: 7 * DAY_MS,
  },
];

/** The workbook's serializedData for a workspace (pure; parsed back in the tests). */
export function workbookContent(workspaceId: string): string {
  return JSON.stringify({
    version: "Notebook/1.0",
    items: [
      {
        type: 1,
        content: {
          json: "## HookFleet\nDeliveries, the message store and the heal job, from the receiver's and heal job's OpenTelemetry. What each alert means and what to do: docs/telemetry.md.",
        },
        name: "title",
      },
      ...dashboardPanels.map((p, i) => ({
        type: 3,
        content: {
          version: "KqlItem/1.0",
          query: p.query,
          size: 0,
          title: p.title,
          timeContext: { durationMs: p.durationMs },
          queryType: 0,
          resourceType: "microsoft.operationalinsights/workspaces",
          crossComponentResources: [workspaceId],
          visualization: p.visualization,
        },
        name: `panel-${i + 1}`,
      })),
    ],
    fallbackResourceIds: [workspaceId],
  });
}

export function createDashboard(
  scope: ReceiverScope,
  workspace: operationalinsights.Workspace,
): applicationinsights.Workbook {
  return new applicationinsights.Workbook(
    `${scope.name}-dashboard`,
    {
      resourceGroupName: scope.placed.resourceGroupName,
      location: scope.placed.location,
      tags: scope.placed.tags,
      // The workbook's name must be a GUID (WorkbookArgs.resourceName): stable per component and stack.
      resourceName: stableGuid(pulumi.getProject(), pulumi.getStack(), scope.name, "dashboard"),
      kind: applicationinsights.WorkbookSharedTypeKind.Shared,
      category: "workbook",
      displayName: pulumi.interpolate`HookFleet ${pulumi.getStack()} (${scope.name})`,
      sourceId: workspace.id,
      serializedData: workspace.id.apply(workbookContent),
    },
    { parent: scope.component },
  );
}
