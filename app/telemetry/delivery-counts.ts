/**
 * The `hookfleet.deliveries` counter, counted in a plain in-process map and reported through an
 * ObservableCounter when the meter collects (every OTEL_METRIC_EXPORT_INTERVAL, and on flush or
 * shutdown).
 *
 * Why not a synchronous Counter: `Counter.add` hashes its attributes on every call (the SDK sorts
 * the keys and JSON-encodes them to find the series), once per delivered event, for a handful of
 * series that repeat all day. Here an event costs one Map lookup by a string key, and each series'
 * attribute object is built once. What the backend receives is the same: a monotonic cumulative sum
 * per attribute set, with the same name, unit and attributes (OpenTelemetry metrics API,
 * "Asynchronous Counter": the callback reports the cumulative total of each series).
 */
import type { Attributes, Meter, ObservableResult } from "@opentelemetry/api";
import { attrs, metrics as metricNames, type DeliveryOutcome, type RejectReason } from "./names";

/**
 * Series kept before new attribute sets fold into one overflow series. The same bound and overflow
 * attribute as the SDK's own cardinality limit for a synchronous instrument (default 2000 series,
 * the last one `otel.metric.overflow=true`: the OpenTelemetry metrics SDK specification,
 * "Cardinality limits"), so a sender inventing event types cannot grow this map without bound.
 */
export const MAX_DELIVERY_SERIES = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ "otel.metric.overflow": true });

interface Series {
  readonly attributes: Attributes;
  count: number;
}

export class DeliveryCounts {
  private readonly series = new Map<string, Series>();
  private overflow?: Series;

  constructor(meter: Meter) {
    meter
      .createObservableCounter(metricNames.deliveries.name, {
        unit: metricNames.deliveries.unit,
        description: "Events received on the delivery routes, by system, event type and outcome.",
      })
      .addCallback((result) => this.report(result));
  }

  /**
   * One event (or one refused request): its route kind, system (undefined when the request did not
   * authenticate), event type, organization, outcome and reject reason (only with `rejected`).
   * Positional, so that counting allocates nothing but the key.
   */
  add(
    route: string,
    system: string | undefined,
    eventType: string,
    org: string,
    outcome: DeliveryOutcome,
    reason: RejectReason | undefined,
  ): void {
    const key = keyOf(route, system, eventType, org, outcome, reason);
    const known = this.series.get(key);
    if (known) {
      known.count++;
      return;
    }
    if (this.series.size >= MAX_DELIVERY_SERIES - 1) {
      this.overflow ??= { attributes: OVERFLOW_ATTRIBUTES, count: 0 };
      this.overflow.count++;
      return;
    }
    this.series.set(key, {
      attributes: attributesOf(route, system, eventType, org, outcome, reason),
      count: 1,
    });
  }

  private report(result: ObservableResult): void {
    for (const s of this.series.values()) result.observe(s.count, s.attributes);
    if (this.overflow) result.observe(this.overflow.count, this.overflow.attributes);
  }
}

/**
 * One string per tuple. Route, outcome and reason are fixed words without `|`; system and event type
 * are free text, so each is prefixed by its length; the organization, also free text, comes last and
 * needs no prefix. No two tuples share a key.
 */
function keyOf(
  route: string,
  system: string | undefined,
  eventType: string,
  org: string,
  outcome: DeliveryOutcome,
  reason: RejectReason | undefined,
): string {
  const s = system === undefined ? "-" : `${system.length}:${system}`;
  return `${route}|${outcome}|${reason ?? ""}|${s}|${eventType.length}:${eventType}|${org}`;
}

function attributesOf(
  route: string,
  system: string | undefined,
  eventType: string,
  org: string,
  outcome: DeliveryOutcome,
  reason: RejectReason | undefined,
): Attributes {
  const a: Attributes = {
    [attrs.route]: route,
    [attrs.eventType]: eventType,
    [attrs.org]: org,
    [attrs.outcome]: outcome,
  };
  if (system !== undefined) a[attrs.system] = system;
  if (reason) a[attrs.rejectReason] = reason;
  return Object.freeze(a);
}
