/**
 * The receiver's secrets: an RBAC-mode Key Vault (access is role assignments, never access
 * policies), one vault secret per value, and read-only access for the app's identity.
 */
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import type * as managedidentity from "@pulumi/azure-native/managedidentity";
import { azureRoleIds, roleDefinitionId } from "./roles";
import { nameOf, namedChild, type ReceiverScope } from "./scope";

/** One value to keep in the vault. */
export interface VaultSecretSpec {
  value: pulumi.Input<string>;
  /** The receiver setting it feeds, if any. */
  setting?: string;
  /** JSON (the credential settings) rather than text. */
  json?: boolean;
}

export interface StoredSecret {
  secretName: string;
  setting?: string;
  secret: keyvault.Secret;
}

export interface Vault {
  vault: keyvault.Vault;
  /** Key Vault Secrets User for the identity, on this vault. */
  readerRole: authorization.RoleAssignment;
  secrets: StoredSecret[];
}

export function createVault(
  scope: ReceiverScope,
  args: {
    identity: managedidentity.UserAssignedIdentity;
    secrets: ReadonlyMap<string, VaultSecretSpec>;
    purgeProtection: boolean;
  },
): Vault {
  const { name, placed } = scope;
  const child = { parent: scope.component };

  const vault = new keyvault.Vault(
    `${name}-vault`,
    {
      ...placed,
      vaultName: nameOf(scope, "keyVault"),
      properties: {
        tenantId: scope.tenantId,
        sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        // Purge protection cannot be switched off once on, so it is omitted rather than set false.
        enablePurgeProtection: args.purgeProtection ? true : undefined,
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
      },
    },
    namedChild(scope, "vaultName"),
  );

  // Read-only secret access for the app's identity, on this vault only. principalType avoids ARM's
  // "principal … does not exist in the directory" right after the identity is created
  // (../shared/design/azure-role-ids.md).
  const readerRole = new authorization.RoleAssignment(
    `${name}-kv-secrets-user`,
    {
      principalId: args.identity.principalId,
      principalType: authorization.PrincipalType.ServicePrincipal,
      roleDefinitionId: scope.subscriptionId.apply((sub) =>
        roleDefinitionId(sub, azureRoleIds.keyVaultSecretsUser),
      ),
      scope: vault.id,
    },
    child,
  );

  // One vault secret per value, so each can be rotated and audited on its own. Created one after
  // another: Key Vault rejects concurrent writes to one vault with "ConflictError … serialize the
  // operations" (pulumi-azure-native#1013, open; Azure/bicep#3113), which Pulumi's parallel creates
  // hit on every first deploy. The chain orders creates and updates; it changes no existing secret.
  const secrets: StoredSecret[] = [];
  let previous: keyvault.Secret | undefined;
  for (const [secretName, { value, setting, json }] of args.secrets) {
    const secret: keyvault.Secret = new keyvault.Secret(
      `${name}-secret-${secretName}`,
      {
        resourceGroupName: placed.resourceGroupName,
        vaultName: vault.name,
        secretName,
        properties: {
          value: pulumi.secret(value),
          contentType: json ? "application/json" : "text/plain",
        },
        tags: placed.tags,
      },
      { parent: scope.component, dependsOn: previous ? [previous] : [] },
    );
    secrets.push({ secretName, setting, secret });
    previous = secret;
  }
  return { vault, readerRole, secrets };
}
