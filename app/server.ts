/**
 * The fastify application: content types, size limit, error answers, one log line and one metric
 * per request, and the route plugins. Everything it uses is passed in (no module-level state), so
 * several receivers can run in one process (tests, benchmark).
 */
import Fastify, {
  LogController,
  errorCodes,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { decodeUtf8Body, UnsupportedBodyError } from "./body";
import type { CredentialHolder } from "./credentials";
import { BadDeliveryError, inspectJson } from "./events";
import { DocumentTooLargeError } from "./ingest";
import { redactPath, redactingStream, type LineSink } from "./logging";
import type { ReceiverMetrics } from "./metrics";
import { healthRoutes } from "./plugins/health";
import { messageRoutes } from "./plugins/messages";
import { TOKEN_ROUTE, webhookRoutes } from "./plugins/webhooks";
import { BadQueryError, StoreUnavailableError, type MessageStore } from "./store";
import type { ReceiverTelemetry } from "./telemetry/receiver";

/**
 * Event Grid events reach 1 MB, and a 413 is never retried by Event Grid: accept up to 1 MB
 * (../shared/design/pulumi-and-azure-notes.md, "Event Grid delivery";
 * learn.microsoft.com/azure/event-grid/delivery-and-retry).
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Deeper JSON than this is not an ADO or Event Grid payload and would strain serialisers. */
export const MAX_JSON_DEPTH = 64;

export interface ServerDeps {
  credentials: CredentialHolder;
  store: MessageStore;
  metrics: ReceiverMetrics;
  logLevel: string;
  /** Where JSON log lines go (default stdout); always passed through token redaction. */
  logStream?: LineSink;
  /** Serve /metrics on this app (false when METRICS_PORT gives it its own listener). */
  serveMetrics: boolean;
  isDraining: () => boolean;
  /** Delivery spans and metrics (issue 16); absent when telemetry is off, and then no hook runs. */
  telemetry?: ReceiverTelemetry;
}

/** A body with a prototype-pollution key (`__proto__`, `constructor.prototype`): 400 invalid-json. */
class PrototypeKeyError extends SyntaxError {}

function errorBody(error: string, message: string) {
  return { error, message };
}

/** The path as it may be logged: the token route's path is replaced whole, others are redacted. */
function loggedUrl(route: string | undefined, url: string): string {
  return route === TOKEN_ROUTE ? "/api/v1/webhooks/[redacted]" : redactPath(url);
}

/**
 * An error as logged, without `rawPacket`: the bytes of a request Node could not parse (its request
 * line with a URL token, headers such as Authorization; nodejs.org/api/http.html#event-clienterror),
 * which fastify's own client-error handler logs at trace level (defaultClientErrorHandler in
 * node_modules/fastify/fastify.js) and which pino writes as a list of numbers that the text
 * redaction of the log stream cannot recognise.
 */
function loggedError(err: FastifyError): {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
} {
  // Own enumerable fields (code, statusCode…), then the three pino's own serializer writes.
  const { rawPacket: _rawPacket, ...fields } = err as FastifyError & { rawPacket?: unknown };
  return { ...fields, type: err.name ?? "Error", message: err.message ?? "", stack: err.stack ?? "" };
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: {
      level: deps.logLevel,
      stream: redactingStream(deps.logStream ?? process.stdout),
      // Never log headers (Authorization, cookies) nor raw paths (URL tokens).
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: redactPath(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: loggedError,
      },
    },
    // One line per request, written in onResponse below with the path redacted.
    logController: new LogController({ disableRequestLogging: true }),
    // The router's own 414 for a long path parameter would echo the path (a token) in its answer:
    // let any length through to the token check, which answers 404 without echoing anything.
    routerOptions: { maxParamLength: 16 * 1024 },
    // A path the router cannot decode (a malformed escape such as `%zz`) would be answered 400 with
    // the whole path, token included, in the body: answer 404 like any unknown path or token, echo
    // nothing, and log it like other requests (the onResponse hook does not run for these).
    frameworkErrors: (_error, request, reply) => {
      (reply as FastifyReply)
        .code(404)
        .send(
          request.url.startsWith("/api/v1/webhooks/")
            ? { error: "webhook-not-found" }
            : errorBody("not-found", "no such route"),
        );
      logRequest(request as FastifyRequest, reply as FastifyReply);
    },
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Bounds only the receiving of a request (headers and body): a slow sender gets 408 after 30 s
    // (nodejs.org/api/http.html#serverrequesttimeout). It does not stop a handler that is already
    // running, and neither does a sender that goes away (fastify does not cancel handlers): Event
    // Grid retries after waiting 30 s for an answer (learn.microsoft.com/training/modules/
    // event-driven-workflows-event-grid/4-delivery-retry-policies), so a retry can overlap the
    // attempt still storing the same events. Storing is idempotent and never undone for that reason
    // (app/ingest.ts storeDocuments).
    requestTimeout: 30_000,
  });

  // ADO sends application/json; Event Grid may send CloudEvents JSON (single or batch).
  // Fastify's own parser (secure-json-parse) would scan the text twice with regexes and then walk
  // the result; here JSON.parse and one walk (inspectJson) check nesting and prototype keys
  // together, with the same answers: empty → 400, not JSON or a prototype key → 400 invalid-json.
  const parseJson = (
    request: FastifyRequest,
    body: Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY());
    request.hookfleetBodyBytes = body.length;
    let value: unknown;
    try {
      // Invalid UTF-8 is refused (400), not turned into U+FFFD; a byte-order mark is dropped.
      const text = decodeUtf8Body(body);
      try {
        value = JSON.parse(text);
      } catch {
        return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY());
      }
    } catch (err) {
      return done(err as Error);
    }
    switch (inspectJson(value, MAX_JSON_DEPTH)) {
      case "too-deep":
        return done(
          new BadDeliveryError(`body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`),
        );
      case "prototype-key":
        return done(new PrototypeKeyError("Object contains forbidden prototype property"));
    }
    done(null, value);
  };
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser(
    ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json"],
    { parseAs: "buffer" },
    parseJson,
  );
  app.decorateRequest("hookfleetBodyBytes", 0);

  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof StoreUnavailableError) {
      // The cause by its class only: an identity error's message can name tenant and client ids.
      request.log.warn(
        { err: { message: err.message, cause: (err.cause as Error | undefined)?.name } },
        "store unavailable: answering 503 so the sender retries",
      );
      return reply
        .code(503)
        .header("retry-after", String(err.retryAfterSeconds))
        .send(errorBody("store-unavailable", `${err.message}; retry later`));
    }
    if (err instanceof BadDeliveryError) return reply.code(400).send(errorBody("bad-request", err.message));
    if (err instanceof UnsupportedBodyError)
      return (
        reply
          .code(415)
          // RFC 9110 §12.5.3: a 415 for a content coding says which codings are accepted.
          .header("accept-encoding", "identity")
          .send(errorBody("unsupported-media-type", err.message))
      );
    if (err instanceof DocumentTooLargeError)
      return reply.code(413).send(errorBody("payload-too-large", err.message));
    if (err instanceof BadQueryError) return reply.code(400).send(errorBody("bad-request", err.message));
    const fe = err as FastifyError;
    if (fe.validation) return reply.code(400).send(errorBody("bad-request", fe.message));
    switch (fe.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return reply
          .code(413)
          .send(
            errorBody("payload-too-large", `request body is larger than ${BODY_LIMIT_BYTES} bytes (1 MB)`),
          );
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        if (fe.statusCode === 415)
          return reply
            .code(415)
            .send(
              errorBody(
                "unsupported-media-type",
                "Content-Type must be application/json or application/cloudevents+json",
              ),
            );
        break;
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return reply
          .code(400)
          .send(errorBody("bad-request", "body is empty: expected a JSON ADO event or Event Grid array"));
      case "FST_ERR_CTP_INVALID_JSON_BODY":
        return reply.code(400).send(errorBody("invalid-json", "body is not valid JSON"));
    }
    // Only fastify's own errors about the request (FST_* codes, node_modules/fastify/lib/errors.js)
    // pass their 4xx on. Any other error's statusCode is not about the request: @azure/identity's
    // AuthenticationError, for one, carries the token endpoint's 400. A 4xx is enduring for ADO and
    // never retried by Event Grid, so such an error must not become one.
    const fastifyOwn = typeof fe.code === "string" && fe.code.startsWith("FST_");
    if (err instanceof PrototypeKeyError || (fastifyOwn && fe.statusCode === 400))
      return reply.code(400).send(errorBody("invalid-json", `body is not valid JSON (${fe.message})`));
    if (fastifyOwn && fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
      return reply.code(fe.statusCode).send(errorBody("bad-request", fe.message));
    // The request's own stream failed (the sender went away mid-body, Node's "aborted"): fastify
    // hands its error on marked 400 (rawBody in node_modules/fastify/lib/content-type-parser.js).
    // Nobody hears the answer; it is no bug of ours.
    if (err === request.raw.errored)
      return reply.code(400).send(errorBody("bad-request", "the request body was not received whole"));
    request.log.error({ err: { message: err.message, stack: err.stack } }, "unexpected error");
    return reply.code(500).send(errorBody("internal", "unexpected error"));
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody("not-found", "no such route")));

  // While draining, answers end their connection so that close() need not wait for keep-alive clients.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (deps.isDraining()) reply.header("connection", "close");
    done(null, payload);
  });

  // One metric and one log line per request.
  function logRequest(request: FastifyRequest, reply: FastifyReply): void {
    // routeOptions builds a new object on every read: read it once.
    const route = request.routeOptions.url;
    deps.metrics.requests.inc({
      method: request.method,
      route: route ?? "unmatched",
      status: String(reply.statusCode),
    });
    request.log.info(
      {
        method: request.method,
        url: loggedUrl(route, request.url),
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  }

  // Callback-style hooks: no promise per request on the hot path.
  app.addHook("onResponse", (request, reply, done) => {
    logRequest(request, reply);
    done();
  });

  const { credentials, store, metrics, telemetry } = deps;
  app.register(webhookRoutes, { credentials, store, metrics, telemetry });
  app.register(messageRoutes, { credentials, store, metrics });
  app.register(healthRoutes, {
    store,
    metrics,
    serveMetrics: deps.serveMetrics,
    isDraining: deps.isDraining,
  });
  return app;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Size of the request body as received, in bytes (set by the JSON parser). */
    hookfleetBodyBytes: number;
  }
}
