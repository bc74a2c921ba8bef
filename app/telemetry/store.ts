/**
 * A MessageStore wrapper that makes one client span per call (child of a delivery or heal span)
 * and records its latency in the `hookfleet.store.duration` histogram. Only ids and outcomes are
 * attributes, never a document.
 */
import {
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
  type SpanOptions,
  type Tracer,
} from "@opentelemetry/api";
import type { MessageDocument } from "../messages";
import {
  StoreUnavailableError,
  type CreateResult,
  type ListQuery,
  type ListResult,
  type MessageStore,
} from "../store";
import {
  attrs,
  metrics as metricNames,
  storeDurationBuckets,
  storeOperations,
  storeOutcomes,
  storeSpanName,
  type StoreOperation,
  type StoreOutcome,
} from "./names";
import type { Telemetry } from "./sdk";

export function storeDurationHistogram(telemetry: Telemetry): Histogram | undefined {
  return telemetry.meter?.createHistogram(metricNames.storeDuration.name, {
    unit: metricNames.storeDuration.unit,
    description: "Latency of message store calls, by operation and outcome.",
    advice: { explicitBucketBoundaries: [...storeDurationBuckets] },
  });
}

export interface StoreTracing {
  tracer?: Tracer;
  histogram?: Histogram;
  /** Context carrying the parent span (a delivery or a heal run). */
  parent: Context;
  /** The delivery trace's sampling weight at its start (app/telemetry/sampling.ts), when sampled. */
  weight?: number;
}

function outcomeOf(err: unknown): StoreOutcome {
  return err instanceof StoreUnavailableError ? storeOutcomes.unavailable : storeOutcomes.error;
}

/** A value per store operation, computed once. */
function perOperation<T>(value: (operation: StoreOperation) => T): Record<StoreOperation, T> {
  const out = {} as Record<StoreOperation, T>;
  for (const operation of storeOperations) out[operation] = value(operation);
  return out;
}

const storeSpanNames = perOperation(storeSpanName);

/** Per operation, the options of its span: the same for every call. */
const spanOptions = perOperation((operation): SpanOptions => ({
  kind: SpanKind.CLIENT,
  attributes: { [attrs.storeOperation]: operation, [attrs.dbSystem]: "azure.cosmosdb" },
}));

/** Per (operation, outcome), the histogram's attribute set: no allocation per store call. */
const histogramAttributes = perOperation((operation) => {
  const byOutcome = {} as Record<StoreOutcome, Attributes>;
  for (const outcome of Object.values(storeOutcomes))
    byOutcome[outcome] = Object.freeze({ [attrs.storeOperation]: operation, [attrs.storeOutcome]: outcome });
  return byOutcome;
});

/**
 * The same store, each call a span under `t.parent` and a latency sample. One is made per delivery
 * (app/telemetry/receiver.ts) or heal run: its methods live on the prototype, and `create`, the call
 * every delivery makes, is written out so that it needs no closure.
 */
export class TracedStore implements MessageStore {
  constructor(
    private readonly store: MessageStore,
    private readonly t: StoreTracing,
  ) {}

  async create(doc: MessageDocument): Promise<CreateResult> {
    const span = this.begin("create");
    const started = performance.now();
    let result: CreateResult;
    try {
      result = await this.store.create(doc);
    } catch (err) {
      this.finish("create", span, started, outcomeOf(err));
      throw err;
    }
    this.finish("create", span, started, result.duplicate ? storeOutcomes.duplicate : storeOutcomes.ok);
    return result;
  }

  get(systemId: string, id: string): Promise<MessageDocument | undefined> {
    return this.traced("get", () => this.store.get(systemId, id));
  }

  list(query: ListQuery): Promise<ListResult> {
    return this.traced("list", () => this.store.list(query));
  }

  ping(): Promise<void> {
    return this.traced("ping", () => this.store.ping());
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async traced<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    const span = this.begin(operation);
    const started = performance.now();
    let result: T;
    try {
      result = await call();
    } catch (err) {
      this.finish(operation, span, started, outcomeOf(err));
      throw err;
    }
    this.finish(operation, span, started, storeOutcomes.ok);
    return result;
  }

  private begin(operation: StoreOperation): Span | undefined {
    const span = this.t.tracer?.startSpan(storeSpanNames[operation], spanOptions[operation], this.t.parent);
    if (span && this.t.weight !== undefined) span.setAttribute(attrs.samplingWeight, this.t.weight);
    return span;
  }

  private finish(operation: StoreOperation, span: Span | undefined, started: number, outcome: StoreOutcome) {
    this.t.histogram?.record((performance.now() - started) / 1000, histogramAttributes[operation][outcome]);
    if (!span) return;
    span.setAttribute(attrs.storeOutcome, outcome);
    if (outcome === storeOutcomes.unavailable || outcome === storeOutcomes.error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    span.end();
  }
}
