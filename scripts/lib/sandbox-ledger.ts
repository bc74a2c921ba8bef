/**
 * The sandbox's account of events: every event it raised in the emulator, which receivers should
 * end up holding it, and what they hold, read back through each receiver's read API
 * (GET /api/v1/messages, paged) as any client would. Test deliveries (ADO's sample events) are
 * not events anyone raised: they are counted apart.
 */

export interface ReceiverReader {
  name: string;
  url: string;
  readToken: string;
}

export interface LedgerCheck {
  /** Events raised (each counted once, whatever the number of receivers it goes to). */
  events: number;
  /** Events found in every receiver that should hold them. */
  stored: number;
  /** Events missing from a receiver that should hold them: `<receiver>: <event id>`. */
  lost: string[];
  /** Stored messages beyond one per (receiver, event). */
  duplicated: number;
  /** Messages stored that no raised event explains (test deliveries), per receiver. */
  other: Record<string, number>;
}

/** Stored messages of a receiver by ADO event id (sourceEventId), every page. */
export async function storedByEvent(reader: ReceiverReader): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let continuation: string | undefined;
  do {
    const url = new URL("/api/v1/messages", reader.url);
    url.searchParams.set("limit", "200");
    if (continuation) url.searchParams.set("continuation", continuation);
    const res = await fetch(url, { headers: { authorization: `Bearer ${reader.readToken}` } });
    if (!res.ok)
      throw new Error(`the read API of ${reader.name} answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as { messages: { sourceEventId: string }[]; continuation: string | null };
    for (const m of page.messages) counts.set(m.sourceEventId, (counts.get(m.sourceEventId) ?? 0) + 1);
    continuation = page.continuation ?? undefined;
  } while (continuation);
  return counts;
}

export class EventLedger {
  private readonly expected = new Map<string, Set<string>>();

  /** An event raised that `receivers` should each store once. */
  add(eventId: string, receivers: readonly string[]): void {
    const set = this.expected.get(eventId) ?? new Set<string>();
    for (const r of receivers) set.add(r);
    this.expected.set(eventId, set);
  }

  get size(): number {
    return this.expected.size;
  }

  async check(readers: readonly ReceiverReader[]): Promise<LedgerCheck> {
    const stored = new Map(
      await Promise.all(readers.map(async (r) => [r.name, await storedByEvent(r)] as const)),
    );
    const lost: string[] = [];
    let complete = 0;
    let duplicated = 0;
    const explained = new Map<string, Set<string>>(readers.map((r) => [r.name, new Set<string>()]));
    for (const [eventId, receivers] of this.expected) {
      let everywhere = true;
      for (const name of receivers) {
        const n = stored.get(name)?.get(eventId) ?? 0;
        explained.get(name)?.add(eventId);
        if (n === 0) {
          everywhere = false;
          lost.push(`${name}: ${eventId}`);
        }
        duplicated += Math.max(0, n - 1);
      }
      if (everywhere) complete++;
    }
    const other: Record<string, number> = {};
    for (const [name, counts] of stored) {
      other[name] = [...counts.keys()].filter((id) => !explained.get(name)?.has(id)).length;
    }
    return { events: this.expected.size, stored: complete, lost, duplicated, other };
  }
}
