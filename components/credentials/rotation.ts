/**
 * The two-slot rotation rule shared by every rotating credential (URL token, Basic password, ADO PAT).
 *
 * Pure: no I/O, no Pulumi, the clock is a parameter. A credential has a `current` value and, during
 * an overlap after a rotation, a `previous` one that consumers still accept until `previousNotAfter`.
 * Rotation is an *update* of one resource, never a replace: a replace would create the new value and
 * delete the old one in one run, leaving no overlap for deliveries already queued with the old one.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** What a rotating credential remembers between runs (kept in Pulumi state). */
export interface RotationState<V> {
  /** The value consumers are given now. */
  current: V;
  /** The value replaced by the last rotation, still accepted until `previousNotAfter`. */
  previous?: V;
  /** ISO time of the last rotation (or creation). */
  rotatedAt: string;
  /** ISO time after which `previous` is no longer accepted. */
  previousNotAfter?: string;
  /** The rotation nonce in force at the last rotation: a different nonce rotates at once. */
  nonce: string;
}

/** The desired rotation behaviour (from stack config). */
export interface RotationPolicy {
  /** Hours the previous value stays accepted after a rotation; 0 = emergency revoke (dropped at once). */
  overlapHours: number;
  /** Changing this value rotates at once ("rotate now"). */
  nonce: string;
}

export type RotationReason =
  /** The schedule says so (age or expiry). */
  | "due"
  /** The rotation nonce changed. */
  | "nonce"
  /** The previous value's overlap has ended. */
  | "overlapEnded"
  /** overlapHours is 0 while a previous value is still accepted: drop it now. */
  | "emergency";

export interface RotationPlan {
  /** Mint a new current value (the old current becomes previous, or is dropped with overlap 0). */
  rotate: boolean;
  /** Drop the previous value without rotating. */
  dropPrevious: boolean;
  /** Why; empty when nothing is to be done. */
  reasons: RotationReason[];
}

/** `rotatedAt + days`, the scheduled rotation time of an age-based credential. */
export function dueByAge(rotatedAt: string, rotateEveryDays: number): Date {
  return new Date(Date.parse(rotatedAt) + rotateEveryDays * DAY_MS);
}

/** `validTo - days`, the scheduled rotation time of a credential that expires (a PAT). */
export function dueBeforeExpiry(validTo: string, rotateBeforeExpiryDays: number): Date {
  return new Date(Date.parse(validTo) - rotateBeforeExpiryDays * DAY_MS);
}

/**
 * Whether a stored overlap end is a date. A previous value without one fails closed: it is not
 * accepted, and the next run drops it. No release writes that shape (every rotation that keeps the
 * previous value sets its end: applyRotation; test/fixtures/state has none), so it can
 * only come from a hand-edited or damaged state, and "accepted forever" is the wrong reading of it.
 */
export function isOverlapEnd(notAfter: string | undefined): notAfter is string {
  return notAfter !== undefined && notAfter !== "" && !Number.isNaN(Date.parse(notAfter));
}

/**
 * What a run at `now` must do to a credential in `state`, given the policy and when it falls due.
 * A rotation always also settles the old previous (it is replaced), so `dropPrevious` is only set
 * when no rotation happens.
 */
export function planRotation<V>(
  state: RotationState<V>,
  policy: RotationPolicy,
  dueAt: Date,
  now: Date,
): RotationPlan {
  const reasons: RotationReason[] = [];
  if (state.nonce !== policy.nonce) reasons.push("nonce");
  if (now.getTime() >= dueAt.getTime()) reasons.push("due");
  if (reasons.length > 0) return { rotate: true, dropPrevious: false, reasons };

  if (state.previous !== undefined) {
    if (policy.overlapHours === 0) reasons.push("emergency");
    else if (!isOverlapEnd(state.previousNotAfter) || now.getTime() >= Date.parse(state.previousNotAfter))
      reasons.push("overlapEnded");
  }
  return { rotate: false, dropPrevious: reasons.length > 0, reasons };
}

/** The overlap end of a value retired at `now`; capped by the value's own expiry when it has one. */
export function overlapEnd(now: Date, overlapHours: number, expiresAt?: string): string {
  const end = now.getTime() + overlapHours * HOUR_MS;
  return new Date(expiresAt === undefined ? end : Math.min(end, Date.parse(expiresAt))).toISOString();
}

/**
 * The state after carrying out `plan`. `next` is the freshly minted value (only read when rotating).
 * With overlap 0 the old current is not kept at all: that is the emergency revoke.
 */
export function applyRotation<V>(
  state: RotationState<V>,
  plan: RotationPlan,
  policy: RotationPolicy,
  now: Date,
  next: () => V,
  previousExpiresAt?: string,
): RotationState<V> {
  if (plan.rotate) {
    const keep = policy.overlapHours > 0;
    return {
      current: next(),
      previous: keep ? state.current : undefined,
      previousNotAfter: keep ? overlapEnd(now, policy.overlapHours, previousExpiresAt) : undefined,
      rotatedAt: now.toISOString(),
      nonce: policy.nonce,
    };
  }
  if (plan.dropPrevious) return { ...state, previous: undefined, previousNotAfter: undefined };
  return state;
}

/** A fresh state for a credential created at `now`. */
export function initialState<V>(current: V, policy: RotationPolicy, now: Date): RotationState<V> {
  return { current, rotatedAt: now.toISOString(), nonce: policy.nonce };
}

/**
 * When the next run will have something to do: the scheduled rotation, or the end of the current
 * overlap if that comes first (the run that drops the previous value).
 */
export function nextActionAt<V>(state: RotationState<V>, dueAt: Date): string {
  // A previous value without a valid end is dropped by the next run (isOverlapEnd): due at once.
  const overlap =
    state.previous === undefined
      ? Infinity
      : isOverlapEnd(state.previousNotAfter)
        ? Date.parse(state.previousNotAfter)
        : 0;
  return new Date(Math.min(dueAt.getTime(), overlap)).toISOString();
}

/** Validates a rotation policy; returns a list of problems (empty when fine). */
export function policyProblems(p: { overlapHours: unknown; nonce: unknown }, periodHours?: number): string[] {
  const problems: string[] = [];
  if (typeof p.overlapHours !== "number" || !Number.isFinite(p.overlapHours) || p.overlapHours < 0)
    problems.push("overlapHours must be a number >= 0 (0 = emergency revoke)");
  else if (periodHours !== undefined && p.overlapHours >= periodHours)
    problems.push(
      `overlapHours (${p.overlapHours}) must be shorter than the rotation period (${periodHours} h), ` +
        "or a rotation would retire a value that is still in its overlap",
    );
  if (typeof p.nonce !== "string") problems.push("rotationNonce must be a string");
  return problems;
}

/** A dynamic provider's diff answer for a credential: rotation is an update in place, never a replace. */
export interface CredentialDiff {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: false;
}

/**
 * The diff of a two-slot credential: an update when the plan rotates or drops the previous value,
 * or when inputs that shape the schedule changed; a replace only of the properties in `replaces`.
 */
export function credentialDiff(
  plan: Pick<RotationPlan, "rotate" | "dropPrevious"> | undefined,
  inputsChanged: boolean,
  replaces: string[] = [],
): CredentialDiff {
  const rotates = plan !== undefined && (plan.rotate || plan.dropPrevious);
  return { changes: replaces.length > 0 || rotates || inputsChanged, replaces, deleteBeforeReplace: false };
}
