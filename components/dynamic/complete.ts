/**
 * What stands between the dynamic-provider host and a provider implementation: every method
 * present, with the host's own defaults where the implementation has none, and results that are
 * total. The host sends every result through `Struct.fromJavaScript`, which throws "Unexpected
 * struct type" on an `undefined` anywhere (a key, an array element) and fails the whole operation.
 *
 * The implementations are written to return total results (their tests round-trip every result
 * through Struct); `complete` drops what would still be `undefined`, exactly as JSON would, so a
 * slip can never take a refresh down in a user's stack.
 */
import type * as pulumi from "@pulumi/pulumi";

export type ProviderMethod = "check" | "diff" | "create" | "read" | "update" | "delete" | "configure";

/** The value with `undefined` object keys dropped and `undefined` array elements as null (JSON's rules). */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : withoutUndefined(v))) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out as T;
  }
  return value;
}

/** A provider with all seven methods, the host's defaults for missing ones, and total results. */
export function completeProvider(
  impl: pulumi.dynamic.ResourceProvider,
): Required<pulumi.dynamic.ResourceProvider> {
  return {
    async check(olds, news) {
      const r = impl.check ? await impl.check(olds, news) : { inputs: news };
      return withoutUndefined({ inputs: r.inputs ?? news, failures: r.failures ?? [] });
    },
    async diff(id, olds, news) {
      // No diff: the host answers DIFF_UNKNOWN and the engine compares inputs; `{}` does the same.
      return withoutUndefined(impl.diff ? await impl.diff(id, olds, news) : {});
    },
    async create(inputs) {
      const r = await impl.create(inputs);
      return withoutUndefined({ id: r.id, outs: r.outs ?? {} });
    },
    async read(id, props) {
      return withoutUndefined(impl.read ? await impl.read(id, props) : { id, props });
    },
    async update(id, olds, news) {
      const r = impl.update ? await impl.update(id, olds, news) : { outs: news };
      return withoutUndefined({ outs: r.outs ?? {} });
    },
    async delete(id, props) {
      if (impl.delete) await impl.delete(id, props);
    },
    async configure(req) {
      if (impl.configure) await impl.configure(req);
    },
  };
}
