/**
 * Last line of defence for outside text that leaves a process: an ADO or Azure error message, a
 * delivery failure ADO reports, a heal problem. Anything shaped like a credential is replaced
 * before the text becomes a telemetry attribute (app/telemetry), a resource output, warning or
 * provider error (components/: state and `pulumi up` output), or a line a script prints
 * (scripts/lib). ADO's error text may quote the consumer URL, whose path holds our URL token.
 *
 * Pure module (no I/O, no Pulumi), kept in app/ beside app/tokens.ts rather than under
 * app/telemetry so that components/ and scripts/ can import it as they import app/tokens.ts
 * (../shared/design/architecture.md: imports point one way, and components/ take only pure
 * modules from app/).
 */
import { TOKEN_PREFIX } from "./tokens";

const PATTERNS: [RegExp, string | ((match: string) => string)][] = [
  // URL tokens (app/tokens.ts: `alw_` + base62).
  [new RegExp(`${TOKEN_PREFIX}[0-9A-Za-z]+`, "g"), `${TOKEN_PREFIX}[redacted]`],
  // Authorization header values and credentials in URLs.
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/gi, "$1 [redacted]"],
  [/\/\/[^/\s:@]+:[^/\s@]+@/g, "//[redacted]@"],
  // The path segment after /webhooks/ is a URL token whatever its shape.
  [/(\/webhooks\/)[^/?#\s"']+/g, "$1[redacted]"],
  // Anything long and key-like: ADO PATs (52 or 84 characters), Cosmos keys, JWT parts. No hyphen
  // or dot in the class, so GUIDs (hook and event ids, 8-4-4-4-12) stay readable. A run with slashes
  // is kept when it reads as a path (ADO's `contoso/_apis/hooks/subscriptions`, ARM's
  // `ContainerRegistry/registries/contosoacr/scheduleRun`): every segment short, and none mixing
  // upper case, lower case and digits as random base64 does (a 30-character base64 piece lacks one
  // of the three with a chance under 1 %, and every piece of a key would have to). Anything else is
  // redacted whole.
  [
    /[A-Za-z0-9+/_=]{32,}/g,
    (run) => (run.includes("/") && run.split("/").every(pathLike) ? run : "[redacted]"),
  ],
];

/** A path segment, not a piece of a key: under 32 characters, and not upper, lower and digits at once. */
function pathLike(segment: string): boolean {
  if (segment.length >= 32) return false;
  return segment.length < 8 || !(/[A-Z]/.test(segment) && /[a-z]/.test(segment) && /[0-9]/.test(segment));
}

/** `text` with credential-shaped substrings replaced, cut to `max` characters when given. */
export function scrubText(text: string, max = Number.POSITIVE_INFINITY): string {
  let out = text;
  // replace() has one overload per kind of replacement, so each is passed as what it is.
  for (const [pattern, replacement] of PATTERNS)
    out =
      typeof replacement === "string" ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
