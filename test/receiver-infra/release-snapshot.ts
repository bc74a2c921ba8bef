/**
 * The receiver configuration whose registrations are compared with what release 0.1 registered
 * (fixtures/release-0.1-resources.json): every optional part on, so every child resource appears.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ReceiverInfraArgs } from "../../components/receiver";
import { mockAzure, type RecordedResource } from "../support/pulumi-mocks";

export const snapshotArgs: ReceiverInfraArgs = {
  image: "hookfleetacr.azurecr.io/hookfleet/receiver:1.4.0",
  acrResourceId: `/subscriptions/${mockAzure.subscriptionId}/resourceGroups/shared-rg/providers/Microsoft.ContainerRegistry/registries/hookfleetacr`,
  systems: [{ id: "devops", storageMode: "lean", retentionDays: 30 }],
  urlTokens: [{ sha256: "a".repeat(64), systemId: "devops" }],
  readTokens: [{ sha256: "b".repeat(64) }],
  extraSecrets: { "ado-pat-contoso": pulumi.secret("pat-a"), "ado-pat-labs": pulumi.secret("pat-b") },
  healJob: {
    cronExpression: "0 * * * *",
    organizations: [
      { url: "https://dev.azure.com/contoso", adoPatSecret: "ado-pat-contoso" },
      { url: "https://dev.azure.com/labs", adoPatSecret: "ado-pat-labs" },
      { url: "https://dev.azure.com/entra" },
    ],
  },
};

/** Input holding the physical name, per azure-native type (what ignoreChanges must pin). */
export const nameInputByType: Record<string, string> = {
  "azure-native:resources:ResourceGroup": "resourceGroupName",
  "azure-native:operationalinsights:Workspace": "workspaceName",
  "azure-native:applicationinsights:Component": "resourceName",
  "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
  "azure-native:cosmosdb:DatabaseAccount": "accountName",
  "azure-native:keyvault:Vault": "vaultName",
  "azure-native:app:ManagedEnvironment": "environmentName",
  "azure-native:app:ContainerApp": "containerAppName",
  "azure-native:app:Job": "jobName",
  "azure-native:containerregistry:Registry": "registryName",
};

export interface SnapshotEntry {
  urn: string;
  type: string;
  name: string;
  /** Physical Azure name, for the types that carry one. */
  physicalName?: string;
}

export function snapshotOf(resources: RecordedResource[]): SnapshotEntry[] {
  return resources
    .map((r) => {
      const key = nameInputByType[r.type];
      const entry: SnapshotEntry = { urn: r.urn, type: r.type, name: r.name };
      if (key && typeof r.inputs[key] === "string") entry.physicalName = r.inputs[key];
      return entry;
    })
    .sort((a, b) => a.urn.localeCompare(b.urn));
}
