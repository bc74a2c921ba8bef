/**
 * The cloud image build's dynamic-provider implementation: `az acr build` over ARM, with no Docker
 * engine on the deployer's machine. Loaded at run time by the shim in ./index.ts (nothing here is
 * serialized into state); reaches ARM as the deployer (DefaultAzureCredential) at run time.
 *
 * Create/update: pack the context (./context.ts) → get an upload URL → upload the tarball → schedule
 * a Docker build run → poll the run to its end → outputs: the image reference and its manifest
 * digest. Read: state as is (a pushed image stays). Delete: nothing (the images belong to the
 * registry; deleting the registry deletes them).
 *
 * ARM operations (Azure Container Registry REST API, api-version 2019-06-01-preview, the version
 * @pulumi/azure-native v3 uses for these operations: containerregistry/listRegistryBuildSourceUploadUrl,
 * TaskRun):
 *   POST {registryId}/listBuildSourceUploadUrl → {uploadUrl, relativePath}   ("Registries - Get Build Source Upload Url")
 *   PUT  {uploadUrl}, header x-ms-blob-type: BlockBlob                       (Blob service "Put Blob"; the URL carries a SAS)
 *   POST {registryId}/scheduleRun, a DockerBuildRequest → Run (or 202 + Location: a long-running operation) ("Registries - Schedule Run")
 *   GET  {registryId}/runs/{runId} → Run {status, outputImages[{digest}]}     ("Runs - Get")
 */
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { ArmClient, ArmError, retryDelayMs, sleep } from "../arm";
import { contextDigest, contextFiles, contextTag, tarGz } from "./context";
import { completeProvider } from "../../dynamic/complete";

export const ACR_BUILD_API_VERSION = "2019-06-01-preview";

/** Inputs of a CloudImageBuild (all plain strings and numbers: they are stored in state). */
export interface ImageBuildInputs {
  /** ARM id of the registry that builds and stores the image. */
  registryId: string;
  /** Its login server, e.g. `hookfleetacr.azurecr.io`. */
  loginServer: string;
  /** Repository in the registry, e.g. `hookfleet/receiver`. */
  repository: string;
  /** Tag: the context digest tag the program computed (./context.ts contextTag). */
  tag: string;
  /** Build context, relative to the project root. */
  contextDir: string;
  /** Dockerfile, relative to the context. */
  dockerfile: string;
  /** Longest build, seconds (ACR's run timeout). */
  timeoutSeconds: number;
}

export interface ImageBuildOutputs extends ImageBuildInputs {
  /** `loginServer/repository:tag`. */
  imageName: string;
  /** Manifest digest of the pushed image (`sha256:…`). */
  digest: string;
  /** The ACR run that built it (for `az acr task logs --run-id`). */
  runId: string;
}

/** Polls of a 202 answer to scheduleRun before giving up (each at most the poll interval apart). */
const MAX_SCHEDULE_POLLS = 60;

/**
 * ACR refuses every ACR Tasks run on some subscriptions, Azure free trial and free-credit ones among
 * them, with 400 `TasksOperationsNotAllowed` ("ACR Tasks requests for the registry … are not
 * permitted"): not documented as a rule, but reported against `az acr build` and `azd` alike
 * (Azure-Samples/azure-search-openai-demo#2220 and #2592, whose maintainer names free trial accounts;
 * MicrosoftLearning/AZ-204-DevelopingSolutionsforMicrosoftAzure#855). No retry helps: say what does.
 */
function tasksNotAllowed(err: unknown, registry: string): Error | undefined {
  if (!(err instanceof ArmError) || err.code !== "TasksOperationsNotAllowed") return undefined;
  return new Error(
    `ACR Tasks (the cloud build) is not allowed for ${registry.split("/").pop()} in this subscription ` +
      `(${err.message}). Azure free trial and free-credit subscriptions cannot run ACR Tasks. Build the ` +
      "image elsewhere (CI: scripts/ci-build-image.sh in a subscription that allows ACR Tasks, or " +
      "`docker build -f app/Dockerfile .` and `docker push`), then set hookfleet:image (and " +
      'hookfleet:acrResourceId for a private registry); docs/receiver-infra.md, "The image".',
  );
}

/** Run states that end a run ("Runs - Get": RunStatus). Anything else is still going. */
const FAILED_STATES = new Set(["failed", "canceled", "error", "timeout"]);

interface Run {
  properties?: {
    runId?: string;
    status?: string;
    runErrorMessage?: string;
    outputImages?: { registry?: string; repository?: string; tag?: string; digest?: string }[];
  };
}

export interface ImageBuildDeps {
  /** ARM client; default one from the environment (HOOKFLEET_ARM_ENDPOINT, DefaultAzureCredential). */
  arm?: ArmClient;
  /** Project root the context is resolved against; default HOOKFLEET_PROJECT_ROOT, else the working directory (the provider host runs there). */
  projectRoot?: string;
  /** Between two polls of the run; default 5000 ms. */
  pollIntervalMs?: number;
}

/** Validates the inputs (check). */
export function checkImageBuildInputs(news: Record<string, unknown>): string[] {
  const failures: string[] = [];
  for (const key of ["registryId", "loginServer", "repository", "tag", "contextDir", "dockerfile"]) {
    if (typeof news[key] !== "string" || news[key] === "") failures.push(`${key} must be a non-empty string`);
  }
  if (typeof news.tag === "string" && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(news.tag))
    failures.push(`tag "${news.tag}" is not a valid image tag`);
  if (typeof news.timeoutSeconds !== "number" || news.timeoutSeconds < 300 || news.timeoutSeconds > 28800)
    failures.push("timeoutSeconds must be between 300 and 28800 (ACR's run timeout bounds)");
  return failures;
}

export function createImageBuildProvider(deps: ImageBuildDeps = {}): pulumi.dynamic.ResourceProvider {
  const arm = () => deps.arm ?? (deps.arm = new ArmClient());
  const pollMs = deps.pollIntervalMs ?? 5000;

  /**
   * "Registries - Schedule Run" is a long-running operation (Azure/azure-rest-api-specs,
   * containerregistry_build.json 2019-06-01-preview: x-ms-long-running-operation, responses 200 with
   * the Run or 202 with no body; examples/RegistriesScheduleRun.json shows both). On 202 the Run is
   * what the `Location` header's URL answers once it stops answering 202 (ARM's asynchronous POST
   * contract), which is what `az acr build`'s SDK poller waits for.
   */
  async function scheduleRun(registry: string, request: Record<string, unknown>) {
    let res;
    try {
      res = await arm().request<Run>({
        method: "POST",
        path: `${registry}/scheduleRun`,
        apiVersion: ACR_BUILD_API_VERSION,
        body: request,
      });
    } catch (err) {
      throw tasksNotAllowed(err, registry) ?? err;
    }
    const location = res.headers.get("location");
    for (let polls = 0; res.status === 202 && location; polls++) {
      if (polls >= MAX_SCHEDULE_POLLS)
        throw new Error(`${registry}/scheduleRun still accepted but not scheduled after ${polls} polls`);
      await sleep(retryDelayMs(res.headers.get("retry-after"), 1, pollMs));
      res = await arm().request<Run>({ path: location, apiVersion: ACR_BUILD_API_VERSION });
    }
    return res;
  }

  async function build(inputs: ImageBuildInputs): Promise<ImageBuildOutputs> {
    const root = deps.projectRoot ?? process.env.HOOKFLEET_PROJECT_ROOT ?? process.cwd();
    const spec = { contextDir: path.resolve(root, inputs.contextDir), dockerfile: inputs.dockerfile };
    const files = contextFiles(spec);
    const tag = contextTag(contextDigest(files, inputs.dockerfile));
    if (tag !== inputs.tag) {
      // The program read the files at the start of this run; someone edited them since.
      throw new Error(
        `the build context changed during the deploy (program saw ${inputs.tag}, now ${tag}): run the deploy again`,
      );
    }
    const registry = inputs.registryId.replace(/\/+$/, "");
    const upload = (
      await arm().request<{ uploadUrl?: string; relativePath?: string }>({
        method: "POST",
        path: `${registry}/listBuildSourceUploadUrl`,
        apiVersion: ACR_BUILD_API_VERSION,
      })
    ).body;
    if (!upload?.uploadUrl || !upload.relativePath) throw new Error(`no upload URL from ${registry}`);
    const put = await fetch(upload.uploadUrl, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "application/octet-stream" },
      body: new Uint8Array(tarGz(files)),
    });
    if (!put.ok)
      throw new Error(`uploading the build context failed: HTTP ${put.status} ${await put.text()}`);

    const scheduled = await scheduleRun(registry, {
      type: "DockerBuildRequest",
      imageNames: [`${inputs.repository}:${inputs.tag}`],
      isPushEnabled: true,
      noCache: false,
      dockerFilePath: inputs.dockerfile,
      sourceLocation: upload.relativePath,
      // Container Apps runs linux/amd64 images.
      platform: { os: "Linux", architecture: "amd64" },
      timeout: inputs.timeoutSeconds,
    });
    const runId = scheduled.body?.properties?.runId;
    if (!runId) throw new Error(`${registry}/scheduleRun answered HTTP ${scheduled.status} without a run id`);

    const registryName = registry.split("/").pop();
    const logs = `az acr task logs --registry ${registryName} --run-id ${runId}`;
    // Bounded: ACR stops the run at its timeout; a few minutes more for queueing and the push.
    const deadline = Date.now() + (inputs.timeoutSeconds + 600) * 1000;
    for (;;) {
      const run = (
        await arm().request<Run>({ path: `${registry}/runs/${runId}`, apiVersion: ACR_BUILD_API_VERSION })
      ).body;
      const status = (run?.properties?.status ?? "").toLowerCase();
      if (status === "succeeded") {
        const image = run?.properties?.outputImages?.find(
          (i) => i.repository === inputs.repository && i.tag === inputs.tag,
        );
        if (!image?.digest)
          throw new Error(`ACR run ${runId} succeeded but reports no digest for the image (${logs})`);
        return {
          ...inputs,
          imageName: `${inputs.loginServer}/${inputs.repository}:${inputs.tag}`,
          digest: image.digest,
          runId,
        };
      }
      if (FAILED_STATES.has(status)) {
        const reason = run?.properties?.runErrorMessage ? `: ${run.properties.runErrorMessage}` : "";
        throw new Error(`ACR build run ${runId} ended ${run?.properties?.status}${reason}. Logs: ${logs}`);
      }
      if (Date.now() > deadline)
        throw new Error(
          `ACR build run ${runId} still ${status || "pending"} after its timeout. Logs: ${logs}`,
        );
      await sleep(pollMs);
    }
  }

  const inputsOf = (props: Record<string, unknown>): ImageBuildInputs => ({
    registryId: String(props.registryId),
    loginServer: String(props.loginServer),
    repository: String(props.repository),
    tag: String(props.tag),
    contextDir: String(props.contextDir),
    dockerfile: String(props.dockerfile),
    timeoutSeconds: Number(props.timeoutSeconds),
  });
  const keys: (keyof ImageBuildInputs)[] = [
    "registryId",
    "loginServer",
    "repository",
    "tag",
    "contextDir",
    "dockerfile",
    "timeoutSeconds",
  ];

  return {
    async check(_olds: unknown, news: Record<string, unknown>) {
      const failures = checkImageBuildInputs(news).map((reason) => ({ property: "", reason }));
      return { inputs: news, failures };
    },
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      const changed = keys.filter((k) => olds[k] !== news[k]);
      // A new tag or registry is a new build: an update, since nothing physical is replaced.
      return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async create(props: Record<string, unknown>) {
      const outs = await build(inputsOf(props));
      return { id: `${outs.imageName}@${outs.digest}`, outs };
    },
    async update(_id: string, _olds: Record<string, unknown>, news: Record<string, unknown>) {
      return { outs: await build(inputsOf(news)) };
    },
    async read(id: string, props: Record<string, unknown>) {
      return { id, props };
    },
    async delete() {
      // Nothing to do: see the module comment.
    },
  } as pulumi.dynamic.ResourceProvider;
}

/** What the shim loads (a fresh provider per provider-host process). */
export const imageBuildProvider = () => completeProvider(createImageBuildProvider());
