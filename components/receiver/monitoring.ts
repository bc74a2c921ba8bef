/**
 * Where the receiver's logs and telemetry go: a Log Analytics workspace (the environment ships
 * console logs there) and a workspace-based Application Insights component, whose telemetry lands
 * in the same workspace (tables AppRequests, AppDependencies, …): the Container Apps environment's
 * OpenTelemetry agent forwards the app's and heal job's spans to it (app.ts), and the alerts
 * (alerts.ts) and the dashboard (dashboard.ts) query that workspace.
 */
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { nameOf, namedChild, type ReceiverScope } from "./scope";

export interface Monitoring {
  workspace: operationalinsights.Workspace;
  insights: applicationinsights.Component;
}

export function createMonitoring(scope: ReceiverScope, logRetentionDays: number): Monitoring {
  // Logs of the environment and the app land here.
  const workspace = new operationalinsights.Workspace(
    `${scope.name}-logs`,
    {
      ...scope.placed,
      workspaceName: nameOf(scope, "logAnalyticsWorkspace"),
      sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
      retentionInDays: logRetentionDays,
    },
    namedChild(scope, "workspaceName"),
  );

  // Workspace-based Application Insights: the home of the receiver's and heal job's telemetry.
  const insights = new applicationinsights.Component(
    `${scope.name}-insights`,
    {
      ...scope.placed,
      resourceName: nameOf(scope, "appInsights"),
      kind: "web",
      applicationType: applicationinsights.ApplicationType.Web,
      workspaceResourceId: workspace.id,
      ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
      // Local (instrumentation key) authentication stays ON, deliberately: the Container Apps managed
      // OpenTelemetry agent sends with the connection string only, and "the Application Insights
      // resource must allow local authentication to receive data from the OpenTelemetry data agent"
      // (learn.microsoft.com/azure/container-apps/opentelemetry-agents). With it off, every span
      // would be refused and the alerts would go blind. The key can only write telemetry, never read
      // it; docs/telemetry.md says what that risks and how to go Entra-only.
      disableLocalAuth: false,
    },
    namedChild(scope, "resourceName"),
  );
  return { workspace, insights };
}
