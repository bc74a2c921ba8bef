/**
 * A MessageStore wrapper that makes one client span per call (child of a delivery or heal span)
 * and records its latency in the `hookfleet.store.duration` histogram. Only ids and outcomes are
 * attributes, never a document.
 */
import { SpanKind, SpanStatusCode, type Context, type Histogram, type Tracer } from "@opentelemetry/api";
import type { MessageDocument } from "../messages";
import { StoreUnavailableError, type MessageStore } from "../store";
import {
  attrs,
  metrics as metricNames,
  storeOutcomes,
  storeSpanName,
  type StoreOperation,
  type StoreOutcome,
} from "./names";
import type { Telemetry } from "./sdk";

/** Latency buckets in seconds: Cosmos DB point writes take milliseconds, throttled ones seconds. */
export const storeDurationBuckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function storeDurationHistogram(telemetry: Telemetry): Histogram | undefined {
  return telemetry.meter?.createHistogram(metricNames.storeDuration.name, {
    unit: metricNames.storeDuration.unit,
    description: "Latency of message store calls, by operation and outcome.",
    advice: { explicitBucketBoundaries: storeDurationBuckets },
  });
}

export interface StoreTracing {
  tracer?: Tracer;
  histogram?: Histogram;
  /** Context carrying the parent span (a delivery or a heal run). */
  parent: Context;
}

function outcomeOf(err: unknown): StoreOutcome {
  return err instanceof StoreUnavailableError ? storeOutcomes.unavailable : storeOutcomes.error;
}

async function traced<T>(
  t: StoreTracing,
  operation: StoreOperation,
  fn: () => Promise<T>,
  outcomeOfResult: (r: T) => StoreOutcome = () => storeOutcomes.ok,
): Promise<T> {
  const span = t.tracer?.startSpan(
    storeSpanName(operation),
    {
      kind: SpanKind.CLIENT,
      attributes: { [attrs.storeOperation]: operation, [attrs.dbSystem]: "azure.cosmosdb" },
    },
    t.parent,
  );
  const started = performance.now();
  let outcome: StoreOutcome = storeOutcomes.ok;
  try {
    const result = await fn();
    outcome = outcomeOfResult(result);
    return result;
  } catch (err) {
    outcome = outcomeOf(err);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    throw err;
  } finally {
    t.histogram?.record((performance.now() - started) / 1000, storeAttributes(operation, outcome));
    if (span) {
      span.setAttribute(attrs.storeOutcome, outcome);
      span.end();
    }
  }
}

/** One frozen attribute set per (operation, outcome): no allocation per store call. */
const attributeSets = new Map<string, Readonly<Record<string, string>>>();
function storeAttributes(operation: StoreOperation, outcome: StoreOutcome): Readonly<Record<string, string>> {
  const key = `${operation}/${outcome}`;
  let set = attributeSets.get(key);
  if (!set) {
    set = Object.freeze({ [attrs.storeOperation]: operation, [attrs.storeOutcome]: outcome });
    attributeSets.set(key, set);
  }
  return set;
}

/** The same store, each call a span under `t.parent` and a latency sample. */
export function tracedStore(store: MessageStore, t: StoreTracing): MessageStore {
  return {
    create: (doc: MessageDocument) =>
      traced(
        t,
        "create",
        () => store.create(doc),
        (r) => (r.duplicate ? storeOutcomes.duplicate : storeOutcomes.ok),
      ),
    remove: (systemId, id) => traced(t, "remove", () => store.remove(systemId, id)),
    get: (systemId, id) => traced(t, "get", () => store.get(systemId, id)),
    list: (query) => traced(t, "list", () => store.list(query)),
    ping: () => traced(t, "ping", () => store.ping()),
    close: () => store.close(),
  };
}
