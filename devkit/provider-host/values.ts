/**
 * Property values as the Pulumi engine holds them, and the two translations the engine makes when
 * it talks to a provider plugin over gRPC (pulumi/pulumi `sdk/go/common/resource/plugin/rpc.go`,
 * MarshalProperties / UnmarshalProperties, and `provider_plugin.go`).
 *
 * An engine value is plain JSON plus two encodings the engine and the language SDKs share on the
 * wire (`sdk/go/common/resource/sig/sig.go`, rpc.go):
 * - a secret: `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value }`;
 * - an unknown (a preview's "not known yet"): the string `04da6b54-80e4-46f7-96ec-b56ff0331ba9`
 *   (rpc.go UnknownStringValue; the Node SDK sends this one for every unknown, runtime/rpc.js).
 *
 * The dynamic-provider host answers `acceptSecrets: false` to Configure, so the engine sends it
 * secrets as their plain values (MarshalOptions.KeepSecrets = acceptSecrets) and, on the way back,
 * marks any output secret whose same-named input was secret (provider_plugin.go annotateSecrets).
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/** `sig.Key`: the key that marks a special object. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** `sig.Secret`: the signature of a secret. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** rpc.go `UnknownStringValue`, the Node SDK's `runtime.unknownValue`. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/**
 * The other sentinels of rpc.go (bool, number, array, asset, archive, object): a provider sees them
 * for unknowns of those types. Recognised on the way back so that no sentinel passes for a value.
 */
const UNKNOWN_SENTINELS = new Set([
  UNKNOWN,
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** A JSON value, possibly with secrets and unknowns inside, as the engine holds it. */
export type EngineValue = string | number | boolean | null | EngineValue[] | { [key: string]: EngineValue };
export type PropertyMap = Record<string, EngineValue>;

export interface SecretValue {
  [SIG_KEY]: typeof SECRET_SIG;
  value: EngineValue;
}

export function secret(value: EngineValue): EngineValue {
  return { [SIG_KEY]: SECRET_SIG, value } as unknown as EngineValue;
}

export function isSecret(value: unknown): value is SecretValue {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

export function isUnknown(value: unknown): boolean {
  return typeof value === "string" && UNKNOWN_SENTINELS.has(value);
}

/** True when the value is or holds a secret (resource.PropertyValue.ContainsSecrets). */
export function containsSecrets(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecrets);
  return false;
}

/** True when the value is or holds an unknown. */
export function containsUnknowns(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (isSecret(value)) return containsUnknowns(value.value);
  if (Array.isArray(value)) return value.some(containsUnknowns);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknowns);
  return false;
}

/** The value with every secret replaced by what it holds (what a provider without secrets sees). */
export function reveal<T extends EngineValue | PropertyMap>(value: T): T {
  if (isSecret(value)) return reveal(value.value) as T;
  if (Array.isArray(value)) return value.map((v) => reveal(v)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)])) as T;
  }
  return value;
}

export interface MarshalOptions {
  /** Keep unknowns (previews: AllowUnknowns); otherwise a property holding one is left out. */
  keepUnknowns: boolean;
}

/**
 * MarshalProperties for a provider that does not accept secrets: secrets become their values,
 * unknowns stay (or the property is skipped when they may not be sent), nulls are kept
 * (PropagateNil). The result goes through `Struct.fromJavaScript`, exactly what is sent.
 */
export function marshal(props: PropertyMap, options: MarshalOptions): Struct {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    const m = marshalValue(v, options);
    if (m !== SKIP) out[k] = m;
  }
  // Struct.fromJavaScript's typings want JavaScriptValue; `out` holds only JSON values by construction.
  return Struct.fromJavaScript(out as Parameters<typeof Struct.fromJavaScript>[0]);
}

const SKIP = Symbol("skip");

function marshalValue(v: EngineValue, options: MarshalOptions): unknown {
  if (isSecret(v)) return marshalValue(v.value, options);
  if (isUnknown(v)) return options.keepUnknowns ? v : SKIP;
  if (Array.isArray(v)) return v.map((x) => marshalValue(x, options)).filter((x) => x !== SKIP);
  if (typeof v === "object" && v !== null) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const m = marshalValue(x, options);
      if (m !== SKIP) o[k] = m;
    }
    return o;
  }
  return v;
}

export interface UnmarshalOptions {
  /** A preview keeps unknowns; a real operation rejects them (RejectUnknowns: !preview). */
  allowUnknowns: boolean;
  /** What the error names when an unknown is rejected. */
  label: string;
}

/**
 * UnmarshalProperties of a provider's answer (KeepSecrets: true, PropagateNil): a secret object the
 * provider returned stays a secret, an unknown is rejected outside previews.
 */
export function unmarshal(struct: Struct | undefined, options: UnmarshalOptions): PropertyMap {
  if (!struct) return {};
  const js = struct.toJavaScript() as PropertyMap;
  // Copy into this module's realm with plain objects and arrays (toJavaScript's are fine, but a
  // copy also severs any sharing with the protobuf message).
  const copy = JSON.parse(JSON.stringify(js)) as PropertyMap;
  if (!options.allowUnknowns) {
    for (const [k, v] of Object.entries(copy)) {
      if (containsUnknowns(v))
        throw new Error(`${options.label}: unexpected unknown property value for "${k}"`);
    }
  }
  return copy;
}

/**
 * provider_plugin.go annotateSecrets: an output whose same-named input held a secret becomes a
 * secret (recursing into objects present on both sides). Returns a new map.
 */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap | undefined): PropertyMap {
  if (!ins) return outs;
  const result: PropertyMap = { ...outs };
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in result)) continue;
    const outValue = result[key];
    if (isPlainObject(outValue) && isPlainObject(inValue)) {
      result[key] = annotateSecrets(outValue as PropertyMap, inValue as PropertyMap);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      result[key] = secret(outValue);
    }
  }
  return result;
}

function isPlainObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isSecret(v);
}

/** Deep equality of engine values, secrets compared by what they hold (the engine's input diff). */
export function sameValue(a: unknown, b: unknown): boolean {
  return (
    JSON.stringify(canonical(reveal(a as EngineValue))) ===
    JSON.stringify(canonical(reveal(b as EngineValue)))
  );
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
