/**
 * The deploy preflight's checks against a local stand-in of the two ARM endpoints it calls
 * (test/support/arm-stand-in.ts), through the real ARM client; and its pure parts directly.
 */
import { ArmClient } from "../../components/receiver/arm";
import {
  REQUIRED_PROVIDERS,
  actionAllowed,
  formatFindings,
  passthroughConfig,
  runPreflight,
  stackPreflight,
} from "../../scripts/lib/preflight";
import { startArmStandIn, type ArmStandIn, type ArmStandInOptions } from "../support/arm-stand-in";
import { contributor, rbacAdministrator, reader } from "./fixtures/azure-roles";

const sub = "5b0c1e3a-0000-4000-8000-00000000a5b5";
const subScope = `/subscriptions/${sub}`;
const registered = REQUIRED_PROVIDERS.map((namespace) => ({
  namespace,
  registrationState: "Registered" as const,
}));
const sharedAcr = `/subscriptions/${sub}/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/contosoacr`;

let arm: ArmStandIn | undefined;
afterEach(async () => {
  await arm?.close();
  arm = undefined;
});
const clientFor = async (options: ArmStandInOptions) => {
  arm = await startArmStandIn(options);
  return new ArmClient({ endpoint: arm.endpoint, credential: arm.credential });
};
const problems = (findings: { ok: boolean; check: string }[]) =>
  findings.filter((f) => !f.ok).map((f) => f.check);

describe("actionAllowed (Azure RBAC actions/notActions with wildcards)", () => {
  it("Contributor may create resources but not role assignments", () => {
    expect(actionAllowed([contributor], "Microsoft.App/containerApps/write")).toBe(true);
    expect(actionAllowed([contributor], "Microsoft.Authorization/roleAssignments/write")).toBe(false);
  });
  it("Contributor plus RBAC Administrator may do both; matching ignores case", () => {
    expect(
      actionAllowed([contributor, rbacAdministrator], "microsoft.authorization/roleassignments/WRITE"),
    ).toBe(true);
  });
  it("Reader may do neither", () => {
    expect(actionAllowed([reader], "Microsoft.DocumentDB/databaseAccounts/write")).toBe(false);
    expect(actionAllowed([reader], "Microsoft.DocumentDB/databaseAccounts/read")).toBe(true);
  });
  it("treats regex characters in actions literally", () => {
    expect(actionAllowed([{ actions: ["Microsoft.App/*"] }], "MicrosoftXApp/containerApps/write")).toBe(
      false,
    );
  });
});

describe("runPreflight", () => {
  it("passes with every provider registered (read across pages) and Contributor + RBAC Administrator", async () => {
    const client = await clientFor({
      providers: registered,
      permissions: { [subScope]: [contributor, rbacAdministrator] },
    });
    const findings = await runPreflight(client, { subscriptionId: sub, builds: true });
    expect(problems(findings)).toEqual([]);
    expect(findings.filter((f) => f.check.startsWith("resource provider"))).toHaveLength(
      REQUIRED_PROVIDERS.length,
    );
    // Seven providers in pages of two: the nextLink was followed.
    expect(arm!.requests.filter((r) => r.path === `${subScope}/providers`).length).toBe(4);
  });

  it("names each unregistered provider, tells a registering one to wait, and gives the register command", async () => {
    const client = await clientFor({
      providers: registered
        .filter((p) => p.namespace !== "Microsoft.ContainerRegistry")
        .map((p) =>
          p.namespace === "Microsoft.App" ? { ...p, registrationState: "Registering" as const } : p,
        ),
      permissions: { [subScope]: [contributor, rbacAdministrator] },
    });
    const findings = await runPreflight(client, { subscriptionId: sub, builds: true });
    expect(problems(findings)).toEqual([
      "resource provider Microsoft.App",
      "resource provider Microsoft.ContainerRegistry",
    ]);
    const lines = formatFindings(findings);
    expect(lines).toContain(
      `✗ Microsoft.App is still registering in subscription ${sub}: wait until it shows Registered`,
    );
    expect(lines).toContain(`✗ Microsoft.ContainerRegistry is NotRegistered in subscription ${sub}`);
    expect(lines).toContain(
      `    fix: az provider register --namespace Microsoft.ContainerRegistry --subscription ${sub} --wait`,
    );
  });

  it("checks the existing resource group's scope (not the subscription) when the stack deploys into one", async () => {
    const rg = `${subScope}/resourceGroups/rg-hookfleet-prod`;
    const client = await clientFor({ providers: registered, permissions: { [rg]: [contributor] } });
    const findings = await runPreflight(client, {
      subscriptionId: sub,
      resourceGroupName: "rg-hookfleet-prod",
      builds: false,
    });
    expect(problems(findings)).toEqual([`Microsoft.Authorization/roleAssignments/write at ${rg}`]);
    expect(formatFindings(findings)[1]).toContain(
      `--role "Role Based Access Control Administrator" --scope ${rg}`,
    );
  });

  it("needs subscription-scope rights to create the resource group", async () => {
    const client = await clientFor({ providers: registered, permissions: { [subScope]: [reader] } });
    const findings = await runPreflight(client, { subscriptionId: sub, builds: true });
    expect(problems(findings)).toContain(
      `Microsoft.Resources/subscriptions/resourceGroups/write at ${subScope}`,
    );
    expect(problems(findings)).toContain(`Microsoft.ContainerRegistry/registries/write at ${subScope}`);
  });

  it("checks the named registry's group too: AcrPull is assigned there, and the build runs there", async () => {
    const client = await clientFor({
      providers: registered,
      permissions: {
        [subScope]: [contributor, rbacAdministrator],
        [`${subScope}/resourceGroups/rg-shared`]: [reader],
      },
    });
    const findings = await runPreflight(client, {
      subscriptionId: sub,
      acrResourceId: sharedAcr,
      builds: true,
    });
    expect(problems(findings)).toEqual([
      `Microsoft.Authorization/roleAssignments/write at ${subScope}/resourceGroups/rg-shared`,
      // Reader reads runs (*/read) but may neither get the upload URL nor schedule the run.
      `Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action at ${subScope}/resourceGroups/rg-shared`,
      `Microsoft.ContainerRegistry/registries/scheduleRun/action at ${subScope}/resourceGroups/rg-shared`,
    ]);
  });

  it("reports a resource group that does not exist, with the command to create it", async () => {
    const client = await clientFor({ providers: registered, permissions: {} });
    const findings = await runPreflight(client, {
      subscriptionId: sub,
      resourceGroupName: "rg-missing",
      builds: false,
    });
    expect(formatFindings(findings)).toEqual([
      `✗ ${subScope}/resourceGroups/rg-missing does not exist (ResourceGroupNotFound) or is not visible to the deployer`,
      `    fix: az group create --name rg-missing --location <region> --subscription ${sub}`,
    ]);
  });

  it("tells an unknown subscription from a missing group, and a missing registry group from either", async () => {
    const client = await clientFor({ providers: registered, permissions: {} });
    const findings = await runPreflight(client, {
      subscriptionId: sub,
      acrResourceId: sharedAcr,
      builds: false,
    });
    expect(formatFindings(findings)).toEqual([
      `✗ subscription ${sub} does not exist (SubscriptionNotFound) or is not visible to the deployer`,
      `    fix: az account list --query "[].id" -o tsv   # then set ARM_SUBSCRIPTION_ID (or az account set --subscription <id>) to one of them`,
      `✗ the resource group of hookfleet:acrResourceId (${subScope}/resourceGroups/rg-shared) does not exist (ResourceGroupNotFound) or is not visible to the deployer`,
      `    fix: az acr show --ids ${sharedAcr}   # check hookfleet:acrResourceId`,
    ]);
  });
});

describe("stackPreflight", () => {
  const config = (values: Record<string, string>) => async (key: string) => values[key];

  it("reads the stack's config, with pass-through --config values winning (CI passes the promoted image)", async () => {
    const client = await clientFor({
      providers: registered,
      permissions: {
        [subScope]: [contributor, rbacAdministrator],
        [`${subScope}/resourceGroups/rg-shared`]: [contributor, rbacAdministrator],
      },
    });
    const result = await stackPreflight({
      configGet: config({ "hookfleet:image": "" }),
      env: { ARM_SUBSCRIPTION_ID: sub },
      passthrough: [
        "--config",
        `hookfleet:image=contosoacr.azurecr.io/hookfleet/receiver@sha256:${"a".repeat(64)}`,
        `-c=hookfleet:acrResourceId=${sharedAcr}`,
      ],
      azSubscription: async () => undefined,
      arm: client,
    });
    expect(result.kind).toBe("checked");
    if (result.kind === "checked") {
      expect(result.target).toEqual({
        subscriptionId: sub,
        resourceGroupName: undefined,
        acrResourceId: sharedAcr,
        builds: false,
      });
      expect(problems(result.findings)).toEqual([]);
    }
  });

  it("skips a stack that deploys nothing on Azure (the sandbox)", async () => {
    const result = await stackPreflight({
      configGet: config({ "hookfleet:deployReceiver": "false" }),
      env: {},
      passthrough: [],
      azSubscription: async () => undefined,
    });
    expect(result.kind).toBe("skipped");
  });

  it("falls back to az's subscription, and says what to set when there is none", async () => {
    const client = await clientFor({
      providers: registered,
      permissions: { [subScope]: [contributor, rbacAdministrator] },
    });
    const found = await stackPreflight({
      configGet: config({}),
      env: {},
      passthrough: [],
      azSubscription: async () => sub,
      arm: client,
    });
    expect(found.kind === "checked" && found.target.subscriptionId).toBe(sub);
    await expect(
      stackPreflight({
        configGet: config({}),
        env: {},
        passthrough: [],
        azSubscription: async () => undefined,
      }),
    ).rejects.toThrow(/set ARM_SUBSCRIPTION_ID/);
  });

  it("parses --config pairs in every form pulumi accepts", () => {
    expect(passthroughConfig(["--diff", "--config", "a=1", "-c", "b=x=y", "--config=c=3", "-c=d="])).toEqual({
      a: "1",
      b: "x=y",
      c: "3",
      d: "",
    });
  });
});
