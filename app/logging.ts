/**
 * Log hygiene: URL tokens are secrets, so every path that can carry one is redacted, and every
 * log line passes through a last-resort filter before it is written. Headers are never logged.
 *
 * The router decodes percent-escapes before it matches a route, so `/api/v1/%77ebhooks/%61lw_…`
 * reaches the token route: the patterns below match every character of `/webhooks/` and of `alw_…`
 * either as itself or percent-encoded (once or more: `%61`, `%2561`, any hex case).
 */

/** A regular-expression source matching `text` with any of its characters percent-encoded. */
function escapedOrNot(text: string): string {
  return [...text]
    .map((ch) => {
      const hex = ch
        .charCodeAt(0)
        .toString(16)
        .padStart(2, "0")
        .replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`);
      return `(?:${ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}|%(?:25)*${hex})`;
    })
    .join("");
}

const WEBHOOKS_SEGMENT = escapedOrNot("/webhooks/");
// The segment after it, up to the next real separator; skips one already reading `[redacted]`, so
// the final filter rewrites nothing on most lines.
const WEBHOOK_PATH_TOKEN = new RegExp(
  `(${WEBHOOKS_SEGMENT})(?!\\[redacted\\](?:[/?#"\\s\\\\]|$))[^/?#"\\s\\\\]+`,
  "gi",
);
const ANY_TOKEN = new RegExp(`${escapedOrNot("alw_")}(?:[0-9A-Za-z]|%(?:25)*[0-9A-Fa-f]{2}){4,}`, "g");

/** `/api/v1/webhooks/alw_…?x` → `/api/v1/webhooks/[redacted]?x`; any `alw_…` → `alw_[redacted]`. */
export function redactPath(url: string): string {
  return url.replace(WEBHOOK_PATH_TOKEN, "$1[redacted]").replace(ANY_TOKEN, "alw_[redacted]");
}

export interface LineSink {
  write(line: string): unknown;
}

/** Wraps a log destination so no line can carry a URL token, whatever logged it. */
export function redactingStream(dest: LineSink): LineSink {
  // Cheap substring checks first: a line with none of these cannot carry a URL token.
  return {
    write: (line: string) =>
      dest.write(
        line.includes("/webhooks/") || line.includes("alw_") || line.includes("%") ? redactPath(line) : line,
      ),
  };
}
