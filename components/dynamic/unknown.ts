/**
 * Inputs a dynamic provider receives before they are known. During a preview the engine passes this
 * sentinel for an input that depends on a resource not created yet (e.g. the receiver URL of a new
 * Container App); `check` and `diff` then defer judgement to the real run. It is Pulumi's
 * `runtime.unknownValue`, kept as a literal so pure provider modules need not load @pulumi/pulumi
 * (test/hooks/stub.test.ts asserts the two are equal).
 */
export const UNKNOWN_INPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when some input (or an element of an array input) is not known yet. */
export function hasUnknownInputs(news: Record<string, unknown>): boolean {
  return Object.values(news).some(
    (v) => v === UNKNOWN_INPUT || (Array.isArray(v) && v.some((x) => x === UNKNOWN_INPUT)),
  );
}
