/** Human-readable rendering of a heal report (the CLI's default output; `--json` prints the report). */
import type { HealReport, HookHealResult } from "./heal";

/** 93 s → "1m 33s", 5 h → "5h 00m", 2.5 d → "2d 12h". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "-";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, "0")}h`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function orgName(orgUrl: string): string {
  try {
    return new URL(orgUrl).pathname.split("/").filter(Boolean)[0] ?? orgUrl;
  } catch {
    return orgUrl;
  }
}

function after(h: HookHealResult): string {
  if (h.action === "wouldEnable") return "enabled (dry run)";
  if (h.action === "notEnabled") return `${h.statusAfter} (NOT repaired)`;
  return h.statusAfter;
}

export function formatHealReport(report: HealReport): string {
  const lines: string[] = [];
  const mode = report.dryRun ? " (dry run: nothing was changed)" : "";
  lines.push(`HookFleet heal${mode}, ${report.startedAt}, hooks under ${report.webhookBaseUrl}`);
  for (const o of report.orgs)
    lines.push(
      o.error
        ? `  ${o.orgUrl}: NOT LISTED: ${o.error}`
        : `  ${o.orgUrl}: ${count(o.hooks, "hook")}, ${o.notEnabled} not enabled` +
            (o.enabledRead ? `, ${o.enabledRead} enabled read for failed deliveries` : ""),
    );
  if (report.hooks.length) {
    const replayedHead = report.dryRun ? "TO REPLAY" : "REPLAYED";
    const rows = [
      [
        "ORG",
        "PROJECT",
        "EVENT TYPE",
        "HOOK",
        "FOUND",
        "NOW",
        "DOWN SINCE",
        "DOWN FOR",
        replayedHead,
        "PRESENT",
      ],
      ...report.hooks.map((h) => [
        orgName(h.orgUrl),
        h.project ?? h.projectId ?? "-",
        h.eventType,
        h.id,
        h.statusFound,
        after(h),
        h.downSince ?? "-",
        formatDuration(h.downtimeMs),
        String(h.replayed),
        String(h.alreadyPresent),
      ]),
    ];
    lines.push("", table(rows));
    const withProblems = report.hooks.filter((h) => h.problems.length);
    if (withProblems.length) {
      lines.push("", "NOT REPAIRED:");
      for (const h of withProblems)
        for (const p of h.problems) lines.push(`  ${h.id} (${h.eventType}): ${p}`);
    }
    const noted = report.hooks.filter((h) => h.notes.length);
    if (noted.length) {
      lines.push("", "Notes:");
      for (const h of noted) for (const n of h.notes) lines.push(`  ${h.id}: ${n}`);
    }
  }
  const t = report.totals;
  lines.push(
    "",
    `${count(t.hooks, "hook")}, ${t.notEnabled} not enabled, ${t.enabled} ${report.dryRun ? "to enable" : "enabled"}, ` +
      `${count(t.replayed, "event")} ${report.dryRun ? "to replay" : "replayed"}, ${t.alreadyPresent} already stored: ` +
      (report.ok ? "OK" : "SOMETHING COULD NOT BE REPAIRED"),
  );
  return lines.join("\n");
}
