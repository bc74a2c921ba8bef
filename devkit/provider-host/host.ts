/**
 * The real dynamic-provider host that ships in `@pulumi/pulumi`, started and spoken to the way the
 * Pulumi engine does it: one process per deployment, gRPC with the stubs in `@pulumi/pulumi/proto`,
 * every property through `google.protobuf.Struct`. This is the plugin layer of the engine
 * (pulumi/pulumi `sdk/go/common/resource/plugin/provider_plugin.go`, `plugin.go`); the step rules on
 * top of it are in engine.ts.
 *
 * How the engine starts it (plugin.go newPlugin, provider_plugin.go NewProvider): the executable
 * `node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs` (a shell script running
 * `node $(node -e "require.resolve('@pulumi/pulumi/cmd/dynamic-provider')")`), working directory
 * = the project root, one argument = the engine's address, the CLI's environment plus
 * PULUMI_RUNTIME_<OPTION> for each runtime option of Pulumi.yaml, PULUMI_NODEJS_PROJECT,
 * PULUMI_PROJECT and PULUMI_CONFIG; it prints its port on stdout. The dynamic host never calls
 * the engine, so the address passed here is a placeholder. `node` is found on PATH: we put the
 * project's `node_modules/.bin` first, as `npm run` does, so the host runs on the pinned Node.
 *
 * What the host answers, read from `@pulumi/pulumi/cmd/dynamic-provider/index.js`: Handshake is
 * UNIMPLEMENTED (the engine then configures with Configure), Configure says `acceptSecrets: false`
 * and never `supportsPreview`, so the engine strips secrets before sending (values.ts) and never
 * calls Create/Update during a preview (engine.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { parse as parseYaml } from "yaml";
import { annotateSecrets, marshal, reveal, unmarshal, type EngineValue, type PropertyMap } from "./values";

/** Where this repository's project root is (devkit/provider-host → ../..). */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** The executable the engine starts for `pulumi-nodejs` resources (plugin.go IsDynamicProvider…). */
export const HOST_EXECUTABLE = "node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs";

export interface HostOptions {
  /** Project root: the host's working directory (default: this repository). */
  projectRoot?: string;
  /** Pulumi project name (default: `name` in Pulumi.yaml). */
  project?: string;
  /** Variables added to this process's environment for the host (e.g. HOOKFLEET_NOW). */
  env?: Record<string, string | undefined>;
  /** Called with each line the host writes to stderr (default: kept in `stderr` only). */
  onStderr?: (line: string) => void;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface DiffResult {
  /** DIFF_UNKNOWN (the provider has no diff, or did not say), DIFF_NONE or DIFF_SOME. */
  changes: "unknown" | "none" | "some";
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** Top-level properties that differ, as the provider named them (the CLI's diffReasons). */
  diffs: string[];
}

/** A gRPC failure of a provider method: the message the engine would print. */
export class ProviderError extends Error {
  constructor(
    readonly method: string,
    readonly urn: string,
    message: string,
  ) {
    super(`${method}(${urn}): ${message}`);
  }
}

/** What the engine takes from Pulumi.yaml here: the name, runtime options, `options.refresh`. */
export interface ProjectFile {
  name: string;
  /** Passed to plugins as PULUMI_RUNTIME_<OPTION> (provider_plugin.go NewProvider). */
  runtimeOptions: Record<string, unknown>;
  /** `options.refresh: always`: every update and preview refreshes first. */
  refreshAlways: boolean;
}

export function readProjectFile(projectRoot: string): ProjectFile {
  const doc = parseYaml(readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime?: string | { options?: Record<string, unknown> };
    options?: { refresh?: string };
  };
  const runtimeOptions = typeof doc.runtime === "object" ? (doc.runtime.options ?? {}) : {};
  return { name: doc.name, runtimeOptions, refreshAlways: doc.options?.refresh === "always" };
}

/** One running dynamic-provider host. Start it with `ProviderHost.start`, stop it with `close`. */
export class ProviderHost {
  /** Everything the host wrote to stderr (provider warnings land here: no engine to log to). */
  stderr = "";
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly client: ResourceProviderClient,
    readonly port: number,
  ) {}

  static async start(options: HostOptions = {}): Promise<ProviderHost> {
    const projectRoot = options.projectRoot ?? PROJECT_ROOT;
    const projectFile = readProjectFile(projectRoot);
    const project = options.project ?? projectFile.name;
    const runtimeEnv = Object.fromEntries(
      Object.entries(projectFile.runtimeOptions).map(([k, v]) => [
        `PULUMI_RUNTIME_${k.toUpperCase()}`,
        String(v),
      ]),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...runtimeEnv,
      PULUMI_NODEJS_PROJECT: project,
      PULUMI_PROJECT: project,
      // Config of the package's own namespace ("pulumi-nodejs:*"): none in this project.
      PULUMI_CONFIG: "{}",
      PATH: [path.join(projectRoot, "node_modules", ".bin"), process.env.PATH ?? ""].join(path.delimiter),
    };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(path.join(projectRoot, HOST_EXECUTABLE), ["127.0.0.1:0"], {
      cwd: projectRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: the launcher is a shell script whose `node` child must be stopped too
      // (plugin.go kills "all the children of the PID", cmdutil.InterruptChildren / KillChildren).
      detached: true,
    });
    let stderr = "";
    let partial = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      stderr += chunk;
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) options.onStderr?.(line);
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const onData = (chunk: Buffer) => {
        out += chunk.toString("utf8");
        const line = out.split("\n")[0];
        if (out.includes("\n")) {
          child.stdout!.off("data", onData);
          const n = Number(line.trim());
          if (Number.isInteger(n) && n > 0) resolve(n);
          else reject(new Error(`dynamic-provider host printed "${line}" instead of its port`));
        }
      };
      child.stdout!.on("data", onData);
      child.once("error", reject);
      child.once("exit", (code) =>
        reject(new Error(`dynamic-provider host exited (${code}) before printing its port:\n${stderr}`)),
      );
    });
    // Anything the host prints on stdout later is the provider's console.log: keep it visible.
    child.stdout!.on("data", (chunk: Buffer) => options.onStderr?.(chunk.toString("utf8").trimEnd()));
    const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const host = new ProviderHost(child, client, port);
    Object.defineProperty(host, "stderr", { get: () => stderr });
    return host;
  }

  private call<Res>(
    method: string,
    urn: string,
    invoke: (
      client: ResourceProviderClient,
      cb: (err: grpc.ServiceError | null, res: Res) => void,
    ) => unknown,
  ): Promise<Res> {
    if (this.closed) return Promise.reject(new Error(`${method}: the provider host was closed`));
    return new Promise((resolve, reject) => {
      invoke(this.client, (err, res) => {
        if (err) reject(new ProviderError(method, urn, err.details || err.message));
        else resolve(res);
      });
    });
  }

  /**
   * Configure with the stack config, as the engine configures the default `pulumi-nodejs` provider:
   * every key of the stack (`<namespace>:<key>`, dynamic providers get the full config,
   * deploy/target.go GetPackageConfig), string values, secrets as secrets (KeepSecrets: true).
   */
  async configure(config: PropertyMap): Promise<{ acceptSecrets: boolean; supportsPreview: boolean }> {
    const req = new proto.ConfigureRequest();
    // Configure is the one call the engine sends secrets to unconditionally; the host unwraps them.
    req.setArgs(structWithSecrets(config));
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    req.setType("pulumi:providers:pulumi-nodejs");
    req.setName("default");
    // The deprecated `variables`: `<provider package>:config:<key>`, secrets revealed (Configure).
    const variables = req.getVariablesMap();
    for (const [k, v] of Object.entries(config)) {
      const plain = reveal(v as EngineValue);
      variables.set(`pulumi-nodejs:config:${k}`, typeof plain === "string" ? plain : JSON.stringify(plain));
    }
    const res = await this.call<proto.ConfigureResponse>("Configure", "default", (c, cb) =>
      c.configure(req, cb),
    );
    return { acceptSecrets: res.getAcceptsecrets(), supportsPreview: res.getSupportspreview() };
  }

  /** provider_plugin.go Check: olds are the old *inputs* (empty map for a create). */
  async check(args: {
    urn: string;
    olds: PropertyMap;
    news: PropertyMap;
    allowUnknowns: boolean;
  }): Promise<{ inputs: PropertyMap; failures: CheckFailure[] }> {
    const req = new proto.CheckRequest();
    req.setUrn(args.urn);
    req.setName(nameOf(args.urn));
    req.setType(typeOf(args.urn));
    req.setOlds(marshal(args.olds, { keepUnknowns: args.allowUnknowns }));
    req.setNews(marshal(args.news, { keepUnknowns: args.allowUnknowns }));
    const res = await this.call<proto.CheckResponse>("Check", args.urn, (c, cb) => c.check(req, cb));
    const inputs = annotateSecrets(
      unmarshal(res.getInputs(), { allowUnknowns: args.allowUnknowns, label: `Check(${args.urn}).inputs` }),
      args.news,
    );
    const failures = res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
    return { inputs, failures };
  }

  /** provider_plugin.go Diff: olds are the old *outputs*, news the new checked inputs. */
  async diff(args: {
    urn: string;
    id: string;
    oldInputs: PropertyMap;
    olds: PropertyMap;
    news: PropertyMap;
    allowUnknowns: boolean;
  }): Promise<DiffResult> {
    const req = new proto.DiffRequest();
    req.setId(args.id);
    req.setUrn(args.urn);
    req.setName(nameOf(args.urn));
    req.setType(typeOf(args.urn));
    req.setOldInputs(marshal(args.oldInputs, { keepUnknowns: args.allowUnknowns }));
    req.setOlds(marshal(args.olds, { keepUnknowns: args.allowUnknowns }));
    req.setNews(marshal(args.news, { keepUnknowns: args.allowUnknowns }));
    const res = await this.call<proto.DiffResponse>("Diff", args.urn, (c, cb) => c.diff(req, cb));
    const changes = res.getChanges();
    return {
      changes:
        changes === proto.DiffResponse.DiffChanges.DIFF_SOME
          ? "some"
          : changes === proto.DiffResponse.DiffChanges.DIFF_NONE
            ? "none"
            : "unknown",
      replaces: res.getReplacesList(),
      deleteBeforeReplace: res.getDeletebeforereplace(),
      diffs: res.getDiffsList(),
    };
  }

  /** provider_plugin.go Create (not during previews: the host does not support them). */
  async create(args: { urn: string; props: PropertyMap }): Promise<{ id: string; outputs: PropertyMap }> {
    const req = new proto.CreateRequest();
    req.setUrn(args.urn);
    req.setName(nameOf(args.urn));
    req.setType(typeOf(args.urn));
    req.setProperties(marshal(args.props, { keepUnknowns: false }));
    const res = await this.call<proto.CreateResponse>("Create", args.urn, (c, cb) => c.create(req, cb));
    if (!res.getId())
      throw new ProviderError("Create", args.urn, "plugin returned empty resource.ID from create");
    const outputs = annotateSecrets(
      unmarshal(res.getProperties(), { allowUnknowns: false, label: `Create(${args.urn}).outputs` }),
      args.props,
    );
    return { id: res.getId(), outputs };
  }

  /**
   * provider_plugin.go Read (refresh): `inputs` and `state` are the old inputs and outputs from
   * state. An empty id back means the resource is gone.
   */
  async read(args: {
    urn: string;
    id: string;
    inputs: PropertyMap;
    state: PropertyMap;
  }): Promise<{ id: string; outputs: PropertyMap; inputs?: PropertyMap }> {
    const req = new proto.ReadRequest();
    req.setId(args.id);
    req.setUrn(args.urn);
    req.setName(nameOf(args.urn));
    req.setType(typeOf(args.urn));
    req.setProperties(marshal(args.state, { keepUnknowns: false }));
    req.setInputs(marshal(args.inputs, { keepUnknowns: false }));
    const res = await this.call<proto.ReadResponse>("Read", args.urn, (c, cb) => c.read(req, cb));
    const outputs = annotateSecrets(
      unmarshal(res.getProperties(), { allowUnknowns: false, label: `Read(${args.urn}).outputs` }),
      args.state,
    );
    const liveInputs = res.getInputs();
    const inputs = liveInputs
      ? annotateSecrets(
          unmarshal(liveInputs, { allowUnknowns: false, label: `Read(${args.urn}).inputs` }),
          args.inputs,
        )
      : undefined;
    return { id: res.getId(), outputs, inputs };
  }

  /** provider_plugin.go Update (not during previews): olds are the old outputs. */
  async update(args: {
    urn: string;
    id: string;
    oldInputs: PropertyMap;
    olds: PropertyMap;
    news: PropertyMap;
  }): Promise<{ outputs: PropertyMap }> {
    const req = new proto.UpdateRequest();
    req.setId(args.id);
    req.setUrn(args.urn);
    req.setName(nameOf(args.urn));
    req.setType(typeOf(args.urn));
    req.setOlds(marshal(args.olds, { keepUnknowns: false }));
    req.setNews(marshal(args.news, { keepUnknowns: false }));
    req.setOldInputs(marshal(args.oldInputs, { keepUnknowns: false }));
    const res = await this.call<proto.UpdateResponse>("Update", args.urn, (c, cb) => c.update(req, cb));
    const outputs = annotateSecrets(
      unmarshal(res.getProperties(), { allowUnknowns: false, label: `Update(${args.urn}).outputs` }),
      args.news,
    );
    return { outputs };
  }

  /** provider_plugin.go Delete: `outputs` are the outputs from state (their `__provider` is used). */
  async delete(args: { urn: string; id: string; inputs: PropertyMap; outputs: PropertyMap }): Promise<void> {
    const req = new proto.DeleteRequest();
    req.setId(args.id);
    req.setUrn(args.urn);
    req.setName(nameOf(args.urn));
    req.setType(typeOf(args.urn));
    req.setProperties(marshal(args.outputs, { keepUnknowns: false }));
    req.setOldInputs(marshal(args.inputs, { keepUnknowns: false }));
    await this.call<unknown>("Delete", args.urn, (c, cb) => c.delete(req, cb));
  }

  /**
   * Stops the host as the engine does at the end of a deployment (plugin.go Kill): interrupt the
   * launcher and its children, and kill them if they are still there after 5 seconds.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    };
    signalGroup("SIGINT");
    const timer = setTimeout(() => signalGroup("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    // The launcher may exit before its node child: make sure the group is gone.
    signalGroup("SIGKILL");
  }
}

/** A Struct whose secrets keep the engine's wire encoding (Configure's KeepSecrets: true). */
function structWithSecrets(props: PropertyMap): Struct {
  // An engine value is JSON with secrets as sig objects: exactly what Configure sends.
  return Struct.fromJavaScript(props as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → name. */
export function nameOf(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → type. */
export function typeOf(urn: string): string {
  return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}
