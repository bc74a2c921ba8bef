/**
 * The message store: a Cosmos DB account with Entra auth only (no keys exist to leak), the
 * database and container app/ expects, and the data-plane role of the app's identity.
 */
import * as pulumi from "@pulumi/pulumi";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb";
import type * as managedidentity from "@pulumi/azure-native/managedidentity";
import { messageStoreLayout } from "../../app/settings";
import type { CosmosCapacityMode } from "./args";
import { stableGuid } from "./names";
import { PropagationWait } from "./propagation";
import { cosmosDataRoleIds, cosmosRoleDefinitionId } from "./roles";
import { nameOf, namedChild, type ReceiverScope } from "./scope";

export interface StoreArgs {
  cosmosMode: CosmosCapacityMode;
  cosmosMaxThroughput?: number;
  databaseName: string;
  containerName: string;
  identity: managedidentity.UserAssignedIdentity;
  /** Seconds to wait between a new identity and its role assignment; 0: no wait. */
  identityPropagationSeconds: number;
}

export interface Store {
  account: cosmosdb.DatabaseAccount;
  /** The identity's data-plane role (read/write items). */
  dataRole: cosmosdb.SqlResourceSqlRoleAssignment;
}

export function createStore(scope: ReceiverScope, args: StoreArgs): Store {
  const { name, placed } = scope;
  const child = { parent: scope.component };

  // Entra auth only, TLS 1.2, point-in-time restore.
  const account = new cosmosdb.DatabaseAccount(
    `${name}-cosmos`,
    {
      ...placed,
      accountName: nameOf(scope, "cosmosAccount"),
      kind: cosmosdb.DatabaseAccountKind.GlobalDocumentDB,
      databaseAccountOfferType: cosmosdb.DatabaseAccountOfferType.Standard,
      locations: [{ locationName: placed.location, failoverPriority: 0, isZoneRedundant: false }],
      capabilities: args.cosmosMode === "serverless" ? [{ name: "EnableServerless" }] : [],
      consistencyPolicy: { defaultConsistencyLevel: cosmosdb.DefaultConsistencyLevel.Session },
      disableLocalAuth: true,
      disableKeyBasedMetadataWriteAccess: true,
      minimalTlsVersion: cosmosdb.MinimalTlsVersion.Tls12,
      backupPolicy: {
        type: "Continuous",
        continuousModeProperties: { tier: cosmosdb.ContinuousTier.Continuous7Days },
      },
    },
    namedChild(scope, "accountName"),
  );

  // Provisioned here because the app, without keys, may not create databases or containers.
  const database = new cosmosdb.SqlResourceSqlDatabase(
    `${name}-db`,
    {
      resourceGroupName: placed.resourceGroupName,
      accountName: account.name,
      databaseName: args.databaseName,
      resource: { id: args.databaseName },
    },
    child,
  );

  // The layout app/ expects: its partition key, the payload out of the index, per-item TTL on.
  const partitionKeyPaths: string[] = [messageStoreLayout.partitionKeyPath].flat();
  new cosmosdb.SqlResourceSqlContainer(
    `${name}-messages`,
    {
      resourceGroupName: placed.resourceGroupName,
      accountName: account.name,
      databaseName: database.name,
      containerName: args.containerName,
      resource: {
        id: args.containerName,
        partitionKey: {
          paths: partitionKeyPaths,
          kind: partitionKeyPaths.length > 1 ? cosmosdb.PartitionKind.MultiHash : cosmosdb.PartitionKind.Hash,
          version: 2,
        },
        indexingPolicy: {
          automatic: true,
          indexingMode: cosmosdb.IndexingMode.Consistent,
          includedPaths: [{ path: "/*" }],
          excludedPaths: [...messageStoreLayout.excludedIndexPaths, '/"_etag"/?'].map((path) => ({ path })),
        },
        defaultTtl: messageStoreLayout.defaultTtl,
      },
      options:
        args.cosmosMode === "autoscale"
          ? { autoscaleSettings: { maxThroughput: args.cosmosMaxThroughput ?? 1000 } }
          : undefined,
    },
    child,
  );

  // Cosmos DB checks the principal against Entra ID, which may not know an identity created moments
  // earlier: "The provided principal ID … was not found in the AAD tenant(s)" (pulumi-azure-native#2816,
  // open upstream; a second run succeeds). SQL role assignments have no principalType to skip that
  // lookup (unlike Azure RBAC), so wait for the identity to replicate, once per new identity.
  const identityReady =
    args.identityPropagationSeconds > 0
      ? new PropagationWait(
          `${name}-identity-propagation`,
          {
            seconds: args.identityPropagationSeconds,
            triggers: [args.identity.principalId],
            reason:
              "new managed identity replicating in Entra ID before a Cosmos DB SQL role assignment (pulumi-azure-native#2816)",
          },
          child,
        )
      : undefined;

  // Data-plane read/write for the app's identity only, on this account only.
  const dataRole = new cosmosdb.SqlResourceSqlRoleAssignment(
    `${name}-cosmos-data-contributor`,
    {
      resourceGroupName: placed.resourceGroupName,
      accountName: account.name,
      roleAssignmentId: stableGuid(pulumi.getProject(), pulumi.getStack(), name, "cosmos-data-contributor"),
      roleDefinitionId: account.id.apply((id) =>
        cosmosRoleDefinitionId(id, cosmosDataRoleIds.dataContributor),
      ),
      scope: account.id,
      principalId: args.identity.principalId,
    },
    // The id is fixed, so a replacement must delete the old assignment first.
    { parent: scope.component, deleteBeforeReplace: true, dependsOn: identityReady ? [identityReady] : [] },
  );
  return { account, dataRole };
}
