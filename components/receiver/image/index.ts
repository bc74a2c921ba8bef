/**
 * The receiver image as part of the deploy: `CloudImageBuild` builds app/ in Azure Container
 * Registry (ACR Tasks, no local Docker) under a tag that is the digest of the build context, so
 * unchanged code plans no build and no new revision, and changed code always plans both.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { StubbedDynamicResource } from "../../dynamic";
import { describeContext } from "./context";

export * from "./context";
export type { ImageBuildInputs, ImageBuildOutputs } from "./build-provider";

/** Type token of CloudImageBuild resources in state and in mocks. */
export const CLOUD_IMAGE_BUILD_TYPE = "pulumi-nodejs:dynamic/hookfleet:CloudImageBuild";

/** Project root: where Pulumi runs the program and starts the dynamic-provider host. */
export const PROJECT_ROOT = path.resolve(__dirname, "../../..");

/** The receiver's build context: the repository root with app/Dockerfile (see its .dockerignore). */
export const receiverBuildContext = { contextDir: ".", dockerfile: "app/Dockerfile" } as const;

export interface CloudImageBuildArgs {
  /** ARM id of the registry that builds and keeps the image. */
  registryId: pulumi.Input<string>;
  /** The registry's login server (`<name>.azurecr.io`). */
  loginServer: pulumi.Input<string>;
  /** Repository; default `hookfleet/receiver`. */
  repository?: string;
  /** Build context relative to the project root; default the receiver's (`.` with app/Dockerfile). */
  contextDir?: string;
  /** Dockerfile relative to the context; default `app/Dockerfile`. */
  dockerfile?: string;
  /** Longest build in seconds; default 1800. */
  timeoutSeconds?: number;
}

export class CloudImageBuild extends StubbedDynamicResource {
  /** `loginServer/repository:tag`, the tag being the context digest. */
  declare readonly imageName: pulumi.Output<string>;
  /** Manifest digest of the pushed image. */
  declare readonly digest: pulumi.Output<string>;
  /** The ACR run that built it. */
  declare readonly runId: pulumi.Output<string>;
  /** The registry's login server. */
  declare readonly loginServer: pulumi.Output<string>;
  /** The context-digest tag, known at program time (before any build). */
  readonly tag: string;
  /** The repository built into (the default applied), known at program time. */
  readonly repository: string;

  constructor(name: string, args: CloudImageBuildArgs, opts?: pulumi.CustomResourceOptions) {
    const contextDir = args.contextDir ?? receiverBuildContext.contextDir;
    const dockerfile = args.dockerfile ?? receiverBuildContext.dockerfile;
    const repository = args.repository ?? "hookfleet/receiver";
    // Read now, at every preview and up: the tag decides whether anything changes.
    const { tag } = describeContext({ contextDir: path.resolve(PROJECT_ROOT, contextDir), dockerfile });
    // Served by the provider named CloudImageBuild behind dynamic-providers.cjs (components/dynamic/registry.ts).
    super(
      "CloudImageBuild",
      "hookfleet",
      "CloudImageBuild",
      name,
      {
        registryId: args.registryId,
        loginServer: args.loginServer,
        repository,
        tag,
        contextDir,
        dockerfile,
        timeoutSeconds: args.timeoutSeconds ?? 1800,
        imageName: undefined,
        digest: undefined,
        runId: undefined,
      },
      opts,
    );
    this.tag = tag;
    this.repository = repository;
  }
}
