/**
 * RFC 3339 date-times as the read API accepts them (`since`, `until`), checked field by field
 * before any Date is made: JavaScript's Date has no leap seconds and silently rolls impossible
 * dates over, so either would otherwise turn into a 500 or into the wrong instant.
 */

// RFC 3339 §5.6 date-time: full-date "T" full-time, with "Z" or a numeric offset.
// (§5.6 also lets applications separate date and time with a space, as here.)
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const EXAMPLE = "such as 2026-01-31T12:00:00Z";

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `{iso}` (Date.toISOString form, millisecond precision) or `{problem}` saying what is wrong. */
export function parseInstant(text: string): { iso: string } | { problem: string } {
  const m = DATE_TIME.exec(text);
  if (!m) return { problem: `must be an RFC 3339 date-time ${EXAMPLE} (got "${text.slice(0, 64)}")` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const [offsetHour, offsetMinute] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month))
    return { problem: `names a day that does not exist (${m[1]}-${m[2]}-${m[3]})` };
  if (second === 60)
    return {
      problem: `is a leap second (${m[4]}:${m[5]}:60), which this service cannot represent: use ${m[4]}:${m[5]}:59`,
    };
  if (hour > 23 || minute > 59 || second > 59 || offsetHour > 23 || offsetMinute > 59)
    return { problem: "has an hour, minute, second or offset out of range" };
  const ms = Date.parse(text.toUpperCase().replace(" ", "T"));
  // Within the checks above Date.parse only fails for years outside its ±275,760-year range.
  if (Number.isNaN(ms)) return { problem: `is outside the range of dates this service handles` };
  return { iso: new Date(ms).toISOString() };
}
