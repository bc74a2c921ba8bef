/**
 * The longest wait between two runs of a 5-field cron schedule (minute hour day-of-month month
 * day-of-week, UTC, as Container Apps jobs take it), so the "heal did not run" alert knows how long
 * silence is normal, and how far back the job looks for re-enabled hooks. Pure functions, tested
 * directly.
 */
import { defaultRecentHours, maxRecentHours } from "../../app/heal/settings";

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

/** The values one field allows, and whether it was `*` (day fields combine differently then). */
interface Field {
  values: Set<number>;
  any: boolean;
}

function parseField(text: string, f: (typeof FIELDS)[number], cron: string): Field {
  const values = new Set<number>();
  const bad = () => new Error(`cron "${cron}": ${f.name} field "${text}" is not understood`);
  for (const part of text.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw bad();
    const step = m[4] ? Number(m[4]) : 1;
    const from = m[1] === "*" ? f.min : Number(m[2]);
    const to = m[1] === "*" ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] ? f.max : from;
    if (step < 1 || from < f.min || to > f.max || from > to) throw bad();
    for (let v = from; v <= to; v += step) values.add(f.name === "day of week" && v === 7 ? 0 : v);
  }
  return { values, any: text === "*" };
}

/** Minutes between consecutive runs, at most: scanned over five weeks from a Monday. */
export function cronMaxGapMinutes(cron: string): number {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${cron}" must have 5 fields`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i], cron));
  const start = Date.UTC(2024, 0, 1); // a Monday
  const span = 35 * 24 * 60;
  const runs: number[] = [];
  for (let i = 0; i < span; i++) {
    const t = new Date(start + i * 60_000);
    if (!minute.values.has(t.getUTCMinutes()) || !hour.values.has(t.getUTCHours())) continue;
    if (!month.values.has(t.getUTCMonth() + 1)) continue;
    const domOk = dom.values.has(t.getUTCDate());
    const dowOk = dow.values.has(t.getUTCDay());
    // Classic cron: when both day fields are restricted, either may match.
    const dayOk = dom.any && dow.any ? true : dom.any ? dowOk : dow.any ? domOk : domOk || dowOk;
    if (dayOk) runs.push(i);
  }
  if (runs.length < 2) return Infinity;
  let gap = runs[0] + span - runs[runs.length - 1];
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  return gap;
}

/**
 * The heal job's HOOKFLEET_HEAL_RECENT_HOURS for a schedule: at least two of its longest gaps, so a
 * hook re-enabled just after a run is still "changed recently" at the next run even when one run
 * is missed (app/heal/selection.ts), and never below the heal command's own default.
 */
export function healRecentHoursFor(cron: string): number {
  const gap = cronMaxGapMinutes(cron);
  // A schedule that runs once in five weeks or less: as far back as the heal command takes.
  if (!Number.isFinite(gap)) return maxRecentHours;
  return Math.min(maxRecentHours, Math.max(defaultRecentHours, Math.ceil((2 * gap) / 60)));
}

/**
 * Aggregation granularities (windowSize) and frequencies the Azure portal offers for log search
 * alert rules, in minutes; the rules use only these, rounding up, since other values may be refused.
 * Azure does not look further back than two days in a log alert (its longest window).
 */
export const alertWindowMinutes = [5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440, 2880] as const;
export const maxAlertLookbackMinutes = 2880;

/** The smallest allowed window of at least `minutes`, or undefined beyond two days. */
export function alertWindowAtLeast(minutes: number): number | undefined {
  return alertWindowMinutes.find((w) => w >= minutes);
}

/** `90` → `PT1H30M`, `2880` → `PT48H`: ISO 8601 durations as the rule properties take them. */
export function isoMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `PT${h ? `${h}H` : ""}${m || !h ? `${m}M` : ""}`;
}
