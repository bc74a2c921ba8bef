/** The read API: list stored messages (newest first, with continuation) and read one. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CredentialHolder } from "../credentials";
import type { ReceiverMetrics } from "../metrics";
import type { ListQuery, MessageStore } from "../store";

export interface MessageRoutesOptions {
  credentials: CredentialHolder;
  store: MessageStore;
  metrics: ReceiverMetrics;
}

export async function messageRoutes(app: FastifyInstance, opts: MessageRoutesOptions): Promise<void> {
  const { credentials, store, metrics } = opts;

  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (!credentials.current.checkReadToken(request.headers.authorization))
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="hookfleet"')
        .send({ error: "unauthorized", message: "a valid read token is required (Authorization: Bearer …)" });
  });

  // The querystring has the store's query shape; since/until arrive as any RFC 3339 form and are
  // normalised to ISO below.
  app.get<{ Querystring: ListQuery }>(
    "/api/v1/messages",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            systemId: { type: "string", minLength: 1, maxLength: 64 },
            type: { type: "string", minLength: 1, maxLength: 200 },
            since: { type: "string", format: "date-time" },
            until: { type: "string", format: "date-time" },
            limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
            continuation: { type: "string", maxLength: 20000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const iso = (s?: string) => (s === undefined ? undefined : new Date(s).toISOString());
      return metrics.time("list", () =>
        store.list({
          systemId: q.systemId,
          type: q.type,
          since: iso(q.since),
          until: iso(q.until),
          limit: q.limit,
          continuation: q.continuation,
        }),
      );
    },
  );

  app.get<{ Params: { systemId: string; id: string } }>(
    "/api/v1/messages/:systemId/:id",
    {
      schema: {
        params: {
          type: "object",
          properties: { systemId: { type: "string", maxLength: 64 }, id: { type: "string", maxLength: 255 } },
          required: ["systemId", "id"],
        },
      },
    },
    async (request, reply) => {
      const doc = await metrics.time("read", () => store.get(request.params.systemId, request.params.id));
      if (!doc) return reply.code(404).send({ error: "message-not-found" });
      return doc;
    },
  );
}
