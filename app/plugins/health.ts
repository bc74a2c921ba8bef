/** Liveness, readiness (checks the store; fails while draining) and, unless on its own port, /metrics. */
import type { FastifyInstance } from "fastify";
import type { ReceiverMetrics } from "../metrics";
import type { MessageStore } from "../store";

export interface HealthRoutesOptions {
  store: MessageStore;
  metrics: ReceiverMetrics;
  serveMetrics: boolean;
  isDraining: () => boolean;
}

export async function healthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    if (opts.isDraining()) return reply.code(503).send({ status: "draining" });
    try {
      await opts.metrics.time("ping", () => opts.store.ping());
      return { status: "ready" };
    } catch {
      return reply.code(503).header("retry-after", "5").send({ status: "store-unavailable" });
    }
  });

  if (opts.serveMetrics)
    app.get("/metrics", async (_request, reply) => {
      reply.type(opts.metrics.registry.contentType);
      return opts.metrics.registry.metrics();
    });
}
