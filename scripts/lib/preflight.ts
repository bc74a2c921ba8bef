/**
 * Deploy preflight: before `pulumi up`, ask Azure Resource Manager (as the deployer, through
 * components/receiver/arm.ts) what a first deploy needs and would otherwise fail on halfway:
 * - the resource providers of every resource type the stack creates are registered in the
 *   subscription ("Providers - List": GET /subscriptions/{id}/providers, api-version 2021-04-01);
 * - the deployer may create the resources and the role assignments at the target scope (the
 *   resource group, or the subscription when the stack creates its group; and the registry's group
 *   when a named registry is used): "Permissions - List For Resource Group",
 *   GET {scope}/providers/Microsoft.Authorization/permissions, api-version 2022-04-01. The spec
 *   publishes it for resource groups and resources only; at subscription scope it is shown in
 *   Microsoft's "Use Resource Manager authentication API to access subscriptions" (azure-docs,
 *   resource-manager-api-authentication.md: GET /subscriptions/{id}/providers/microsoft.authorization/
 *   permissions). Should ARM refuse it there, the preflight says it could not check, and why.
 * Every finding names what is missing and the `az` command that fixes it.
 */
import { ArmClient, ArmError, parseRegistryId } from "../../components/receiver/arm";

export const PROVIDERS_API_VERSION = "2021-04-01";
export const PERMISSIONS_API_VERSION = "2022-04-01";

/** Resource providers of the receiver's resource types (components/receiver). */
export const REQUIRED_PROVIDERS = [
  "Microsoft.App",
  "Microsoft.DocumentDB",
  "Microsoft.KeyVault",
  "Microsoft.OperationalInsights",
  "Microsoft.Insights",
  "Microsoft.ManagedIdentity",
  "Microsoft.ContainerRegistry",
] as const;

/** What the stack will do, as far as the preflight needs to know. */
export interface PreflightTarget {
  subscriptionId: string;
  /** Existing group to deploy into; absent: the stack creates one (needs subscription-scope rights). */
  resourceGroupName?: string;
  /** ARM id of a named registry (AcrPull is assigned there; a build runs there when no image is given). */
  acrResourceId?: string;
  /** Whether the deploy builds the image in Azure (no prebuilt image configured). */
  builds: boolean;
}

export interface PreflightFinding {
  /** What is checked, e.g. "resource provider Microsoft.App". */
  check: string;
  ok: boolean;
  /** What is wrong (when not ok). */
  problem?: string;
  /** The command that fixes it (when not ok). */
  fix?: string;
}

/** One permission entry: allowed actions minus excluded ones (Azure RBAC role definition shape). */
export interface Permission {
  actions?: string[];
  notActions?: string[];
}

/**
 * Whether the permissions allow an action. Azure RBAC: an action is allowed when some role's
 * `actions` match it and that role's `notActions` do not; `*` matches any characters; comparison
 * is case-insensitive ("Understand Azure role definitions", learn.microsoft.com).
 */
export function actionAllowed(permissions: readonly Permission[], action: string): boolean {
  const matches = (pattern: string) =>
    new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "i").test(action);
  return permissions.some((p) => (p.actions ?? []).some(matches) && !(p.notActions ?? []).some(matches));
}

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

/** Actions a deploy performs at a scope, with the role that grants them. */
function actionsFor(target: PreflightTarget): { scope: string; action: string; role: string }[] {
  const sub = `/subscriptions/${target.subscriptionId}`;
  const main = target.resourceGroupName ? `${sub}/resourceGroups/${target.resourceGroupName}` : sub;
  const needs = [
    ...(target.resourceGroupName
      ? []
      : [
          {
            scope: sub,
            action: "Microsoft.Resources/subscriptions/resourceGroups/write",
            role: "Contributor",
          },
        ]),
    { scope: main, action: "Microsoft.App/containerApps/write", role: "Contributor" },
    { scope: main, action: "Microsoft.DocumentDB/databaseAccounts/write", role: "Contributor" },
    { scope: main, action: "Microsoft.KeyVault/vaults/write", role: "Contributor" },
    { scope: main, action: "Microsoft.ManagedIdentity/userAssignedIdentities/write", role: "Contributor" },
    {
      scope: main,
      action: "Microsoft.Authorization/roleAssignments/write",
      role: "Role Based Access Control Administrator",
    },
  ];
  if (target.builds && !target.acrResourceId) {
    needs.push({ scope: main, action: "Microsoft.ContainerRegistry/registries/write", role: "Contributor" });
  }
  const registryGroup = target.acrResourceId && parseRegistryId(target.acrResourceId)?.groupScope;
  if (registryGroup) {
    needs.push({
      scope: registryGroup,
      action: "Microsoft.Authorization/roleAssignments/write",
      role: "Role Based Access Control Administrator",
    });
  }
  if (target.builds) {
    // The cloud build's three ARM calls (components/receiver/image/build-provider.ts: "Registries - Get
    // Build Source Upload Url", "Registries - Schedule Run", "Runs - Get"), in the registry's group.
    // Action names: Microsoft.ContainerRegistry in "Azure permissions for Containers"
    // (learn.microsoft.com/azure/role-based-access-control/permissions/containers), as
    // docs/receiver-infra.md's deployer-permissions table gives them.
    for (const action of [
      "Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action",
      "Microsoft.ContainerRegistry/registries/scheduleRun/action",
      "Microsoft.ContainerRegistry/registries/runs/read",
    ]) {
      needs.push({ scope: registryGroup || main, action, role: "Contributor" });
    }
  }
  return needs;
}

/** Runs every check; never throws for a finding (only for a failure to ask at all). */
export async function runPreflight(arm: ArmClient, target: PreflightTarget): Promise<PreflightFinding[]> {
  const findings: PreflightFinding[] = [];
  const sub = target.subscriptionId;

  const providers = await arm.list<{ namespace?: string; registrationState?: string }>(
    `/subscriptions/${sub}/providers`,
    PROVIDERS_API_VERSION,
  );
  const state = new Map(
    providers.map((p) => [(p.namespace ?? "").toLowerCase(), p.registrationState ?? "Unknown"]),
  );
  for (const ns of REQUIRED_PROVIDERS) {
    const s = state.get(ns.toLowerCase()) ?? "NotRegistered";
    findings.push(
      s === "Registered"
        ? { check: `resource provider ${ns}`, ok: true }
        : {
            check: `resource provider ${ns}`,
            ok: false,
            problem:
              s === "Registering"
                ? `${ns} is still registering in subscription ${sub}: wait until it shows Registered`
                : `${ns} is ${s} in subscription ${sub}`,
            fix: `az provider register --namespace ${ns} --subscription ${sub} --wait`,
          },
    );
  }

  const byScope = new Map<string, { action: string; role: string }[]>();
  for (const need of actionsFor(target)) byScope.set(need.scope, [...(byScope.get(need.scope) ?? []), need]);
  for (const [scope, needs] of byScope) {
    let permissions: Permission[];
    try {
      permissions = await arm.list<Permission>(
        `${scope}/providers/Microsoft.Authorization/permissions`,
        PERMISSIONS_API_VERSION,
      );
    } catch (err) {
      if (err instanceof ArmError && err.status === 404) {
        findings.push(missingScope(scope, err.code, target));
        continue;
      }
      throw err;
    }
    for (const { action, role } of needs) {
      const ok = actionAllowed(permissions, action);
      findings.push(
        ok
          ? { check: `${action} at ${scope}`, ok: true }
          : {
              check: `${action} at ${scope}`,
              ok: false,
              problem: `the deployer may not ${action} at ${scope}`,
              // The assignee: the signed-in user; a service principal uses its object id instead.
              fix: `az role assignment create --assignee "$(az ad signed-in-user show --query id -o tsv)" --role "${role}" --scope ${scope}`,
            },
      );
    }
  }
  return findings;
}

/** A scope ARM does not know (404): which of the target's scopes it is decides the fix. */
function missingScope(scope: string, code: string, target: PreflightTarget): PreflightFinding {
  const sub = target.subscriptionId;
  const finding = (problem: string, fix: string) => ({ check: `scope ${scope}`, ok: false, problem, fix });
  if (scope === `/subscriptions/${sub}`)
    return finding(
      `subscription ${sub} does not exist (${code}) or is not visible to the deployer`,
      'az account list --query "[].id" -o tsv   # then set ARM_SUBSCRIPTION_ID (or az account set --subscription <id>) to one of them',
    );
  if (target.acrResourceId && parseRegistryId(target.acrResourceId)?.groupScope === scope)
    return finding(
      `the resource group of hookfleet:acrResourceId (${scope}) does not exist (${code}) or is not visible to the deployer`,
      `az acr show --ids ${target.acrResourceId}   # check hookfleet:acrResourceId`,
    );
  return finding(
    `${scope} does not exist (${code}) or is not visible to the deployer`,
    `az group create --name ${scope.split("/").pop()} --location <region> --subscription ${sub}`,
  );
}

/** Human-readable report: one line per problem with its fix; empty when all is well. */
export function formatFindings(findings: readonly PreflightFinding[]): string[] {
  return findings.filter((f) => !f.ok).flatMap((f) => [`✗ ${f.problem}`, `    fix: ${f.fix}`]);
}

/** `--config key=value` / `-c key=value` pairs passed through to `pulumi up` (they override the stack file). */
export function passthroughConfig(passthrough: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let i = 0; i < passthrough.length; i++) {
    const arg = passthrough[i];
    const inline = /^(?:--config|-c)=(.*)$/.exec(arg);
    const pair = inline ? inline[1] : arg === "--config" || arg === "-c" ? passthrough[++i] : undefined;
    const eq = pair?.indexOf("=") ?? -1;
    if (pair && eq > 0) values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return values;
}

export type StackPreflight =
  | { kind: "skipped"; reason: string }
  | { kind: "checked"; target: PreflightTarget; findings: PreflightFinding[] };

/**
 * The preflight of one stack: reads what it needs from the stack's config (through `configGet`,
 * i.e. `pulumi config get`, overridden by pass-through `--config` values), finds the subscription
 * (ARM_SUBSCRIPTION_ID, AZURE_SUBSCRIPTION_ID, azure-native:subscriptionId, else `azSubscription`,
 * i.e. `az account show`), and runs the checks. Throws an Error saying what to do when it cannot.
 */
export async function stackPreflight(options: {
  configGet: (key: string) => Promise<string | undefined>;
  env: NodeJS.ProcessEnv;
  passthrough: readonly string[];
  azSubscription: () => Promise<string | undefined>;
  arm?: ArmClient;
}): Promise<StackPreflight> {
  const overrides = passthroughConfig(options.passthrough);
  const get = async (key: string) => {
    const value = key in overrides ? overrides[key] : await options.configGet(key);
    return value === undefined || value === "" ? undefined : value;
  };
  if ((await get("hookfleet:deployReceiver")) === "false") {
    return { kind: "skipped", reason: "hookfleet:deployReceiver is false: nothing is deployed on Azure" };
  }
  const subscriptionId =
    options.env.ARM_SUBSCRIPTION_ID ||
    options.env.AZURE_SUBSCRIPTION_ID ||
    (await get("azure-native:subscriptionId")) ||
    (await options.azSubscription());
  if (!subscriptionId) {
    throw new Error(
      "cannot tell which Azure subscription to check: set ARM_SUBSCRIPTION_ID (or azure-native:subscriptionId), or sign in with `az login`",
    );
  }
  const target: PreflightTarget = {
    subscriptionId,
    resourceGroupName: await get("hookfleet:resourceGroupName"),
    acrResourceId: await get("hookfleet:acrResourceId"),
    builds: (await get("hookfleet:image")) === undefined,
  };
  return { kind: "checked", target, findings: await runPreflight(options.arm ?? new ArmClient(), target) };
}
