/**
 * `npm run bench:telemetry`: what the receiver's OpenTelemetry costs per delivery, in main-thread
 * CPU, with nothing else competing for the measured thread. Two receivers run in this one process, the
 * same but for telemetry (off, and on as ReceiverInfra deploys it: spans over OTLP/gRPC, no metrics,
 * to a sink in a child process); deliveries go through each one's whole pipeline with `app.inject`,
 * one at a time, in alternating blocks. The cost is the median over blocks of (on − off), with a
 * 95 % confidence interval (statistics.ts). `--exporter` replaces the OTLP exporter, to tell the
 * SDK's span work from serializing and from sending.
 *
 * No load generator, no sockets on the request path: what it measures is the telemetry's own work
 * inside a request, not the receiver's throughput (that is bench:receiver's rows a and e).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { ExportResultCode } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { DiscardingStore } from "../../app/store";
import { serviceNames } from "../../app/telemetry/names";
import { startTelemetry } from "../../app/telemetry/sdk";
import { defaultDeliveryTracesPerSecond, receiverInfraTelemetryDefaults } from "../../app/telemetry/settings";
import { mintToken } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { startOtlpGrpcServer } from "../../devkit/otlp-grpc";
import { benchCredentials } from "./bench-credentials";
import { EXIT, formatHelp, parseArgs, type CommandSpec } from "../lib/args";
import { coverageNote, median, medianInterval } from "./statistics";

const EXPORTERS = ["otlp", "serialize", "drop"] as const;
type ExporterChoice = (typeof EXPORTERS)[number];

const spec: CommandSpec = {
  usage:
    "npm run bench:telemetry -- [--deliveries <n>] [--blocks <n>] [--store discard|embedded] [--exporter otlp|serialize|drop] [--size <KB>]",
  summary:
    "The receiver's OpenTelemetry cost per delivery, in main-thread CPU µs: two receivers in one process\n" +
    "(telemetry off, and on as deployed: spans over OTLP/gRPC to a local sink, no metrics) take the same\n" +
    "ADO deliveries through app.inject, one at a time, in alternating blocks; printed: each one's CPU per\n" +
    "delivery and the difference, median over blocks with its 95 % confidence interval. bench:receiver\n" +
    "measures throughput under load; this measures the telemetry's own work, with no load generator, sink or\n" +
    "store thread competing for the measured thread. Both receivers share one heap: a lower bound.",
  options: [
    {
      name: "deliveries",
      type: "string",
      valueName: "<n>",
      default: "2000",
      description: "Deliveries per block.",
    },
    {
      name: "blocks",
      type: "string",
      valueName: "<n>",
      default: "24",
      description:
        "Blocks per receiver, alternating which goes first; the first 4 warm up and are not counted.",
    },
    {
      name: "store",
      type: "string",
      choices: ["discard", "embedded"],
      default: "discard",
      description:
        "discard: the store write skipped (steady); embedded: the in-memory Cosmos DB emulator (noisier).",
    },
    {
      name: "exporter",
      type: "string",
      choices: EXPORTERS,
      default: "otlp",
      description:
        "otlp: as deployed; serialize: to OTLP protobuf, then dropped; drop: spans made and dropped.",
    },
    {
      name: "size",
      type: "string",
      valueName: "<KB>",
      default: "4",
      description: "Payload size of each ADO event.",
    },
    {
      name: "concurrency",
      type: "string",
      valueName: "<n>",
      default: "1",
      description:
        "Deliveries in flight at a time (bench:receiver keeps 32), so that requests' spans overlap.",
    },
  ],
  epilogue:
    `OTEL_BSP_* variables and HOOKFLEET_DELIVERY_TRACES_PER_SECOND (default ${defaultDeliveryTracesPerSecond}, as deployed; \`all\`: every\n` +
    "trace exported) apply to the telemetry-on receiver. Needs Node >= 23.9 (process.threadCpuUsage).\n" +
    "Exit codes: 0 measured, 1 the measurement failed (a delivery, a receiver or the sink), 64 bad arguments\n" +
    "or too old a Node.",
};

const WARM_UP_BLOCKS = 4;

function wholeNumber(values: Record<string, unknown>, name: string, min: number, max = Infinity): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    console.error(`bench:telemetry: --${name} must be a whole number ${range}\n\n${formatHelp(spec)}`);
    process.exit(EXIT.usage);
  }
  return n;
}

/** The exporter `choice` names, or undefined for the OTLP one the environment configures. */
function exporterFor(choice: ExporterChoice, counts: { serializedBytes: number }): SpanExporter | undefined {
  if (choice === "otlp") return undefined;
  return {
    export(spans, done) {
      if (choice === "serialize")
        counts.serializedBytes += ProtobufTraceSerializer.serializeRequest(spans)?.length ?? 0;
      // Answer as an exporter does: later, not inside the span's end().
      setImmediate(() => done({ code: ExportResultCode.SUCCESS }));
    },
    shutdown: async () => {},
  };
}

interface SinkProcess {
  /** Its OTLP/gRPC endpoint. */
  url: string;
  /** Asks it to stop; resolves to the number of exports it received. */
  stop(): Promise<number>;
  /** Ends it at once (error paths). */
  kill(): void;
}

/** The OTLP/gRPC sink, in a child process so that its work is not on the measured thread. */
async function startSink(): Promise<SinkProcess> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, "--sink"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  // A sink that died is reported by its exit, below; a write to its closed stdin must not crash us.
  child.stdin!.on("error", () => {});
  let out = "";
  let exitCode: number | null | undefined;
  const lineOf = (re: RegExp) => re.exec(out)?.[1];
  /** Resolves with `re`'s capture once the sink prints it; rejects if it errors or exits first. */
  const waitFor = (re: RegExp, what: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const v = lineOf(re);
        if (v !== undefined) resolve(v);
        else if (exitCode !== undefined) reject(new Error(`the OTLP sink exited (code ${exitCode}) ${what}`));
      };
      child.stdout!.on("data", check);
      child.once("exit", check);
      child.once("error", (err) => reject(new Error(`the OTLP sink could not start: ${err.message}`)));
      check();
    });
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.once("exit", (code) => (exitCode = code));
  const url = await waitFor(/^sink (\S+)\n/m, "before it was ready");
  return {
    url,
    stop: async () => {
      child.stdin!.end("stop\n");
      return Number(await waitFor(/^exports (\d+)\n/m, "without saying what it received"));
    },
    kill: () => {
      if (exitCode === undefined) child.kill();
    },
  };
}

async function sink(): Promise<void> {
  let exports = 0;
  const server = await startOtlpGrpcServer(() => exports++);
  process.stdout.write(`sink ${server.url}\n`);
  const stop = () => {
    server.close();
    // Exit once the line is out: a pipe's writes are asynchronous.
    process.stdout.write(`exports ${exports}\n`, () => process.exit(0));
  };
  process.stdin.on("data", stop);
  // The parent is gone (it failed or was killed): do not outlive it.
  process.stdin.on("end", stop);
}

async function main(): Promise<void> {
  if (process.argv[2] === "--sink") return sink();
  const parsed = parseArgs(spec, process.argv.slice(2));
  if (parsed.kind === "help") return console.log(formatHelp(spec));
  if (parsed.kind === "error") {
    for (const e of parsed.errors) console.error(`bench:telemetry: ${e}`);
    console.error(`\n${formatHelp(spec)}`);
    process.exit(EXIT.usage);
  }
  const { values } = parsed;
  const deliveries = wholeNumber(values, "deliveries", 1);
  const blocks = wholeNumber(values, "blocks", WARM_UP_BLOCKS + 1);
  const sizeKb = wholeNumber(values, "size", 1, 1000); // as bench:receiver's --sizes
  const concurrency = wholeNumber(values, "concurrency", 1, 1000);
  const storeChoice = values.store as "discard" | "embedded";
  const exporterChoice = values.exporter as ExporterChoice;
  if (typeof process.threadCpuUsage !== "function") {
    console.error(`bench:telemetry needs Node >= 23.9 (process.threadCpuUsage); this is ${process.version}`);
    process.exit(EXIT.usage);
  }

  const sinkProcess = await startSink();
  try {
    await measure(sinkProcess, { deliveries, blocks, sizeKb, concurrency, storeChoice, exporterChoice });
  } finally {
    sinkProcess.kill(); // on the way out of a failure; after a normal stop() it has exited already
  }
}

interface MeasureOptions {
  deliveries: number;
  blocks: number;
  sizeKb: number;
  concurrency: number;
  storeChoice: "discard" | "embedded";
  exporterChoice: ExporterChoice;
}

/** The delivery trace limit of the "on" receiver: as deployed, unless the command's environment says otherwise. */
function tracesPerSecondSetting(): string {
  return process.env.HOOKFLEET_DELIVERY_TRACES_PER_SECOND ?? String(defaultDeliveryTracesPerSecond);
}

async function measure(sinkProcess: SinkProcess, opts: MeasureOptions): Promise<void> {
  const { deliveries, blocks, sizeKb, concurrency, storeChoice, exporterChoice } = opts;
  const counts = { serializedBytes: 0 };
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("OTEL_BSP_"))),
    ...receiverInfraTelemetryDefaults,
    OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkProcess.url,
    HOOKFLEET_DELIVERY_TRACES_PER_SECOND: tracesPerSecondSetting(),
  };
  const token = mintToken();
  const receiverWith = async (telemetryOn: boolean): Promise<RunningReceiver> =>
    startReceiver({
      credentials: benchCredentials(token),
      ...(storeChoice === "discard" ? { store: new DiscardingStore() } : {}),
      // Logging on, as deployed: one JSON line per request, here to nowhere.
      logStream: { write: () => true },
      ...(telemetryOn
        ? {
            telemetry: await startTelemetry(env, {
              serviceName: serviceNames.receiver,
              spanExporter: exporterFor(exporterChoice, counts),
              sampleDeliveryTraces: true,
            }),
          }
        : {}),
    });
  const off = await receiverWith(false);
  const on = await receiverWith(true);
  const event = sampleEvent("build.complete", { targetBytes: sizeKb * 1024 });
  const path = new URL(off.webhookUrl(token)).pathname;

  /** Main-thread CPU µs per delivery over one block. */
  /** One delivery, answered 201 (a new message each time, as in bench:receiver). */
  const deliver = async (receiver: RunningReceiver): Promise<void> => {
    event.id = randomUUID();
    const res = await receiver.app.inject({
      method: "POST",
      url: path,
      payload: JSON.stringify(event),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    if (res.statusCode !== 201) throw new Error(`a delivery was answered ${res.statusCode}: ${res.body}`);
  };
  /** Main-thread CPU µs per delivery over one block, `concurrency` deliveries in flight at a time. */
  const block = async (receiver: RunningReceiver): Promise<number> => {
    const before = process.threadCpuUsage();
    let left = deliveries;
    const worker = async () => {
      while (left > 0) {
        left--;
        await deliver(receiver);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, deliveries) }, worker));
    const used = process.threadCpuUsage(before);
    return (used.user + used.system) / deliveries;
  };

  console.error(
    `bench:telemetry: ${blocks} blocks of ${deliveries} deliveries per receiver (${WARM_UP_BLOCKS} to warm up), ` +
      `store ${storeChoice}, exporter ${exporterChoice}, ${sizeKb} KB events, ${concurrency} in flight…`,
  );
  const offs: number[] = [];
  const ons: number[] = [];
  for (let b = 0; b < blocks; b++) {
    // Alternate which receiver goes first, so that neither always follows the other.
    const [first, second] = b % 2 ? [on, off] : [off, on];
    const x = await block(first);
    const y = await block(second);
    if (b < WARM_UP_BLOCKS) continue;
    offs.push(first === off ? x : y);
    ons.push(first === on ? x : y);
  }
  await on.close(); // flushes the last spans
  await off.close();
  const exports = await sinkProcess.stop();

  const costs = ons.map((x, i) => x - offs[i]);
  const ratios = ons.map((x, i) => offs[i] / x);
  const ci = medianInterval(costs);
  const ratioCi = medianInterval(ratios);
  const f = (n: number, digits = 0) => n.toFixed(digits);
  const exporterSays = {
    otlp: `OTLP/gRPC to a sink process (${exports} exports received)`,
    serialize: `serialized to OTLP protobuf and dropped (${f(counts.serializedBytes / 1e6, 1)} MB; the sink received ${exports} exports)`,
    drop: `spans made and dropped (the sink received ${exports} exports)`,
  }[exporterChoice];
  const lowCoverage = coverageNote(ci, "blocks");
  console.log(
    [
      `telemetry bench: ${ons.length} blocks of ${deliveries} deliveries per receiver, store ${storeChoice}, ${sizeKb} KB events, ${concurrency} in flight, node ${process.version}`,
      `exporter: ${exporterSays}; HOOKFLEET_DELIVERY_TRACES_PER_SECOND=${tracesPerSecondSetting()}`,
      `main-thread CPU per delivery, median of blocks: off ${f(median(offs))} µs, on ${f(median(ons))} µs`,
      `telemetry's cost per delivery: ${f(median(costs), 1)} µs, 95 % CI ${f(ci.low, 1)}–${f(ci.high, 1)}${lowCoverage}`,
      `off/on (the fraction of the speed kept): ${f(median(ratios), 2)}, 95 % CI ${f(ratioCi.low, 2)}–${f(ratioCi.high, 2)}${lowCoverage}`,
    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  console.error(`bench:telemetry failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
