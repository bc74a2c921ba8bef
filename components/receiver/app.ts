/**
 * The Container Apps environment and the receiver app: public HTTPS on the service port only,
 * /metrics on an internal port (reachable inside the environment, never through public ingress),
 * secrets by reference to Key Vault, image pulled and store reached as the one identity.
 */
import * as pulumi from "@pulumi/pulumi";
import * as app from "@pulumi/azure-native/app";
import type * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import type { EnvEntry } from "./environment";
import { nameOf, namedChild, type ReceiverScope } from "./scope";

/** Container App secret referencing a Key Vault secret, read as the identity. */
export interface VaultReference {
  name: string;
  keyVaultUrl: pulumi.Output<string>;
  identity: pulumi.Output<string>;
}

export function createEnvironment(
  scope: ReceiverScope,
  workspace: operationalinsights.Workspace,
  insights: applicationinsights.Component,
): app.ManagedEnvironment {
  // Console logs (stdout/stderr of the app and the heal job) go to the workspace.
  const sharedKey = operationalinsights.getSharedKeysOutput(
    { resourceGroupName: scope.placed.resourceGroupName, workspaceName: workspace.name },
    { parent: scope.component },
  );
  return new app.ManagedEnvironment(
    `${scope.name}-env`,
    {
      ...scope.placed,
      environmentName: nameOf(scope, "managedEnvironment"),
      appLogsConfiguration: {
        destination: "log-analytics",
        logAnalyticsConfiguration: {
          customerId: workspace.customerId,
          sharedKey: pulumi.secret(sharedKey.apply((keys) => keys.primarySharedKey ?? "")),
        },
      },
      // The managed OpenTelemetry agent (issue 16): it injects OTEL_EXPORTER_OTLP_ENDPOINT (gRPC) into
      // the app and the heal job, which then export their spans to it, and it forwards them to the
      // stack's Application Insights. Properties: azure-native v3 app.ManagedEnvironment
      // (appInsightsConfiguration.connectionString; openTelemetryConfiguration.{traces,logs,metrics}
      // Configuration.destinations, destination "appInsights"), as in "Collect and read OpenTelemetry
      // data in Azure Container Apps" (learn.microsoft.com/azure/container-apps/opentelemetry-agents).
      // That page's table: Application Insights takes logs and traces, NOT metrics ("The Application
      // Insights endpoint doesn't accept metrics"), so no metrics destination is configured; the app
      // and job run with OTEL_METRICS_EXPORTER=none here and the alerts and dashboard read spans.
      appInsightsConfiguration: { connectionString: pulumi.secret(insights.connectionString) },
      openTelemetryConfiguration: {
        tracesConfiguration: { destinations: ["appInsights"] },
        logsConfiguration: { destinations: ["appInsights"] },
      },
    },
    namedChild(scope, "environmentName"),
  );
}

export interface ReceiverAppArgs {
  environment: app.ManagedEnvironment;
  identityId: pulumi.Output<string>;
  image: pulumi.Input<string>;
  registries: pulumi.Input<pulumi.Input<{ server: string; identity: pulumi.Input<string> }>[]>;
  env: EnvEntry<pulumi.Input<string>>[];
  secrets: VaultReference[];
  targetPort: number;
  metricsPort: number;
  cpu: number;
  memory: string;
  minReplicas: number;
  maxReplicas: number;
  concurrentRequests: number;
  terminationGracePeriodSeconds: number;
  /** What must exist before the first revision: role assignments (and their propagation), the image. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

export function createReceiverApp(scope: ReceiverScope, args: ReceiverAppArgs): app.ContainerApp {
  const probe = (type: app.Type, path: string) => ({
    type,
    httpGet: { path, port: args.targetPort, scheme: app.Scheme.HTTP },
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });
  return new app.ContainerApp(
    `${scope.name}-app`,
    {
      resourceGroupName: scope.placed.resourceGroupName,
      location: scope.placed.location,
      tags: scope.placed.tags,
      containerAppName: nameOf(scope, "containerApp"),
      managedEnvironmentId: args.environment.id,
      identity: {
        type: app.ManagedServiceIdentityType.UserAssigned,
        userAssignedIdentities: [args.identityId],
      },
      configuration: {
        activeRevisionsMode: app.ActiveRevisionsMode.Single,
        ingress: {
          external: true,
          allowInsecure: false,
          targetPort: args.targetPort,
          transport: app.IngressTransportMethod.Http,
          traffic: [{ latestRevision: true, weight: 100 }],
          // /metrics: "accessible outside of the environment" false (IngressPortMapping.external), so a
          // collector in the environment may scrape it and the internet may not.
          additionalPortMappings: [{ external: false, targetPort: args.metricsPort }],
        },
        secrets: args.secrets,
        registries: args.registries,
      },
      template: {
        containers: [
          {
            name: "receiver",
            image: args.image,
            env: args.env,
            resources: { cpu: args.cpu, memory: args.memory },
            probes: [probe(app.Type.Liveness, "/healthz"), probe(app.Type.Readiness, "/readyz")],
          },
        ],
        // Room for the service's own SIGTERM grace before Container Apps kills it.
        terminationGracePeriodSeconds: args.terminationGracePeriodSeconds,
        scale: {
          minReplicas: args.minReplicas,
          maxReplicas: args.maxReplicas,
          rules: [
            {
              name: "http-concurrency",
              http: { metadata: { concurrentRequests: String(args.concurrentRequests) } },
            },
          ],
        },
      },
    },
    namedChild(scope, "containerAppName", { dependsOn: args.dependsOn }),
  );
}
