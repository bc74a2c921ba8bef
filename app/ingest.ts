/**
 * From the events of one delivery to stored messages, with the per-request work bounded: an array
 * of thousands of events is turned into documents in slices (yielding to the event loop between
 * them) and written a few at a time, so one large delivery never holds up /healthz, /readyz or
 * other deliveries. The answer is 201 only when every event is stored (or was already); a failed
 * request may leave some of its events stored, and the sender's retry completes the set (see
 * storeDocuments).
 */
import type { Json } from "./events";
import {
  buildMessage,
  documentBytes,
  documentsFitUnmeasured,
  MAX_DOCUMENT_BYTES,
  type MessageDocument,
  type MessageSource,
} from "./messages";
import type { ReceiverMetrics } from "./metrics";
import type { SystemSetting } from "./settings";
import type { CreateResult, MessageStore } from "./store";

/** Documents built between two yields to the event loop (≈ 10 µs each). */
const BUILD_SLICE = 256;
/** Creates in flight for one request: enough to keep the store busy, few enough to share the process. */
export const CREATE_CONCURRENCY = 16;

/** 413: an event whose stored message would exceed MAX_DOCUMENT_BYTES. Nothing is stored. */
export class DocumentTooLargeError extends Error {
  readonly statusCode = 413;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The documents of a delivery, each checked against MAX_DOCUMENT_BYTES (measured only when the body
 * is large enough to possibly exceed it; see documentsFitUnmeasured).
 */
export async function buildDocuments(
  system: SystemSetting,
  source: MessageSource,
  events: readonly Json[],
  receivedAt: Date,
  bodyBytes: number,
): Promise<MessageDocument[]> {
  const measure = !documentsFitUnmeasured(bodyBytes);
  const docs: MessageDocument[] = [];
  for (let i = 0; i < events.length; i++) {
    if (i > 0 && i % BUILD_SLICE === 0) await nextTurn();
    const doc = buildMessage(system, source, events[i], receivedAt);
    if (measure) {
      const bytes = documentBytes(doc);
      if (bytes > MAX_DOCUMENT_BYTES)
        throw new DocumentTooLargeError(
          `${events.length > 1 ? `event [${i}]` : "the event"} would be stored as ${bytes} bytes, over the ` +
            `${MAX_DOCUMENT_BYTES}-byte limit of a message (Cosmos DB items are at most 2 MB; numbers such as 1e20 print longer than sent)`,
        );
    }
    docs.push(doc);
  }
  return docs;
}

/** Runs `task` for every item, at most `limit` at a time; stops starting new ones once `stop()` is true. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) {
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * Creates every document, CREATE_CONCURRENCY at a time, and answers one result per document in
 * their order. If one create fails, no new one starts and the first failure is thrown; the
 * documents already created stay. Creates are idempotent (the same event id is the same message
 * id, and a second create of it is a 409, answered as a duplicate), so the sender's retry of the
 * whole delivery completes what is missing. Deleting them again would lose events: a retry of the
 * same delivery may overlap this request (Event Grid retries after its 30 s wait, and fastify does
 * not stop a handler whose client went away), may already have been answered 201 with these very
 * documents counted as duplicates, and would be left with nothing stored.
 */
export async function storeDocuments(
  store: MessageStore,
  metrics: ReceiverMetrics,
  docs: readonly MessageDocument[],
): Promise<CreateResult[]> {
  const create = (doc: MessageDocument) => metrics.time("create", () => store.create(doc));
  if (docs.length === 1) return [await create(docs[0])];
  // The same event twice in one delivery (Event Grid delivers at least once, so a publisher's retry
  // can put both copies in one array: learn.microsoft.com/azure/event-grid/delivery-and-retry) is
  // created once, and its later copies are answered as duplicates. Refusing the array with 400
  // would lose all of it: Event Grid never retries a 400 (same page).
  const unique: MessageDocument[] = [];
  // Per document, its place in `unique`, or -1 for a later copy.
  const place: number[] = [];
  const ids = new Set<string>();
  for (const doc of docs) {
    if (ids.has(doc.id)) place.push(-1);
    else {
      ids.add(doc.id);
      place.push(unique.length);
      unique.push(doc);
    }
  }
  const results: CreateResult[] = new Array(unique.length);
  let failure: { error: unknown } | undefined;
  await eachLimited(
    unique,
    CREATE_CONCURRENCY,
    async (doc, i) => {
      try {
        results[i] = await create(doc);
      } catch (error) {
        failure ??= { error };
      }
    },
    () => failure !== undefined,
  );
  if (failure) throw failure.error;
  if (unique.length === docs.length) return results;
  return docs.map((doc, i) => (place[i] < 0 ? { id: doc.id, duplicate: true } : results[place[i]]));
}
