/**
 * Shared by the telemetry suites: start the real receiver or heal entry point as a process (the
 * OpenTelemetry exporters load their HTTP transport with a dynamic import(), which jest's module
 * sandbox cannot run, and a process is what runs in the container anyway), and read captured spans
 * the way Application Insights files them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import type { SpanKindName } from "../../app/telemetry/names";
import { sha256Hex } from "../../app/tokens";
import { tableOf } from "../../components/receiver/telemetry-kql";
import type { AttrValue, CapturedSpan } from "../support/otlp-capture";

export const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");

export interface RunningProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stderr or stdout. */
  waitForLine(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  exited(): Promise<number | null>;
}

export function startProcess(script: string, args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(tsx, [script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForLine(pattern, ms = 30_000) {
      const until = Date.now() + ms;
      for (;;) {
        const m = pattern.exec(err) ?? pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null)
          throw new Error(`process exited (${child.exitCode}) before ${pattern}:\n${err}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}:\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    exited: () => exit,
  };
}

/**
 * The receiver's entry point in local mode (embedded store), on a free loopback port, with one lean
 * system `devops` taking the URL token `token`, and `otel` (its telemetry variables) on top.
 */
export function startLeanReceiver(token: string, otel: Record<string, string>): RunningProcess {
  return startProcess("app/main.ts", [], {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    HOOKFLEET_SYSTEMS: JSON.stringify([{ id: "devops", storageMode: "lean", retentionDays: 1 }]),
    HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: sha256Hex(token), systemId: "devops" }]),
    HOOKFLEET_READ_TOKENS: "[]",
    ...otel,
  });
}

const kindNames: Record<number, SpanKindName> = { 1: "internal", 2: "server", 3: "client" };

/** The Log Analytics table a captured span lands in (telemetry-kql.ts tableOf, by its OTLP kind). */
export function tableOfSpan(span: CapturedSpan): string {
  return tableOf[kindNames[span.kind] ?? "internal"];
}

/**
 * Checks that every attribute `query` reads is carried by some captured span that lands in a
 * table the query reads. Returns the attributes that are not (empty when all are emitted).
 */
export function unreadableAttributes(query: string, read: string[], captured: CapturedSpan[]): string[] {
  const tables = ["AppRequests", "AppDependencies"].filter((t) => query.includes(t));
  return read.filter(
    (key) => !captured.some((s) => tables.includes(tableOfSpan(s)) && s.attributes[key] !== undefined),
  );
}

/** Every value an attribute takes in what was captured. */
export function valuesOf(spans: CapturedSpan[], key: string): Set<AttrValue> {
  return new Set(spans.map((s) => s.attributes[key]).filter((v) => v !== undefined));
}
