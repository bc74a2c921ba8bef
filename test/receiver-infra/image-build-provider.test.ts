/**
 * The cloud image build's provider, for real over HTTP against a local stand-in of the ARM and blob
 * endpoints it uses (test/support/arm-stand-in.ts): what it uploads (read back with GNU tar), the
 * DockerBuildRequest it schedules, how it follows the run, and what it reports when a build fails.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ArmClient } from "../../components/receiver/arm";
import { createImageBuildProvider } from "../../components/receiver/image/build-provider";
import { contextFiles, describeContext } from "../../components/receiver/image/context";
import { startArmStandIn, type ArmStandIn } from "../support/arm-stand-in";

const repoRoot = path.resolve(__dirname, "../..");
const registryId =
  "/subscriptions/5b0c1e3a-0000-4000-8000-00000000a5b5/resourceGroups/receiver-rg/providers/Microsoft.ContainerRegistry/registries/receiveracr1";
const { tag } = describeContext({ contextDir: repoRoot, dockerfile: "app/Dockerfile" });
const inputs = {
  registryId,
  loginServer: "receiveracr1.azurecr.io",
  repository: "hookfleet/receiver",
  tag,
  contextDir: ".",
  dockerfile: "app/Dockerfile",
  timeoutSeconds: 1800,
};

let arm: ArmStandIn;
afterEach(async () => arm?.close());

const providerFor = (standIn: ArmStandIn) =>
  createImageBuildProvider({
    arm: new ArmClient({ endpoint: standIn.endpoint, credential: standIn.credential }),
    projectRoot: repoRoot,
    pollIntervalMs: 5,
  });

it("uploads the context, schedules a linux/amd64 Docker build of it, follows the run and reports the digest", async () => {
  arm = await startArmStandIn({ digest: `sha256:${"e".repeat(64)}` });
  const { id, outs } = await providerFor(arm).create(inputs);

  expect(outs).toMatchObject({
    imageName: `receiveracr1.azurecr.io/hookfleet/receiver:${tag}`,
    digest: `sha256:${"e".repeat(64)}`,
    runId: "ca1",
  });
  expect(id).toBe(`receiveracr1.azurecr.io/hookfleet/receiver:${tag}@sha256:${"e".repeat(64)}`);

  // The uploaded blob is exactly the build context.
  const [blobPath, blob] = [...arm.blobs][0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-upload-"));
  try {
    fs.writeFileSync(path.join(dir, "c.tgz"), blob);
    const listed = execFileSync("tar", ["-tzf", path.join(dir, "c.tgz")], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(listed).toEqual(
      contextFiles({ contextDir: repoRoot, dockerfile: "app/Dockerfile" }).map((f) => f.path),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const schedule = arm.requests.find((r) => r.path.endsWith("/scheduleRun"))!;
  expect(schedule.path).toBe(`${registryId}/scheduleRun`);
  expect(schedule.query.get("api-version")).toBe("2019-06-01-preview");
  expect(JSON.parse(schedule.body.toString())).toEqual({
    type: "DockerBuildRequest",
    imageNames: [`hookfleet/receiver:${tag}`],
    isPushEnabled: true,
    noCache: false,
    dockerFilePath: "app/Dockerfile",
    sourceLocation: blobPath.replace(/^\/blob\//, ""),
    platform: { os: "Linux", architecture: "amd64" },
    timeout: 1800,
  });
  expect(arm.requests.filter((r) => r.path.endsWith("/runs/ca1")).length).toBe(3); // Queued, Running, Succeeded
  for (const r of arm.requests.filter((r) => !r.path.startsWith("/blob/")))
    expect(r.headers.authorization).toBe("Bearer stand-in-token");
});

it("follows a scheduleRun answered 202 (a long-running operation) to the Run at its Location", async () => {
  arm = await startArmStandIn({ scheduleRun: "accepted", runStatuses: ["Succeeded"] });
  const { outs } = await providerFor(arm).create(inputs);
  expect(outs).toMatchObject({ runId: "ca1", digest: `sha256:${"d".repeat(64)}` });
  const paths = arm.requests.filter((r) => !r.path.startsWith("/blob/")).map((r) => r.path);
  expect(paths).toEqual([
    `${registryId}/listBuildSourceUploadUrl`,
    `${registryId}/scheduleRun`,
    `${registryId}/scheduleRunResults/op1`,
    `${registryId}/scheduleRunResults/op1`,
    `${registryId}/runs/ca1`,
  ]);
});

it("says what to do when the subscription may not run ACR Tasks (free trial: TasksOperationsNotAllowed)", async () => {
  arm = await startArmStandIn({ scheduleRun: "tasksNotAllowed" });
  const failure = providerFor(arm).create(inputs);
  await expect(failure).rejects.toThrow(/ACR Tasks \(the cloud build\) is not allowed for receiveracr1/);
  await expect(failure).rejects.toThrow(/set hookfleet:image/);
  expect(arm.requests.filter((r) => r.path.endsWith("/scheduleRun"))).toHaveLength(1);
});

it("fails with the run's error and the command that shows its logs", async () => {
  arm = await startArmStandIn({ runStatuses: ["Running", "Failed"] });
  await expect(providerFor(arm).create(inputs)).rejects.toThrow(
    /ACR build run ca1 ended Failed: failed to build: step 4\/9 exited 1\. Logs: az acr task logs --registry receiveracr1 --run-id ca1/,
  );
});

it("refuses to build files other than those the program planned (context edited mid-deploy)", async () => {
  arm = await startArmStandIn();
  await expect(
    providerFor(arm).create({ ...inputs, tag: "src-00000000000000000000000000000000" }),
  ).rejects.toThrow(/build context changed during the deploy/);
  expect(arm.requests).toEqual([]);
});

it("plans a build only when the tag, registry or build settings change", async () => {
  arm = await startArmStandIn();
  const provider = providerFor(arm);
  const olds = { ...inputs, imageName: "x", digest: "sha256:1", runId: "ca1" };
  expect((await provider.diff!("id", olds, inputs)).changes).toBe(false);
  expect((await provider.diff!("id", olds, { ...inputs, tag: "src-1" })).changes).toBe(true);
  expect((await provider.diff!("id", olds, { ...inputs, tag: "src-1" })).replaces).toEqual([]);
});

it("surfaces ARM's error (code and message) when the deployer's token is refused", async () => {
  arm = await startArmStandIn();
  const provider = createImageBuildProvider({
    arm: new ArmClient({
      endpoint: arm.endpoint,
      credential: {
        getToken: async () => ({ token: "expired", expiresOnTimestamp: Date.now() + 3_600_000 }),
      },
    }),
    projectRoot: repoRoot,
  });
  await expect(provider.create(inputs)).rejects.toThrow(/ARM 401 InvalidAuthenticationToken/);
});
