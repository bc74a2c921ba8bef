/**
 * Delivery routes: URL token, Basic auth, the CloudEvents OPTIONS handshake and the Event Grid
 * validation handshake. Authentication runs in onRequest, before a body is read, so unknown
 * senders cost no parsing.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preParsingHookHandler,
  RouteShorthandOptions,
} from "fastify";
import { UnsupportedBodyError, unsupportedBodyProblem } from "../body";
import type { CredentialHolder } from "../credentials";
import { classifyDelivery } from "../events";
import { buildDocuments, storeDocuments } from "../ingest";
import type { ReceiverMetrics } from "../metrics";
import type { SystemSetting } from "../settings";
import type { MessageStore } from "../store";
import type { DeliveryTrace, ReceiverTelemetry, RouteKind } from "../telemetry/receiver";

export interface WebhookRoutesOptions {
  credentials: CredentialHolder;
  store: MessageStore;
  metrics: ReceiverMetrics;
  /** Delivery telemetry (issue 16); absent when off. */
  telemetry?: ReceiverTelemetry;
}

/** The delivery routes' templates (the token route's path carries a secret: see app/server.ts). */
export const TOKEN_ROUTE = "/api/v1/webhooks/:token";
const BASIC_ROUTE = "/api/v1/systems/:systemId/webhooks";

const WEBHOOK_NOT_FOUND = { error: "webhook-not-found" };
/** Stand-in for an unknown system id: no password matches it (the hash is of nothing anyone sends). */
const UNKNOWN_SYSTEM: SystemSetting = {
  id: "-",
  storageMode: "lean",
  retentionDays: 1,
  basicPasswords: [{ sha256: "0".repeat(64) }],
};
const BASIC_CHALLENGE = 'Basic realm="hookfleet", charset="UTF-8"';

const createdSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    duplicate: { type: "boolean" },
    messages: {
      type: "array",
      items: { type: "object", properties: { id: { type: "string" }, duplicate: { type: "boolean" } } },
    },
  },
} as const;

const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
} as const;

const deliverySchema = {
  // The body is checked in code (classifyDelivery) so that the 400 names exactly what is missing.
  response: {
    200: { type: "object", properties: { validationResponse: { type: "string" } } },
    201: createdSchema,
    400: errorSchema,
    401: errorSchema,
    404: errorSchema,
    413: errorSchema,
    415: errorSchema,
  },
};

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(401).header("www-authenticate", BASIC_CHALLENGE).send({ error: "unauthorized", message });
}

export async function webhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const { credentials, store, metrics, telemetry } = opts;
  // Per-request system, set by the auth hooks (a request decoration, not shared state).
  app.decorateRequest("hookfleetSystem", null);
  // Per-request delivery telemetry (issue 16), set by the route's first hook when telemetry is on.
  app.decorateRequest("hookfleetTrace", null);

  async function deliver(request: FastifyRequest, reply: FastifyReply) {
    const system = request.hookfleetSystem as SystemSetting;
    const delivery = classifyDelivery(request.body, request.headers);
    if (delivery.kind === "validation")
      return reply.code(200).send({ validationResponse: delivery.validationCode });
    const receivedAt = new Date();
    const events = delivery.kind === "ado" ? [delivery.event] : delivery.events;
    // issue 16: the events' types and organization for the delivery span and counter.
    const trace = request.hookfleetTrace;
    trace?.noteEvents(events);
    const docs = await buildDocuments(
      system,
      delivery.kind === "ado" ? "ado" : "eventgrid",
      events,
      receivedAt,
      request.hookfleetBodyBytes,
    );
    // issue 16: store calls as child spans of the delivery span.
    const results = await storeDocuments(trace ? trace.store(store) : store, metrics, docs);
    trace?.noteResults(results);
    for (const r of results) {
      if (r.duplicate) metrics.duplicates.inc({ system: system.id });
      else {
        metrics.stored.inc({ system: system.id, mode: system.storageMode });
        if (system.storageMode === "lean") metrics.projected.inc({ system: system.id });
      }
    }
    const first = results[0];
    if (delivery.kind === "ado") return reply.code(201).send(first);
    return reply
      .code(201)
      .send({ id: first.id, duplicate: results.every((r) => r.duplicate), messages: results });
  }

  // Callback-style hooks (no promise per request): answering ends the request, `done()` lets it on.
  function byUrlToken(
    request: FastifyRequest<{ Params: { token: string } }>,
    reply: FastifyReply,
    done: () => void,
  ) {
    const creds = credentials.current;
    const system = creds.systemForUrlToken(request.params.token);
    if (!system) return void reply.code(404).send(WEBHOOK_NOT_FOUND);
    if (system.requireBoth && creds.checkBasic(system, request.headers.authorization) !== "ok")
      return void unauthorized(reply, "this webhook also requires its Basic-auth password");
    request.hookfleetSystem = system;
    done();
  }

  function byBasic(
    request: FastifyRequest<{ Params: { systemId: string } }>,
    reply: FastifyReply,
    done: () => void,
  ) {
    const creds = credentials.current;
    const system = creds.systems.get(request.params.systemId);
    // An unknown system and a wrong password answer the same, after the same hashing work, so
    // system ids cannot be probed.
    const result = creds.checkBasic(system ?? UNKNOWN_SYSTEM, request.headers.authorization);
    if (!system || result !== "ok")
      return void unauthorized(
        reply,
        result === "missing" ? "Basic credentials are required" : "Basic credentials are not valid",
      );
    request.hookfleetSystem = system;
    done();
  }

  // Charset and content coding are refused before the body is read (415, nothing stored).
  const bodyHeaders: preParsingHookHandler = (request, _reply, payload, done) => {
    const problem = unsupportedBodyProblem(request.headers);
    if (problem) return done(new UnsupportedBodyError(problem));
    done(null, payload);
  };

  /**
   * The hooks of a delivery route: its authentication, and with telemetry on, a span from the first
   * hook (before authentication, so refusals are seen) to the response. Only the delivery routes
   * carry them: the read API, health checks and unknown paths run no telemetry code.
   */
  function deliveryHooks(
    kind: RouteKind,
    method: "POST" | "OPTIONS",
    url: string,
    authenticate: onRequestHookHandler,
  ): Pick<RouteShorthandOptions, "onRequest" | "onError" | "onResponse"> {
    if (!telemetry) return { onRequest: authenticate };
    const route = telemetry.route(kind, method, url);
    return {
      // One hook, not two: the span starts, then authentication runs (and may answer at once).
      onRequest(request, reply, done) {
        request.hookfleetTrace = route.start();
        authenticate.call(this, request, reply, done);
      },
      onError: (request, _reply, error, done) => {
        request.hookfleetTrace?.noteError(error);
        done();
      },
      onResponse: (request, reply, done) => {
        request.hookfleetTrace?.end(reply.statusCode, request.hookfleetSystem?.id);
        done();
      },
    };
  }

  const tokenParams = {
    type: "object",
    properties: { token: { type: "string", maxLength: 256 } },
    required: ["token"],
  } as const;

  app.post(
    TOKEN_ROUTE,
    {
      schema: { ...deliverySchema, params: tokenParams },
      ...deliveryHooks("token", "POST", TOKEN_ROUTE, byUrlToken as onRequestHookHandler),
      preParsing: bodyHeaders,
    },
    deliver,
  );
  app.post(
    BASIC_ROUTE,
    {
      schema: {
        ...deliverySchema,
        params: {
          type: "object",
          properties: { systemId: { type: "string", maxLength: 64 } },
          required: ["systemId"],
        },
      },
      ...deliveryHooks("basic", "POST", BASIC_ROUTE, byBasic as onRequestHookHandler),
      preParsing: bodyHeaders,
    },
    deliver,
  );

  // CloudEvents 1.0 abuse protection: the sender asks with OPTIONS before its first delivery.
  app.options(
    TOKEN_ROUTE,
    {
      schema: { params: tokenParams },
      ...deliveryHooks("handshake", "OPTIONS", TOKEN_ROUTE, byUrlToken as onRequestHookHandler),
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const origin = request.headers["webhook-request-origin"];
      if (typeof origin !== "string" || origin === "")
        return reply
          .code(400)
          .send({ error: "bad-request", message: "WebHook-Request-Origin header is required" });
      return reply
        .code(200)
        .header("webhook-allowed-origin", origin)
        .header("webhook-allowed-rate", "*")
        .header("allow", "POST, OPTIONS")
        .send();
    },
  );
}

declare module "fastify" {
  interface FastifyRequest {
    /** The system the request authenticated as (delivery routes only). */
    hookfleetSystem: SystemSetting | null;
    /** The request's delivery span and counts (delivery routes, telemetry on). */
    hookfleetTrace: DeliveryTrace | null;
  }
}
