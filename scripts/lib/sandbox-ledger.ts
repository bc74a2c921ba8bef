/**
 * The sandbox's account of events: every event it raised in the emulator, which receivers (one per
 * destination) should end up holding it, and what they hold, read back through each receiver's read
 * API (GET /api/v1/messages, paged) as any client would. Test deliveries (ADO's sample events) are
 * not events anyone raised: they are counted apart.
 */

export interface ReceiverReader {
  name: string;
  url: string;
  readToken: string;
}

/** One receiver's account. */
export interface ReceiverCheck {
  /** Raised events it should hold (its destination subscribed to them). */
  expected: number;
  /** Of those, the ones it holds. */
  stored: number;
  /** Of those, the ones it does not hold: event ids. */
  lost: string[];
  /** Stored messages beyond one per event it should hold. */
  duplicated: number;
  /** Raised events it holds although its destination did not subscribe to them: event ids. */
  unexpected: string[];
  /** Messages stored that no raised event explains (test deliveries). */
  other: number;
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
  /** Raised events a receiver holds that it should not: `<receiver>: <event id>`. */
  unexpected: string[];
  /** Per receiver, by name. */
  receivers: Record<string, ReceiverCheck>;
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

  /** An event raised that `receivers` should each store once (and no other receiver at all). */
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
    const receivers: Record<string, ReceiverCheck> = {};
    // A receiver that should hold events but was not read holds none of them: they count as lost.
    const account = (name: string): ReceiverCheck =>
      (receivers[name] ??= { expected: 0, stored: 0, lost: [], duplicated: 0, unexpected: [], other: 0 });
    for (const r of readers) account(r.name);
    let complete = 0;
    for (const [eventId, wanted] of this.expected) {
      let everywhere = true;
      for (const name of wanted) {
        const a = account(name);
        const n = stored.get(name)?.get(eventId) ?? 0;
        a.expected++;
        if (n === 0) {
          everywhere = false;
          a.lost.push(eventId);
        } else a.stored++;
        a.duplicated += Math.max(0, n - 1);
      }
      if (everywhere) complete++;
    }
    for (const [name, counts] of stored) {
      const a = account(name);
      for (const eventId of counts.keys()) {
        const wanted = this.expected.get(eventId);
        if (wanted === undefined) a.other++;
        else if (!wanted.has(name)) a.unexpected.push(eventId);
      }
    }
    const all = Object.entries(receivers);
    return {
      events: this.expected.size,
      stored: complete,
      lost: all.flatMap(([name, a]) => a.lost.map((id) => `${name}: ${id}`)),
      duplicated: all.reduce((n, [, a]) => n + a.duplicated, 0),
      unexpected: all.flatMap(([name, a]) => a.unexpected.map((id) => `${name}: ${id}`)),
      receivers,
    };
  }
}
