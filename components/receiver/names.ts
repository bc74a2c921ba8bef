/**
 * Physical names for the receiver's Azure resources: valid per each resource type's naming rules
 * and, for the globally unique ones (Cosmos DB account, Key Vault, container registry), made unique
 * by a short suffix hashed from the subscription, the Pulumi project and the stack. Pure functions,
 * tested directly.
 *
 * Names are a contract with state: ReceiverInfra pins every physical name it derived with
 * `ignoreChanges`, so a stack keeps the names it was created with (release 0.1 hashed project and
 * stack only: `stackSuffix`) until its owner sets `nameSuffix` on purpose.
 */
import { createHash } from "node:crypto";

/** One Azure naming rule: length bounds and the allowed shape. */
export interface NameRule {
  minLength: number;
  maxLength: number;
  /** The whole name must match. */
  pattern: RegExp;
  /** Short marker put in generated names so the portal shows what a thing is. */
  tag: string;
  /** False for types that allow letters and digits only (no hyphen between the parts). */
  hyphens?: boolean;
}

/**
 * Naming rules from "Naming rules and restrictions for Azure resources" (learn.microsoft.com).
 * Generated names use only lower-case letters, digits and single hyphens, start with a letter and
 * end with a letter or digit, which every rule here accepts.
 */
export const nameRules = {
  resourceGroup: { minLength: 1, maxLength: 90, pattern: /^[-\w.()]*[-\w()]$/, tag: "rg" },
  logAnalyticsWorkspace: {
    minLength: 4,
    maxLength: 63,
    pattern: /^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/,
    tag: "log",
  },
  appInsights: { minLength: 1, maxLength: 260, pattern: /^[^%&\\?/]*[^%&\\?/. ]$/, tag: "appi" },
  managedIdentity: { minLength: 3, maxLength: 128, pattern: /^[A-Za-z0-9][\w-]*$/, tag: "id" },
  /** Globally unique (it becomes `<name>.documents.azure.com`). */
  cosmosAccount: { minLength: 3, maxLength: 44, pattern: /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, tag: "cosmos" },
  /** Globally unique (`<name>.vault.azure.net`); no consecutive hyphens. */
  keyVault: { minLength: 3, maxLength: 24, pattern: /^[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]$/, tag: "kv" },
  managedEnvironment: {
    minLength: 2,
    maxLength: 60,
    pattern: /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/,
    tag: "cae",
  },
  containerApp: { minLength: 2, maxLength: 32, pattern: /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/, tag: "app" },
  containerAppJob: { minLength: 2, maxLength: 32, pattern: /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/, tag: "job" },
  /** Globally unique (`<name>.azurecr.io`); 5–50 letters and digits, no hyphen. */
  containerRegistry: {
    minLength: 5,
    maxLength: 50,
    pattern: /^[a-zA-Z0-9]{5,50}$/,
    tag: "acr",
    hyphens: false,
  },
} as const satisfies Record<string, NameRule>;

export type NameKind = keyof typeof nameRules;

/** Key Vault secret names: 1–127 letters, digits and hyphens. */
export const keyVaultSecretNameRule = /^[A-Za-z0-9-]{1,127}$/;
/** Container App secret names: lower-case alphanumerics, '-' or '.', alphanumeric at both ends. */
export const containerAppSecretNameRule = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

/** A short, stable, lower-case alphanumeric hash of the parts (NUL-separated, so boundaries count). */
export function hashSuffix(parts: readonly string[], length = 6): string {
  const digest = createHash("sha256").update(parts.join("\u0000")).digest();
  // 64 bits in base 36 give 12–13 characters; take the leading ones.
  const base36 = BigInt(`0x${digest.subarray(0, 8).toString("hex")}`).toString(36);
  return base36.padStart(length, "0").slice(0, length);
}

/**
 * Release 0.1's suffix, from project and stack only: every adopter's `dev` stack got the same Cosmos
 * DB and Key Vault names. Kept unchanged because stacks created by 0.1 carry it in their names (and
 * for short, non-global parts such as the per-PAT heal-job marker).
 */
export function stackSuffix(project: string, stack: string, length = 6): string {
  return hashSuffix([project, stack], length);
}

/**
 * The suffix of a new stack's names: subscription, project and stack, so the same project and stack
 * name in two subscriptions (two adopters, or one adopter's two tenants) get different global names.
 * The subscription id is compared case-insensitively, as ARM does.
 */
export function subscriptionSuffix(
  subscriptionId: string,
  project: string,
  stack: string,
  length = 6,
): string {
  return hashSuffix([subscriptionId.toLowerCase(), project, stack], length);
}

/** A `nameSuffix` a user may set: what every name rule accepts at its end. */
export const nameSuffixRule = /^[a-z0-9]{1,12}$/;

/** Lower-case, letters/digits/single hyphens, starting with a letter. */
export function sanitizeBaseName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return /^[a-z]/.test(cleaned) ? cleaned : `h${cleaned}`.replace(/-+$/, "");
}

/**
 * `<base>-<tag>-<suffix>`, with the base shortened to fit the type's maximum length.
 * Throws if the result would still break the rule (only possible for an invalid suffix).
 */
export function resourceName(kind: NameKind, base: string, suffix: string): string {
  const rule: NameRule = nameRules[kind];
  const sep = rule.hyphens === false ? "" : "-";
  const tail = `${sep}${rule.tag}${sep}${suffix}`;
  const room = rule.maxLength - tail.length;
  const cleaned = sanitizeBaseName(base);
  const shortened =
    (rule.hyphens === false ? cleaned.replace(/-/g, "") : cleaned)
      .slice(0, Math.max(room, 1))
      .replace(/-+$/, "") || "h";
  const name = `${shortened}${tail}`;
  if (name.length < rule.minLength || name.length > rule.maxLength || !rule.pattern.test(name)) {
    throw new Error(
      `cannot derive a valid ${kind} name from base "${base}" and suffix "${suffix}": got "${name}"`,
    );
  }
  return name;
}

/** Every physical name the receiver uses, for one component name in one project/stack. */
export function receiverResourceNames(base: string, suffix: string): Record<NameKind, string> {
  return Object.fromEntries(
    (Object.keys(nameRules) as NameKind[]).map((kind) => [kind, resourceName(kind, base, suffix)]),
  ) as Record<NameKind, string>;
}

/** Secret name for a setting in Key Vault and in the Container App: `HOOKFLEET_URL_TOKENS` → `hookfleet-url-tokens`. */
export function secretNameFor(key: string): string {
  const name = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!keyVaultSecretNameRule.test(name) || !containerAppSecretNameRule.test(name)) {
    throw new Error(`"${key}" cannot be turned into a valid secret name`);
  }
  return name;
}

/**
 * A deterministic GUID (name-based, SHA-256, RFC 4122 layout) for resources whose name must be a GUID
 * (Cosmos DB SQL role assignments): stable across runs, different per component and role.
 */
export function stableGuid(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32).split("");
  hex[12] = "5"; // version nibble: name-based
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16); // RFC 4122 variant
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
