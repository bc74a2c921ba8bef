/**
 * Log hygiene: URL tokens are secrets, so every path that can carry one is redacted, and every
 * log line passes through a last-resort filter before it is written. Headers are never logged.
 */

// Skips a segment already reading `[redacted]`, so the final filter rewrites nothing on most lines.
const WEBHOOK_PATH_TOKEN = /(\/webhooks\/)(?!\[redacted\][/?#"\s\\]|\[redacted\]$)[^/?#"\s\\]+/g;
const ANY_TOKEN = /alw_[0-9A-Za-z]{4,}/g;

/** `/api/v1/webhooks/alw_…?x` → `/api/v1/webhooks/[redacted]?x`. */
export function redactPath(url: string): string {
  return url.replace(WEBHOOK_PATH_TOKEN, "$1[redacted]").replace(ANY_TOKEN, "alw_[redacted]");
}

export interface LineSink {
  write(line: string): unknown;
}

/** Wraps a log destination so no line can carry a URL token, whatever logged it. */
export function redactingStream(dest: LineSink): LineSink {
  // Cheap substring checks first: a line with neither marker cannot carry a URL token.
  return {
    write: (line: string) =>
      dest.write(line.includes("/webhooks/") || line.includes("alw_") ? redactPath(line) : line),
  };
}
