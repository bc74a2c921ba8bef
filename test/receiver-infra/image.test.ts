/**
 * The image is part of the deploy (under mocks): with no image configured the stack plans its own
 * registry (admin user off), a cloud build of app/ tagged with the context digest, AcrPull for the
 * identity, and a Container App and heal job that run exactly the built digest. Unchanged code plans
 * the same image (no revision); changed code a new one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CLOUD_IMAGE_BUILD_TYPE,
  azureRoleIds,
  describeContext,
  receiverBuildContext,
} from "../../components/receiver";
import { PROJECT_ROOT } from "../../components/receiver/image";
import { mockAzure, type RecordedResource } from "../support/pulumi-mocks";
import { deploy, mocks, type Deployment } from "./deploy";

const healJob = { cronExpression: "0 * * * *", organizations: [{ url: "https://dev.azure.com/contoso" }] };
const buildOf = (d: Deployment) => d.children.find((r) => r.type === CLOUD_IMAGE_BUILD_TYPE)!;
const imageOf = (r: RecordedResource): string => r.inputs.template.containers[0].image;

describe("no image configured: own registry, cloud build, the app runs the built digest", () => {
  let d: Deployment;
  let registry: RecordedResource;
  let build: RecordedResource;
  beforeAll(async () => {
    mocks.reset();
    d = await deploy("receiver", { healJob });
    registry = d.one("containerregistry:Registry");
    build = buildOf(d);
  });

  it("owns a registry with the admin user and anonymous pull off", () => {
    expect(registry.inputs.adminUserEnabled).toBe(false);
    expect(registry.inputs.anonymousPullEnabled).toBe(false);
    expect(registry.inputs.registryName).toMatch(/^[a-z0-9]{5,50}$/);
    expect(registry.inputs.resourceGroupName).toBe(d.one("resources:ResourceGroup").inputs.resourceGroupName);
  });

  it("builds app/ in that registry, tagged with the digest of the build context", () => {
    const { tag } = describeContext({
      contextDir: path.resolve(PROJECT_ROOT, receiverBuildContext.contextDir),
      dockerfile: receiverBuildContext.dockerfile,
    });
    expect(build.inputs).toMatchObject({
      registryId: registry.id,
      loginServer: registry.state.loginServer,
      repository: "hookfleet/receiver",
      tag,
      contextDir: ".",
      dockerfile: "app/Dockerfile",
    });
    expect(tag).toMatch(/^src-[0-9a-f]{32}$/);
  });

  it("grants the identity AcrPull (the verified role id) on that registry, and nothing more", () => {
    const pull = d.all("authorization:RoleAssignment").find((r) => r.inputs.scope === registry.id)!;
    expect(pull.inputs.roleDefinitionId).toBe(
      `/subscriptions/${mockAzure.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${azureRoleIds.acrPull}`,
    );
    expect(pull.inputs.principalId).toBe(d.one("managedidentity:UserAssignedIdentity").state.principalId);
    expect(pull.inputs.principalType).toBe("ServicePrincipal");
  });

  it("runs the app and the heal job on <loginServer>/<repository>@<built digest>, pulled as the identity", () => {
    const expected = `${registry.state.loginServer}/hookfleet/receiver@${build.state.digest}`;
    expect(String(build.state.digest)).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const r of [d.one("app:ContainerApp"), d.one("app:Job")]) {
      expect(imageOf(r)).toBe(expected);
      expect(r.inputs.configuration.registries).toEqual([
        { server: registry.state.loginServer, identity: d.one("managedidentity:UserAssignedIdentity").id },
      ]);
      expect(r.dependencies).toContain(build.urn);
    }
  });

  it("publishes the image", async () => {
    const { outputValue } = await import("../support/pulumi-mocks");
    expect(await outputValue(d.infra.image)).toBe(imageOf(d.one("app:ContainerApp")));
  });
});

describe("the tag follows the code", () => {
  let context: string;
  beforeAll(() => {
    // A copy of the real context (what .dockerignore lets through, plus .dockerignore).
    context = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-context-"));
    for (const rel of [
      ".dockerignore",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
    ])
      fs.copyFileSync(path.join(PROJECT_ROOT, rel), path.join(context, rel));
    for (const dir of ["app", "ado"])
      fs.cpSync(path.join(PROJECT_ROOT, dir), path.join(context, dir), { recursive: true });
  });
  afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

  const appImage = async () => {
    mocks.reset();
    const d = await deploy("receiver", { imageBuild: { contextDir: context } });
    return { image: imageOf(d.one("app:ContainerApp")), tag: buildOf(d).inputs.tag as string };
  };

  it("unchanged code plans the same image (no new revision), a file outside the image changes nothing", async () => {
    const first = await appImage();
    fs.writeFileSync(path.join(context, "README.md"), "docs are not in the image\n");
    fs.mkdirSync(path.join(context, "app", "fixtures"), { recursive: true });
    fs.writeFileSync(path.join(context, "app", "server.test.ts"), "// tests are excluded by .dockerignore\n");
    expect(await appImage()).toEqual(first);
  });

  it("changed code plans a new tag, a new build and a new image (a new revision)", async () => {
    const before = await appImage();
    fs.appendFileSync(path.join(context, "app", "main.ts"), "\n// a change that ships\n");
    const after = await appImage();
    expect(after.tag).not.toBe(before.tag);
    expect(after.image).not.toBe(before.image);
  });
});

describe("a named registry", () => {
  const acrResourceId = `/subscriptions/${mockAzure.subscriptionId}/resourceGroups/shared-rg/providers/Microsoft.ContainerRegistry/registries/contosoacr`;

  it("without image: builds into it (no registry of its own) and pulls from it as the identity", async () => {
    mocks.reset();
    const d = await deploy("receiver", { acrResourceId });
    expect(d.all("containerregistry:Registry")).toHaveLength(0);
    const build = buildOf(d);
    expect(build.inputs.registryId).toBe(acrResourceId);
    expect(build.inputs.loginServer).toBe("contosoacr.azurecr.io");
    expect(imageOf(d.one("app:ContainerApp"))).toBe(
      `contosoacr.azurecr.io/hookfleet/receiver@${build.state.digest}`,
    );
    expect(
      d.all("authorization:RoleAssignment").filter((r) => r.inputs.scope === acrResourceId),
    ).toHaveLength(1);
  });

  it("with a prebuilt image (promoted by digest): runs it as given, builds nothing", async () => {
    mocks.reset();
    const image = `contosoacr.azurecr.io/hookfleet/receiver@sha256:${"c".repeat(64)}`;
    const d = await deploy("receiver", { image, acrResourceId });
    expect(d.children.filter((r) => r.type === CLOUD_IMAGE_BUILD_TYPE)).toHaveLength(0);
    expect(d.all("containerregistry:Registry")).toHaveLength(0);
    expect(imageOf(d.one("app:ContainerApp"))).toBe(image);
  });

  it("refuses build settings together with a prebuilt image", async () => {
    mocks.reset();
    await expect(
      deploy("receiver", { image: "x.azurecr.io/r:1", imageBuild: { timeoutSeconds: 900 } }),
    ).rejects.toThrow(/imageBuild applies only without image/);
  });
});
