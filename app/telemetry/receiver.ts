/**
 * The receiver's telemetry: one server span per request on a delivery route, child spans for the
 * store calls it makes, and the `hookfleet.deliveries` counter (one count per event, by system ×
 * event type × outcome, with route, org and reject reason).
 *
 * Constructed only when telemetry is on; app/server.ts then adds three hooks (onRequest, onError,
 * onResponse) and app/plugins/webhooks.ts tells it the events and results. Per-request state lives
 * in a WeakMap keyed by the request, so nothing is added to requests when telemetry is off.
 *
 * Attributes come from the route template, the authenticated system id, the event's type and
 * organization, counts and the status code: never a URL, header, credential or body.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import type { MessageStore } from "../store";
import {
  attrs,
  deliveryOutcomes,
  metrics as metricNames,
  rejectReasons,
  spans,
  unknownEventType,
  unknownOrg,
  type DeliveryOutcome,
  type RejectReason,
} from "./names";
import { orgOfEvent } from "./org";
import type { Telemetry } from "./sdk";
import { storeDurationHistogram, tracedStore } from "./store";

/** What the hooks need of a fastify request (structural: no fastify import here). */
export interface TelemetryRequest {
  method: string;
  routeOptions: { url?: string };
  /** Set by the delivery routes' authentication (app/plugins/webhooks.ts). */
  hookfleetSystem?: { id: string } | null;
}

export type RouteKind = "token" | "basic" | "handshake";

/** Delivery route templates (app/plugins/webhooks.ts) → route kind; other routes get no span. */
export function routeKindOf(method: string, routeUrl: string | undefined): RouteKind | undefined {
  if (routeUrl === "/api/v1/webhooks/:token")
    return method === "POST" ? "token" : method === "OPTIONS" ? "handshake" : undefined;
  if (routeUrl === "/api/v1/systems/:systemId/webhooks" && method === "POST") return "basic";
  return undefined;
}

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

interface RequestScope {
  span?: Span;
  route: RouteKind;
  /** Per event: type and organization (set once the body is classified). */
  events?: { type: string; org: string }[];
  /** Per event, in order: was it a duplicate (set once stored). */
  duplicates?: boolean[];
  errorCode?: string;
}

export class ReceiverTelemetry {
  private readonly scopes = new WeakMap<object, RequestScope>();
  private readonly tracer?: Tracer;
  private readonly deliveries?: Counter;
  private readonly storeDuration?: Histogram;

  constructor(telemetry: Telemetry) {
    this.tracer = telemetry.tracer;
    this.deliveries = telemetry.meter?.createCounter(metricNames.deliveries.name, {
      unit: metricNames.deliveries.unit,
      description: "Events received on the delivery routes, by system, event type and outcome.",
    });
    this.storeDuration = storeDurationHistogram(telemetry);
  }

  /** onRequest: a delivery route starts its span (before authentication, so refusals are seen). */
  onRequest(request: TelemetryRequest): void {
    const route = routeKindOf(request.method, request.routeOptions.url);
    if (!route) return;
    const span = this.tracer?.startSpan(
      spans.delivery.name,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [attrs.route]: route,
          [attrs.httpMethod]: request.method,
          [attrs.httpRoute]: request.routeOptions.url,
        },
      },
      ROOT_CONTEXT,
    );
    this.scopes.set(request, { span, route });
  }

  /** deliver(): the events the body carries, before they are stored. */
  noteEvents(request: TelemetryRequest, events: readonly unknown[]): void {
    const scope = this.scopes.get(request);
    if (scope) scope.events = events.map((e) => ({ type: eventTypeOf(e), org: orgOfEvent(e) }));
  }

  /** deliver(): per event, in the same order, whether it was already stored. */
  noteResults(request: TelemetryRequest, results: readonly { duplicate: boolean }[]): void {
    const scope = this.scopes.get(request);
    if (scope) scope.duplicates = results.map((r) => r.duplicate);
  }

  /** onError: remembers the error code, to tell invalid JSON from other bad requests. */
  onError(request: TelemetryRequest, error: { code?: unknown; name?: string }): void {
    const scope = this.scopes.get(request);
    if (scope) scope.errorCode = typeof error.code === "string" ? error.code : error.name;
  }

  /** The store as this request should use it: each call a child span of the delivery span. */
  storeFor(request: TelemetryRequest, store: MessageStore): MessageStore {
    const scope = this.scopes.get(request);
    if (!scope) return store;
    return tracedStore(store, {
      tracer: this.tracer,
      histogram: this.storeDuration,
      parent: scope.span ? trace.setSpan(ROOT_CONTEXT, scope.span) : ROOT_CONTEXT,
    });
  }

  /** onResponse: the outcome, the counts, the span's end. */
  onResponse(request: TelemetryRequest, status: number): void {
    const scope = this.scopes.get(request);
    if (!scope) return;
    this.scopes.delete(request);
    const system = request.hookfleetSystem?.id;
    const events = scope.events ?? [];
    const duplicates = scope.duplicates ?? [];
    const stored = status === 201 ? duplicates.filter((d) => !d).length : 0;
    const outcome = outcomeOf(status, stored);
    const reason =
      outcome === deliveryOutcomes.rejected ? rejectReasonOf(status, scope.errorCode) : undefined;

    if (this.deliveries) {
      const base: Attributes = { [attrs.route]: scope.route };
      if (system !== undefined) base[attrs.system] = system;
      if (reason) base[attrs.rejectReason] = reason;
      if (events.length === 0)
        this.deliveries.add(1, {
          ...base,
          [attrs.eventType]: unknownEventType,
          [attrs.org]: unknownOrg,
          [attrs.outcome]: outcome,
        });
      else
        for (let i = 0; i < events.length; i++) {
          // A 201 counts each event as stored or duplicate; any other answer applies to all of them.
          const each =
            status === 201 ? (duplicates[i] ? deliveryOutcomes.duplicate : deliveryOutcomes.stored) : outcome;
          this.deliveries.add(1, {
            ...base,
            [attrs.eventType]: events[i].type,
            [attrs.org]: events[i].org,
            [attrs.outcome]: each,
          });
        }
    }

    const span = scope.span;
    if (!span) return;
    const types = [...new Set(events.map((e) => e.type))];
    const attributes: Attributes = {
      [attrs.outcome]: outcome,
      [attrs.httpStatus]: status,
      [attrs.events]: events.length,
      [attrs.eventType]: types.length ? types.join(",").slice(0, MAX_EVENT_TYPE_LENGTH) : unknownEventType,
      [attrs.org]: events[0]?.org ?? unknownOrg,
    };
    if (system !== undefined) attributes[attrs.system] = system;
    if (reason) attributes[attrs.rejectReason] = reason;
    if (status === 201) {
      attributes[attrs.stored] = stored;
      attributes[attrs.duplicates] = duplicates.length - stored;
    }
    span.setAttributes(attributes);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    span.end();
  }
}
