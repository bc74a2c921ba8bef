/**
 * The receiver's telemetry: one server span per request on a delivery route, child spans for the
 * store calls it makes, and the `hookfleet.deliveries` counter (one count per event, by system ×
 * event type × outcome, with route, org and reject reason; counted in delivery-counts.ts).
 *
 * Constructed only when telemetry is on; app/plugins/webhooks.ts then gives each delivery route
 * three hooks of its own (onRequest, onError, onResponse: no other route pays for them) and tells
 * the request's DeliveryTrace the events and results. Everything that is the same for every request
 * of a route (span options, route attributes) is built once, when the route is registered.
 *
 * Attributes come from the route template, the authenticated system id, the event's type and
 * organization, counts and the status code: never a URL, header, credential or body.
 *
 * With HOOKFLEET_DELIVERY_TRACES_PER_SECOND (the default), a delivery's trace is recorded only as
 * sampling.ts decides at its start and end; the counter counts every event regardless.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Histogram,
  type Span,
  type SpanOptions,
  type Tracer,
} from "@opentelemetry/api";
import type { MessageStore } from "../store";
import { DeliveryCounts } from "./delivery-counts";
import {
  attrs,
  deliveryOutcomes,
  rejectReasons,
  spans,
  unknownEventType,
  unknownOrg,
  type DeliveryOutcome,
  type RejectReason,
} from "./names";
import { orgOfEvent } from "./org";
import type { Telemetry } from "./sdk";
import type { DeliverySampling } from "./sampling";
import { storeDurationHistogram, TracedStore } from "./store";

export type RouteKind = "token" | "basic" | "handshake";

const MAX_EVENT_TYPE_LENGTH = 100;

/** The event type a delivered event names: ADO and Event Grid `eventType`, CloudEvents `type`. */
export function eventTypeOf(event: unknown): string {
  const e = typeof event === "object" && event !== null ? (event as Record<string, unknown>) : {};
  const t = typeof e.eventType === "string" ? e.eventType : typeof e.type === "string" ? e.type : undefined;
  return t ? t.slice(0, MAX_EVENT_TYPE_LENGTH) : unknownEventType;
}

/** 4xx status → reject reason (receiver-contract.md "Answers"); 400 refined by the error seen. */
export function rejectReasonOf(status: number, errorCode?: string): RejectReason {
  switch (status) {
    case 400:
      return errorCode === "FST_ERR_CTP_INVALID_JSON_BODY" || errorCode === "SyntaxError"
        ? rejectReasons.invalidJson
        : rejectReasons.badRequest;
    case 401:
      return rejectReasons.unauthorized;
    case 404:
      return rejectReasons.notFound;
    case 413:
      return rejectReasons.tooLarge;
    case 415:
      return rejectReasons.unsupportedMediaType;
    default:
      return rejectReasons.other;
  }
}

/** The outcome of a whole request from its status and, for a 201, whether anything was new. */
export function outcomeOf(status: number, stored: number): DeliveryOutcome {
  if (status === 201) return stored > 0 ? deliveryOutcomes.stored : deliveryOutcomes.duplicate;
  if (status === 503 || status === 429) return deliveryOutcomes.unavailable;
  if (status >= 500) return deliveryOutcomes.error;
  if (status >= 400) return deliveryOutcomes.rejected;
  return deliveryOutcomes.handshake;
}

/**
 * The receiver's instruments, made once per receiver. The delivery routes ask it for a
 * DeliveryRoute each when they are registered (app/plugins/webhooks.ts), and that starts one
 * DeliveryTrace per request.
 */
export class ReceiverTelemetry {
  readonly tracer?: Tracer;
  readonly sampling?: DeliverySampling;
  readonly deliveries?: DeliveryCounts;
  readonly storeDuration?: Histogram;

  constructor(telemetry: Telemetry) {
    this.tracer = telemetry.tracer;
    this.sampling = telemetry.tracer && telemetry.deliverySampling;
    this.deliveries = telemetry.meter && new DeliveryCounts(telemetry.meter);
    this.storeDuration = storeDurationHistogram(telemetry);
  }

  /** The telemetry of one delivery route (`method` and `url` as registered: the template). */
  route(kind: RouteKind, method: string, url: string): DeliveryRoute {
    return new DeliveryRoute(this, kind, method, url);
  }
}

/** One delivery route's span options, built once at registration rather than per request. */
export class DeliveryRoute {
  readonly spanOptions: SpanOptions;

  constructor(
    readonly telemetry: ReceiverTelemetry,
    readonly kind: RouteKind,
    method: string,
    url: string,
  ) {
    this.spanOptions = {
      kind: SpanKind.SERVER,
      attributes: { [attrs.route]: kind, [attrs.httpMethod]: method, [attrs.httpRoute]: url },
    };
  }

  /**
   * A request arrived (onRequest, before authentication, so refusals are seen too). With sampling,
   * its span is made only if the start decision records it (sampling.ts).
   */
  start(): DeliveryTrace {
    const { tracer, sampling } = this.telemetry;
    if (!tracer) return new DeliveryTrace(this, undefined, 0, 0);
    if (!sampling)
      return new DeliveryTrace(
        this,
        tracer.startSpan(spans.delivery.name, this.spanOptions, ROOT_CONTEXT),
        1,
        0,
      );
    const startedAt = performance.now();
    const weight = sampling.atStart(this.kind, startedAt);
    const span =
      weight > 0 ? tracer.startSpan(spans.delivery.name, this.spanOptions, ROOT_CONTEXT) : undefined;
    return new DeliveryTrace(this, span, weight, startedAt);
  }
}

/**
 * The telemetry of one request on a delivery route: its server span, what its body carried and
 * what became of each event; `end` sets the span's attributes (once) and counts the events.
 */
export class DeliveryTrace {
  /** Per event: type and organization (set once the body is classified). */
  private types?: string[];
  private orgs?: string[];
  /** Per event, in order: was it a duplicate (set once stored). */
  private duplicates?: boolean[];
  private errorCode?: string;
  /** Context carrying the span, the parent of the store spans (made on first use). */
  private parent?: Context;

  /**
   * `span`: recorded from the start, or not (telemetry off, or sampled out: then `end` may still
   * write it). `startWeight`: the start decision's weight (0: not recorded). `startedAt`: when the
   * request arrived (performance.now()), for a span written at the end; only with sampling.
   */
  constructor(
    private readonly route: DeliveryRoute,
    private readonly span: Span | undefined,
    private readonly startWeight: number,
    private readonly startedAt: number,
  ) {}

  /** deliver(): the events the body carries, before they are stored. */
  noteEvents(events: readonly unknown[]): void {
    const types: string[] = [];
    const orgs: string[] = [];
    for (const e of events) {
      types.push(eventTypeOf(e));
      orgs.push(orgOfEvent(e));
    }
    this.types = types;
    this.orgs = orgs;
  }

  /** deliver(): per event, in the same order, whether it was already stored. */
  noteResults(results: readonly { duplicate: boolean }[]): void {
    this.duplicates = results.map((r) => r.duplicate);
  }

  /** onError: remembers the error code, to tell invalid JSON from other bad requests. */
  noteError(error: { code?: unknown; name?: string }): void {
    this.errorCode = typeof error.code === "string" ? error.code : error.name;
  }

  /**
   * The store as this request should use it: each call a child span of the delivery span (none
   * when the delivery is not recorded), and a latency sample.
   */
  store(store: MessageStore): MessageStore {
    const { tracer, storeDuration, sampling } = this.route.telemetry;
    // Neither a span nor a latency sample to make (a delivery not recorded, metrics off): the store
    // itself, without a wrapper's extra await per call.
    if (!this.span && !storeDuration) return store;
    this.parent ??= this.span ? trace.setSpan(ROOT_CONTEXT, this.span) : ROOT_CONTEXT;
    return new TracedStore(store, {
      tracer: this.span ? tracer : undefined,
      histogram: storeDuration,
      parent: this.parent,
      weight: sampling && this.startWeight,
    });
  }

  /** onResponse: the outcome, the counts, the span's end. */
  end(status: number, system: string | undefined): void {
    const types = this.types ?? [];
    const orgs = this.orgs ?? [];
    const duplicates = this.duplicates ?? [];
    let stored = 0;
    if (status === 201) for (const d of duplicates) if (!d) stored++;
    const outcome = outcomeOf(status, stored);
    const reason = outcome === deliveryOutcomes.rejected ? rejectReasonOf(status, this.errorCode) : undefined;
    const route = this.route.kind;

    const deliveries = this.route.telemetry.deliveries;
    if (deliveries) {
      if (types.length === 0) deliveries.add(route, system, unknownEventType, unknownOrg, outcome, reason);
      else
        for (let i = 0; i < types.length; i++)
          // A 201 counts each event as stored or duplicate; any other answer applies to all of them.
          deliveries.add(
            route,
            system,
            types[i],
            orgs[i],
            status === 201 ? (duplicates[i] ? deliveryOutcomes.duplicate : deliveryOutcomes.stored) : outcome,
            reason,
          );
    }

    let span = this.span;
    const { sampling, tracer } = this.route.telemetry;
    let written = false;
    if (sampling && tracer) {
      const org = orgs[0] ?? unknownOrg;
      const now = performance.now();
      const weight = sampling.atEnd(outcome, org, this.startWeight, now);
      if (weight === 0) return;
      if (!span) {
        // Kept at its end only: written now, from when the request arrived.
        span = tracer.startSpan(
          spans.delivery.name,
          { ...this.route.spanOptions, startTime: this.startedAt },
          ROOT_CONTEXT,
        );
        written = true;
      }
      span.setAttribute(attrs.samplingWeight, weight);
    }
    if (!span) return;
    // One setAttribute each rather than setAttributes({...}): no object built per request.
    span.setAttribute(attrs.outcome, outcome);
    span.setAttribute(attrs.httpStatus, status);
    span.setAttribute(attrs.events, types.length);
    span.setAttribute(attrs.eventType, eventTypesOf(types));
    span.setAttribute(attrs.org, orgs[0] ?? unknownOrg);
    if (system !== undefined) span.setAttribute(attrs.system, system);
    if (reason) span.setAttribute(attrs.rejectReason, reason);
    if (status === 201) {
      span.setAttribute(attrs.stored, stored);
      span.setAttribute(attrs.duplicates, duplicates.length - stored);
    }
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    span.end(written ? performance.now() : undefined);
  }
}

/** The span's event type: the one type, or the distinct types of a mixed batch, comma-joined. */
function eventTypesOf(types: readonly string[]): string {
  if (types.length === 0) return unknownEventType;
  if (types.length === 1) return types[0];
  return [...new Set(types)].join(",").slice(0, MAX_EVENT_TYPE_LENGTH);
}
