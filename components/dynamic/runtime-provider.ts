/**
 * Thin shims for Pulumi dynamic providers: the part Pulumi serializes into state knows only *where*
 * the implementation lives (a module path relative to the project root and an export name, both
 * plain strings) and loads that implementation when a method runs.
 *
 * Why: Pulumi stores the serialized provider in each resource's state and runs *that* copy on
 * refresh and delete (pulumi-and-azure-notes.md). A provider serialized by value freezes the code of
 * the day the resource was last updated, and drags whatever its closure touches into state: secrets,
 * or modules that cannot be serialized at all (azure-devops-node-api, pulumi/pulumi#18997). With the
 * shim, state holds ~2 KB of loader code, refresh runs today's implementation, and credentials are
 * read at run time (environment or `configure`), never captured.
 *
 * How the implementation is found at run time: Pulumi starts the dynamic-provider host with the
 * project directory as its working directory. Evidence: the host launcher shipped in
 * `node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs` is
 * `node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))"`, which resolves
 * from the working directory, so the host only starts where the project's node_modules is. The shim
 * therefore resolves the module path against `process.cwd()` (override: HOOKFLEET_PROJECT_ROOT) and
 * loads the TypeScript through tsx's CommonJS API (`tsx/cjs/api`, a runtime dependency for that
 * reason), registered once per process in its own namespace so it cannot disturb other loaders.
 *
 * The implementation module is cached in Node's require cache like any module, so every resource of
 * a run shares one instance and its module-level state (e.g. the org-wide subscription list).
 */
import NodeModule from "node:module";
import type * as pulumi from "@pulumi/pulumi";

/** Where a dynamic provider's implementation lives. Only plain strings: this is what gets serialized. */
export interface ImplementationRef {
  /** Module path relative to the project root, e.g. `components/hooks/provider.ts`. */
  modulePath: string;
  /** Export holding the provider object, or a zero-argument function that returns one. */
  exportName: string;
}

/** Provider methods the shim forwards (all optional in Pulumi's interface except create). */
export const PROVIDER_METHODS = ["check", "diff", "create", "read", "update", "delete", "configure"] as const;
export type ProviderMethod = (typeof PROVIDER_METHODS)[number];

/** Environment variable that overrides the project root the shim resolves `modulePath` against. */
export const PROJECT_ROOT_ENV = "HOOKFLEET_PROJECT_ROOT";

/** tsx namespace the shims load implementations in (their require-cache keys end in `?namespace=…`). */
export const SHIM_NAMESPACE = "hookfleet-dynamic";

/**
 * A dynamic provider whose methods load `ref` at run time and forward to it. Create it once per
 * provider type (module level): Pulumi serializes each provider object once per program run.
 *
 * Only the methods in `methods` are defined on the shim, because the host treats a missing method
 * differently from a present one (no `diff` → the engine diffs inputs; no `read` → state as-is).
 */
export function runtimeProvider(
  ref: ImplementationRef,
  methods: readonly ProviderMethod[] = PROVIDER_METHODS,
): pulumi.dynamic.ResourceProvider {
  const modulePath = String(ref.modulePath);
  const exportName = String(ref.exportName);
  const namespace = SHIM_NAMESPACE;
  if (modulePath.startsWith("/") || modulePath.includes("..")) {
    throw new Error(`runtimeProvider: modulePath must be relative to the project root: ${modulePath}`);
  }
  // Everything below runs inside the serialized closure: it may reference only the two strings
  // above, `require`, `process` and globals. No imports of this file are used in it on purpose.
  const loaded: { impl?: Record<string, unknown> } = {};
  const load = (): Record<string, unknown> => {
    if (loaded.impl) return loaded.impl;
    /* eslint-disable @typescript-eslint/no-require-imports -- the serialized closure must load its
       modules itself: imports of this file would be captured and serialized by value */
    const nodePath = require("node:path");
    const nodeModule = require("node:module");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const root: string = process.env.HOOKFLEET_PROJECT_ROOT || process.cwd();
    const absPath: string = nodePath.resolve(root, modulePath);
    const fromRoot = nodeModule.createRequire(nodePath.join(root, "package.json"));
    const registryKey = Symbol.for("hookfleet.dynamic.tsx");
    // The tsx namespace is registered once per process and kept: modules it loaded may require
    // further TypeScript lazily. Typed loosely because this runs outside the type-checked program.
    const g = globalThis as unknown as Record<symbol, { require: (id: string, from: string) => unknown }>;
    if (!g[registryKey]) {
      g[registryKey] = fromRoot("tsx/cjs/api").register({ namespace });
    }
    const mod = g[registryKey].require(absPath, absPath) as Record<string, unknown>;
    const exported = mod[exportName];
    const impl = typeof exported === "function" ? (exported as () => unknown)() : exported;
    if (!impl || typeof impl !== "object") {
      throw new Error(`dynamic provider implementation ${modulePath}#${exportName} not found`);
    }
    loaded.impl = impl as Record<string, unknown>;
    return loaded.impl;
  };
  const shim: Record<string, unknown> = {};
  for (const method of methods) {
    shim[method] = async (...args: unknown[]): Promise<unknown> => {
      const impl = load();
      const fn = impl[method];
      if (typeof fn === "function") return fn.apply(impl, args);
      // Defaults that mirror the host's behaviour when a provider lacks the method.
      if (method === "check") return { inputs: args[1] };
      if (method === "diff") return {};
      if (method === "read") return { id: args[0], props: args[1] };
      if (method === "update") return { outs: args[2] };
      if (method === "create") throw new Error(`${modulePath}#${exportName} has no create`);
      return undefined;
    };
  }
  return shim as unknown as pulumi.dynamic.ResourceProvider;
}

/**
 * Forget the implementations the shims loaded, as if the next call ran in a fresh provider process
 * (each `pulumi up`/`refresh` starts a new one). For test harnesses and benchmarks: drops every
 * module loaded through the shims' tsx namespace from Node's require cache, so module-level caches
 * start empty. Shims already handed out keep their loaded instance: load the provider text again.
 */
export function forgetLoadedImplementations(): number {
  // Node's real require cache (also when called from a jest module registry); `_cache` is untyped.
  const cache = (NodeModule as unknown as { _cache: Record<string, unknown> })._cache;
  let forgotten = 0;
  for (const key of Object.keys(cache)) {
    if (key.endsWith(`?namespace=${SHIM_NAMESPACE}`)) {
      delete cache[key];
      forgotten++;
    }
  }
  return forgotten;
}
