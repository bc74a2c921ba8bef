/**
 * A tiny Pulumi engine for tests: runs a program under `pulumi.runtime.setMocks` and executes its
 * *dynamic* resources for real, the way Pulumi's dynamic-provider host does
 * (`@pulumi/pulumi/cmd/dynamic-provider`): it takes each resource's serialized `inputs.__provider`,
 * loads it with `require("require-from-string")(text).handler()` (once per distinct text, then
 * `configure` with the stack config), and calls check → create, or check → diff → update/replace,
 * and delete for resources that dropped out of the program. `refresh()` calls `read` on everything
 * in state. So a test proves that the closure serializes, that the serialized shim loads today's
 * implementation, and that the provider works against a local server (the ADO emulator).
 *
 * Generic: any dynamic resource type. Non-dynamic resources (components, azure-native…) get a
 * mock answer (id `<name>-id`, outputs = inputs).
 *
 *   const h = new DynamicHarness({ config: { "hookfleet:adoPat": emulator.pat } });
 *   const first = await h.up(() => { const f = new HookFleet("hf", args); return { n: f.hookCount }; });
 *   // first.created === 16, first.outputs.n === 16
 *   h.newProviderProcess();                    // the next command starts a fresh provider host
 *   const second = await h.up(program, { refresh: true });   // read → diff → update
 *   await h.destroy();
 *
 * Differences from the engine, on purpose: no previews, no dependency ordering between dynamic
 * resources (all steps of a run start concurrently, as they would without dependencies), and
 * replace is create-before-delete unless the diff asks for deleteBeforeReplace.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import { Config as DynamicConfig } from "@pulumi/pulumi/cmd/dynamic-provider/config";
import { forgetLoadedImplementations } from "../../components/dynamic/runtime-provider";
// Untyped CommonJS package, loaded the way the dynamic-provider host loads it.
/* eslint-disable @typescript-eslint/no-require-imports */
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};
/* eslint-enable @typescript-eslint/no-require-imports */

// Internal to the SDK (not in its typings) but exported: resolves when the RPC queue has drained.
const waitForRPCs = (runtimeSettings as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const PROVIDER_KEY = "__provider";

type Props = Record<string, unknown>;

/** One dynamic resource in the harness's state (what Pulumi's state file would hold). */
export interface HarnessResource {
  /** `<type>::<name>`: unique per program in practice. */
  key: string;
  type: string;
  name: string;
  id: string;
  /** Checked inputs, plain (secrets unwrapped), including `__provider`. */
  inputs: Props;
  /** Provider outputs, plain, including `__provider`. */
  outputs: Props;
  /** Top-level input keys that reached the engine as Pulumi secrets. */
  secretInputs: string[];
  /** The serialized provider (the text Pulumi stores as `__provider`). */
  provider: string;
}

export type HarnessOp = "create" | "update" | "replace" | "same" | "delete" | "read" | "gone";

/** What one `up` / `refresh` / `destroy` did. */
export interface HarnessRun<T = unknown> {
  created: number;
  updated: number;
  replaced: number;
  same: number;
  deleted: number;
  /** Resources refresh found gone (read returned no id). */
  gone: number;
  /** `[op, key]` in completion order. */
  ops: [HarnessOp, string][];
  /** The program's return value, fully resolved (Outputs unwrapped). */
  outputs: T;
}

export interface DynamicHarnessOptions {
  project?: string;
  stack?: string;
  /** Stack config the providers' `configure` sees, full keys (`<project>:<key>`). */
  config?: Record<string, string>;
}

function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Props)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Deep copy with Pulumi's secret markers removed (the engine does this for the dynamic host). */
export function unwrap<T>(value: T): T {
  if (isSecret(value)) return unwrap((value as unknown as { value: T }).value);
  if (Array.isArray(value)) return value.map((v) => unwrap(v)) as unknown as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value as Props).map(([k, v]) => [k, unwrap(v)])) as T;
  }
  return value;
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Props)[k]]),
        )
      : v,
  );
}

function resolved<T>(value: T): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

export class DynamicHarness {
  /** State after the last command, by key. */
  readonly state = new Map<string, HarnessResource>();
  private readonly project: string;
  private readonly stack: string;
  private readonly config: Record<string, string>;
  private providers = new Map<string, Promise<pulumi.dynamic.ResourceProvider>>();

  constructor(options: DynamicHarnessOptions = {}) {
    this.project = options.project ?? "hookfleet";
    this.stack = options.stack ?? "test";
    this.config = options.config ?? {};
  }

  /** Resources of one dynamic type (`pulumi-nodejs:dynamic/<module>:<Type>`), by name. */
  ofType(type: string): HarnessResource[] {
    return [...this.state.values()]
      .filter((r) => r.type === type)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Distinct serialized providers in state (one per provider object per program run). */
  providerTexts(): string[] {
    return [...new Set([...this.state.values()].map((r) => r.provider))];
  }

  /**
   * Forget loaded providers and their implementations, as when the next Pulumi command starts a
   * new provider host: module-level caches (e.g. an org-wide list) start empty.
   */
  newProviderProcess(): void {
    this.providers = new Map();
    forgetLoadedImplementations();
  }

  /** Loads a serialized provider exactly like the dynamic-provider host's `getProvider`. */
  private providerFor(text: string): Promise<pulumi.dynamic.ResourceProvider> {
    let provider = this.providers.get(text);
    if (!provider) {
      provider = (async () => {
        const loaded = requireFromString(text).handler();
        if (loaded.configure) {
          await loaded.configure({ config: new DynamicConfig(this.config, this.project) });
        }
        return loaded;
      })();
      this.providers.set(text, provider);
    }
    return provider;
  }

  /** `pulumi refresh`: read every resource; gone ones leave the state. */
  async refresh(): Promise<HarnessRun<undefined>> {
    const run = this.newRun<undefined>(undefined);
    await Promise.all(
      [...this.state.values()].map(async (r) => {
        const provider = await this.providerFor(r.provider);
        if (!provider.read) return;
        const result = await provider.read(r.id, r.outputs);
        if (!result.id) {
          this.state.delete(r.key);
          this.record(run, "gone", r.key);
          return;
        }
        r.outputs = { ...(result.props ?? {}), [PROVIDER_KEY]: r.provider };
        if (result.inputs) r.inputs = { ...result.inputs, [PROVIDER_KEY]: r.provider };
        this.record(run, "read", r.key);
      }),
    );
    return run;
  }

  /**
   * `pulumi up` (with `refresh: true`, `pulumi up --refresh`): runs `program` under mocks, executes
   * each dynamic resource it registers, then deletes resources the program no longer declares.
   * `program` returns what to await, like a stack's exports (e.g. the component's outputs).
   */
  async up<T>(
    program: () => T | Promise<T>,
    opts: { refresh?: boolean } = {},
  ): Promise<HarnessRun<pulumi.Unwrap<T>>> {
    const refreshed = opts.refresh ? await this.refresh() : undefined;
    const run = this.newRun<pulumi.Unwrap<T>>(undefined as pulumi.Unwrap<T>);
    if (refreshed) run.gone = refreshed.gone;
    const seen = new Set<string>();
    const failures: Error[] = [];
    // A failed registration leaves dependent outputs unresolved forever: stop waiting on the first.
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_resolve, reject) => (fail = reject));
    failed.catch(() => undefined);
    await pulumi.runtime.setMocks(
      {
        newResource: async (args: pulumi.runtime.MockResourceArgs) => {
          if (!args.type.startsWith("pulumi-nodejs:dynamic")) {
            return { id: args.custom ? `${args.name}-id` : undefined, state: unwrap(args.inputs) };
          }
          const key = `${args.type}::${args.name}`;
          seen.add(key);
          try {
            const r = await this.step(run, key, args);
            // The engine hands outputs back over gRPC, i.e. as plain JSON: arrays made in the
            // provider's module realm (tsx, outside jest's) must not reach Pulumi's serializer as-is.
            return { id: r.id, state: JSON.parse(JSON.stringify(r.outputs)) as Props };
          } catch (err) {
            failures.push(err as Error);
            fail(err as Error);
            throw err;
          }
        },
        call: () => ({}),
      },
      this.project,
      this.stack,
      false,
    );
    try {
      const result = await program();
      run.outputs = (await Promise.race([resolved(result), failed])) as pulumi.Unwrap<T>;
      await this.settle();
    } catch (err) {
      if (failures.length === 0) throw err;
    }
    if (failures.length > 0) {
      throw new Error(
        `up failed for ${failures.length} resource(s): ${failures.map((e) => e.message).join("; ")}`,
      );
    }
    // Resources the program no longer declares: deleted with the provider they were created with.
    await Promise.all(
      [...this.state.values()]
        .filter((r) => !seen.has(r.key))
        .map(async (r) => {
          await this.deleteResource(r);
          this.state.delete(r.key);
          this.record(run, "delete", r.key);
        }),
    );
    return run;
  }

  /** `pulumi destroy`: delete everything in state. */
  async destroy(): Promise<HarnessRun<undefined>> {
    const run = this.newRun<undefined>(undefined);
    await Promise.all(
      [...this.state.values()].map(async (r) => {
        await this.deleteResource(r);
        this.state.delete(r.key);
        this.record(run, "delete", r.key);
      }),
    );
    return run;
  }

  private async settle(): Promise<void> {
    // Registrations may still trickle in after the outputs resolved: drain the RPC queue a few times.
    for (let i = 0; i < 3; i++) {
      await waitForRPCs();
      await new Promise((r) => setImmediate(r));
    }
  }

  private async step(run: HarnessRun<unknown>, key: string, args: pulumi.runtime.MockResourceArgs) {
    const raw = args.inputs as Props;
    const secretInputs = Object.keys(raw).filter((k) => isSecret(raw[k]));
    const news = unwrap(raw);
    const providerText = news[PROVIDER_KEY];
    if (typeof providerText !== "string") throw new Error(`${key}: no serialized ${PROVIDER_KEY} in inputs`);
    const provider = await this.providerFor(providerText);
    const prior = this.state.get(key);
    let inputs = news;
    if (provider.check) {
      const checked = await provider.check(prior?.inputs ?? {}, news);
      if (checked.failures && checked.failures.length > 0) {
        throw new Error(
          `${key}: check failed: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
        );
      }
      inputs = { ...(checked.inputs ?? news) };
    }
    inputs[PROVIDER_KEY] = providerText;

    const create = async (): Promise<HarnessResource> => {
      const result = await provider.create(inputs);
      return {
        key,
        type: args.type,
        name: args.name,
        id: result.id,
        inputs,
        outputs: { ...(result.outs ?? {}), [PROVIDER_KEY]: providerText },
        secretInputs,
        provider: providerText,
      };
    };

    if (!prior) {
      const r = await create();
      this.state.set(key, r);
      this.record(run, "create", key);
      return r;
    }
    const diff = provider.diff
      ? await provider.diff(prior.id, prior.outputs, inputs)
      : { changes: undefined, replaces: [] as string[], deleteBeforeReplace: false };
    const changes =
      diff.changes ??
      stableJson({ ...prior.inputs, [PROVIDER_KEY]: "" }) !== stableJson({ ...inputs, [PROVIDER_KEY]: "" });
    if (diff.replaces && diff.replaces.length > 0) {
      if (diff.deleteBeforeReplace) await this.deleteResource(prior);
      const r = await create();
      if (!diff.deleteBeforeReplace) await this.deleteResource(prior);
      this.state.set(key, r);
      this.record(run, "replace", key);
      return r;
    }
    if (changes) {
      const result = (provider.update ? await provider.update(prior.id, prior.outputs, inputs) : {}) ?? {};
      const r: HarnessResource = {
        ...prior,
        inputs,
        outputs: { ...(result.outs ?? {}), [PROVIDER_KEY]: providerText },
        secretInputs,
        provider: providerText,
      };
      this.state.set(key, r);
      this.record(run, "update", key);
      return r;
    }
    const r: HarnessResource = { ...prior, inputs, secretInputs };
    this.state.set(key, r);
    this.record(run, "same", key);
    return r;
  }

  private async deleteResource(r: HarnessResource): Promise<void> {
    const provider = await this.providerFor(r.provider);
    if (provider.delete) await provider.delete(r.id, r.outputs);
  }

  private newRun<T>(outputs: T): HarnessRun<T> {
    return { created: 0, updated: 0, replaced: 0, same: 0, deleted: 0, gone: 0, ops: [], outputs };
  }

  private record(run: HarnessRun<unknown>, op: HarnessOp, key: string): void {
    run.ops.push([op, key]);
    if (op === "create") run.created++;
    else if (op === "update") run.updated++;
    else if (op === "replace") run.replaced++;
    else if (op === "same") run.same++;
    else if (op === "delete") run.deleted++;
    else if (op === "gone") run.gone++;
  }
}
