/**
 * Every role id in components/receiver/roles.ts against the verified table in
 * ../shared/design/azure-role-ids.md (parsed here, not copied): one wrong character deploys nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { azureRoleIds, builtInRoleIds, cosmosDataRoleIds } from "../../components/receiver/roles";

const tablePath = path.resolve(__dirname, "../../../shared/design/azure-role-ids.md");

/** `| role | id | …` rows of every markdown table in the file: role name → id. */
function verifiedIds(): Map<string, string> {
  const ids = new Map<string, string>();
  for (const line of fs.readFileSync(tablePath, "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const id = /^`([0-9a-f-]{36})`$/.exec(cells[2] ?? "")?.[1];
    if (id) ids.set(cells[1], id);
  }
  return ids;
}

/** The role name each constant stands for, as the table spells it. */
const azureRoleNames: Record<keyof typeof azureRoleIds, string> = {
  acrPull: "AcrPull",
  acrPush: "AcrPush",
  keyVaultSecretsUser: "Key Vault Secrets User",
  keyVaultSecretsOfficer: "Key Vault Secrets Officer",
  monitoringMetricsPublisher: "Monitoring Metrics Publisher",
  contributor: "Contributor",
  userAccessAdministrator: "User Access Administrator",
  rbacAdministrator: "Role Based Access Control Administrator",
};
const cosmosRoleNames: Record<keyof typeof cosmosDataRoleIds, string> = {
  dataReader: "Cosmos DB Built-in Data Reader",
  dataContributor: "Cosmos DB Built-in Data Contributor",
};

const table = verifiedIds();

it("reads the verified table (both of its tables)", () => {
  expect(table.size).toBeGreaterThanOrEqual(10);
});

it.each(Object.entries(azureRoleNames))("%s is the verified id of %s", (key, role) => {
  expect(table.get(role)).toBeDefined();
  expect(azureRoleIds[key as keyof typeof azureRoleIds]).toBe(table.get(role));
});

it.each(Object.entries(cosmosRoleNames))("%s is the verified id of %s", (key, role) => {
  expect(table.get(role)).toBeDefined();
  expect(cosmosDataRoleIds[key as keyof typeof cosmosDataRoleIds]).toBe(table.get(role));
});

it("names every id of the module (nothing unverified slips in)", () => {
  expect(Object.keys(azureRoleNames).sort()).toEqual(Object.keys(azureRoleIds).sort());
  expect(Object.keys(cosmosRoleNames).sort()).toEqual(Object.keys(cosmosDataRoleIds).sort());
  for (const id of Object.values(builtInRoleIds)) expect([...table.values()]).toContain(id);
});

it("has AcrPull right (release 0.1 shipped 7f951dda-…-43fe172d7043, which is no role)", () => {
  expect(builtInRoleIds.acrPull).toBe(table.get("AcrPull"));
  expect([...table.values()]).not.toContain("7f951dda-4ed3-4680-a7ca-43fe172d7043");
});
