/**
 * Authentication against the configured credential hashes. A `Credentials` value is immutable;
 * a running receiver swaps the whole value at once (see CredentialHolder), so a request sees
 * either the old or the new set, never a mix.
 */
import type { CredentialSettings } from "./config";
import type { CredentialHash, SystemSetting } from "./settings";
import { timingSafeEqual } from "node:crypto";
import { parseInstant } from "./instants";
import { digestEquals, isWellFormedToken, SHA256_HEX, sha256Hex } from "./tokens";

interface UrlTokenEntry extends CredentialHash {
  systemId: string;
  /** The configured digest decoded once (32 bytes), for the per-request comparison. */
  digest: Buffer;
}

/**
 * Each hash's `notAfter` as epoch ms, read once per hash object (a credential set is immutable), not
 * on every request; NaN for one it cannot read.
 */
const endOf = new WeakMap<CredentialHash, number>();

/**
 * Accepted until `notAfter`, read as the configuration checks it (parseInstant, strict RFC 3339);
 * one it cannot read (settings that bypassed validation) is over: fail closed (NaN > now is false).
 */
function live(h: CredentialHash, now: number): boolean {
  if (h.notAfter === undefined) return true;
  let end = endOf.get(h);
  if (end === undefined) {
    const parsed = parseInstant(h.notAfter);
    end = "iso" in parsed ? Date.parse(parsed.iso) : NaN;
    endOf.set(h, end);
  }
  return end > now;
}

/** True when `digest` equals one of the live hashes; every entry is compared (no early exit on a match). */
function matchesAny(digest: string, hashes: readonly CredentialHash[] | undefined, now: number): boolean {
  let ok = false;
  for (const h of hashes ?? []) if (digestEquals(digest, h.sha256) && live(h, now)) ok = true;
  return ok;
}

export type BasicResult = "ok" | "missing" | "bad";

export class Credentials {
  readonly systems: ReadonlyMap<string, SystemSetting>;
  private readonly urlTokens: ReadonlyMap<string, UrlTokenEntry[]>;
  /** SHA-256 hex of each configured Basic username, hashed once per credential set, not per request. */
  private readonly usernameDigests: ReadonlyMap<SystemSetting, string>;

  constructor(readonly settings: CredentialSettings) {
    this.systems = new Map(settings.systems.map((s) => [s.id, s]));
    this.usernameDigests = new Map(
      settings.systems.flatMap((s) =>
        s.basicUsername === undefined ? [] : [[s, sha256Hex(s.basicUsername)]],
      ),
    );
    const byHash = new Map<string, UrlTokenEntry[]>();
    for (const t of settings.urlTokens) {
      const key = t.sha256.toLowerCase();
      // Validated settings hold 64-hex digests; anything else could never match, so it is left out.
      if (!SHA256_HEX.test(key)) continue;
      byHash.set(key, [...(byHash.get(key) ?? []), { ...t, digest: Buffer.from(key, "hex") }]);
    }
    this.urlTokens = byHash;
  }

  /**
   * The system a URL token delivers to, or undefined for a malformed, unknown or expired token.
   * The checksum is checked first, so garbage never reaches the lookup. The lookup is keyed by the
   * SHA-256 of the token (an attacker cannot steer the digest), then confirmed with a fixed-length
   * constant-time comparison.
   */
  systemForUrlToken(token: string, now = Date.now()): SystemSetting | undefined {
    if (!isWellFormedToken(token)) return undefined;
    const digest = sha256Hex(token);
    const entries = this.urlTokens.get(digest);
    if (!entries) return undefined;
    // Both sides are 32-byte digests: the comparison time does not depend on the token.
    const digestBytes = Buffer.from(digest, "hex");
    for (const entry of entries)
      if (timingSafeEqual(digestBytes, entry.digest) && live(entry, now))
        return this.systems.get(entry.systemId);
    return undefined;
  }

  /** Checks an `Authorization: Basic` header against the system's password hashes. */
  checkBasic(system: SystemSetting, authorization: string | undefined, now = Date.now()): BasicResult {
    if (!authorization) return "missing";
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (!m) return "bad";
    const decoded = Buffer.from(m[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return "bad";
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const passwordOk = matchesAny(sha256Hex(password), system.basicPasswords, now);
    // The username is compared as a digest too, so its length does not show in the timing.
    const userOk =
      system.basicUsername === undefined ||
      digestEquals(
        sha256Hex(user),
        // A system from outside this set (not expected) is hashed on the spot.
        this.usernameDigests.get(system) ?? sha256Hex(system.basicUsername),
      );
    return passwordOk && userOk ? "ok" : "bad";
  }

  /** Checks an `Authorization: Bearer` read token. */
  checkReadToken(authorization: string | undefined, now = Date.now()): boolean {
    const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!m) return false;
    return matchesAny(sha256Hex(m[1]), this.settings.readTokens, now);
  }
}

/** Holds the current Credentials of a running receiver; `swap` replaces them atomically. */
export class CredentialHolder {
  private value: Credentials;
  constructor(settings: CredentialSettings) {
    this.value = new Credentials(settings);
  }
  get current(): Credentials {
    return this.value;
  }
  swap(settings: CredentialSettings): void {
    this.value = new Credentials(settings);
  }
}
