/**
 * State is a contract: a stack deployed by release 0.1 must see no URN change and keep every
 * physical name, although new stacks now hash the subscription into their names. Compared with
 * what 0.1 registered for the same arguments (fixtures/release-0.1-resources.json, recorded from
 * 0.1's code under the same mocks).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { receiverResourceNames, stackSuffix, subscriptionSuffix } from "../../components/receiver";
import { mockAzure, type RecordedResource } from "../support/pulumi-mocks";
import { deploy, deployer, mocks, project, stack } from "./deploy";
import { nameInputByType, snapshotArgs, snapshotOf, type SnapshotEntry } from "./release-snapshot";

const release01: SnapshotEntry[] = JSON.parse(
  fs.readFileSync(path.join(__dirname, "fixtures/release-0.1-resources.json"), "utf8"),
);

let now: RecordedResource[];
beforeAll(async () => {
  mocks.reset();
  await deploy("receiver", snapshotArgs);
  now = [...mocks.resources];
});

it("registers every resource 0.1 registered, under the same URN and type (nothing replaced or orphaned)", () => {
  const urns = new Set(now.map((r) => r.urn));
  const missing = release01.filter((r) => !urns.has(r.urn)).map((r) => r.urn);
  expect(missing).toEqual([]);
  expect(release01.length).toBeGreaterThan(20);
});

it("adds only the new propagation waits and the on-call alerts and dashboard for a stack with a prebuilt image", () => {
  const old = new Set(release01.map((r) => r.urn));
  expect(
    now
      .filter((r) => !old.has(r.urn))
      .map((r) => r.name)
      .sort(),
  ).toEqual([
    // issue 16: alert rules (no action group: the snapshot's arguments notify nobody) and the workbook.
    "receiver-alert-failed-deliveries",
    "receiver-alert-heal-job",
    "receiver-alert-hooks-not-enabled",
    "receiver-alert-quiet-org",
    "receiver-dashboard",
    "receiver-identity-propagation",
    "receiver-role-propagation",
  ]);
});

it("derives new names for new stacks (the subscription is in the hash)…", () => {
  const account = now.find((r) => r.type === "azure-native:cosmosdb:DatabaseAccount")!;
  expect(account.inputs.accountName).toBe(
    receiverResourceNames("receiver", subscriptionSuffix(mockAzure.subscriptionId, project, stack))
      .cosmosAccount,
  );
  const old = release01.find((r) => r.type === "azure-native:cosmosdb:DatabaseAccount")!;
  expect(old.physicalName).toBe(receiverResourceNames("receiver", stackSuffix(project, stack)).cosmosAccount);
  expect(account.inputs.accountName).not.toBe(old.physicalName);
});

it("…and pins every physical name with ignoreChanges, so a 0.1 stack keeps the names state holds", () => {
  // Pulumi uses an ignored input "only when creating the resource" (resource option ignoreChanges):
  // for each resource 0.1 named, the name input that differs today must be ignored.
  const byUrn = new Map(now.map((r) => [r.urn, r]));
  const named = release01.filter((r) => r.physicalName !== undefined);
  expect(named.length).toBeGreaterThanOrEqual(10);
  for (const old of named) {
    const current = byUrn.get(old.urn)!;
    const input = nameInputByType[old.type];
    expect({ urn: old.urn, pinned: current.ignoreChanges.includes(input) }).toEqual({
      urn: old.urn,
      pinned: true,
    });
  }
});

it("does not pin names when the user sets nameSuffix (an explicit rename)", async () => {
  mocks.reset();
  await deploy("renamed", { ...snapshotArgs, nameSuffix: "contoso1" });
  const account = mocks.resources.find((r) => r.type === "azure-native:cosmosdb:DatabaseAccount")!;
  expect(account.inputs.accountName).toBe("renamed-cosmos-contoso1");
  for (const r of mocks.resources) expect(r.ignoreChanges).toEqual([]);
});

describe("names per subscription", () => {
  const otherSubscription = "0a1b2c3d-0000-4000-8000-0000000000ff";
  const deployIn = async (subscriptionId: string) => {
    mocks.reset();
    deployer.subscriptionId = subscriptionId;
    try {
      await deploy("receiver", { ...snapshotArgs, image: undefined, acrResourceId: undefined });
    } finally {
      deployer.subscriptionId = mockAzure.subscriptionId;
    }
    return snapshotOf(mocks.resources);
  };
  const globalNames = (snapshot: SnapshotEntry[]) =>
    snapshot
      .filter((r) =>
        ["cosmosdb:DatabaseAccount", "keyvault:Vault", "containerregistry:Registry"].some((t) =>
          r.type.endsWith(t),
        ),
      )
      .map((r) => r.physicalName);

  it("two subscriptions get different global names (Cosmos DB, Key Vault, registry) for the same project and stack", async () => {
    const here = globalNames(await deployIn(mockAzure.subscriptionId));
    const there = globalNames(await deployIn(otherSubscription));
    expect(here).toHaveLength(3);
    expect(there).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(there[i]).not.toBe(here[i]);
  });

  it("a stack keeps its names across runs (same subscription, project and stack)", async () => {
    expect(await deployIn(mockAzure.subscriptionId)).toEqual(await deployIn(mockAzure.subscriptionId));
  });

  it("treats the subscription id case-insensitively, as ARM does", () => {
    expect(subscriptionSuffix(mockAzure.subscriptionId.toUpperCase(), project, stack)).toBe(
      subscriptionSuffix(mockAzure.subscriptionId, project, stack),
    );
  });
});
