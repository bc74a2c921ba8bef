/**
 * Credential primitives shared by the receiver and the credentials component: the `alw_` URL-token
 * format (GitHub's token design: random part + CRC32 checksum, so a mistyped or forged token is
 * rejected before any lookup), SHA-256 digests and constant-time digest comparison.
 *
 * Pure module: no I/O beyond the OS random source, no Pulumi.
 */
import { hash, randomInt, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

export const TOKEN_PREFIX = "alw_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
/** Full token length: prefix + 30 random + 6 checksum characters. */
export const TOKEN_LENGTH = TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** `length` characters drawn uniformly from the alphabet (randomInt avoids modulo bias). */
function randomString(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** CRC32 as exactly 6 base62 characters (62^6 > 2^32, so it always fits), left-padded with '0'. */
export function checksumBase62(text: string): string {
  let n = crc32(text);
  let out = "";
  while (n > 0) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(CHECKSUM_LENGTH, "0");
}

/** A new URL token: `alw_` + 30 random base62 + 6 base62 CRC32 of the prefix and random part. */
export function mintToken(): string {
  const head = TOKEN_PREFIX + randomString(BASE62, RANDOM_LENGTH);
  return head + checksumBase62(head);
}

/** True when `t` has the `alw_` shape and its checksum matches; no secret is consulted. */
export function isWellFormedToken(t: unknown): t is string {
  if (typeof t !== "string" || t.length !== TOKEN_LENGTH || !TOKEN_PATTERN.test(t)) return false;
  const head = t.slice(0, TOKEN_LENGTH - CHECKSUM_LENGTH);
  return checksumBase62(head) === t.slice(TOKEN_LENGTH - CHECKSUM_LENGTH);
}

/** Lower-case hex SHA-256 of a UTF-8 string: the only form in which credentials reach the receiver. */
export function sha256Hex(s: string): string {
  return sha256(s, "hex");
}

/**
 * SHA-256 of a UTF-8 string in the given encoding. One-shot `crypto.hash` (Node >= 20.12; the
 * project needs Node 24) costs a third of createHash().update().digest() for short inputs; it runs
 * several times per delivery.
 */
export function sha256(s: string, encoding: "hex" | "base64url"): string {
  return hash("sha256", s, encoding);
}

/** A SHA-256 digest as sha256Hex writes it: 64 lower-case hex characters. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Constant-time equality of two SHA-256 hex digests. Both sides are fixed-length digests, so the
 * comparison time never depends on where a guess differs; anything that is not a digest is unequal.
 */
export function digestEquals(aHex: string, bHex: string): boolean {
  const a = aHex.toLowerCase();
  const b = bHex.toLowerCase();
  if (!SHA256_HEX.test(a) || !SHA256_HEX.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

/**
 * A strong Basic-auth password: 40 characters from base62 plus a few URL-safe symbols
 * (≈ 238 bits of entropy), safe in an ADO subscription's password field and in HTTP headers.
 */
export function mintPassword(length = 40): string {
  if (!Number.isInteger(length) || length < 24)
    throw new Error("mintPassword: length must be an integer >= 24");
  return randomString(BASE62 + "-_.~", length);
}
