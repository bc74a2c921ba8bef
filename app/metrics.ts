/** Prometheus metrics of one receiver instance (its own registry: no process-global state). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { storeDurationBuckets } from "./telemetry/names";

export class ReceiverMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "hookfleet_http_requests_total",
    help: "HTTP requests by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly stored = new Counter({
    name: "hookfleet_messages_stored_total",
    help: "Messages newly stored, by system and storage mode.",
    labelNames: ["system", "mode"] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: "hookfleet_messages_duplicate_total",
    help: "Deliveries of an event already stored (retries), by system.",
    labelNames: ["system"] as const,
    registers: [this.registry],
  });
  readonly projected = new Counter({
    name: "hookfleet_messages_projected_total",
    help: "Messages stored as a lean projection instead of the full payload, by system.",
    labelNames: ["system"] as const,
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: "hookfleet_store_latency_seconds",
    help: "Latency of message store operations.",
    labelNames: ["operation", "outcome"] as const,
    buckets: [...storeDurationBuckets],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Times a store operation into storeLatency. */
  async time<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const end = this.storeLatency.startTimer({ operation });
    try {
      const out = await fn();
      end({ outcome: "ok" });
      return out;
    } catch (err) {
      end({ outcome: "error" });
      throw err;
    }
  }
}
