/**
 * Whether a value in stack config was given as a secret, and whether a plain value carries a
 * credential. A stack file is committed to git: a password or a URL token written there in plain
 * text is leaked, so the program refuses it and says which `pulumi config set --secret` fixes it.
 *
 * What Pulumi tells a program: `pulumi config set --secret --path 'hookfleet:destinations[1].url' …`
 * writes `url: {secure: …}` inside the list in the stack file, and the CLI hands the program the
 * whole key decrypted, marking the *key* secret when any value inside it is secure (pulumi/pulumi
 * sdk/go/common/resource/config/value.go: `secure = hasSecureValue(obj)`; the Node SDK's
 * runtime/config.js `isConfigSecret(key)` reads that list). So Pulumi says which keys hold secrets,
 * not which values inside them; the stack file itself says which values are `secure`. The program
 * reads both: the stack file where it holds the key (stack-file.ts), and the key's flag otherwise
 * (config set with `--config`, Pulumi ESC, the Automation API).
 */

/** How one value was given. */
export type Secrecy = "secret" | "plain";

/** A path inside a config key's value, e.g. `[1, "url"]` for `destinations[1].url`. */
export type ConfigPath = readonly (string | number)[];

/** Answers, for a path inside one config key, how its value was given. */
export type SecrecyOf = (path: ConfigPath) => Secrecy;

/** The key's flag alone: every value inside a secret key counts as secret. */
export function secrecyOfKey(keyIsSecret: boolean): SecrecyOf {
  return () => (keyIsSecret ? "secret" : "plain");
}

const isSecureNode = (node: unknown): boolean =>
  typeof node === "object" &&
  node !== null &&
  !Array.isArray(node) &&
  Object.keys(node).length === 1 &&
  typeof (node as Record<string, unknown>).secure === "string";

/**
 * Secrecy as the stack file writes it: a value (or anything above it) written `{secure: …}` is
 * secret, a plain scalar is plain. Where the file does not hold the path (the value came from
 * elsewhere) the key's flag decides.
 */
export function secrecyFromStackFile(fileValue: unknown, keyIsSecret: boolean): SecrecyOf {
  return (path) => {
    let node = fileValue;
    for (const step of path) {
      if (isSecureNode(node)) return "secret";
      if (typeof step === "number" ? !Array.isArray(node) : typeof node !== "object" || node === null)
        return keyIsSecret ? "secret" : "plain";
      node = (node as Record<string | number, unknown>)[step];
      if (node === undefined) return keyIsSecret ? "secret" : "plain";
    }
    return isSecureNode(node) ? "secret" : "plain";
  };
}

/** Query parameters that carry a key in webhook URLs (Azure Functions `code`, SAS `sig`, `token`, …). */
const CREDENTIAL_PARAM = /(token|key|secret|sig|code|password|passwd|auth|credential)/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why a URL written in plain text would leak a credential, or undefined when it carries none that
 * can be seen: an `alw_` token (the URL-token products, app/tokens.ts), a user name and password,
 * a query parameter named like a key, or a long opaque path segment (letters and digits, 20 or more,
 * not a GUID) as webhook URLs carry their token. Never quotes the value.
 */
export function credentialInUrl(url: string): string | undefined {
  if (/alw_/i.test(url)) return "it carries an alw_ URL token";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.password) return "it carries a password (user:password@)";
  for (const name of parsed.searchParams.keys()) {
    if (CREDENTIAL_PARAM.test(name)) return `its query parameter "${name}" carries a key`;
  }
  for (const segment of parsed.pathname.split("/")) {
    if (
      segment.length >= 20 &&
      /^[A-Za-z0-9_~.-]+$/.test(segment) &&
      /[A-Za-z]/.test(segment) &&
      /\d/.test(segment) &&
      !GUID.test(segment)
    ) {
      return "a path segment looks like a token";
    }
  }
  return undefined;
}

/** HTTP header names whose values are credentials (Authorization, X-Api-Key, X-Auth-Token, Cookie, …). */
export function isCredentialHeader(name: string): boolean {
  return /^(authorization|proxy-authorization|cookie)$/i.test(name) || CREDENTIAL_PARAM.test(name);
}
