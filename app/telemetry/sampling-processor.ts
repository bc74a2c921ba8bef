/**
 * The span processor that applies sampling.ts to the receiver's delivery traces, in front of the
 * batch processor that serializes and sends them.
 *
 * The decision needs the delivery's outcome and organization, which are known only when its span
 * ends, while its store spans end before it. So a delivery span's children are held back until it
 * ends; then the whole trace is passed on, each span with the weight attribute, or dropped. Every
 * span is still made and ended (that costs little: docs/receiver.md); what is saved is the
 * serializing and sending of the dropped ones. Spans of other names (heal runs, store calls outside
 * a delivery) pass straight through.
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace";
import { attrs, spans, unknownOrg } from "./names";
import { deliveryStratum, type DeliveryTraceSampler } from "./sampling";

/**
 * A delivery span that has not ended after this long is given up (a request whose answer never
 * finished, e.g. a client that went away): its held children are dropped with it. Ten times the
 * server's request timeout (30 s, app/server.ts).
 */
export const maxHeldMs = 5 * 60_000;

interface Held {
  startedMs: number;
  children: ReadableSpan[];
}

export class DeliverySamplingProcessor implements SpanProcessor {
  /** Delivery spans started and not yet ended, by span id, oldest first (Map keeps insertion order). */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly next: SpanProcessor,
    private readonly sampler: DeliveryTraceSampler,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
    if (span.name !== spans.delivery.name || span.parentSpanContext) return;
    const now = this.nowMs();
    this.dropAbandoned(now);
    this.held.set(span.spanContext().spanId, { startedMs: now, children: [] });
  }

  onEnd(span: ReadableSpan): void {
    const id = span.spanContext().spanId;
    const own = this.held.get(id);
    if (own) {
      this.held.delete(id);
      this.decide(span, own.children);
      return;
    }
    const parentId = span.parentSpanContext?.spanId;
    const parent = parentId === undefined ? undefined : this.held.get(parentId);
    if (parent) parent.children.push(span);
    else this.next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    this.held.clear();
    return this.next.shutdown();
  }

  /** Delivery traces held right now (for tests). */
  get heldCount(): number {
    return this.held.size;
  }

  private decide(delivery: ReadableSpan, children: readonly ReadableSpan[]): void {
    const outcome = String(delivery.attributes[attrs.outcome] ?? "");
    const org = String(delivery.attributes[attrs.org] ?? unknownOrg);
    const weight = this.sampler.weight(deliveryStratum(outcome, org), this.nowMs());
    if (weight === 0) return;
    for (const child of children) this.next.onEnd(weighted(child, weight));
    this.next.onEnd(weighted(delivery, weight));
  }

  private dropAbandoned(now: number): void {
    for (const [id, held] of this.held) {
      if (now - held.startedMs < maxHeldMs) return;
      this.held.delete(id);
    }
  }
}

/**
 * The ended span with the weight attribute added. A copy: an ended SDK span ignores setAttribute.
 * Every field of ReadableSpan is listed, so a field added to the interface is a compile error here.
 */
function weighted(span: ReadableSpan, weight: number): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: { ...span.attributes, [attrs.samplingWeight]: weight },
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}
