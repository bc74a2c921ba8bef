/**
 * Where the receiver's logs go: a Log Analytics workspace (the environment ships console logs
 * there) and a workspace-based Application Insights component, kept for telemetry (issue 16 wires
 * the app's OpenTelemetry to it; until then the environment's agent is not configured, since the
 * app emits no OpenTelemetry and App Insights would stay empty).
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

  // Workspace-based Application Insights: the home of the receiver's telemetry (issue 16).
  const insights = new applicationinsights.Component(
    `${scope.name}-insights`,
    {
      ...scope.placed,
      resourceName: nameOf(scope, "appInsights"),
      kind: "web",
      applicationType: applicationinsights.ApplicationType.Web,
      workspaceResourceId: workspace.id,
      ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
    },
    namedChild(scope, "resourceName"),
  );
  return { workspace, insights };
}
