/** The read API: list stored messages (newest first, with continuation) and read one. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { SYSTEM_ID } from "../config";
import type { CredentialHolder } from "../credentials";
import { parseInstant } from "../instants";
import { isMessageId } from "../messages";
import type { ReceiverMetrics } from "../metrics";
import { BadQueryError, type ListQuery, type MessageStore } from "../store";

export interface MessageRoutesOptions {
  credentials: CredentialHolder;
  store: MessageStore;
  metrics: ReceiverMetrics;
}

const MESSAGE_NOT_FOUND = { error: "message-not-found" };

/** A query-string instant as the ISO form messages are stored with; 400 naming the parameter otherwise. */
function instantParam(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = parseInstant(value);
  if ("problem" in parsed) throw new BadQueryError(`${name} ${parsed.problem}`);
  return parsed.iso;
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

  app.get<{ Querystring: ListQuery }>(
    "/api/v1/messages",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            systemId: { type: "string", pattern: SYSTEM_ID.source },
            type: { type: "string", minLength: 1, maxLength: 200 },
            // RFC 3339 date-times, checked in the handler (a leap second such as 23:59:60 is valid
            // RFC 3339 but has no JavaScript Date: 400, not 500).
            since: { type: "string", maxLength: 64 },
            until: { type: "string", maxLength: 64 },
            limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
            // The store's continuations are ≈ 110 characters (app/store.ts).
            continuation: { type: "string", maxLength: 512 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const query: ListQuery = {
        systemId: q.systemId,
        type: q.type,
        since: instantParam("since", q.since),
        until: instantParam("until", q.until),
        limit: q.limit,
        continuation: q.continuation,
      };
      return metrics.time("list", () => store.list(query));
    },
  );

  app.get<{ Params: { systemId: string; id: string } }>(
    "/api/v1/messages/:systemId/:id",
    async (request, reply) => {
      const { systemId, id } = request.params;
      // Only a well-formed system id and message id reach the store (see CosmosMessageStore.get):
      // anything else cannot name a message.
      if (!SYSTEM_ID.test(systemId) || !isMessageId(id)) return reply.code(404).send(MESSAGE_NOT_FOUND);
      const doc = await metrics.time("read", () => store.get(systemId, id));
      if (!doc) return reply.code(404).send(MESSAGE_NOT_FOUND);
      return doc;
    },
  );
}
