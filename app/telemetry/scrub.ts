/**
 * Last line of defence for free text that becomes an attribute (an ADO error message, a heal
 * problem): anything shaped like a credential is replaced before it leaves the process. Attributes
 * are otherwise built only from ids, names and counts, never from URLs, headers or bodies.
 */
import { maxAttributeLength } from "./names";

const PATTERNS: [RegExp, string][] = [
  // URL tokens (app/tokens.ts: `alw_` + base62).
  [/alw_[0-9A-Za-z]+/g, "alw_[redacted]"],
  // Authorization header values and credentials in URLs.
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/gi, "$1 [redacted]"],
  [/\/\/[^/\s:@]+:[^/\s@]+@/g, "//[redacted]@"],
  // The path segment after /webhooks/ is a URL token whatever its shape.
  [/(\/webhooks\/)[^/?#\s"']+/g, "$1[redacted]"],
  // Anything long and key-like: ADO PATs (52 or 84 characters), Cosmos keys, JWT parts. No hyphen
  // in the class, so GUIDs (hook and event ids, 8-4-4-4-12) stay readable.
  [/[A-Za-z0-9+/_=]{32,}/g, "[redacted]"],
];

/** Credential-shaped substrings replaced, cut to `maxAttributeLength`. */
export function scrubText(text: string, max = maxAttributeLength): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
