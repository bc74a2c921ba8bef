/**
 * Every role id the receiver grants or the deployer needs, in one place. Source of each id:
 * ../shared/design/azure-role-ids.md (checked against Microsoft's built-in roles reference, as quoted
 * in public Bicep and Terraform templates); test/receiver-infra/roles.test.ts compares every id here
 * with that table, so a typo fails the tests instead of the first deploy.
 */

/** Azure RBAC built-in roles, by their ids (assigned as `/subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{roleId}`). */
export const azureRoleIds = {
  /** "AcrPull": pull images, nothing else (the receiver identity, on the registry). */
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  /** "AcrPush": push and pull (a CI identity that pushes to a shared registry). */
  acrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
  /** "Key Vault Secrets User": read secret values (the receiver identity, on the vault). */
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  /** "Key Vault Secrets Officer": manage secrets through the data plane (not used: secrets go through ARM). */
  keyVaultSecretsOfficer: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  /** "Monitoring Metrics Publisher": identity-based (Entra) telemetry ingestion. Not granted: the Container Apps
   * managed OpenTelemetry agent ingests with the connection string only (docs/telemetry.md). */
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  /** "Contributor": the deployer, on the resource group (or the subscription when it creates the group). */
  contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  /** "User Access Administrator": the deployer, to create role assignments. */
  userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  /** "Role Based Access Control Administrator": narrower alternative to User Access Administrator. */
  rbacAdministrator: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
} as const;

/**
 * Cosmos DB data-plane roles: not Azure RBAC roles. They live under the account
 * (`{accountId}/sqlRoleDefinitions/{id}`) and are assigned with SqlResourceSqlRoleAssignment.
 */
export const cosmosDataRoleIds = {
  /** "Cosmos DB Built-in Data Reader". */
  dataReader: "00000000-0000-0000-0000-000000000001",
  /** "Cosmos DB Built-in Data Contributor": read/write items, no management (the receiver identity). */
  dataContributor: "00000000-0000-0000-0000-000000000002",
} as const;

/** The roles the receiver identity gets (and nothing else). Kept for callers of release 0.1. */
export const builtInRoleIds = {
  cosmosDataContributor: cosmosDataRoleIds.dataContributor,
  keyVaultSecretsUser: azureRoleIds.keyVaultSecretsUser,
  acrPull: azureRoleIds.acrPull,
} as const;

/** Full id of a built-in Azure RBAC role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/** Full id of a Cosmos DB data-plane role definition under an account. */
export function cosmosRoleDefinitionId(accountId: string, roleId: string): string {
  return `${accountId}/sqlRoleDefinitions/${roleId}`;
}
