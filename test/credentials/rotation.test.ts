/** The two-slot rotation rule and the RotatingSecret provider, driven directly with a movable clock. */
import { isWellFormedToken, sha256Hex } from "../../app/tokens";
import {
  planRotation,
  applyRotation,
  initialState,
  dueByAge,
  dueBeforeExpiry,
  credentialDiff,
} from "../../components/credentials/rotation";
import {
  createRotatingSecretProvider,
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
  /** One `pulumi up`: diff with the clock, then update when diff says so. */
  async function up(olds: RotatingSecretOutputs, news: RotatingSecretInputs) {
    const d = await provider.diff!("id", olds, news);
    if (!d.changes) return { changed: false, outs: olds };
    expect(d.replaces ?? []).toEqual([]); // rotation is an update, never a replace
    const u = await provider.update!("id", olds, news);
    return { changed: true, outs: u.outs as RotatingSecretOutputs };
  }

  beforeEach(() => {
    clock = T0;
  });

  test("check fills defaults and rejects bad policies without echoing values", async () => {
    const ok = await provider.check!({}, { kind: "basicPassword", systemId: "devops" });
    expect(ok.failures).toEqual([]);
    expect(ok.inputs).toEqual({
      kind: "basicPassword",
      systemId: "devops",
      rotateEveryDays: 30,
      overlapHours: 24,
      rotationNonce: "",
    });
    const bad = await provider.check!(
      {},
      { kind: "apiKey", systemId: "a/b", rotateEveryDays: 1, overlapHours: 48 },
    );
    expect(bad.failures!.map((f) => f.property).sort()).toEqual(["kind", "overlapHours", "systemId"]);
  });

  test("create mints an alw_ token and hands the receiver its hash", async () => {
    const { outs } = await provider.create(inputs());
    expect(isWellFormedToken(outs.current)).toBe(true);
    expect(outs.previous).toBeUndefined();
    expect(outs.hashes).toEqual([{ sha256: sha256Hex(outs.current) }]);
    expect(outs.urlTokens).toEqual([{ sha256: sha256Hex(outs.current), systemId: "devops" }]);
    expect(outs.nextRotationAt).toBe("2026-01-31T00:00:00.000Z");
  });

  test("a Basic password is long and random, and not bound into URL tokens", async () => {
    const { outs } = await provider.create(inputs({ kind: "basicPassword" }));
    expect(outs.current.length).toBeGreaterThanOrEqual(40);
    expect(outs.current.startsWith("alw_")).toBe(false);
    expect(outs.urlTokens).toEqual([]);
    expect(outs.hashes).toHaveLength(1);
  });

  test("timeline: not due → no change; due → both slots; overlap end → previous dropped; nonce → now; emergency", async () => {
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
    expect(outs.hashes).toEqual([
      { sha256: sha256Hex(second) },
      { sha256: sha256Hex(first), notAfter: outs.previousNotAfter },
    ]);
    expect(outs.urlTokens.map((t) => t.systemId)).toEqual(["devops", "devops"]);
    expect(outs.nextRotationAt).toBe(outs.previousNotAfter);

    clock = new Date(clock.getTime() + 25 * HOUR);
    r = await up(outs, inputs());
    expect(r.changed).toBe(true);
    outs = r.outs;
    expect(outs.current).toBe(second);
    expect(outs.previous).toBeUndefined();
    expect(outs.hashes).toEqual([{ sha256: sha256Hex(second) }]);
    expect((await up(outs, inputs())).changed).toBe(false);

    r = await up(outs, inputs({ rotationNonce: "2026-01-02-incident" }));
    outs = r.outs;
    expect(outs.current).not.toBe(second);
    expect(outs.previous).toBe(second);

    r = await up(outs, inputs({ rotationNonce: "again", overlapHours: 0 }));
    outs = r.outs;
    expect(outs.previous).toBeUndefined();
    expect(outs.hashes).toHaveLength(1);
  });

  test("changing the kind replaces; read returns the state as it is", async () => {
    const { id, outs } = await provider.create(inputs());
    const d = await provider.diff!(id, outs, inputs({ kind: "basicPassword" }));
    expect(d.replaces).toEqual(["kind"]);
    expect(await provider.read!(id, outs)).toEqual({ id, props: outs });
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
  expect(outs.hashes).toEqual([{ sha256: sha256Hex(outs.current) }]);
  expect(outs.urlTokens).toEqual([]);
});

test("preview with inputs not known yet: check defers, diff reports an update, never a replace", async () => {
  const provider = createRotatingSecretProvider({ now: () => T0 });
  const unknown = UNKNOWN_INPUT;
  const checked = await provider.check!({}, { kind: "urlToken", systemId: unknown });
  expect(checked.failures).toEqual([]);
  const { outs } = await provider.create({
    kind: "urlToken",
    systemId: "devops",
    rotateEveryDays: 30,
    overlapHours: 24,
    rotationNonce: "",
  });
  const d = await provider.diff!("id", outs, { ...outs, kind: unknown } as unknown as RotatingSecretInputs);
  expect(d).toMatchObject({ changes: true, replaces: [] });
});
