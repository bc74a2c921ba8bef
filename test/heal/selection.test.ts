/**
 * Which hooks a heal run reads (app/heal/selection.ts), on Microsoft's example subscriptions
 * (../shared/ado-spec): the GET list (enabled hooks never changed since creation, some on probation
 * or disabled), and the bodies a POST (create) and a PUT (replace) answer with.
 */
import type { Subscription } from "../../ado/types";
import { changedRecently, selectHooks } from "../../app/heal/selection";
import { parseRecentHours } from "../../app/heal/settings";
import { healRecentHoursFor } from "../../components/receiver/schedule";
import { EX } from "../ado/spec/fixtures";
import { exampleBody } from "../ado/spec/swagger";

const HOUR = 3_600_000;
const listed = exampleBody<{ value: Subscription[] }>(EX.subscriptions).value;
const created = exampleBody<Subscription>(EX.create);
const replaced = exampleBody<Subscription>(EX.replace);
const at = (timestamp: string | undefined) => Date.parse(timestamp!);

describe("the hooks a heal run reads", () => {
  it("in Microsoft's list: those not enabled; no enabled one, none of them changed since creation", () => {
    // However wide the window: the example's enabled hooks have modifiedDate = createdDate.
    const latest = Math.max(...listed.map((s) => at(s.modifiedDate)));
    const { notEnabled, enabledToRead } = selectHooks(listed, {
      includeEnabled: false,
      recentMs: 8760 * HOUR,
      now: latest + HOUR,
    });
    expect(notEnabled.map((s) => s.status)).toEqual(
      listed.filter((s) => s.status !== undefined && s.status !== "enabled").map((s) => s.status),
    );
    expect(notEnabled.length).toBeGreaterThan(0);
    expect(enabledToRead).toEqual([]);
  });

  it("with --include-enabled: every enabled hook of the list too", () => {
    const { notEnabled, enabledToRead } = selectHooks(listed, { includeEnabled: true, recentMs: 0, now: 0 });
    expect(notEnabled.length + enabledToRead.length).toBe(listed.length);
    expect(enabledToRead.every((s) => s.status === undefined || s.status === "enabled")).toBe(true);
  });

  it("a hook just created is not read; one replaced (PUT) is, while its change is within the window", () => {
    // The examples' own timestamps: created …:24.873Z, replaced …:26.23Z (two fractional digits).
    expect(created.createdDate).toBe(created.modifiedDate);
    expect(at(replaced.modifiedDate)).toBeGreaterThan(at(replaced.createdDate));
    const changed = at(replaced.modifiedDate);
    expect(changedRecently(created, at(created.modifiedDate) + 1, 6 * HOUR)).toBe(false);
    expect(changedRecently(replaced, changed + 6 * HOUR, 6 * HOUR)).toBe(true);
    expect(changedRecently(replaced, changed + 6 * HOUR + 1, 6 * HOUR)).toBe(false);
    expect(changedRecently(replaced, changed + 1, 0)).toBe(false);
    expect(
      selectHooks([created, replaced], { includeEnabled: false, recentMs: HOUR, now: changed + 1 }),
    ).toEqual({ notEnabled: [], enabledToRead: [replaced] });
  });

  it("an unreadable modifiedDate counts as unchanged; an unreadable createdDate does not hide a change", () => {
    const now = at(replaced.modifiedDate) + 1;
    expect(changedRecently({ ...replaced, modifiedDate: undefined }, now, HOUR)).toBe(false);
    expect(changedRecently({ ...replaced, modifiedDate: "yesterday" }, now, HOUR)).toBe(false);
    expect(changedRecently({ ...replaced, createdDate: undefined }, now, HOUR)).toBe(true);
  });
});

describe("how far back", () => {
  it("takes hours from 0 to a year, decimals allowed, nothing else", () => {
    expect(["6", "0", "0.5", "8760"].map(parseRecentHours)).toEqual([6, 0, 0.5, 8760]);
    for (const bad of ["", "-1", "six", "1e3", "8761", " 6", "6h", "Infinity"])
      expect({ bad, hours: parseRecentHours(bad) }).toEqual({ bad, hours: undefined });
  });

  it("the deployed job looks back two of its schedule's longest gaps, at least 6 hours", () => {
    expect(healRecentHoursFor("0 * * * *")).toBe(6);
    expect(healRecentHoursFor("*/15 * * * *")).toBe(6);
    expect(healRecentHoursFor("0 */6 * * *")).toBe(12);
    expect(healRecentHoursFor("30 2 * * *")).toBe(48);
    // Weekdays at 02:00: Friday to Monday is 72 hours.
    expect(healRecentHoursFor("0 2 * * 1-5")).toBe(144);
    // Once a year: as far back as heal takes.
    expect(healRecentHoursFor("0 0 1 1 *")).toBe(8760);
  });
});
