/**
 * Progress output of the scripts. It goes to stderr so that stdout carries only results (the
 * drift table, or JSON with --json) and can be piped.
 */

export function progress(message: string): void {
  process.stderr.write(`» ${message}\n`);
}

export function failure(message: string): void {
  process.stderr.write(`✖ ${message}\n`);
}

/** Prints "still running" every `everyMs` until stopped: long `pulumi` runs stay visibly alive. */
export function heartbeat(label: string, everyMs = 15_000): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    progress(`${label}: still running (${Math.round((Date.now() - started) / 1000)} s)`);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
