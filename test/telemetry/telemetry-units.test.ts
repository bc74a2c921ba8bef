/**
 * The telemetry's pure parts, and the receiver's per-event accounting with the SDK's in-memory
 * exporters (no network: the OTLP exporters themselves are exercised by the process suites).
 */
import {
  InMemoryMetricExporter,
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { DeliveryCounts, MAX_DELIVERY_SERIES } from "../../app/telemetry/delivery-counts";
import { healOutcomeOf, hookLabel, labelList, statusCounts } from "../../app/telemetry/heal";
import { attrs, metrics, unknownOrg } from "../../app/telemetry/names";
import { adoOrgName, orgOfEvent } from "../../app/telemetry/org";
import { eventTypeOf, outcomeOf, rejectReasonOf } from "../../app/telemetry/receiver";
import { scrubText } from "../../app/scrub";
import {
  TelemetryConfigError,
  startTelemetry,
  telemetryOff,
  telemetryPlan,
  type Telemetry,
} from "../../app/telemetry/sdk";
import { DiscardingStore } from "../../app/store";
import { mintToken, sha256Hex } from "../../app/tokens";
import { postJson } from "../app/harness";
import { sampleEvent } from "../../devkit/ado-events";

describe("which telemetry the environment asks for", () => {
  it("is off without an endpoint, or with OTEL_SDK_DISABLED (and then loads nothing)", async () => {
    expect(telemetryPlan({})).toEqual({});
    expect(
      telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_SDK_DISABLED: "true" }),
    ).toEqual({});
    expect(await startTelemetry({}, { serviceName: "s" })).toBe(telemetryOff);
  });

  it("appends the signal path for OTLP/HTTP, uses gRPC and per-signal endpoints as they are", () => {
    expect(telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toEqual({
      traces: { protocol: "http/protobuf", url: "http://c:4318/v1/traces" },
      metrics: { protocol: "http/protobuf", url: "http://c:4318/v1/metrics" },
    });
    expect(
      telemetryPlan({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel.service.k8se-apps:4317/",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_METRICS_EXPORTER: "none",
      }),
    ).toEqual({ traces: { protocol: "grpc", url: "http://otel.service.k8se-apps:4317/" } });
    expect(
      telemetryPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t/x", OTEL_TRACES_EXPORTER: "otlp" }),
    ).toEqual({
      traces: { protocol: "http/protobuf", url: "http://t/x" },
    });
  });

  it("refuses values it cannot honour, naming the variable", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    expect(() => telemetryPlan({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "udp" })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL must be one of http\/protobuf, http\/json, grpc/,
    );
    expect(() => telemetryPlan({ ...endpoint, OTEL_METRICS_EXPORTER: "prometheus" })).toThrow(
      TelemetryConfigError,
    );
    expect(() => telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).toThrow(/must be a URL/);
  });

  it("refuses batching values that are not what the variable measures, before loading anything", async () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    await expect(
      startTelemetry({ ...endpoint, OTEL_BSP_SCHEDULE_DELAY: "5s" }, { serviceName: "s" }),
    ).rejects.toThrow('OTEL_BSP_SCHEDULE_DELAY must be a whole number of milliseconds (got "5s")');
    await expect(
      startTelemetry({ ...endpoint, OTEL_BSP_MAX_QUEUE_SIZE: "lots" }, { serviceName: "s" }),
    ).rejects.toThrow('OTEL_BSP_MAX_QUEUE_SIZE must be a whole number >= 1 (got "lots")');
    await expect(
      startTelemetry({ ...endpoint, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "0" }, { serviceName: "s" }),
    ).rejects.toThrow(TelemetryConfigError);
  });
});

describe("the organization of an event", () => {
  it("is the same key from the payload and from the organization URL heal is given", () => {
    expect(adoOrgName("https://dev.azure.com/Contoso")).toBe("contoso");
    expect(adoOrgName("https://contoso.visualstudio.com/")).toBe("contoso");
    expect(adoOrgName("https://tfs.example.com/tfs/DefaultCollection")).toBe(
      "tfs.example.com/tfs/defaultcollection",
    );
    expect(adoOrgName("https://tfs.example.com/tfs/DefaultCollection/_apis/git/repositories/1")).toBe(
      "tfs.example.com/tfs/defaultcollection",
    );
    expect(orgOfEvent(sampleEvent("git.push", { org: "Fabrikam" }))).toBe("fabrikam");
  });

  it("falls back to the resource URL, and says unknown when nothing tells", () => {
    expect(orgOfEvent({ resource: { url: "https://dev.azure.com/contoso/_apis/build/builds/1" } })).toBe(
      "contoso",
    );
    expect(orgOfEvent({ resourceContainers: {}, resource: {} })).toBe(unknownOrg);
    expect(orgOfEvent("x")).toBe(unknownOrg);
  });
});

describe("scrubbing free text", () => {
  it("removes tokens, credentials, PAT-like strings and webhook paths; keeps GUIDs", () => {
    const pat = "a".repeat(52);
    const text = `GET https://u:p@h/api/v1/webhooks/alw_abcDEF123 failed with Basic dXNlcjpwYXNz and ${pat} for hook 6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c`;
    const out = scrubText(text);
    for (const secret of ["alw_abcDEF123", "dXNlcjpwYXNz", pat, "u:p@"]) expect(out).not.toContain(secret);
    expect(out).toContain("6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c");
    // ADO REST paths in the client's errors stay readable.
    const path = "POST https://dev.azure.com:443/contoso/_apis/hooks/subscriptions?api-version=7.1";
    expect(scrubText(path)).toBe(path);
    // …and so do Azure resource paths in ARM errors.
    const arm = "Microsoft.ContainerRegistry/registries/contosoacr/scheduleRun still accepted";
    expect(scrubText(arm)).toBe(arm);
    // …but not a key right before such a path, nor a base64 key whose slashes cut it into short pieces.
    expect(scrubText(`https://h/${pat}/_apis/hooks`)).not.toContain(pat);
    const cosmosKey = "k2Jd8s/Qp+0aZ1xY9wVb7UcT3rS5qP/Zx8Lm4Nq2Rt6Vw0Yb3Dg7Hj1Kp5Ms9==";
    for (const text of [`key ${cosmosKey}`, `https://h/${cosmosKey}/_apis/hooks`])
      for (const piece of cosmosKey.split("/"))
        if (piece.length >= 8) expect(scrubText(text)).not.toContain(piece);
    expect(scrubText("x".repeat(5000), 1024).length).toBeLessThanOrEqual(1024);
    expect(scrubText("x ".repeat(3000))).toHaveLength(6000); // no cut unless asked
  });
});

describe("delivery outcomes", () => {
  // Route kinds are given where the routes are registered: receiver-telemetry.test.ts checks each.
  it("maps statuses and event fields as the contract defines them", () => {
    expect([201, 503, 429, 500, 404, 200].map((s) => outcomeOf(s, s === 201 ? 1 : 0))).toEqual([
      "stored",
      "unavailable",
      "unavailable",
      "error",
      "rejected",
      "handshake",
    ]);
    expect(outcomeOf(201, 0)).toBe("duplicate");
    expect(rejectReasonOf(400, "FST_ERR_CTP_INVALID_JSON_BODY")).toBe("invalid-json");
    expect(rejectReasonOf(400)).toBe("bad-request");
    expect(rejectReasonOf(413)).toBe("too-large");
    expect(eventTypeOf({ type: "Microsoft.Storage.BlobCreated" })).toBe("Microsoft.Storage.BlobCreated");
    expect(eventTypeOf({})).toBe("unknown");
  });
});

describe("heal report helpers", () => {
  it("labels hooks, lists them within an attribute's length, counts statuses, names outcomes", () => {
    expect(hookLabel({ project: "Alpha", eventType: "git.push", id: "6ce954b1-ce1f" })).toBe(
      "Alpha/git.push#6ce954b1",
    );
    const many = Array.from({ length: 100 }, (_, i) => `Project-${i}/git.push#0000000${i % 10}`);
    const list = labelList(many, 200);
    expect(list.length).toBeLessThanOrEqual(200);
    expect(list).toMatch(/\(\+\d+ more\)$/);
    expect(labelList(["a", "b"])).toBe("a, b");
    expect(statusCounts(5, 2, [{ statusFound: "disabledBySystem" }, { statusFound: "onProbation" }])).toEqual(
      {
        enabled: 3,
        onProbation: 1,
        disabledBySystem: 1,
        disabledByUser: 0,
        disabledByInactiveIdentity: 0,
      },
    );
    expect(healOutcomeOf({ code: 64 })).toBe("config-error");
    expect(healOutcomeOf({ code: 1 })).toBe("store-unavailable");
    expect(healOutcomeOf({ code: 1, error: new Error("x") })).toBe("error");
  });
});

describe("an Event Grid batch, counted per event", () => {
  let receiver: RunningReceiver;
  const spanExporter = new InMemorySpanExporter();
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 60_000,
  });
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spanExporter })],
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const telemetry: Telemetry = {
    enabled: true,
    tracer: tracerProvider.getTracer("test"),
    meter: meterProvider.getMeter("test"),
    description: "in memory",
    forceFlush: async () => {
      await meterProvider.forceFlush();
    },
    shutdown: async () => {},
  };
  const token = mintToken();

  beforeAll(async () => {
    // A store that has seen event "seen-1" already: the batch is one new event, one retry.
    const store = new DiscardingStore();
    const create = store.create.bind(store);
    store.create = async (doc) =>
      doc.sourceEventId === "seen-1" ? { id: doc.id, duplicate: true } : create(doc);
    receiver = await startReceiver({
      credentials: {
        systems: [{ id: "grid", storageMode: "lean", retentionDays: 1 }],
        urlTokens: [{ sha256: sha256Hex(token), systemId: "grid" }],
        readTokens: [],
      },
      store,
      logLevel: "silent",
      telemetry,
    });
  });
  afterAll(() => receiver.close());

  it("one span for the request, one count per event with its own outcome and type", async () => {
    const grid = (id: string, eventType: string) => ({
      id,
      eventType,
      subject: "/blobServices/default/containers/x",
      eventTime: new Date().toISOString(),
      data: {},
      dataVersion: "1",
    });
    const res = await postJson(receiver.webhookUrl(token), [
      grid("new-1", "Microsoft.Storage.BlobCreated"),
      grid("seen-1", "Microsoft.Storage.BlobDeleted"),
    ]);
    expect(res.status).toBe(201);
    // The span ends in onResponse, just after the answer left.
    for (
      let i = 0;
      i < 100 && !spanExporter.getFinishedSpans().some((s) => s.name === "hookfleet.delivery");
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 10));
    const [span] = spanExporter.getFinishedSpans().filter((s) => s.name === "hookfleet.delivery");
    expect(span.attributes).toMatchObject({
      [attrs.outcome]: "stored",
      [attrs.events]: 2,
      [attrs.stored]: 1,
      [attrs.duplicates]: 1,
      [attrs.eventType]: "Microsoft.Storage.BlobCreated,Microsoft.Storage.BlobDeleted",
      [attrs.org]: unknownOrg,
    });
    expect(spanExporter.getFinishedSpans().filter((s) => s.name === "hookfleet.store.create")).toHaveLength(
      2,
    );

    await telemetry.forceFlush();
    const counted = metricExporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .filter((m) => m.descriptor.name === metrics.deliveries.name)
      .flatMap((m) =>
        m.dataPoints.map((p) => [p.attributes[attrs.eventType], p.attributes[attrs.outcome], p.value]),
      );
    expect(counted).toEqual(
      expect.arrayContaining([
        ["Microsoft.Storage.BlobCreated", "stored", 1],
        ["Microsoft.Storage.BlobDeleted", "duplicate", 1],
      ]),
    );
  });
});

describe("the deliveries counter (counted in process, reported at collection)", () => {
  async function collected(count: (c: DeliveryCounts) => void) {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const counts = new DeliveryCounts(provider.getMeter("test"));
    count(counts);
    await provider.forceFlush();
    count(counts);
    await provider.forceFlush();
    await provider.shutdown();
    // The last export: cumulative sums, as a synchronous Counter would report them.
    const last = exporter.getMetrics().at(-1)!;
    const [metric] = last.scopeMetrics.flatMap((sm) => sm.metrics);
    return { metric, points: metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })) };
  }

  it("reports a monotonic cumulative sum per attribute set, with the counter's name and unit", async () => {
    const { metric, points } = await collected((c) => {
      c.add("token", "devops", "git.push", "contoso", "stored", undefined);
      c.add("token", "devops", "git.push", "contoso", "stored", undefined);
      c.add("basic", undefined, "unknown", "unknown", "rejected", "unauthorized");
    });
    expect(metric.descriptor).toMatchObject({ name: metrics.deliveries.name, unit: metrics.deliveries.unit });
    expect(metric).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    expect(points).toEqual(
      expect.arrayContaining([
        {
          attributes: {
            [attrs.route]: "token",
            [attrs.system]: "devops",
            [attrs.eventType]: "git.push",
            [attrs.org]: "contoso",
            [attrs.outcome]: "stored",
          },
          value: 4,
        },
        {
          // No system (not authenticated), with the reject reason.
          attributes: {
            [attrs.route]: "basic",
            [attrs.eventType]: "unknown",
            [attrs.org]: "unknown",
            [attrs.outcome]: "rejected",
            [attrs.rejectReason]: "unauthorized",
          },
          value: 2,
        },
      ]),
    );
    expect(points).toHaveLength(2);
  });

  it("keeps tuples apart whose free-text parts would join to the same text", async () => {
    // Each pair joins to the same text with "|" between the parts: system|type|org.
    const { points } = await collected((c) => {
      c.add("token", "a|b", "c", "o", "stored", undefined);
      c.add("token", "a", "b|c", "o", "stored", undefined);
      c.add("token", "s", "t|u", "v", "stored", undefined);
      c.add("token", "s", "t", "u|v", "stored", undefined);
    });
    expect(points.map((p) => p.value)).toEqual([2, 2, 2, 2]);
  });

  it("folds attribute sets beyond the SDK's cardinality limit into its overflow series", async () => {
    const { points } = await collected((c) => {
      for (let i = 0; i < MAX_DELIVERY_SERIES + 10; i++)
        c.add("token", "devops", `type-${i}`, "contoso", "stored", undefined);
    });
    expect(points).toHaveLength(MAX_DELIVERY_SERIES);
    expect(points.find((p) => p.attributes["otel.metric.overflow"] === true)?.value).toBe(2 * 11);
  });
});
