/**
 * The first deploy's races, as the dependency graph the engine sees (under mocks):
 * - Key Vault secrets are written one after another (pulumi-azure-native#1013: parallel writes to one
 *   new vault fail with ConflictError);
 * - the Cosmos DB data role waits for the new identity to replicate (pulumi-azure-native#2816);
 * - the app and the jobs wait for the role assignments to propagate before Container Apps validates
 *   their Key Vault references (microsoft/azure-container-apps#930, #1174).
 */
import * as pulumi from "@pulumi/pulumi";
import { PROPAGATION_WAIT_TYPE, defaultPropagationSeconds } from "../../components/receiver";
import type { RecordedResource } from "../support/pulumi-mocks";
import { deploy, mocks, type Deployment } from "./deploy";

let d: Deployment;
const waitNamed = (name: string) =>
  d.children.find((r) => r.type === PROPAGATION_WAIT_TYPE && r.name === name)!;
const dependsOn = (r: RecordedResource, other: RecordedResource) => r.dependencies.includes(other.urn);

beforeAll(async () => {
  mocks.reset();
  d = await deploy("receiver", {
    systems: [{ id: "devops", storageMode: "lean", retentionDays: 30 }],
    urlTokens: [{ sha256: "a".repeat(64), systemId: "devops" }],
    readTokens: [{ sha256: "b".repeat(64) }],
    extraSecrets: { "ado-pat-contoso": pulumi.secret("p1"), "ado-pat-labs": pulumi.secret("p2") },
    healJob: {
      cronExpression: "0 * * * *",
      organizations: [
        { url: "https://dev.azure.com/contoso", adoPatSecret: "ado-pat-contoso" },
        { url: "https://dev.azure.com/labs", adoPatSecret: "ado-pat-labs" },
      ],
    },
  });
});

it("writes the vault's secrets one at a time: each depends on the one before", () => {
  const secrets = d.all("keyvault:Secret");
  expect(secrets).toHaveLength(5);
  // Registration order is the chain's order; every secret but the first waits for its predecessor.
  expect(secrets[0].dependencies.filter((u) => secrets.some((s) => s.urn === u))).toEqual([]);
  for (let i = 1; i < secrets.length; i++) expect(dependsOn(secrets[i], secrets[i - 1])).toBe(true);
});

it("assigns the Cosmos DB data role only after a bounded wait on the new identity", () => {
  const wait = waitNamed("receiver-identity-propagation");
  const identity = d.one("managedidentity:UserAssignedIdentity");
  expect(wait.inputs.seconds).toBe(defaultPropagationSeconds.identity);
  expect(wait.inputs.triggers).toEqual([identity.state.principalId]);
  expect(dependsOn(wait, identity)).toBe(true);
  expect(dependsOn(d.one("cosmosdb:SqlResourceSqlRoleAssignment"), wait)).toBe(true);
});

it("creates the app and every job only after the role assignments and a bounded propagation wait", () => {
  const wait = waitNamed("receiver-role-propagation");
  const roles = [...d.all("authorization:RoleAssignment"), d.one("cosmosdb:SqlResourceSqlRoleAssignment")];
  expect(roles).toHaveLength(3); // Key Vault Secrets User, AcrPull, Cosmos DB data contributor
  expect(wait.inputs.seconds).toBe(defaultPropagationSeconds.roles);
  expect(wait.inputs.triggers).toHaveLength(3);
  for (const role of roles) {
    expect(dependsOn(wait, role)).toBe(true);
    expect(wait.inputs.triggers).toContain(role.id);
  }
  const consumers = [d.one("app:ContainerApp"), ...d.all("app:Job")];
  expect(consumers).toHaveLength(3);
  for (const consumer of consumers) {
    expect(dependsOn(consumer, wait)).toBe(true);
    for (const role of roles) expect(dependsOn(consumer, role)).toBe(true);
  }
});

it("keeps every wait bounded and explained", () => {
  for (const wait of d.children.filter((r) => r.type === PROPAGATION_WAIT_TYPE)) {
    expect(wait.inputs.seconds).toBeGreaterThan(0);
    expect(wait.inputs.seconds).toBeLessThanOrEqual(600);
    expect(wait.inputs.reason).toMatch(/#\d+/);
  }
});

it("lets a caller turn the waits off (0 seconds) or longer, and refuses unbounded ones", async () => {
  mocks.reset();
  const quick = await deploy("quick", {
    image: "example.org/r:1",
    propagationSeconds: { identity: 0, roles: 0 },
  });
  expect(quick.children.filter((r) => r.type === PROPAGATION_WAIT_TYPE)).toHaveLength(0);
  await expect(
    deploy("slow", { image: "example.org/r:1", propagationSeconds: { roles: 3600 } }),
  ).rejects.toThrow(/propagationSeconds.roles must be a whole number from 0 to 600/);
});
