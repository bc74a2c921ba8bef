/**
 * HookFleet's dynamic providers, as the Pulumi dynamic-provider host finds them.
 *
 * PERMANENT: this file's path (the project root, `dynamic-providers.cjs`) and its one export,
 * `provider(name)`, are written into the state of every HookFleet resource. Every stored
 * `__provider` is the same tiny stub (components/dynamic/stub.ts):
 *
 *   exports.handler = () => require(process.cwd() + "/dynamic-providers.cjs").provider("<Name>");
 *
 * Pulumi runs the stub stored in state for refresh and delete, years after it was written, so never
 * move or rename this file, never remove a provider name, and keep `provider(name)` returning a
 * provider object. Everything else may change freely behind it: module paths, the TypeScript
 * loader, method defaults (components/dynamic/registry.ts).
 *
 * Plain CommonJS on purpose: the host loads it with `require` before any TypeScript loader exists.
 * It registers tsx's CommonJS loader once per process in the `hookfleet-dynamic` namespace, the
 * namespace the 0.1.0 shims used too, so resources written by either share one instance of each
 * provider module (and its caches) in a host process.
 */
"use strict";
const path = require("node:path");

/** Shared with the 0.1.0 shim (Symbol.for): whichever loads first registers tsx for both. */
const TSX = Symbol.for("hookfleet.dynamic.tsx");
const NAMESPACE = "hookfleet-dynamic";
const REGISTRY = path.join(__dirname, "components", "dynamic", "registry.ts");

const providers = new Map();

function loadTypeScript(file) {
  if (!globalThis[TSX]) globalThis[TSX] = require("tsx/cjs/api").register({ namespace: NAMESPACE });
  return globalThis[TSX].require(file, __filename);
}

/** The provider object for a HookFleet resource type (`ServiceHook`, `RotatingSecret`, `AdoPat`). */
function provider(name) {
  let p = providers.get(name);
  if (!p) {
    p = loadTypeScript(REGISTRY).provider(name);
    providers.set(name, p);
  }
  return p;
}

module.exports = { provider };
