/** The two-slot rotation rule and the RotatingSecret provider, driven directly with a movable clock. */
import { isWellFormedToken, sha256Hex } from "../../app/tokens";
import {
  planRotation,
  applyRotation,
  initialState,
  dueByAge,
  dueBeforeExpiry,
  credentialDiff,
  nextActionAt,
} from "../../components/credentials/rotation";
import {
  acceptedHashes,
  createRotatingSecretProvider,
  nextRotationAt,
  planFor,
  RotatingSecretInputs,
  RotatingSecretOutputs,
} from "../../components/credentials/rotating-secret-provider";
import { UNKNOWN_INPUT } from "../../components/dynamic/unknown";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = new Date("2026-01-01T00:00:00.000Z");

describe("planRotation", () => {
  const policy = { overlapHours: 24, nonce: "n1" };
  const fresh = initialState("v1", policy, T0);
  const due = dueByAge(fresh.rotatedAt, 30);

  test("not due: nothing to do", () => {
    expect(planRotation(fresh, policy, due, new Date(T0.getTime() + 29 * DAY))).toEqual({
      rotate: false,
      dropPrevious: false,
      reasons: [],
    });
  });

  test("due: rotate, old value kept as previous until the overlap ends", () => {
    const at = new Date(T0.getTime() + 30 * DAY);
    const plan = planRotation(fresh, policy, due, at);
    expect(plan).toMatchObject({ rotate: true, reasons: ["due"] });
    const next = applyRotation(fresh, plan, policy, at, () => "v2");
    expect(next).toEqual({
      current: "v2",
      previous: "v1",
      rotatedAt: at.toISOString(),
      previousNotAfter: new Date(at.getTime() + 24 * HOUR).toISOString(),
      nonce: "n1",
    });
  });

  test("overlap end: previous dropped, current kept", () => {
    const at = new Date(T0.getTime() + 30 * DAY);
    const rotated = applyRotation(fresh, planRotation(fresh, policy, due, at), policy, at, () => "v2");
    const due2 = dueByAge(rotated.rotatedAt, 30);
    expect(planRotation(rotated, policy, due2, new Date(at.getTime() + 23 * HOUR)).dropPrevious).toBe(false);
    const later = new Date(at.getTime() + 24 * HOUR);
    const plan = planRotation(rotated, policy, due2, later);
    expect(plan).toEqual({ rotate: false, dropPrevious: true, reasons: ["overlapEnded"] });
    expect(applyRotation(rotated, plan, policy, later, () => "never")).toEqual({
      current: "v2",
      rotatedAt: at.toISOString(),
      nonce: "n1",
    });
  });

  test("a new nonce rotates at once", () => {
    const plan = planRotation(fresh, { ...policy, nonce: "n2" }, due, new Date(T0.getTime() + HOUR));
    expect(plan).toMatchObject({ rotate: true, reasons: ["nonce"] });
  });

  test("emergency: overlap 0 rotates without keeping the old value", () => {
    const emergency = { overlapHours: 0, nonce: "n2" };
    const at = new Date(T0.getTime() + HOUR);
    const next = applyRotation(fresh, planRotation(fresh, emergency, due, at), emergency, at, () => "v2");
    expect(next.current).toBe("v2");
    expect(next.previous).toBeUndefined();
    expect(next.previousNotAfter).toBeUndefined();
  });

  test("emergency after a normal rotation: overlap set to 0 drops the previous value now", () => {
    const at = new Date(T0.getTime() + 30 * DAY);
    const rotated = applyRotation(fresh, planRotation(fresh, policy, due, at), policy, at, () => "v2");
    const plan = planRotation(rotated, { overlapHours: 0, nonce: "n1" }, dueByAge(rotated.rotatedAt, 30), at);
    expect(plan).toEqual({ rotate: false, dropPrevious: true, reasons: ["emergency"] });
  });

  test("expiring credentials fall due before they expire, and the overlap never outlives the old value", () => {
    expect(dueBeforeExpiry("2026-03-01T00:00:00.000Z", 14).toISOString()).toBe("2026-02-15T00:00:00.000Z");
    const at = new Date("2026-02-28T12:00:00.000Z");
    const next = applyRotation(
      fresh,
      { rotate: true, dropPrevious: false, reasons: ["due"] },
      { overlapHours: 48, nonce: "n1" },
      at,
      () => "v2",
      "2026-03-01T00:00:00.000Z",
    );
    expect(next.previousNotAfter).toBe("2026-03-01T00:00:00.000Z");
  });
});

describe("credentialDiff", () => {
  it("asks for an in-place update when a rotation or a drop is planned, never a replace", () => {
    expect(credentialDiff({ rotate: true, dropPrevious: false }, false)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(credentialDiff({ rotate: false, dropPrevious: true }, false).changes).toBe(true);
  });

  it("reports no change when nothing is due and no input moved", () => {
    expect(credentialDiff({ rotate: false, dropPrevious: false }, false).changes).toBe(false);
    expect(credentialDiff(undefined, false).changes).toBe(false);
  });

  it("records schedule-only input changes as an update, and replaces only what it is told", () => {
    expect(credentialDiff({ rotate: false, dropPrevious: false }, true).changes).toBe(true);
    expect(credentialDiff(undefined, false, ["kind"])).toEqual({
      changes: true,
      replaces: ["kind"],
      deleteBeforeReplace: false,
    });
  });
});

describe("RotatingSecret provider", () => {
  let clock = T0;
  const provider = createRotatingSecretProvider({ now: () => clock });
  const inputs = (over: Partial<RotatingSecretInputs> = {}): RotatingSecretInputs => ({
    kind: "urlToken",
    systemId: "devops",
    rotateEveryDays: 30,
    overlapHours: 24,
    rotationNonce: "",
    ...over,
  });
  /** One `pulumi up`: diff with the clock, then update when diff says so (else a same step). */
  async function up(olds: RotatingSecretOutputs, news: RotatingSecretInputs) {
    const d = await provider.diff("id", olds, news);
    if (!d.changes) return { changed: false, outs: olds };
    expect(d.replaces ?? []).toEqual([]); // rotation is an update, never a replace
    const u = await provider.update("id", olds, news);
    return { changed: true, outs: u.outs as RotatingSecretOutputs };
  }
  const hashes = (outs: RotatingSecretOutputs, overlapHours = 24) => acceptedHashes(outs, overlapHours);

  beforeEach(() => {
    clock = T0;
  });

  test("check fills defaults and rejects bad policies without echoing values", async () => {
    const ok = await provider.check({}, { kind: "basicPassword", systemId: "devops" });
    expect(ok.failures).toEqual([]);
    expect(ok.inputs).toEqual({
      kind: "basicPassword",
      systemId: "devops",
      rotateEveryDays: 30,
      overlapHours: 24,
      rotationNonce: "",
    });
    const bad = await provider.check(
      {},
      { kind: "apiKey", systemId: "a/b", rotateEveryDays: 1, overlapHours: 48 },
    );
    expect(bad.failures!.map((f) => f.property).sort()).toEqual(["kind", "overlapHours", "systemId"]);
  });

  test("create mints an alw_ token; every output is present, the previous slot empty", async () => {
    const { outs } = await provider.create(inputs());
    expect(isWellFormedToken(outs.current)).toBe(true);
    expect(outs).toEqual({
      kind: "urlToken",
      current: outs.current,
      currentSha256: sha256Hex(outs.current),
      previous: "",
      previousSha256: "",
      previousNotAfter: "",
      rotatedAt: T0.toISOString(),
      rotationNonce: "",
    });
    expect(hashes(outs)).toEqual([{ sha256: sha256Hex(outs.current) }]);
    expect(nextRotationAt(outs.rotatedAt, 30)).toBe("2026-01-31T00:00:00.000Z");
  });

  test("a Basic password is long and random", async () => {
    const { outs } = await provider.create(inputs({ kind: "basicPassword" }));
    expect(outs.current.length).toBeGreaterThanOrEqual(40);
    expect(outs.current.startsWith("alw_")).toBe(false);
  });

  test("timeline: not due → same; due → both slots; overlap end → same; schedule change → same; nonce → now; emergency", async () => {
    let outs = (await provider.create(inputs())).outs as RotatingSecretOutputs;
    const first = outs.current;

    clock = new Date(T0.getTime() + 29 * DAY);
    let r = await up(outs, inputs());
    expect(r.changed).toBe(false);

    clock = new Date(T0.getTime() + 30 * DAY);
    r = await up(outs, inputs());
    expect(r.changed).toBe(true);
    outs = r.outs;
    const second = outs.current;
    expect(second).not.toBe(first);
    expect(outs.previous).toBe(first);
    expect(outs.previousNotAfter).toBe(new Date(clock.getTime() + 24 * HOUR).toISOString());
    expect(hashes(outs)).toEqual([
      { sha256: sha256Hex(second) },
      { sha256: sha256Hex(first), notAfter: outs.previousNotAfter },
    ]);

    // The overlap ends: nothing to store. The receiver stops accepting `first` by its notAfter, so
    // nothing that consumes this resource changes (and a preview stays quiet).
    clock = new Date(clock.getTime() + 25 * HOUR);
    r = await up(outs, inputs());
    expect(r.changed).toBe(false);
    expect(hashes(r.outs)[1]).toEqual({ sha256: sha256Hex(first), notAfter: outs.previousNotAfter });

    // A schedule-only change is recorded in the inputs, not the outputs: no update.
    r = await up(outs, inputs({ rotateEveryDays: 45, overlapHours: 12 }));
    expect(r.changed).toBe(false);
    expect(nextRotationAt(outs.rotatedAt, 45)).toBe(
      new Date(Date.parse(outs.rotatedAt) + 45 * DAY).toISOString(),
    );
    // ...and the next diff reads it: due at 45 days, not 30.
    clock = new Date(Date.parse(outs.rotatedAt) + 31 * DAY);
    expect((await up(outs, inputs({ rotateEveryDays: 45 }))).changed).toBe(false);

    r = await up(outs, inputs({ rotateEveryDays: 45, rotationNonce: "2026-01-02-incident" }));
    outs = r.outs;
    expect(outs.current).not.toBe(second);
    expect(outs.previous).toBe(second);

    r = await up(outs, inputs({ rotateEveryDays: 45, rotationNonce: "again", overlapHours: 0 }));
    outs = r.outs;
    expect(outs.previous).toBe("");
    expect(hashes(outs, 0)).toHaveLength(1);
  });

  test("emergency revoke without a rotation: overlap 0 drops a previous value still accepted, and only then", async () => {
    let outs = (await provider.create(inputs())).outs as RotatingSecretOutputs;
    clock = new Date(T0.getTime() + 30 * DAY);
    outs = (await up(outs, inputs())).outs;
    expect(outs.previous).not.toBe("");
    // The program refuses it at once (hashes with overlap 0)…
    expect(hashes(outs, 0)).toEqual([{ sha256: outs.currentSha256 }]);
    // …and the provider drops it from state, so setting the overlap back cannot revive it.
    const r = await up(outs, inputs({ overlapHours: 0 }));
    expect(r.changed).toBe(true);
    expect(r.outs.current).toBe(outs.current);
    expect(r.outs.previous).toBe("");
    expect(hashes(r.outs, 24)).toEqual([{ sha256: outs.currentSha256 }]);
    // An expired previous value needs no drop.
    clock = new Date(clock.getTime() + 25 * HOUR);
    expect((await up(outs, inputs({ overlapHours: 0 }))).changed).toBe(false);
  });

  test("a previous value without a valid notAfter fails closed: not accepted, and dropped by the next run", async () => {
    let outs = (await provider.create(inputs())).outs as RotatingSecretOutputs;
    clock = new Date(T0.getTime() + 30 * DAY);
    outs = (await up(outs, inputs())).outs;
    expect(outs.previous).not.toBe("");
    for (const notAfter of ["", "not a date"]) {
      // No release writes this shape (test/fixtures/state): a hand-edited or damaged state.
      const damaged: RotatingSecretOutputs = { ...outs, previousNotAfter: notAfter };
      expect(hashes(damaged)).toEqual([{ sha256: outs.currentSha256 }]);
      expect(planFor(damaged, inputs(), clock)).toEqual({
        rotate: false,
        dropPrevious: true,
        reasons: ["overlapEnded"],
      });
      const r = await up(damaged, inputs());
      expect(r.changed).toBe(true);
      expect(r.outs).toMatchObject({
        current: outs.current,
        previous: "",
        previousSha256: "",
        previousNotAfter: "",
      });
      expect(hashes(r.outs)).toEqual([{ sha256: outs.currentSha256 }]);
    }
    // A valid notAfter is unaffected: accepted until then, and its end is not a change.
    expect(hashes(outs)).toEqual([
      { sha256: outs.currentSha256 },
      { sha256: outs.previousSha256, notAfter: outs.previousNotAfter },
    ]);
    expect(planFor(outs, inputs(), clock)).toEqual({ rotate: false, dropPrevious: false, reasons: [] });
  });

  test("the shared plan (AdoPat's too) ends an overlap without a valid end at once, and says when", () => {
    const policy = { overlapHours: 24, nonce: "" };
    const due = new Date(T0.getTime() + 30 * DAY);
    for (const previousNotAfter of [undefined, "", "not a date"]) {
      const state = { current: "c", previous: "p", previousNotAfter, rotatedAt: T0.toISOString(), nonce: "" };
      expect(planRotation(state, policy, due, T0)).toEqual({
        rotate: false,
        dropPrevious: true,
        reasons: ["overlapEnded"],
      });
      // Before: Math.min(due, NaN) made toISOString throw in read and update.
      expect(nextActionAt(state, due)).toBe(new Date(0).toISOString());
    }
  });

  test("changing the kind replaces; read returns the state in today's shape", async () => {
    const { id, outs } = await provider.create(inputs());
    const d = await provider.diff(id, outs, inputs({ kind: "basicPassword" }));
    expect(d.replaces).toEqual(["kind"]);
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });
  });

  test("reads, diffs and updates what 0.1.0 stored (inputs echoed, previous* absent, derived lists)", async () => {
    const current = "alw_0123456789abcdefghijklmnopqrstuvwxyzAB";
    const stored = {
      kind: "urlToken",
      systemId: "devops",
      rotateEveryDays: 30,
      overlapHours: 24,
      rotationNonce: "",
      current,
      rotatedAt: T0.toISOString(),
      currentSha256: sha256Hex(current),
      hashes: [{ sha256: sha256Hex(current) }],
      urlTokens: [{ sha256: sha256Hex(current), systemId: "devops" }],
      nextRotationAt: new Date(T0.getTime() + 30 * DAY).toISOString(),
    };
    const read = await provider.read("id", stored);
    expect(read.props).toEqual({
      kind: "urlToken",
      current,
      currentSha256: sha256Hex(current),
      previous: "",
      previousSha256: "",
      previousNotAfter: "",
      rotatedAt: T0.toISOString(),
      rotationNonce: "",
    });
    expect((await provider.diff("id", stored, inputs())).changes).toBe(false);
    clock = new Date(T0.getTime() + 30 * DAY);
    const u = await provider.update("id", stored, inputs());
    expect(u.outs.previous).toBe(current);
  });
});

test("a read token is an alw_ token whose hashes feed HOOKFLEET_READ_TOKENS", async () => {
  const provider = createRotatingSecretProvider({ now: () => T0 });
  const { outs } = await provider.create({
    kind: "readToken",
    systemId: "devops",
    rotateEveryDays: 90,
    overlapHours: 24,
    rotationNonce: "",
  });
  expect(isWellFormedToken(outs.current)).toBe(true);
  expect(acceptedHashes(outs as RotatingSecretOutputs, 24)).toEqual([{ sha256: sha256Hex(outs.current) }]);
});

test("preview with inputs not known yet: check defers, diff reports an update, never a replace", async () => {
  const provider = createRotatingSecretProvider({ now: () => T0 });
  const unknown = UNKNOWN_INPUT;
  const checked = await provider.check({}, { kind: "urlToken", systemId: unknown });
  expect(checked.failures).toEqual([]);
  const { outs } = await provider.create({
    kind: "urlToken",
    systemId: "devops",
    rotateEveryDays: 30,
    overlapHours: 24,
    rotationNonce: "",
  });
  const d = await provider.diff("id", outs, { ...outs, kind: unknown } as unknown as RotatingSecretInputs);
  expect(d).toMatchObject({ changes: true, replaces: [] });
});
