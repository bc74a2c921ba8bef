/**
 * `npm run bench:receiver`: how much the receiver costs next to its store and next to bare Node,
 * and what telemetry adds.
 *
 * Rows, each with realistic ADO payloads (4 KB and 18 KB) and a unique event id per request:
 *   (a) the receiver with its embedded store (what `npm run receiver` runs)
 *   (b) the same documents created straight in the same store with raw @azure/cosmos calls,
 *       behind a minimal node:http server so that the same client load applies
 *   (c) a bare node:http server that reads the body and answers 201
 *   (d) the receiver's whole pipeline with the store write awaited but not performed
 *   (e) row (a) with OpenTelemetry on, as ReceiverInfra deploys it (spans over OTLP/gRPC, which the
 *       Container Apps agent injects, no metrics, delivery traces sampled above the default limit;
 *       OTEL_* variables and HOOKFLEET_DELIVERY_TRACES_PER_SECOND change that), with
 *       the SDK's default batching, to a local OTLP sink in its own process; e/a is the telemetry's cost
 *   (f) row (d) with OpenTelemetry on, the same way: the cost without the in-process store
 * Each server runs in its own child process; autocannon runs in this one. Rounds are interleaved
 * across rows (every other round in reverse order) and medians reported, so drifting machine load
 * does not favour one row; telemetry on/off is the median of per-round ratios, with a 95 % confidence
 * interval that says whether the target (e/a >= 0.9) is met, missed or undecided. Beside req/s each
 * row's server CPU time per request is printed, all threads and the main thread alone (the child
 * reports process.cpuUsage() and process.threadCpuUsage() when asked on stdin), which other load on
 * a shared machine disturbs less. One table.
 *
 * Then two measurements of row (a) under awkward traffic (issue 13): a 5,000-event, 1 MB Event Grid
 * array against /healthz latency, and the read API over 20,000 stored messages.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import path from "node:path";
import autocannon from "autocannon";
import { CosmosClient } from "@azure/cosmos";
import { EMBEDDED_COSMOS_KEY, startEmbeddedCosmos } from "../../app/embedded-cosmos";
import { buildMessage } from "../../app/messages";
import { startReceiver } from "../../app/receiver";
import { messageStoreLayout } from "../../app/settings";
import { DiscardingStore } from "../../app/store";
import { serviceNames } from "../../app/telemetry/names";
import { startTelemetry } from "../../app/telemetry/sdk";
import { defaultDeliveryTracesPerSecond } from "../../app/telemetry/settings";
import { mintToken } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { startOtlpGrpcServer } from "../../devkit/otlp-grpc";
import { BENCH_SYSTEM, benchCredentials } from "./bench-credentials";
import { EXIT } from "../lib/args";
import { measureLargeArray, measureList } from "./receiver-scenarios";
import { coverageNote, median, medianInterval, verdict } from "./statistics";
import { telemetryEnvironment } from "./telemetry-environment";

const HELP = `Usage: npm run bench:receiver -- [--duration <s>] [--rounds <n>] [--starts <n>] [--connections <n>] [--rate <req/s>]
                                  [--rows abcdefg] [--sizes 4,18] [--scenarios throughput,large-array,list]
                                  [--list-messages <n>] [--simultaneous] [--store-process] [--cpu-prof <dir>]

throughput: req/s, p50 and p99 latency and server CPU time per request of (a) receiver + embedded
store, (b) raw @azure/cosmos creates of the same documents behind a minimal HTTP server, (c) bare
node:http, (d) receiver pipeline with the store write skipped, (e) row (a) and (f) row (d) with
OpenTelemetry on as deployed (spans over OTLP/gRPC, no metrics) exporting to a local sink process,
for realistic 4 KB and 18 KB ADO payloads; prints a/b, a/c, d/c, and e/a and f/d (the telemetry's
cost) by req/s and by CPU per request, which other load on a shared machine disturbs less than
req/s. e/a and f/d are medians of per-round ratios with a 95 % confidence interval; the target
(e/a >= 0.9) reads "met" or "not met" only when the whole interval is on one side of it, else
"undecided". Rounds of the same processes agree more with one another than with a fresh start, so
settle it over several starts (e.g. --rows aeg --sizes 4 --starts 8 --rounds 20 --duration 1
--scenarios throughput --store-process, about 10 minutes). Row (g), only on request, is row (a)
again: g/a shows what the bench reads between two equal servers, to hold e/a against. Rows are
measured interleaved (or with --simultaneous, at once); the machine's load average is printed with
each table.
large-array: row (a) receiving 5,000-event, 1 MB Event Grid arrays while /healthz is polled every
10 ms: the array's answer time and /healthz latency (idle and during the array).
list: row (a) holding --list-messages messages (default 20,000; arrays of 500 share an instant):
read API latency for limit=1 and limit=200, one system and all, paging through everything, and
/healthz latency while listing.
Options:
  --duration <s>      seconds per measurement (default 3; a 1 s warm-up per server precedes them)
  --rounds <n>        interleaved rounds per row; figures are medians (default 3)
  --starts <n>        measure n times, each with every process started afresh (default 1); the
                      telemetry ratios are then the median of the starts' medians, with a 95 %
                      interval over starts: a process keeps for its life what made it a little
                      faster or slower, which more rounds of the same processes do not average out
  --connections <n>   concurrent connections (default 32)
  --rate <req/s>      offer this many requests per second instead of as many as the server answers:
                      rows then differ only by CPU per request (default: unlimited)
  --rows <letters>    rows to run, from abcdefg (default abcdef; "aedf" for telemetry off/on only;
                      "aeg" adds the control)
  --sizes <list>      payload sizes in KB (default 4,18)
  --scenarios <list>  which measurements to run (default throughput,large-array,list)
  --list-messages <n> messages stored for the list scenario (default 20000)
  --simultaneous      load every row in the same seconds (each with its own connections and --rate)
                      instead of one after another: the machine's changes of speed, which scatter
                      ratios of rows measured seconds apart, then hit every row alike. Needs --rate:
                      rows are then compared by CPU per request
  --store-process     rows a, e and g store in one embedded store running in a process of its own, as
                      deployed (the receiver's process holds no store), instead of each in a
                      worker thread of its own process; their CPU figures are then the receiver's
  --cpu-prof <dir>    write V8 CPU profiles of every server process into <dir>/<server>/, one per
                      thread (node --cpu-prof; rows a, b, e: the embedded store's worker too)
  --help              this text
OTEL_* variables and HOOKFLEET_DELIVERY_TRACES_PER_SECOND set on the command apply to rows e and f
only, over the deployed defaults (OTEL_EXPORTER_OTLP_PROTOCOL=grpc, OTEL_METRICS_EXPORTER=none,
HOOKFLEET_DELIVERY_TRACES_PER_SECOND=${defaultDeliveryTracesPerSecond}); the endpoint is always the sink's for the protocol in use.
E.g. OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRICS_EXPORTER=otlp for spans and metrics over
OTLP/HTTP, or HOOKFLEET_DELIVERY_TRACES_PER_SECOND=all for a span export of every delivery. Every other
server runs without them.`;

type Row = "a" | "b" | "c" | "d" | "e" | "f" | "g";
const ROWS: readonly Row[] = ["a", "b", "c", "d", "e", "f", "g"];
/** Rows run when --rows is not given: g, the control, only on request. */
const DEFAULT_ROWS: readonly Row[] = ["a", "b", "c", "d", "e", "f"];
const SCENARIOS = ["throughput", "large-array", "list"] as const;
type Scenario = (typeof SCENARIOS)[number];
const ROW_NAMES: Record<Row, string> = {
  a: "(a) receiver + embedded store",
  b: "(b) raw @azure/cosmos creates",
  c: "(c) bare node:http",
  d: "(d) receiver, store skipped",
  e: "(e) (a) + telemetry to OTLP sink",
  f: "(f) (d) + telemetry to OTLP sink",
  g: "(g) (a) again, a control",
};
/** Rows that are the receiver with its store (a, e, g): they share the store of --store-process. */
const STORING_ROWS: readonly Row[] = ["a", "e", "g"];
const TELEMETRY_ROWS: readonly Row[] = ["e", "f"];
/** Issue 16's target: telemetry costs at most 10 % of req/s, i.e. e/a >= 0.9. */
const TELEMETRY_FLOOR = 0.9;
const ID_PLACEHOLDER = "00000000-0000-4000-8000-00000000b0b0";
const ROOT = path.resolve(__dirname, "../..");

// ---------- server side (child processes) ----------

/** `storeAt`: the endpoint of a store process (--store-process) for rows a, e, g; else their own. */
async function serve(row: Row, storeAt?: string): Promise<void> {
  const token = mintToken();
  const readToken = mintToken();
  let url: string;
  // Rows e, f: their last spans are exported as they stop, as a deployed receiver's are.
  let stopTelemetry: (() => Promise<void>) | undefined;
  if (row !== "b" && row !== "c") {
    // Rows e, f: OTEL_EXPORTER_OTLP_ENDPOINT points at the sink (set by the parent); a, d, g run without.
    const telemetry = await startTelemetry(process.env, {
      serviceName: serviceNames.receiver,
      sampleDeliveryTraces: true,
    });
    if (TELEMETRY_ROWS.includes(row) !== telemetry.enabled)
      throw new Error(`row ${row}: telemetry is ${telemetry.enabled ? "on" : "off"}`);
    stopTelemetry = () => telemetry.shutdown();
    const receiver = await startReceiver({
      telemetry,
      ...(storeAt && STORING_ROWS.includes(row)
        ? { cosmos: { endpoint: storeAt, key: EMBEDDED_COSMOS_KEY } }
        : {}),
      credentials: benchCredentials(token, readToken),
      ...(row === "d" || row === "f" ? { store: new DiscardingStore() } : {}),
      // Logging on, as deployed: one JSON line per request, to /dev/null here.
      logStream: { write: () => true },
    });
    url = receiver.webhookUrl(token);
  } else {
    let handle: (body: string) => Promise<string>;
    if (row === "b") {
      const cosmos = await startEmbeddedCosmos();
      const client = new CosmosClient({
        endpoint: cosmos.endpoint,
        key: cosmos.key,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      const { database } = await client.databases.createIfNotExists({ id: "hookfleet" });
      const { container } = await database.containers.createIfNotExists({
        id: "messages",
        partitionKey: { paths: [messageStoreLayout.partitionKeyPath] },
        defaultTtl: messageStoreLayout.defaultTtl,
      });
      handle = async (body) => {
        // The same document the receiver would store, created with no framework around it.
        const doc = buildMessage(
          BENCH_SYSTEM,
          "ado",
          JSON.parse(body) as Record<string, unknown>,
          new Date(),
        );
        try {
          await container.items.create(doc);
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err;
        }
        return JSON.stringify({ id: doc.id, duplicate: false });
      };
    } else {
      handle = async () => '{"id":"x","duplicate":false}';
    }
    url = `${await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        handle(Buffer.concat(chunks).toString("utf8")).then(
          (out) => res.writeHead(201, { "content-type": "application/json" }).end(out),
          () => res.writeHead(503).end(),
        );
      });
    })}/hook`;
  }
  ready(`${url} ${readToken}`, stopTelemetry);
}

/**
 * The OTLP sink of rows e and f, as a collector that accepts everything: OTLP/HTTP (POST /v1/traces,
 * /v1/metrics, answered 200) and OTLP/gRPC (devkit/otlp-grpc.ts), on two ports.
 */
async function sink(): Promise<void> {
  let requests = 0;
  let bytes = 0;
  const httpUrl = await listen((req, res) => {
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  const grpc = await startOtlpGrpcServer((_path, body) => {
    requests++;
    bytes += body.length;
  });
  process.on("exit", () =>
    process.stderr.write(`  otlp sink: ${requests} exports, ${(bytes / 1e6).toFixed(1)} MB\n`),
  );
  ready(`${httpUrl} - ${grpc.url}`);
}

/** A keep-alive node:http server on a free loopback port; resolves to its base URL. */
async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Every child: exit on a signal (after `beforeExit`, at most 5 s of it), answer CPU-time requests,
 * then say it is ready.
 */
function ready(what: string, beforeExit?: () => Promise<unknown>): void {
  // Exit on a signal through process.exit so that `node --cpu-prof` writes its profile.
  const exit = () =>
    void Promise.race([beforeExit?.(), new Promise((r) => setTimeout(r, 5000).unref())]).finally(() =>
      process.exit(0),
    );
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, exit);
  // The parent asks for this process's CPU time around each measurement (a line on stdin): CPU per
  // request is what a row costs, whatever else the shared machine is running meanwhile. All of the
  // process's threads count (the embedded store's worker included).
  process.stdin.setEncoding("utf8").on("data", () => {
    const { user, system } = process.cpuUsage();
    // The main thread alone (Node >= 23.9): what runs the receiver's JavaScript, telemetry included.
    const main = process.threadCpuUsage();
    process.stdout.write(`cpu ${user + system} ${main.user + main.system}\n`);
  });
  process.stdout.write(`ready ${what}\n`);
}

// ---------- client side ----------

interface Measured {
  row: Row;
  kb: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU time per request, µs, all threads (median over rounds). */
  cpuUs: number;
  /** The same, the main thread alone. */
  mainCpuUs: number;
  /** Per round, in round order: req/s, CPU µs per request and which start (for ratios between rows). */
  rounds: { rps: number; cpuUs: number; start: number }[];
  errors: number;
  non2xx: number;
}

interface Child {
  child: ChildProcess;
  url: string;
  /** The read API's bearer token (receiver rows; "-" for the others). */
  readToken: string;
  /** The sink's OTLP/gRPC endpoint (`url` is its OTLP/HTTP one). */
  grpcUrl?: string;
  /** The child's CPU time so far (user + system), µs: all threads, and its main thread. */
  cpu(): Promise<CpuTime>;
}

interface CpuTime {
  all: number;
  main: number;
}

function withoutOtel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([k]) => !k.startsWith("OTEL_") && k !== "HOOKFLEET_DELIVERY_TRACES_PER_SECOND",
    ),
  );
}

/** Where `--cpu-prof` writes profiles, when asked for (set once by main). */
let cpuProfileDir: string | undefined;

function startChild(args: string[], env: NodeJS.ProcessEnv, what: string): Promise<Child> {
  // Node with the tsx loader, as `npm run receiver` runs: the child's pid is the server itself (no
  // tsx CLI relaying signals in between), so SIGTERM and --cpu-prof reach it.
  // One folder per server and Node's default file names (they carry the thread id): rows a, b and e
  // run the embedded store on a worker thread, whose profile would otherwise overwrite the main
  // thread's under one --cpu-prof-name.
  const nodeArgs = cpuProfileDir
    ? ["--cpu-prof", "--cpu-prof-dir", path.join(cpuProfileDir, what.replace(/\W+/g, "-"))]
    : [];
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", __filename, ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
    env,
  });
  let out = "";
  const waiting: ((t: CpuTime) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      for (let m = /cpu (\d+) (\d+)\n/.exec(out); m; m = /cpu (\d+) (\d+)\n/.exec(out)) {
        out = out.slice(m.index + m[0].length);
        waiting.shift()?.({ all: Number(m[1]), main: Number(m[2]) });
      }
      const m = /ready (\S+)(?: (\S+))?(?: (\S+))?\n/.exec(out);
      if (m) {
        out = out.slice(m.index + m[0].length);
        resolve({
          child,
          url: m[1],
          readToken: m[2] ?? "-",
          ...(m[3] ? { grpcUrl: m[3] } : {}),
          cpu: () =>
            new Promise<CpuTime>((r) => {
              waiting.push(r);
              child.stdin!.write("cpu\n");
            }),
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`${what} exited early (code ${code})`)));
  });
}

/** The store of --store-process: an embedded store alone in its process. */
async function storeProcess(): Promise<void> {
  ready((await startEmbeddedCosmos()).endpoint);
}

function startServer(row: Row, sink?: Child, store?: Child): Promise<Child> {
  const env = withoutOtel(process.env);
  if (TELEMETRY_ROWS.includes(row)) {
    if (!sink?.grpcUrl) throw new Error(`row ${row} needs the OTLP sink`);
    Object.assign(env, telemetryEnvironment(process.env, { http: sink.url, grpc: sink.grpcUrl }));
  }
  return startChild(["--serve", row, ...(store ? ["--store-at", store.url] : [])], env, `server-${row}`);
}

function payload(kb: number): string {
  const event =
    kb <= 4
      ? sampleEvent("build.complete", { targetBytes: kb * 1024 })
      : sampleEvent("git.push", { targetBytes: kb * 1024 });
  event.id = ID_PLACEHOLDER;
  return JSON.stringify(event);
}

interface LoadOptions {
  connections: number;
  duration: number;
  /** Offered load in req/s over all connections; 0: as fast as the server answers. */
  rate: number;
}

function run(url: string, body: string, load: LoadOptions): Promise<autocannon.Result> {
  const [head, tail] = body.split(ID_PLACEHOLDER);
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: "POST",
        connections: load.connections,
        duration: load.duration,
        ...(load.rate ? { overallRate: load.rate } : {}),
        headers: { "content-type": "application/json; charset=utf-8" },
        // A unique ADO event id per request, so every delivery is a new message.
        requests: [{ setupRequest: (req) => ({ ...req, body: head + randomUUID() + tail }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    autocannon.track(instance, {
      renderProgressBar: false,
      renderResultsTable: false,
      renderLatencyTable: false,
    });
  });
}

/** What one start of the servers measured for one row: its rounds, in order. */
interface RowSamples {
  results: autocannon.Result[];
  cpu: CpuTime[];
}

/**
 * Measures every row for one payload size, `opts.starts` times, each time with every process
 * (servers, store, sink) started afresh: a process keeps for its life whatever made it a little
 * faster or slower (how its code was compiled, where its memory lies), which no number of rounds
 * of the same processes averages out. Each figure is the median over all rounds; each round's
 * figures are kept, with their start, for per-round ratios.
 */
async function measureSize(
  kb: number,
  rows: Row[],
  opts: LoadOptions & { rounds: number; starts: number; storeProcess: boolean; simultaneous: boolean },
): Promise<Measured[]> {
  const all = new Map<Row, (RowSamples & { start: number })[]>(rows.map((r) => [r, []]));
  for (let start = 1; start <= opts.starts; start++) {
    const measured = await measureStart(
      kb,
      rows,
      opts,
      opts.starts > 1 ? `start ${start}/${opts.starts}, ` : "",
    );
    for (const row of rows) all.get(row)!.push({ ...measured.get(row)!, start });
  }
  return rows.map((row): Measured => {
    const perStart = all.get(row)!;
    const rs = perStart.flatMap((p) => p.results);
    const cpu = perStart.flatMap((p) => p.cpu);
    return {
      row,
      kb,
      rps: median(rs.map((r) => r.requests.average)),
      p50: median(rs.map((r) => r.latency.p50)),
      p99: median(rs.map((r) => r.latency.p99)),
      cpuUs: median(cpu.map((c) => c.all)),
      mainCpuUs: median(cpu.map((c) => c.main)),
      rounds: perStart.flatMap((p) =>
        p.results.map((r, i) => ({ rps: r.requests.average, cpuUs: p.cpu[i].all, start: p.start })),
      ),
      errors: rs.reduce((n, r) => n + r.errors + r.timeouts, 0),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
    };
  });
}

/**
 * One start: the rows' servers run side by side and the rounds are interleaved (a b c d, then
 * d c b a, …), or with --simultaneous loaded at once, so that a change in machine speed affects
 * every row alike.
 */
async function measureStart(
  kb: number,
  rows: Row[],
  opts: LoadOptions & { rounds: number; storeProcess: boolean; simultaneous: boolean },
  label: string,
): Promise<Map<Row, RowSamples>> {
  const otlpSink = rows.some((r) => TELEMETRY_ROWS.includes(r))
    ? await startChild(["--sink"], withoutOtel(process.env), "otlp-sink")
    : undefined;
  const store = opts.storeProcess
    ? await startChild(["--store"], withoutOtel(process.env), "store")
    : undefined;
  const servers = await Promise.all(
    rows.map(async (row) => ({ row, ...(await startServer(row, otlpSink, store)) })),
  );
  try {
    const body = payload(kb);
    for (const s of servers) await run(s.url, body, { ...opts, duration: 1 }); // warm-up: JIT, pools
    const samples = new Map<Row, RowSamples>(rows.map((r) => [r, { results: [], cpu: [] }]));
    const record = (row: Row, result: autocannon.Result, before: CpuTime, after: CpuTime) => {
      const requests = Math.max(1, result.requests.total);
      samples.get(row)!.results.push(result);
      samples.get(row)!.cpu.push({
        all: (after.all - before.all) / requests,
        main: (after.main - before.main) / requests,
      });
    };
    for (let round = 1; round <= opts.rounds; round++) {
      process.stderr.write(`  ${kb} KB ${label}round ${round}/${opts.rounds}\n`);
      if (opts.simultaneous) {
        // Every row under load in the same seconds: a change in the machine's speed hits them alike.
        const before = await Promise.all(servers.map((s) => s.cpu()));
        const results = await Promise.all(servers.map((s) => run(s.url, body, opts)));
        const after = await Promise.all(servers.map((s) => s.cpu()));
        servers.forEach((s, i) => record(s.row, results[i], before[i], after[i]));
        continue;
      }
      // Every other round runs the rows in reverse, so that no row always follows the same one.
      for (const s of round % 2 ? servers : [...servers].reverse()) {
        const before = await s.cpu();
        const result = await run(s.url, body, opts);
        record(s.row, result, before, await s.cpu());
      }
    }
    return samples;
  } finally {
    // The servers first: they export their last spans as they stop, which the sink must still be
    // there to take (and count). All gone before the next start's processes come up.
    await Promise.all(servers.map((s) => stopChild(s.child)));
    await Promise.all([otlpSink, store].map((c) => c && stopChild(c.child)));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function parseArgs(argv: string[]) {
  const opts = {
    duration: 3,
    rounds: 3,
    starts: 1,
    connections: 32,
    rate: 0,
    rows: [...DEFAULT_ROWS],
    sizes: [4, 18],
    scenarios: [...SCENARIOS] as Scenario[],
    listMessages: 20_000,
    cpuProf: undefined as string | undefined,
    storeProcess: false,
    simultaneous: false,
  };
  const fail = (m: string): never => {
    console.error(`bench:receiver: ${m}\n\n${HELP}`);
    process.exit(EXIT.usage);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === "--help" || a === "-h") {
      console.log(HELP);
      process.exit(0);
    } else if (a === "--duration") {
      opts.duration = Number(next());
      if (!Number.isInteger(opts.duration) || opts.duration < 1)
        fail("--duration must be a whole number of seconds >= 1");
    } else if (a === "--rounds") {
      opts.rounds = Number(next());
      if (!Number.isInteger(opts.rounds) || opts.rounds < 1) fail("--rounds must be a whole number >= 1");
    } else if (a === "--starts") {
      opts.starts = Number(next());
      if (!Number.isInteger(opts.starts) || opts.starts < 1) fail("--starts must be a whole number >= 1");
    } else if (a === "--connections") {
      opts.connections = Number(next());
      if (!Number.isInteger(opts.connections) || opts.connections < 1)
        fail("--connections must be a whole number >= 1");
    } else if (a === "--rate") {
      opts.rate = Number(next());
      if (!Number.isInteger(opts.rate) || opts.rate < 1)
        fail("--rate must be a whole number of requests per second >= 1");
    } else if (a === "--rows") {
      const rows = next().split("");
      if (!rows.length || rows.some((r) => !ROWS.includes(r as Row)))
        fail(`--rows takes letters from ${ROWS.join("")}`);
      opts.rows = rows as Row[];
    } else if (a === "--scenarios") {
      const scenarios = next().split(",");
      if (!scenarios.length || scenarios.some((x) => !SCENARIOS.includes(x as Scenario)))
        fail(`--scenarios takes a list of ${SCENARIOS.join(", ")}`);
      opts.scenarios = scenarios as Scenario[];
    } else if (a === "--list-messages") {
      opts.listMessages = Number(next());
      if (!Number.isInteger(opts.listMessages) || opts.listMessages < 1)
        fail("--list-messages must be a whole number >= 1");
    } else if (a === "--sizes") {
      opts.sizes = next().split(",").map(Number);
      if (opts.sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 1000))
        fail("--sizes takes KB values like 4,18");
    } else if (a === "--simultaneous") {
      opts.simultaneous = true;
    } else if (a === "--store-process") {
      opts.storeProcess = true;
    } else if (a === "--cpu-prof") {
      opts.cpuProf = path.resolve(next());
    } else fail(`unknown argument "${a}"`);
  }
  // Loaded at once as fast as they answer, the rows would share the machine (and with
  // --store-process the one store) rather than each show its own speed: only CPU per request at a
  // fixed load compares them then.
  if (opts.simultaneous && !opts.rate) fail("--simultaneous needs --rate (rows compared by CPU per request)");
  return opts;
}

async function main(): Promise<void> {
  const serveAt = process.argv.indexOf("--serve");
  const storeAt = process.argv.indexOf("--store-at");
  if (serveAt >= 0)
    return serve(process.argv[serveAt + 1] as Row, storeAt >= 0 ? process.argv[storeAt + 1] : undefined);
  if (process.argv.includes("--sink")) return sink();
  if (process.argv.includes("--store")) return storeProcess();
  const opts = parseArgs(process.argv.slice(2));
  cpuProfileDir = opts.cpuProf;
  if (opts.scenarios.includes("throughput")) await throughput(opts);
  for (const scenario of opts.scenarios.filter((x) => x !== "throughput")) {
    process.stderr.write(`measuring ${scenario} against row (a)…\n`);
    const server = await startServer("a");
    try {
      const lines =
        scenario === "large-array"
          ? await measureLargeArray(server, opts.rounds)
          : await measureList(server, opts.listMessages);
      console.log(`\n${lines.join("\n")}\n(load average ${loadAverage()})`);
    } finally {
      server.child.kill("SIGTERM");
    }
  }
  if (cpuProfileDir) console.error(`CPU profiles in ${cpuProfileDir}`);
}

/** ["a"] → "a"; ["a", "e"] → "a and e"; ["a", "e", "g"] → "a, e and g". */
function wordList(words: readonly string[]): string {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

async function throughput(opts: ReturnType<typeof parseArgs>): Promise<void> {
  const results: Measured[] = [];
  for (const kb of opts.sizes) {
    const bytes = Buffer.byteLength(payload(kb));
    process.stderr.write(
      `measuring rows ${opts.rows.join("")} with ${kb} KB payloads (${bytes} bytes): ${opts.rounds} ${opts.simultaneous ? "simultaneous" : "interleaved"} rounds of ${opts.duration} s…\n`,
    );
    results.push(...(await measureSize(kb, opts.rows, opts)));
  }
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (n: number) => n.toFixed(0).padStart(8);
  const telemetryRows = opts.rows.filter((r) => TELEMETRY_ROWS.includes(r));
  const storingRows = opts.rows.filter((r) => STORING_ROWS.includes(r));
  const telemetrySetting = Object.entries(telemetryEnvironment(process.env, { http: "-", grpc: "-" }))
    .filter(([k]) => !k.endsWith("_ENDPOINT"))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const load = opts.rate
    ? `offered load ${opts.rate} req/s to each row over ${opts.connections} connections`
    : `${opts.connections} connections`;
  const schedule = opts.simultaneous ? "all rows loaded at once" : "rows interleaved";
  console.log(
    `\nreceiver benchmark: ${load}, median of ${opts.starts > 1 ? `${opts.starts} starts × ` : ""}${opts.rounds} × ${opts.duration} s per row (${schedule}), node ${process.version}, ` +
      `${os.cpus().length} CPUs, load average ${loadAverage()}` +
      (opts.storeProcess && storingRows.length
        ? `, rows ${wordList(storingRows)} storing in a store process of their own`
        : "") +
      (telemetryRows.length ? `\nrows ${telemetryRows.join(", ")}: ${telemetrySetting}` : "") +
      "\n",
  );
  console.log(
    `${pad("row", 34)}${pad("payload", 9)}${"req/s".padStart(8)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}${"CPU µs/req".padStart(12)}${"main thread".padStart(13)}  errors/non-2xx`,
  );
  for (const r of results)
    console.log(
      `${pad(ROW_NAMES[r.row], 34)}${pad(`${r.kb} KB`, 9)}${num(r.rps)}${num(r.p50)}${num(r.p99)}${num(r.cpuUs).padStart(12)}${num(r.mainCpuUs).padStart(13)}  ${r.errors}/${r.non2xx}`,
    );
  console.log("");
  for (const kb of opts.sizes) {
    const at = (row: Row) => results.find((r) => r.row === row && r.kb === kb);
    const rps = (row: Row) => at(row)?.rps;
    const ratio = (x?: number, y?: number) => (x && y ? (x / y).toFixed(2) : "n/a");
    console.log(
      `${kb} KB: a/b = ${ratio(rps("a"), rps("b"))} (target >= 0.8)   a/c = ${ratio(rps("a"), rps("c"))}   d/c = ${ratio(rps("d"), rps("c"))} (target >= 0.5)`,
    );
    // Telemetry on/off, round by round: rows e and a (f and d) ran back to back in each round, so a
    // ratio per round cancels the load that drifts between rounds. Printed: their median, its 95 %
    // confidence interval (statistics.ts) and their range. Single rounds scatter widely on a shared
    // machine, so whether the target is met is read off the interval, not the median: "undecided"
    // asks for more rounds. By CPU the ratio is off/on (a/e), so both read "fraction of the speed kept".
    const paired = (on: Row, off: Row) => {
      const x = at(on)?.rounds;
      const y = at(off)?.rounds;
      if (!x || !y) return [`${on}/${off}: n/a (row ${off} not measured)`];
      // The target is issue 16's, by req/s (by CPU when --rate fixes req/s), and on the deployed
      // shape's ratio only: f/d, without a store, is there to explain e/a.
      const judged = (unit: "by req/s" | "by CPU per request") =>
        on === "e" && (unit === "by req/s") !== Boolean(opts.rate);
      const f = (n: number) => n.toFixed(2);
      // One start: the rounds are the samples. Several: each start's median is one sample, since
      // rounds of the same processes share whatever made those processes faster or slower.
      const show = (ratios: number[], unit: "by req/s" | "by CPU per request") => {
        const perStart = Array.from({ length: opts.starts }, (_, i) =>
          median(ratios.filter((_r, j) => x[j].start === i + 1)),
        );
        const samples = opts.starts > 1 ? perStart : ratios;
        const ci = medianInterval(samples);
        const coverage = coverageNote(ci, opts.starts > 1 ? "starts" : "rounds");
        return (
          `${on}/${off} ${unit} ${f(median(samples))}, 95 % CI ${f(ci.low)}–${f(ci.high)}${coverage}, ` +
          (opts.starts > 1
            ? `starts' medians ${perStart.map(f).join(" ")}`
            : `range ${f(Math.min(...ratios))}–${f(Math.max(...ratios))}`) +
          (judged(unit) ? `: target ${verdict(ci, TELEMETRY_FLOOR)}` : "")
        );
      };
      const byCpu = show(
        x.map((r, i) => y[i].cpuUs / r.cpuUs),
        "by CPU per request",
      );
      // At a fixed offered load both rows answer the same req/s: only CPU per request tells them apart.
      if (opts.rate) return [byCpu];
      return [
        show(
          x.map((r, i) => r.rps / y[i].rps),
          "by req/s",
        ),
        byCpu,
      ];
    };
    if (at("e") || at("f") || at("g"))
      console.log(
        [
          `${kb} KB telemetry on/off (target e/a >= ${TELEMETRY_FLOOR}), ` +
            (opts.starts > 1
              ? `median over ${opts.starts} starts of each start's median of ${opts.rounds} per-round ratios:`
              : `median of ${opts.rounds} per-round ratios:`),
          ...(at("e") ? paired("e", "a") : []),
          ...(at("f") ? paired("f", "d") : []),
          // Two identical receivers: what the bench itself reads between equal servers (its bias and
          // scatter), to hold e/a against.
          ...(at("g") ? paired("g", "a").map((line) => `control, no telemetry: ${line}`) : []),
        ].join("\n  "),
      );
  }
  if (results.some((r) => r.errors || r.non2xx)) {
    console.error("some requests failed: see errors/non-2xx above");
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(`bench:receiver failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
