/**
 * A small model of the Pulumi engine for programs that run under `pulumi.runtime.setMocks`: the
 * program registers resources as it would with the CLI, and every *dynamic* resource is stepped
 * the way the engine steps it, against the real dynamic-provider host (host.ts) over gRPC.
 *
 * The step rules modelled (pulumi/pulumi `pkg/resource/deploy/step_generator.go`, `step.go`,
 * `step_executor.go`, `sdk/go/common/resource/plugin/provider_plugin.go`):
 * - Check runs for every registration with the old *inputs* (none for a create); its result is
 *   what is stored as inputs. Failures fail the step.
 * - Diff gets the old *outputs* and the new checked inputs. DIFF_UNKNOWN (no diff method, or no
 *   answer) falls back to comparing old and new inputs. Some + replace keys → replace
 *   (delete-before-replace when the provider or the resource option asks), some → update,
 *   none → same.
 * - A *same* step keeps the old outputs, `__provider` included, and stores the new inputs
 *   (SameStep.Apply). So the provider text in an unchanged resource's outputs is the one written
 *   when it was last created or updated, and refresh (Read) and delete use exactly that.
 * - Previews send unknowns to Check and Diff; the host does not support previews, so the engine
 *   never calls Create or Update then: it takes the checked inputs as the outputs
 *   (provider_plugin.go Create/Update with `!supportsPreview`), and every output that is not an
 *   input is unknown to the program (the SDK resolves an absent output as unknown in a preview).
 * - Outputs named in `additionalSecretOutputs`, and outputs whose same-named input is secret,
 *   are stored as secrets (step_executor.go); the plugin layer already marked outputs whose
 *   input was secret (annotateSecrets).
 * - Refresh reads every resource in state with its stored inputs and outputs; an empty id drops it.
 * - Resources the program no longer registers are deleted at the end, with their stored outputs.
 * - One host process per command (`pulumi preview` and `pulumi up` are two); it is configured
 *   once with the stack config, secrets as secrets.
 *
 * Not modelled: dependency-ordered deletes and replacements (every step of a run starts as soon as
 * the program registers it, as the engine does for independent resources), targets, protect,
 * ignoreChanges, import, aliases, and resources of other providers (components, azure-native:
 * they get the plain mock answer, id `<name>-id` and outputs = inputs).
 *
 * Usage (one `Engine` per stack; each run needs a fresh program module and @pulumi/pulumi, e.g.
 * inside `jest.isolateModulesAsync`, since a Pulumi program registers its resources when loaded):
 *
 *   const engine = new Engine({ stack: "dev", config: { "hookfleet:adoPat": pat }, secretKeys: ["hookfleet:adoPat"] });
 *   const run = await engine.up(() => require("../../index"));      // run.changes.create, run.outputs
 *   const preview = await engine.preview(program, { refresh: true }); // nothing is stored
 *   await engine.refresh(); await engine.destroy();
 *   engine.resources(); engine.checkpoint();                         // state as the engine stores it
 */
import type * as pulumiType from "@pulumi/pulumi";
import * as pulumi from "@pulumi/pulumi";
import * as outputModule from "@pulumi/pulumi/output";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import {
  deserializeProperties,
  serializeProperties,
  type SecretEncoding,
  type StoredResource,
} from "./checkpoint";
import { ProviderHost, readProjectFile, PROJECT_ROOT, type DiffResult } from "./host";
import {
  isSecret,
  SECRET_SIG,
  SIG_KEY,
  sameValue,
  secret,
  UNKNOWN,
  type EngineValue,
  type PropertyMap,
} from "./values";

/** Type tokens of resources the dynamic-provider host serves (the `pulumi-nodejs` package). */
const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";

/** A resource in the model's state: what the checkpoint holds, with secrets as engine values. */
export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  id: string;
  parent?: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  additionalSecretOutputs: string[];
}

export type StepOp = "create" | "update" | "replace" | "same" | "delete" | "refresh" | "gone";

export interface Step {
  op: StepOp;
  urn: string;
  type: string;
  name: string;
  /** The provider's diff, when one was asked for. */
  diff?: DiffResult;
  /**
   * For an update, replace or delete: the resource as the run found it (after refresh), as the
   * CLI's preview JSON gives `oldState` (what a drift report reads the live status from).
   */
  old?: ResourceState;
}

/** What one command did. */
export interface Deployment<T = unknown> {
  command: "preview" | "up" | "refresh" | "destroy";
  steps: Step[];
  /** Steps per operation (what `changeSummary` would say, "same" and "refresh" included). */
  changes: Record<StepOp, number>;
  /** The program's return value, Outputs resolved; an unknown (previews) is the UNKNOWN sentinel. */
  outputs: T;
  /** What the host wrote to stderr during the command (provider warnings end up there). */
  hostOutput: string;
  /** The state the command leaves (a preview's is what it planned: nothing is stored). */
  resources: ResourceState[];
}

/** A step is one of these; a helper for tests: steps of one op, by resource name. */
export function stepsOf(run: Deployment, op: StepOp, type?: string): string[] {
  return run.steps.filter((s) => s.op === op && (!type || s.type === type)).map((s) => s.name);
}

export interface EngineOptions {
  /** Project root: where the host runs (default: this repository). */
  projectRoot?: string;
  /** Project name (default: Pulumi.yaml `name`). */
  project?: string;
  stack?: string;
  /** Stack config, full keys (`hookfleet:organizations`), string values as the CLI holds them. */
  config?: Record<string, string>;
  /** Keys of `config` that are secrets (`pulumi config set --secret`). */
  secretKeys?: string[];
  /** Variables for the host process on top of this process's environment (e.g. HOOKFLEET_NOW). */
  hostEnv?: Record<string, string | undefined>;
  /** Refresh before every `up`/`preview` (default: Pulumi.yaml `options.refresh: always`). */
  refreshAlways?: boolean;
  /** Every line the host prints (default: collected in `Deployment.hostOutput` only). */
  onHostOutput?: (line: string) => void;
  /** Initial state (e.g. a fixture), as `resources()` or a checkpoint's resources. */
  state?: ResourceState[];
  /**
   * Answers registrations of resources the host does not serve (components, azure-native, test
   * doubles), e.g. to apply a receiver's new credentials when its revision "deploys", before the
   * resources that depend on it register. Undefined (or no answer): id `<name>-id`, outputs = inputs.
   */
  otherResource?: (
    args: pulumi.runtime.MockResourceArgs,
    context: { preview: boolean },
  ) => Promise<OtherResourceAnswer | undefined> | OtherResourceAnswer | undefined;
  /**
   * Fixed answers to invokes by token (e.g. `azure-native:authorization:getClientConfig`), for a
   * program that asks a provider the model does not run; any other invoke answers `{}`.
   */
  invokes?: Record<string, Record<string, unknown>>;
}

export interface OtherResourceAnswer {
  id?: string;
  state?: Record<string, unknown>;
}

// Internal to the SDK (exported, not in its typings): resolves when the RPC queue has drained.
const waitForRPCs = (runtimeSettings as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;
const getMonitor = (runtimeSettings as unknown as { getMonitor: () => unknown }).getMonitor;

interface Run {
  command: Deployment["command"];
  preview: boolean;
  steps: Step[];
  /** State the run starts from (after refresh). */
  olds: Map<string, ResourceState>;
  /** State being written (a copy during previews, which store nothing). */
  news: Map<string, ResourceState>;
  seen: Set<string>;
  /** Create-before-delete replacements: the old resources, deleted at the end. */
  replaced: ResourceState[];
  host(): Promise<ProviderHost>;
  /** What the host printed so far ("" when none was started). */
  hostOutput(): Promise<string>;
  close(): Promise<void>;
}

export class Engine {
  private state = new Map<string, ResourceState>();
  private readonly projectRoot: string;
  private readonly project: string;
  private readonly stack: string;
  private readonly config: Record<string, string>;
  private readonly secretKeys: string[];
  private readonly refreshAlways: boolean;

  constructor(private readonly options: EngineOptions = {}) {
    this.projectRoot = options.projectRoot ?? PROJECT_ROOT;
    const projectFile = readProjectFile(this.projectRoot);
    this.project = options.project ?? projectFile.name;
    this.stack = options.stack ?? "dev";
    this.config = options.config ?? {};
    this.secretKeys = options.secretKeys ?? [];
    this.refreshAlways = options.refreshAlways ?? projectFile.refreshAlways;
    for (const r of options.state ?? []) this.state.set(r.urn, cloneJson(r));
  }

  /** The resources in state (copies). */
  resources(type?: string): ResourceState[] {
    return [...this.state.values()]
      .filter((r) => !type || r.type === type)
      .map((r) => cloneJson(r))
      .sort((a, b) => a.urn.localeCompare(b.urn));
  }

  /** State as a checkpoint's `deployment.resources` (secrets as plaintext unless encrypted). */
  checkpoint(secrets: SecretEncoding = { kind: "plaintext" }): StoredResource[] {
    return this.resources().map((r) => toStored(r, secrets));
  }

  /** `pulumi preview` (`--refresh` when asked or Pulumi.yaml says always): stores nothing. */
  preview<T>(
    program: () => T | Promise<T>,
    opts: { refresh?: boolean } = {},
  ): Promise<Deployment<pulumiType.Unwrap<T>>> {
    return this.deploy("preview", program, opts.refresh ?? this.refreshAlways);
  }

  /** `pulumi up --yes --skip-preview` (with a refresh first when asked or Pulumi.yaml says always). */
  up<T>(
    program: () => T | Promise<T>,
    opts: { refresh?: boolean } = {},
  ): Promise<Deployment<pulumiType.Unwrap<T>>> {
    return this.deploy("up", program, opts.refresh ?? this.refreshAlways);
  }

  /** `pulumi refresh --yes`. */
  async refresh(): Promise<Deployment<undefined>> {
    const run = this.newRun("refresh");
    try {
      await this.refreshInto(run);
      this.state = run.news;
      return await this.finish(run, undefined);
    } finally {
      await run.close();
    }
  }

  /** `pulumi destroy --yes`: every resource deleted with the provider text its outputs hold. */
  async destroy(): Promise<Deployment<undefined>> {
    const run = this.newRun("destroy");
    try {
      await settleAll(
        [...run.news.values()].map(async (r) => {
          await this.deleteResource(run, r);
          run.news.delete(r.urn);
          run.steps.push(stepOf("delete", r));
        }),
      );
      return await this.finish(run, undefined);
    } finally {
      this.state = run.news;
      await run.close();
    }
  }

  private newRun(command: Deployment["command"]): Run {
    const preview = command === "preview";
    let host: Promise<ProviderHost> | undefined;
    const run: Run = {
      command,
      preview,
      steps: [],
      olds: new Map(),
      news: cloneState(this.state),
      seen: new Set(),
      replaced: [],
      host: () => {
        host ??= (async () => {
          const h = await ProviderHost.start({
            projectRoot: this.projectRoot,
            project: this.project,
            env: this.options.hostEnv,
            onStderr: this.options.onHostOutput,
          });
          await h.configure(this.providerConfig());
          return h;
        })();
        return host;
      },
      hostOutput: async () => (host ? ((await host.catch(() => undefined))?.stderr ?? "") : ""),
      close: async () => {
        if (host) await (await host.catch(() => undefined))?.close();
      },
    };
    return run;
  }

  /** The default `pulumi-nodejs` provider's inputs: the whole stack config, secrets as secrets. */
  private providerConfig(): PropertyMap {
    return Object.fromEntries(
      Object.entries(this.config).map(([k, v]) => [k, this.secretKeys.includes(k) ? secret(v) : v]),
    );
  }

  private async refreshInto(run: Run): Promise<void> {
    await settleAll(
      [...run.news.values()].map(async (r) => {
        if (!r.type.startsWith(DYNAMIC_TYPE_PREFIX)) return;
        const host = await run.host();
        const read = await host.read({ urn: r.urn, id: r.id, inputs: r.inputs, state: r.outputs });
        if (!read.id) {
          run.news.delete(r.urn);
          run.steps.push(stepOf("gone", r));
          return;
        }
        run.news.set(r.urn, {
          ...r,
          id: read.id,
          inputs: read.inputs ?? r.inputs,
          outputs: markSecretOutputs(read.outputs, read.inputs ?? r.inputs, r.additionalSecretOutputs),
        });
        run.steps.push(stepOf("refresh", r));
      }),
    );
  }

  private async deploy<T>(
    command: "preview" | "up",
    program: () => T | Promise<T>,
    refresh: boolean,
  ): Promise<Deployment<pulumiType.Unwrap<T>>> {
    const run = this.newRun(command);
    try {
      if (refresh) await this.refreshInto(run);
      run.olds = cloneState(run.news);
      const outputs = await this.runProgram(run, program);
      // Resources the program no longer declares: deleted with the provider text they hold; and
      // the old side of create-before-delete replacements.
      const gone = [...run.olds.values()].filter((r) => !run.seen.has(r.urn));
      await settleAll([
        ...gone.map(async (r) => {
          if (!run.preview) await this.deleteResource(run, r);
          run.news.delete(r.urn);
          run.steps.push(stepOf("delete", r));
        }),
        ...run.replaced.map((r) => this.deleteResource(run, r)),
      ]);
      if (!run.preview) this.state = run.news;
      return await this.finish(run, outputs);
    } catch (err) {
      // A failed `up` keeps what it completed, as the engine's snapshot does.
      if (!run.preview) this.state = run.news;
      throw err;
    } finally {
      await run.close();
    }
  }

  private async finish<T>(run: Run, outputs: T): Promise<Deployment<T>> {
    const changes = { create: 0, update: 0, replace: 0, same: 0, delete: 0, refresh: 0, gone: 0 };
    for (const s of run.steps) changes[s.op]++;
    const resources = [...run.news.values()].map(cloneJson).sort((a, b) => a.urn.localeCompare(b.urn));
    return {
      command: run.command,
      steps: run.steps,
      changes,
      outputs,
      hostOutput: await run.hostOutput(),
      resources,
    };
  }

  private async deleteResource(run: Run, r: ResourceState): Promise<void> {
    if (!r.type.startsWith(DYNAMIC_TYPE_PREFIX)) return;
    const host = await run.host();
    await host.delete({ urn: r.urn, id: r.id, inputs: r.inputs, outputs: r.outputs });
  }

  /** Runs the program under mocks; returns its exports resolved. */
  private async runProgram<T>(run: Run, program: () => T | Promise<T>): Promise<pulumiType.Unwrap<T>> {
    const failures: Error[] = [];
    // A failed registration leaves dependent outputs unresolved forever: stop waiting on the first.
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_resolve, reject) => (fail = reject));
    failed.catch(() => undefined);
    // The mocks' newResource does not see resource options; the registration request does.
    const requests = new Map<string, RegisterResourceRequest[]>();
    await pulumi.runtime.setMocks(
      {
        newResource: async (args: pulumi.runtime.MockResourceArgs) => {
          const key = `${args.type}::${args.name}`;
          const req = requests.get(key)?.shift();
          if (!args.type.startsWith(DYNAMIC_TYPE_PREFIX)) {
            const answer = await this.options.otherResource?.(args, { preview: run.preview });
            return {
              id: answer?.id ?? (args.custom ? `${args.name}-id` : undefined),
              state: answer?.state ?? args.inputs,
            };
          }
          try {
            const r = await this.step(run, args, req);
            return { id: r.id, state: r.outputs };
          } catch (err) {
            failures.push(err as Error);
            fail(err as Error);
            throw err;
          }
        },
        call: (args: pulumi.runtime.MockCallArgs) => this.options.invokes?.[args.token] ?? {},
      },
      this.project,
      this.stack,
      run.preview,
    );
    const monitor = getMonitor() as { registerResource: (req: RegisterResourceRequest, cb: unknown) => void };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      const key = `${req.getType()}::${req.getName()}`;
      requests.set(key, [...(requests.get(key) ?? []), req]);
      register(req, cb);
    };
    pulumi.runtime.setAllConfig(this.config, this.secretKeys);
    let outputs: pulumiType.Unwrap<T> | undefined;
    try {
      const exported = await program();
      outputs = (await Promise.race([resolveDeep(exported), failed])) as pulumiType.Unwrap<T>;
      await settle();
    } catch (err) {
      if (failures.length === 0) throw err;
    }
    if (failures.length > 0) {
      throw new Error(
        `${run.command} failed for ${failures.length} resource(s): ${failures.map((e) => e.message).join("; ")}`,
      );
    }
    return outputs as pulumiType.Unwrap<T>;
  }

  private urnOf(type: string, name: string, parent: string | undefined): string {
    // resource.NewURN: the parent's qualified type, then this type (`Parent$Child`).
    const qualified = parent ? `${parent.split("::")[2]}$${type}` : type;
    return `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
  }

  /** One registration of a dynamic resource: check, then create, or diff → update/replace/same. */
  private async step(
    run: Run,
    args: pulumi.runtime.MockResourceArgs,
    req: RegisterResourceRequest | undefined,
  ): Promise<{ id: string; outputs: PropertyMap }> {
    const parent = req?.getParent() || undefined;
    const urn = this.urnOf(args.type, args.name, parent);
    if (run.seen.has(urn)) throw new Error(`Duplicate resource URN '${urn}'`);
    run.seen.add(urn);
    const additionalSecretOutputs = req?.getAdditionalsecretoutputsList() ?? [];
    const news = fromSdk(args.inputs) as PropertyMap;
    const old = run.olds.get(urn);
    const host = await run.host();
    const checked = await host.check({ urn, olds: old?.inputs ?? {}, news, allowUnknowns: run.preview });
    if (checked.failures.length > 0) {
      throw new Error(
        `${urn}: check failed: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
      );
    }
    const inputs = checked.inputs;
    const base = { urn, type: args.type, name: args.name, parent, additionalSecretOutputs };
    const save = (op: StepOp, id: string, outputs: PropertyMap, diff?: DiffResult) => {
      const r: ResourceState = {
        ...base,
        id,
        inputs,
        outputs: markSecretOutputs(outputs, inputs, additionalSecretOutputs),
      };
      run.news.set(urn, r);
      const before = old && op !== "same" ? { old: cloneJson(old) } : {};
      run.steps.push({ op, urn, type: args.type, name: args.name, diff, ...before });
      return { id, outputs: r.outputs };
    };

    if (!old) {
      if (run.preview) return save("create", "", inputs);
      const created = await host.create({ urn, props: inputs });
      return save("create", created.id, created.outputs);
    }
    const diff = await host.diff({
      urn,
      id: old.id,
      oldInputs: old.inputs,
      olds: old.outputs,
      news: inputs,
      allowUnknowns: run.preview,
    });
    const changes =
      diff.changes === "unknown" ? (sameValue(old.inputs, inputs) ? "none" : "some") : diff.changes;
    if (changes === "some" && diff.replaces.length > 0) {
      if (run.preview) return save("replace", "", inputs, diff);
      const deleteFirst = req?.getDeletebeforereplacedefined()
        ? req.getDeletebeforereplace()
        : diff.deleteBeforeReplace;
      if (deleteFirst) await this.deleteResource(run, old);
      else run.replaced.push(old);
      const created = await host.create({ urn, props: inputs });
      return save("replace", created.id, created.outputs, diff);
    }
    if (changes === "some") {
      if (run.preview) return save("update", old.id, inputs, diff);
      const updated = await host.update({
        urn,
        id: old.id,
        oldInputs: old.inputs,
        olds: old.outputs,
        news: inputs,
      });
      return save("update", old.id, updated.outputs, diff);
    }
    return save("same", old.id, old.outputs, diff);
  }
}

function stepOf(op: StepOp, r: ResourceState): Step {
  const before = op === "delete" ? { old: cloneJson(r) } : {};
  return { op, urn: r.urn, type: r.type, name: r.name, ...before };
}

/**
 * A deep copy made with this realm's JSON: jest runs modules in their own realm, and the SDK tells
 * arrays by `instanceof Array`, so a copy from another realm (structuredClone) would reach the
 * program as `{ "0": … }`. Engine values are JSON by construction.
 */
function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function cloneState(state: Map<string, ResourceState>): Map<string, ResourceState> {
  return new Map([...state].map(([k, v]) => [k, cloneJson(v)]));
}

/** step_executor.go: additionalSecretOutputs, and outputs whose input of the same name is secret. */
function markSecretOutputs(outputs: PropertyMap, inputs: PropertyMap, additional: string[]): PropertyMap {
  const result: PropertyMap = { ...outputs };
  for (const k of additional) {
    if (k in result && !isSecret(result[k])) result[k] = secret(result[k]);
  }
  for (const [k, v] of Object.entries(result)) {
    if (!isSecret(v) && isSecret(inputs[k])) result[k] = secret(v);
  }
  return result;
}

/** Registration inputs as the SDK hands them to the mocks → engine values. */
function fromSdk(value: unknown): EngineValue | undefined {
  if (outputModule.isUnknown(value)) return UNKNOWN;
  if (value === undefined) return undefined;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return secret(fromSdk(o.value) ?? null);
    const result: Record<string, EngineValue> = {};
    for (const [k, v] of Object.entries(o)) {
      const e = fromSdk(v);
      if (e !== undefined) result[k] = e;
    }
    return result;
  }
  if (Array.isArray(value)) return value.map((v) => fromSdk(v) ?? null);
  return value as EngineValue;
}

/** The program's exports with every Output resolved; unknowns (previews) become UNKNOWN. */
async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    // Output.promise(withUnknowns) is internal: it resolves unknowns instead of never resolving.
    const inner = await (value as unknown as { promise(withUnknowns: boolean): Promise<unknown> }).promise(
      true,
    );
    return outputModule.isUnknown(inner) ? UNKNOWN : resolveDeep(inner);
  }
  if (outputModule.isUnknown(value)) return UNKNOWN;
  if (value instanceof Promise) return resolveDeep(await value);
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (isPlainRecord(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** A plain object (a module's exports, a literal), from any realm (jest runs modules in its own). */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return proto === null || proto.constructor?.name === "Object";
}

async function settle(): Promise<void> {
  // Registrations may still trickle in after the outputs resolved: drain the RPC queue a few times.
  for (let i = 0; i < 3; i++) {
    await waitForRPCs();
    await new Promise((r) => setImmediate(r));
  }
}

/** Runs all, waits for all, then throws the first failure (the engine lets other steps finish). */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failures.length > 0) {
    throw new Error(failures.map((f) => (f.reason as Error).message).join("; "));
  }
}

function toStored(r: ResourceState, secrets: SecretEncoding): StoredResource {
  return {
    urn: r.urn,
    custom: true,
    id: r.id,
    type: r.type,
    inputs: serializeProperties(r.inputs, secrets),
    outputs: serializeProperties(r.outputs, secrets),
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.additionalSecretOutputs.length > 0 ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
  };
}

/** Resources of a checkpoint (plaintext secrets) → the model's state. */
export function fromStored(resources: StoredResource[]): ResourceState[] {
  return resources
    .filter((r) => r.custom && r.type.startsWith(DYNAMIC_TYPE_PREFIX))
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.urn.split("::").slice(3).join("::"),
      id: r.id ?? "",
      parent: r.parent,
      inputs: deserializeProperties(r.inputs),
      outputs: deserializeProperties(r.outputs),
      additionalSecretOutputs: r.additionalSecretOutputs ?? [],
    }));
}
