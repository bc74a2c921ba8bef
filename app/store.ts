/**
 * The message store: idempotent create, read and list over one Cosmos DB container
 * (partition key /systemId). Store trouble becomes StoreUnavailableError, which the routes turn
 * into 503 + Retry-After so that ADO and Event Grid retry.
 */
import https from "node:https";
import { CosmosClient, type Container, type SqlParameter } from "@azure/cosmos";
import { DefaultAzureCredential } from "@azure/identity";
import type { CosmosSettings } from "./config";
import type { MessageDocument } from "./messages";
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
  /** Best-effort removal of a document this request created (undo of a partly failed batch). */
  remove(systemId: string, id: string): Promise<void>;
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

/** Bad continuation token from a client of the read API. */
export class BadContinuationError extends Error {}

const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "TimeoutError",
]);

interface CosmosishError {
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

/** Maps a store failure to StoreUnavailableError when the sender should retry; rethrows otherwise. */
export function classifyStoreError(err: unknown): never {
  const e = (err ?? {}) as CosmosishError;
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

const SYSTEM_PROPERTIES = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];

function clean(doc: Record<string, unknown>): MessageDocument {
  for (const k of SYSTEM_PROPERTIES) delete doc[k];
  return doc as unknown as MessageDocument;
}

interface Cursor {
  /** receivedAt of the last message returned. */
  t: string;
  /** Ids already returned with that same receivedAt (ties). */
  ids: string[];
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Cursor;
    if (
      typeof c.t === "string" &&
      Array.isArray(c.ids) &&
      c.ids.every((i) => typeof i === "string") &&
      c.ids.length <= 1000
    )
      return c;
  } catch {
    // fall through: reported below as a bad continuation
  }
  throw new BadContinuationError("continuation is not one this service returned");
}

export interface CosmosStoreOptions {
  settings: CosmosSettings & { endpoint: string };
  /** Create the database and container when missing (local mode only; never in production). */
  createIfMissing: boolean;
  /** Give up on a request after this long (ms) and answer 503; default 10 s (ADO's delivery timeout is longer). */
  requestTimeoutMs?: number;
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
    // @azure/cosmos 4.9 only allows an insecure (http:) connection when it picks the agent itself.
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
      const { database } = await client.databases.createIfNotExists({ id: settings.database });
      await database.containers.createIfNotExists({
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
      });
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

  async remove(systemId: string, id: string): Promise<void> {
    try {
      await this.container.item(id, systemId).delete();
    } catch {
      // Best effort: the sender retries and the retry is idempotent anyway.
    }
  }

  async get(systemId: string, id: string): Promise<MessageDocument | undefined> {
    try {
      const { resource } = await this.container.item(id, systemId).read<Record<string, unknown>>();
      return resource ? clean(resource) : undefined;
    } catch (err) {
      if (statusOf(err as CosmosishError) === 404) return undefined;
      return classifyStoreError(err);
    }
  }

  async list(q: ListQuery): Promise<ListResult> {
    const where: string[] = [];
    const parameters: SqlParameter[] = [];
    const add = (clause: string, name: string, value: string | string[]) => {
      where.push(clause);
      parameters.push({ name, value });
    };
    if (q.systemId !== undefined) add("c.systemId = @systemId", "@systemId", q.systemId);
    if (q.type !== undefined) add("c.type = @type", "@type", q.type);
    if (q.since !== undefined) add("c.receivedAt >= @since", "@since", q.since);
    if (q.until !== undefined) add("c.receivedAt < @until", "@until", q.until);
    if (q.continuation !== undefined) {
      // Keyset paging on receivedAt (single-field ORDER BY needs no composite index); ties at the
      // same instant are told apart by the ids already returned.
      const c = decodeCursor(q.continuation);
      where.push(
        "(c.receivedAt < @cursorT OR (c.receivedAt = @cursorT AND NOT ARRAY_CONTAINS(@cursorIds, c.id)))",
      );
      parameters.push({ name: "@cursorT", value: c.t }, { name: "@cursorIds", value: c.ids });
    }
    const query = `SELECT TOP ${q.limit + 1} * FROM c${where.length ? " WHERE " + where.join(" AND ") : ""} ORDER BY c.receivedAt DESC`;
    try {
      const { resources } = await this.container.items
        .query<Record<string, unknown>>(
          { query, parameters },
          q.systemId !== undefined ? { partitionKey: q.systemId } : { maxItemCount: q.limit + 1 },
        )
        .fetchAll();
      const page = resources.slice(0, q.limit).map(clean);
      let continuation: string | null = null;
      if (resources.length > q.limit && page.length) {
        const t = page[page.length - 1].receivedAt;
        const prev = q.continuation ? decodeCursor(q.continuation) : undefined;
        const ids = page.filter((m) => m.receivedAt === t).map((m) => m.id);
        continuation = encodeCursor({ t, ids: prev && prev.t === t ? [...prev.ids, ...ids] : ids });
      }
      return { messages: page, continuation };
    } catch (err) {
      return classifyStoreError(err);
    }
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
  async remove(): Promise<void> {}
  async get(): Promise<undefined> {
    return undefined;
  }
  async list(): Promise<ListResult> {
    return { messages: [], continuation: null };
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
