/**
 * Resources as the Pulumi engine stores them in a checkpoint (pulumi/pulumi
 * `pkg/resource/stack/deployment.go` SerializeResource / SerializePropertyValue), and back.
 *
 * A secret is stored as `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
 * "ciphertext": "…" }`, or with `"plaintext": "<JSON of the value>"` instead of `ciphertext` in an
 * export made with `--show-secrets`. Fixtures (test/fixtures/state) use the plaintext form so that a
 * test can read them back; sizes are measured with real ciphertext in the format of the passphrase
 * secrets manager (`sdk/go/common/resource/config/crypt.go` symmetricCrypter.EncryptValue:
 * `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext + tag>`), encrypted here with a
 * throw-away key, so the length is the length Pulumi would write.
 *
 * The DIY (file/blob) backend writes the checkpoint as compact JSON (`pkg/backend/diy/state.go`
 * compactJSONMarshaler), which is what `storedSize` measures.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { isSecret, SECRET_SIG, SIG_KEY, UNKNOWN, type EngineValue, type PropertyMap } from "./values";

/** One resource of a checkpoint's `deployment.resources` (apitype.ResourceV3, the fields used here). */
export interface StoredResource {
  urn: string;
  custom: boolean;
  id?: string;
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  parent?: string;
  additionalSecretOutputs?: string[];
}

/** deployment.go computedValuePlaceholder: how an unknown is written (only ever in preview plans). */
const COMPUTED_PLACEHOLDER = UNKNOWN;

export type SecretEncoding =
  | { kind: "plaintext" }
  /** Encrypt like the passphrase secrets manager, with this 32-byte key. */
  | { kind: "ciphertext"; key: Buffer };

/** A fresh throw-away key for size measurements. */
export function measurementKey(): SecretEncoding {
  return { kind: "ciphertext", key: randomBytes(32) };
}

/** crypt.go symmetricCrypter.EncryptValue. */
function encrypt(plaintext: string, key: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString("base64")}:${body.toString("base64")}`;
}

export function serializeValue(value: EngineValue, secrets: SecretEncoding): unknown {
  if (isSecret(value)) {
    // Inner secrets are not encrypted twice: the whole value is serialized, then encrypted once.
    const plaintext = JSON.stringify(serializeValue(value.value, { kind: "plaintext" }));
    return secrets.kind === "plaintext"
      ? { [SIG_KEY]: SECRET_SIG, plaintext }
      : { [SIG_KEY]: SECRET_SIG, ciphertext: encrypt(plaintext, secrets.key) };
  }
  if (value === UNKNOWN) return COMPUTED_PLACEHOLDER;
  if (Array.isArray(value)) return value.map((v) => serializeValue(v, secrets));
  if (typeof value === "object" && value !== null) {
    // SerializeProperties writes keys in stable (sorted) order.
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, serializeValue(value[k], secrets)]),
    );
  }
  return value;
}

export function serializeProperties(props: PropertyMap, secrets: SecretEncoding): Record<string, unknown> {
  return serializeValue(props, secrets) as Record<string, unknown>;
}

/** The reverse for `plaintext` secrets (a `ciphertext` cannot be read back here). */
export function deserializeValue(value: unknown): EngineValue {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) {
      if (typeof o.plaintext !== "string")
        throw new Error(
          "a stored secret without `plaintext` cannot be read back (export with --show-secrets)",
        );
      return {
        [SIG_KEY]: SECRET_SIG,
        value: deserializeValue(JSON.parse(o.plaintext)),
      } as unknown as EngineValue;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, deserializeValue(v)]));
  }
  if (Array.isArray(value)) return value.map(deserializeValue);
  return value as EngineValue;
}

export function deserializeProperties(props: Record<string, unknown> | undefined): PropertyMap {
  return (props ? deserializeValue(props) : {}) as PropertyMap;
}

/** Bytes of the compact JSON the DIY backend writes for a value (UTF-8). */
export function storedSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}
