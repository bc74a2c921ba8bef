/**
 * The message store: idempotent create, read and list over one Cosmos DB container
 * (partition key /systemId). Store trouble becomes StoreUnavailableError, which the routes turn
 * into 503 + Retry-After so that ADO and Event Grid retry.
 */
import https from "node:https";
import { CosmosClient, type Container, type SqlParameter } from "@azure/cosmos";
import { DefaultAzureCredential } from "@azure/identity";
import type { CosmosSettings } from "./config";
import { isMessageId, type MessageDocument } from "./messages";
import { messageStoreLayout } from "./settings";

export interface CreateResult {
  id: string;
  duplicate: boolean;
}

export interface ListQuery {
  systemId?: string;
  type?: string;
  since?: string;
  until?: string;
  limit: number;
  continuation?: string;
}

export interface ListResult {
  messages: MessageDocument[];
  continuation: string | null;
}

export interface MessageStore {
  /** Creates the document; an existing document with the same id is a duplicate, not an error. */
  create(doc: MessageDocument): Promise<CreateResult>;
  get(systemId: string, id: string): Promise<MessageDocument | undefined>;
  list(query: ListQuery): Promise<ListResult>;
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store is throttling or unreachable: answer 503 with Retry-After. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = "StoreUnavailableError";
  }
}

/** A read-API query the service cannot answer as asked (400, naming the parameter). */
export class BadQueryError extends Error {}

/** Bad continuation token from a client of the read API. */
export class BadContinuationError extends BadQueryError {}

/**
 * Answers worth retrying: 408 timeout, 429 throttled, 449 "retry with" (a transient concurrency
 * error), 500, 503 (learn.microsoft.com/rest/api/cosmos-db/http-status-codes-for-cosmosdb), and the
 * gateway errors 502 and 504 a proxy in between may answer.
 */
const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
/**
 * Codes of a request that never got an answer: Node's system errors for a connection refused,
 * reset, aborted, timed out or unroutable, a name not resolved (now or for the moment), a TLS record
 * that is not TLS (nodejs.org/api/errors.html#common-system-errors, errno(3)), Node's connect
 * timeout (nodejs.org/api/errors.html#err_socket_connection_timeout), the Cosmos SDK's TimeoutError
 * (its `code`), and the Azure HTTP pipeline's REQUEST_SEND_ERROR for a send that failed without a
 * code of its own (RestError.REQUEST_SEND_ERROR, node_modules/@typespec/ts-http-runtime/dist/
 * commonjs/nodeHttpClient.js).
 */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPROTO",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "REQUEST_SEND_ERROR",
  "TimeoutError",
]);

/**
 * `name`s of @azure/identity's errors for a token it could not get (node_modules/@azure/identity/
 * dist/commonjs/errors.js; ChainedTokenCredential, which DefaultAzureCredential is, throws the
 * aggregate of its credentials' errors). The Cosmos client asks for a token before its requests
 * (bearerTokenAuthenticationPolicy), so an identity endpoint that is down, slow or refusing shows
 * here. Compared by name, as @azure/identity itself does (chainedTokenCredential.js).
 */
const CREDENTIAL_ERRORS = new Set([
  "CredentialUnavailableError",
  "AuthenticationError",
  "AggregateAuthenticationError",
  "AuthenticationRequiredError",
]);

interface CosmosishError {
  name?: string;
  code?: number | string;
  statusCode?: number;
  retryAfterInMs?: number;
  message?: string;
  cause?: { code?: string };
}

function statusOf(err: CosmosishError): number | undefined {
  if (typeof err.code === "number") return err.code;
  return err.statusCode;
}

/**
 * Maps a store failure to StoreUnavailableError when the sender should retry; rethrows otherwise.
 * A 503 is what both senders retry (ADO: 408, 502, 503, 504, ../shared/design/azure-devops-facts.md
 * "How ADO disables a hook"; Event Grid: ../shared/design/pulumi-and-azure-notes.md), while a 500
 * counts as an enduring failure for ADO (probation, then the hook is disabled): so throttling,
 * outages, network failures and a token that could not be had are 503, and what is left (500) is a
 * bug or a store answer no retry can change.
 */
export function classifyStoreError(err: unknown): never {
  const e = (err ?? {}) as CosmosishError;
  // Before the status: an identity error's statusCode is the token endpoint's (AuthenticationError
  // carries a 400 for a refused token request), not the store's.
  if (e.name !== undefined && CREDENTIAL_ERRORS.has(e.name))
    throw new StoreUnavailableError("no token for the store could be obtained", 5, err);
  const status = statusOf(e);
  if (status === 429)
    throw new StoreUnavailableError(
      "store is throttling",
      Math.max(1, Math.ceil((e.retryAfterInMs ?? 1000) / 1000)),
      err,
    );
  if (
    (status !== undefined && TRANSIENT_STATUS.has(status)) ||
    (typeof e.code === "string" && NETWORK_CODES.has(e.code)) ||
    (e.cause?.code !== undefined && NETWORK_CODES.has(e.cause.code)) ||
    (e.message !== undefined && /ECONNREFUSED|ECONNRESET|socket hang up|timed out/i.test(e.message))
  )
    throw new StoreUnavailableError("store is unavailable", 5, err);
  throw err;
}

/** One WHERE condition: the clause and its single parameter. */
type Condition = [clause: string, name: string, value: string];

const SYSTEM_PROPERTIES = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];

function clean(doc: Record<string, unknown>): MessageDocument {
  for (const k of SYSTEM_PROPERTIES) delete doc[k];
  return doc as unknown as MessageDocument;
}

/**
 * A position in the read API's order, newest first: (receivedAt DESC, id DESC). The next page holds
 * what comes after it: the rest of the instant `t` (ids below `id`; all of them when `id` is
 * absent; none when `id` is ""), then everything older than `t`.
 */
interface Cursor {
  t: string;
  id?: string;
}

const CURSOR_VERSION = 1;
/** receivedAt as the receiver writes it (Date.toISOString()): sorts as text in time order. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Opaque to clients: base64url of a small JSON object, at most ≈ 110 characters. */
function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, ...c })).toString("base64url");
}

function decodeCursor(s: string): Cursor {
  let c: { v?: unknown; t?: unknown; id?: unknown } | undefined;
  try {
    c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as typeof c;
  } catch {
    // reported below
  }
  if (
    c &&
    c.v === CURSOR_VERSION &&
    typeof c.t === "string" &&
    ISO_INSTANT.test(c.t) &&
    (c.id === undefined || c.id === "" || isMessageId(c.id))
  )
    return c.id === undefined ? { t: c.t } : { t: c.t, id: c.id as string };
  throw new BadContinuationError(
    "continuation is not one this service returned (pass back the `continuation` of the previous page unchanged, or start again without it)",
  );
}

/**
 * Newest first, ties by id descending: the order of every page. receivedAt and ids are ASCII, so
 * JavaScript's comparison agrees with Cosmos DB's ordinal string order.
 */
function byReceivedAtThenId(a: MessageDocument, b: MessageDocument): number {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export interface CosmosStoreOptions {
  settings: CosmosSettings & { endpoint: string };
  /** Create the database and container when missing (local mode only; never in production). */
  createIfMissing: boolean;
  /** Give up on a request after this long (ms) and answer 503; default 10 s (a third of Event Grid's 30 s wait, app/server.ts). */
  requestTimeoutMs?: number;
}

/**
 * A database or container made if missing, even when another receiver makes it at the same moment:
 * @azure/cosmos's createIfNotExists reads, and creates only after a 404
 * (client/Database/Databases.js, client/Container/Containers.js), so of two receivers starting
 * against a new store both read 404 and the slower create answers 409. Asked again, it reads what the
 * other one made.
 */
async function createdOrFound<T>(createIfNotExists: () => Promise<T>): Promise<T> {
  try {
    return await createIfNotExists();
  } catch (err) {
    if (statusOf(err as CosmosishError) !== 409) throw err;
    return createIfNotExists();
  }
}

export class CosmosMessageStore implements MessageStore {
  private constructor(
    private readonly client: CosmosClient,
    private readonly container: Container,
    private readonly agent: https.Agent | undefined,
  ) {}

  static async open(opts: CosmosStoreOptions): Promise<CosmosMessageStore> {
    const { settings } = opts;
    const plainHttp = settings.endpoint.startsWith("http:");
    // Keep-alive: a new TCP (and TLS) connection per write would dominate the latency. The SDK's
    // default agents keep connections alive; for plain HTTP we must use its default, because
    // @azure/cosmos (4.9, 4.10) only allows an insecure (http:) connection when it picks the agent
    // itself (request/RequestHandler.js sets allowInsecureConnection only on that path).
    const agent = plainHttp ? undefined : new https.Agent({ keepAlive: true, minVersion: "TLSv1.2" });
    const client = new CosmosClient({
      endpoint: settings.endpoint,
      ...(settings.key
        ? { key: settings.key }
        : {
            aadCredentials: new DefaultAzureCredential(
              settings.managedIdentityClientId
                ? { managedIdentityClientId: settings.managedIdentityClientId }
                : {},
            ),
          }),
      ...(agent ? { agent } : {}),
      connectionPolicy: {
        // A plain-HTTP local server has no regions to discover.
        enableEndpointDiscovery: !plainHttp,
        requestTimeout: opts.requestTimeoutMs ?? 10_000,
        // Retry throttling briefly, then let the sender retry on our 503 instead of holding its request.
        retryOptions: { maxRetryAttemptCount: 3, maxWaitTimeInSeconds: 5 },
      },
      userAgentSuffix: "hookfleet-receiver",
    });
    if (opts.createIfMissing) {
      const { database } = await createdOrFound(() =>
        client.databases.createIfNotExists({ id: settings.database }),
      );
      await createdOrFound(() =>
        database.containers.createIfNotExists({
          id: settings.container,
          partitionKey: { paths: [messageStoreLayout.partitionKeyPath] },
          defaultTtl: messageStoreLayout.defaultTtl,
          indexingPolicy: {
            automatic: true,
            indexingMode: "consistent",
            includedPaths: [{ path: "/*" }],
            excludedPaths: [
              ...messageStoreLayout.excludedIndexPaths.map((path) => ({ path })),
              { path: '/"_etag"/?' },
            ],
          },
        }),
      );
    }
    return new CosmosMessageStore(
      client,
      client.database(settings.database).container(settings.container),
      agent,
    );
  }

  async create(doc: MessageDocument): Promise<CreateResult> {
    try {
      await this.container.items.create(doc);
      return { id: doc.id, duplicate: false };
    } catch (err) {
      if (statusOf(err as CosmosishError) === 409) return { id: doc.id, duplicate: true };
      return classifyStoreError(err);
    }
  }

  /**
   * The message, or undefined. Only a message id (43 base64url characters, see messageId) reaches
   * the client: the SDK puts the id into the request path unencoded, so `.` or `..` would read the
   * container's document feed or the container itself, and `#` would cut the path.
   */
  async get(systemId: string, id: string): Promise<MessageDocument | undefined> {
    if (!isMessageId(id)) return undefined;
    try {
      const { resource } = await this.container.item(id, systemId).read<Record<string, unknown>>();
      return resource ? clean(resource) : undefined;
    } catch (err) {
      if (statusOf(err as CosmosishError) === 404) return undefined;
      return classifyStoreError(err);
    }
  }

  /**
   * One page of at most `limit` messages in (receivedAt DESC, id DESC) order: keyset paging with at
   * most three queries of at most `limit + 1` documents each, whatever the container holds.
   *
   * Every query orders by a single property, which the container's default range index serves (a
   * two-property ORDER BY would need a composite index that deployed containers do not have): the
   * rest of the cursor's instant by id, then older instants by receivedAt. Many messages can share
   * one receivedAt (all events of an Event Grid array do); an instant cut by the page end is never
   * taken from the receivedAt-ordered query, whose order within an instant is unspecified, but
   * read again by id. A page can hold fewer than `limit` messages; the listing ends when
   * `continuation` is null.
   */
  async list(q: ListQuery): Promise<ListResult> {
    const cursor = q.continuation !== undefined ? decodeCursor(q.continuation) : undefined;
    const limit = q.limit;
    try {
      const page: MessageDocument[] = [];
      // 1. The rest of the cursor's instant, by id.
      if (cursor && cursor.id !== "") {
        const rest = await this.instant(q, cursor.t, cursor.id, limit + 1);
        if (rest.length > limit)
          return this.page(rest.slice(0, limit), { t: cursor.t, id: rest[limit - 1].id });
        page.push(...rest);
      }
      // 2. Older instants, by receivedAt.
      const room = limit - page.length;
      const older = await this.query(
        q,
        cursor ? [["c.receivedAt < @before", "@before", cursor.t]] : [],
        "c.receivedAt",
        room + 1,
      );
      if (older.length <= room) return this.page([...page, ...older.sort(byReceivedAtThenId)], null);
      // older[room] is the first message not taken: its instant may be cut, so nothing of it is kept here.
      const cut = older[room].receivedAt;
      page.push(
        ...older
          .slice(0, room)
          .filter((m) => m.receivedAt !== cut)
          .sort(byReceivedAtThenId),
      );
      const left = limit - page.length;
      if (left === 0) return this.page(page, { t: cut });
      // 3. The cut instant, by id.
      const tied = await this.instant(q, cut, undefined, left + 1);
      if (tied.length > left)
        return this.page([...page, ...tied.slice(0, left)], { t: cut, id: tied[left - 1].id });
      return this.page([...page, ...tied], { t: cut, id: "" });
    } catch (err) {
      return classifyStoreError(err);
    }
  }

  private page(messages: MessageDocument[], next: Cursor | null): ListResult {
    return { messages, continuation: next ? encodeCursor(next) : null };
  }

  /** Messages of one instant (with ids below `belowId`, when given), by id descending. */
  private instant(q: ListQuery, t: string, belowId: string | undefined, top: number) {
    const extra: Condition[] = [["c.receivedAt = @at", "@at", t]];
    if (belowId !== undefined) extra.push(["c.id < @belowId", "@belowId", belowId]);
    return this.query(q, extra, "c.id", top);
  }

  /** `SELECT TOP n` with the listing's filters plus `extra`, ordered by one property, descending. */
  private async query(
    q: ListQuery,
    extra: Condition[],
    orderBy: "c.receivedAt" | "c.id",
    top: number,
  ): Promise<MessageDocument[]> {
    const conditions: Condition[] = [];
    if (q.systemId !== undefined) conditions.push(["c.systemId = @systemId", "@systemId", q.systemId]);
    if (q.type !== undefined) conditions.push(["c.type = @type", "@type", q.type]);
    if (q.since !== undefined) conditions.push(["c.receivedAt >= @since", "@since", q.since]);
    if (q.until !== undefined) conditions.push(["c.receivedAt < @until", "@until", q.until]);
    conditions.push(...extra);
    const where = conditions.length ? ` WHERE ${conditions.map(([clause]) => clause).join(" AND ")}` : "";
    const parameters: SqlParameter[] = conditions.map(([, name, value]) => ({ name, value }));
    const { resources } = await this.container.items
      .query<Record<string, unknown>>(
        { query: `SELECT TOP ${top} * FROM c${where} ORDER BY ${orderBy} DESC`, parameters },
        q.systemId !== undefined ? { partitionKey: q.systemId } : { maxItemCount: top },
      )
      .fetchAll();
    return resources.map(clean);
  }

  async ping(): Promise<void> {
    try {
      await this.container.read();
    } catch (err) {
      classifyStoreError(err);
    }
  }

  async close(): Promise<void> {
    this.client.dispose();
    this.agent?.destroy();
  }
}

/**
 * A store whose writes are awaited but not performed: measures the receiver's own pipeline
 * (benchmark row d). Never used to serve real traffic.
 */
export class DiscardingStore implements MessageStore {
  async create(doc: MessageDocument): Promise<CreateResult> {
    return { id: doc.id, duplicate: false };
  }
  async get(): Promise<undefined> {
    return undefined;
  }
  async list(): Promise<ListResult> {
    return { messages: [], continuation: null };
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
