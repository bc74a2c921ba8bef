/**
 * Event Grid deliveries of a chosen size, for the tests and the benchmark of large arrays
 * (test/app/large-arrays.test.ts, scripts/bench/receiver-scenarios.ts). Event Grid schema events
 * (`id`, `subject`, `eventType`, `eventTime`, `data`: ../shared/design/pulumi-and-azure-notes.md,
 * "Event Grid delivery"), each padded alike.
 */

/**
 * An Event Grid array of `count` events, `${prefix}-0` … `${prefix}-${count - 1}`, padded to at
 * most about `bytes` in all (each event gets an equal share).
 */
export function gridArray(prefix: string, count: number, bytes: number): string {
  const event = (i: number, pad: string) =>
    JSON.stringify({
      id: `${prefix}-${i}`,
      subject: `/things/${i}`,
      eventType: "Custom.Thing",
      eventTime: "2026-11-30T10:00:00Z",
      data: { pad },
    });
  // The longest id's event plus its comma: no event is longer, so the whole stays within `bytes`.
  const bare = event(count - 1, "").length + 1;
  const pad = "x".repeat(Math.max(0, Math.floor(bytes / count) - bare));
  return `[${Array.from({ length: count }, (_, i) => event(i, pad)).join(",")}]`;
}
