/**
 * What stands between the dynamic-provider host and a provider implementation: every method
 * present, with the host's own defaults where the implementation has none, and results that are
 * total. The host sends every result through `Struct.fromJavaScript`, which throws "Unexpected
 * struct type" on an `undefined` anywhere (a key, an array element) and fails the whole operation.
 *
 * The implementations are written to return total results (their tests round-trip every result
 * through Struct); `complete` drops what would still be `undefined`, exactly as JSON would, so a
 * slip can never take a refresh down in a user's stack.
 *
 * Errors leave scrubbed (scrubbedError): the host hands a thrown error's message to the engine,
 * which prints it in `pulumi up`'s output, and writes `${e}: ${e.stack}` to its stderr, which the
 * engine shows too (@pulumi/pulumi cmd/dynamic-provider/index.js: grpcResponseFromError and the
 * catch of each method). An ADO or Azure error's words may quote a URL that holds a URL token.
 */
import type * as pulumi from "@pulumi/pulumi";
import { scrubText } from "../../app/scrub";

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

/**
 * The thrown value as an Error whose message and stack have credential-shaped text replaced
 * (app/scrub.ts). The same object when it is an Error, so what the host reads besides the message
 * (`id`, `properties` and `reasons` of an initialization failure) stays; `reasons` are scrubbed too.
 */
export function scrubbedError(thrown: unknown): Error {
  const err = thrown instanceof Error ? thrown : new Error(String(thrown));
  err.message = scrubText(err.message);
  if (err.stack) err.stack = scrubText(err.stack);
  const withReasons = err as Error & { reasons?: unknown };
  if (Array.isArray(withReasons.reasons))
    withReasons.reasons = withReasons.reasons.map((r) => (typeof r === "string" ? scrubText(r) : r));
  return err;
}

/** `run`'s result, or its error scrubbed. */
async function scrubbingErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw scrubbedError(err);
  }
}

/** A provider with all seven methods, the host's defaults for missing ones, and total results. */
export function completeProvider(
  impl: pulumi.dynamic.ResourceProvider,
): Required<pulumi.dynamic.ResourceProvider> {
  return {
    check: (olds, news) =>
      scrubbingErrors(async () => {
        const r = impl.check ? await impl.check(olds, news) : { inputs: news };
        return withoutUndefined({ inputs: r.inputs ?? news, failures: r.failures ?? [] });
      }),
    // No diff: the host answers DIFF_UNKNOWN and the engine compares inputs; `{}` does the same.
    diff: (id, olds, news) =>
      scrubbingErrors(async () => withoutUndefined(impl.diff ? await impl.diff(id, olds, news) : {})),
    create: (inputs) =>
      scrubbingErrors(async () => {
        const r = await impl.create(inputs);
        return withoutUndefined({ id: r.id, outs: r.outs ?? {} });
      }),
    read: (id, props) =>
      scrubbingErrors(async () => withoutUndefined(impl.read ? await impl.read(id, props) : { id, props })),
    update: (id, olds, news) =>
      scrubbingErrors(async () => {
        const r = impl.update ? await impl.update(id, olds, news) : { outs: news };
        return withoutUndefined({ outs: r.outs ?? {} });
      }),
    delete: (id, props) =>
      scrubbingErrors(async () => {
        if (impl.delete) await impl.delete(id, props);
      }),
    configure: (req) =>
      scrubbingErrors(async () => {
        if (impl.configure) await impl.configure(req);
      }),
  };
}
