/**
 * The RotatingSecret dynamic provider: a two-slot secret (URL token, Basic password or read token)
 * that rotates on schedule or on a nonce change, as an *update* of the resource.
 *
 * What it stores changes only when a value rotates (or an emergency revoke drops the previous one):
 * the values, their SHA-256 digests, when the current one was minted, and until when the previous
 * one is accepted. The schedule (rotateEveryDays, overlapHours) is an input read by each diff, not
 * an output: changing it is a "same" step that records the new inputs and leaves the outputs as
 * they are. The end of an overlap changes nothing either: the receiver is given the previous hash
 * with its `notAfter` and stops accepting it by itself (app/credentials.ts). So a preview where
 * no value rotates shows no change for this resource, and nothing that consumes its outputs (the
 * hooks' URL and password, the receiver's hash lists) turns unknown. The engine cannot preview a
 * dynamic provider's update (the host does not support previews): every output of an updating
 * dynamic resource is unknown in a preview, which is why updates are kept for real rotations.
 *
 * `diff` reads the clock, so a plain `pulumi up` sees a credential that fell due. Values are minted
 * here; they leave only as outputs the resource marks secret, never in a message or a log line.
 *
 * PERMANENT: `rotatingSecretProvider` at this path is what HookFleet 0.1.0 state loads for refresh
 * and delete (its serialized shim names this file and export). Keep both, and keep reading the
 * 0.1.0 output shape (it also held the inputs, `hashes`, `urlTokens` and `nextRotationAt`).
 */
import type * as pulumi from "@pulumi/pulumi";
import { mintPassword, mintToken, sha256Hex } from "../../app/tokens";
import type { CredentialHash } from "../../app/settings";
import { completeProvider } from "../dynamic/complete";
import { hasUnknownInputs } from "../dynamic/unknown";
import { Clock, systemClock } from "./clock";
import {
  applyRotation,
  credentialDiff,
  dueByAge,
  initialState,
  isOverlapEnd,
  planRotation,
  policyProblems,
  RotationPlan,
  RotationPolicy,
  RotationState,
} from "./rotation";

/** `urlToken` (webhook URL), `basicPassword` (hooks' Basic auth), `readToken` (messages API bearer). */
export type SecretKind = "urlToken" | "basicPassword" | "readToken";
export const SECRET_KINDS: readonly SecretKind[] = ["urlToken", "basicPassword", "readToken"];

/** Checked inputs of a RotatingSecret. */
export interface RotatingSecretInputs {
  kind: SecretKind;
  /** The system the credential delivers to (bound into the receiver's URL-token list); "" for a read token. */
  systemId: string;
  rotateEveryDays: number;
  overlapHours: number;
  rotationNonce: string;
}

/** Outputs (Pulumi state) of a RotatingSecret: the two slots. `current` and `previous` are secret. */
export interface RotatingSecretOutputs {
  kind: SecretKind;
  /** The value consumers are given. */
  current: string;
  currentSha256: string;
  /** The value the last rotation retired, "" when none (never rotated, or dropped in an emergency). */
  previous: string;
  /** Its SHA-256, "" when none. */
  previousSha256: string;
  /** Until when the receiver accepts `previous` (ISO), "" when none. */
  previousNotAfter: string;
  /** When `current` was minted (ISO). */
  rotatedAt: string;
  /** The rotation nonce applied by the last rotation: a different one in the inputs rotates at once. */
  rotationNonce: string;
}

/** Names of the outputs that hold secret values (the resource's additionalSecretOutputs). */
export const ROTATING_SECRET_SECRET_OUTPUTS = ["current", "previous"] as const;

export interface RotatingSecretProviderDeps {
  /** Injectable clock (default: real time or HOOKFLEET_NOW). */
  now?: Clock;
}

export function mintFor(kind: SecretKind): string {
  // Read tokens use the alw_ format too: a checksum rejects typos before any lookup.
  return kind === "basicPassword" ? mintPassword() : mintToken();
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * Stored outputs of any release → today's shape, every field present. 0.1.0 stored the same
 * fields (previous* absent when none) plus inputs and derived lists, which are dropped here.
 */
export function normaliseOutputs(stored: Record<string, unknown>): RotatingSecretOutputs {
  const current = str(stored.current);
  const previous = str(stored.previous);
  return {
    kind: (SECRET_KINDS as readonly unknown[]).includes(stored.kind)
      ? (stored.kind as SecretKind)
      : "urlToken",
    current,
    currentSha256: str(stored.currentSha256) || (current ? sha256Hex(current) : ""),
    previous,
    previousSha256: previous ? str(stored.previousSha256) || sha256Hex(previous) : "",
    previousNotAfter: previous ? str(stored.previousNotAfter) : "",
    rotatedAt: str(stored.rotatedAt),
    rotationNonce: str(stored.rotationNonce),
  };
}

export function stateOf(outs: RotatingSecretOutputs): RotationState<string> {
  return {
    current: outs.current,
    previous: outs.previous || undefined,
    rotatedAt: outs.rotatedAt,
    previousNotAfter: outs.previousNotAfter || undefined,
    nonce: outs.rotationNonce,
  };
}

export function outputsOf(kind: SecretKind, state: RotationState<string>): RotatingSecretOutputs {
  const previous = state.previous ?? "";
  return {
    kind,
    current: state.current,
    currentSha256: sha256Hex(state.current),
    previous,
    previousSha256: previous ? sha256Hex(previous) : "",
    previousNotAfter: previous ? (state.previousNotAfter ?? "") : "",
    rotatedAt: state.rotatedAt,
    rotationNonce: state.nonce,
  };
}

/**
 * The hashes a receiver accepts for a secret (`SystemSetting.basicPasswords`, HOOKFLEET_READ_TOKENS):
 * the current one, then the previous one with its `notAfter`, unless `overlapHours` is 0
 * (emergency revoke: the previous value is refused at once) or it has no valid `notAfter`
 * (isOverlapEnd). An expired previous hash stays listed until the next rotation replaces it: the
 * receiver ignores it after `notAfter`, and the list (so the receiver's revision) does not change
 * when an overlap ends.
 */
export function acceptedHashes(
  outs: Pick<RotatingSecretOutputs, "currentSha256" | "previousSha256" | "previousNotAfter">,
  overlapHours: number,
): CredentialHash[] {
  const hashes: CredentialHash[] = [{ sha256: outs.currentSha256 }];
  if (outs.previousSha256 && overlapHours !== 0 && isOverlapEnd(outs.previousNotAfter))
    hashes.push({ sha256: outs.previousSha256, notAfter: outs.previousNotAfter });
  return hashes;
}

/** When the schedule next rotates the secret (ISO). */
export function nextRotationAt(rotatedAt: string, rotateEveryDays: number): string {
  const t = Date.parse(rotatedAt);
  return Number.isNaN(t) ? "" : dueByAge(rotatedAt, rotateEveryDays).toISOString();
}

/** The policy and due time the inputs define for a state. */
function scheduleOf(inputs: RotatingSecretInputs, state: RotationState<string>) {
  const policy: RotationPolicy = { overlapHours: inputs.overlapHours, nonce: inputs.rotationNonce };
  return { policy, dueAt: dueByAge(state.rotatedAt, inputs.rotateEveryDays) };
}

/**
 * What a run at `now` must do: rotate (due, or a new nonce), drop a previous value that is still
 * accepted when overlapHours became 0 (emergency revoke), or drop a previous value that has no
 * valid end (isOverlapEnd: fail closed). The end of an overlap is not a change.
 */
export function planFor(olds: RotatingSecretOutputs, news: RotatingSecretInputs, now: Date): RotationPlan {
  const state = stateOf(olds);
  const { policy, dueAt } = scheduleOf(news, state);
  const plan = planRotation(state, policy, dueAt, now);
  if (plan.rotate) return plan;
  if (state.previous !== undefined && !isOverlapEnd(state.previousNotAfter))
    return { rotate: false, dropPrevious: true, reasons: ["overlapEnded"] };
  const stillAccepted =
    state.previous !== undefined &&
    isOverlapEnd(state.previousNotAfter) &&
    now.getTime() < Date.parse(state.previousNotAfter);
  if (plan.reasons.includes("emergency") && stillAccepted)
    return { rotate: false, dropPrevious: true, reasons: ["emergency"] };
  return { rotate: false, dropPrevious: false, reasons: [] };
}

/** Validates and normalises raw inputs; problems are reported without echoing any value that could be secret. */
export function checkRotatingSecretInputs(news: Record<string, unknown>): {
  inputs?: RotatingSecretInputs;
  failures: { property: string; reason: string }[];
} {
  const failures: { property: string; reason: string }[] = [];
  const kind = news.kind as SecretKind;
  if (!SECRET_KINDS.includes(kind))
    failures.push({ property: "kind", reason: `kind must be one of ${SECRET_KINDS.join(", ")}` });
  // A URL token is bound to its system; a password or read token need not name one.
  const systemId = news.systemId ?? (kind === "urlToken" ? undefined : "");
  if (
    typeof systemId !== "string" ||
    !/^[A-Za-z0-9_.-]{0,64}$/.test(systemId) ||
    (kind === "urlToken" && !systemId)
  )
    failures.push({ property: "systemId", reason: "systemId must be 1-64 characters of A-Z a-z 0-9 _ . -" });
  const rotateEveryDays = news.rotateEveryDays ?? 30;
  if (typeof rotateEveryDays !== "number" || !Number.isFinite(rotateEveryDays) || rotateEveryDays <= 0)
    failures.push({ property: "rotateEveryDays", reason: "rotateEveryDays must be a number > 0" });
  const overlapHours = news.overlapHours ?? 24;
  const rotationNonce = news.rotationNonce ?? "";
  const periodHours = typeof rotateEveryDays === "number" ? rotateEveryDays * 24 : undefined;
  for (const reason of policyProblems({ overlapHours, nonce: rotationNonce }, periodHours))
    failures.push({
      property: reason.startsWith("rotationNonce") ? "rotationNonce" : "overlapHours",
      reason,
    });
  if (failures.length > 0) return { failures };
  return {
    failures,
    inputs: {
      kind,
      systemId: systemId as string,
      rotateEveryDays: rotateEveryDays as number,
      overlapHours: overlapHours as number,
      rotationNonce: rotationNonce as string,
    },
  };
}

/** The provider object. Every method is self-contained and every result total. */
export function createRotatingSecretProvider(
  deps: RotatingSecretProviderDeps = {},
): Required<
  Pick<pulumi.dynamic.ResourceProvider, "check" | "create" | "read" | "diff" | "update" | "delete">
> {
  const now = deps.now ?? systemClock;
  return {
    async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
      // Preview with inputs not known yet: validated when the real run has them.
      if (hasUnknownInputs(news)) return { inputs: news, failures: [] };
      const { inputs, failures } = checkRotatingSecretInputs(news);
      return { inputs: inputs ?? news, failures };
    },

    async create(inputs: RotatingSecretInputs) {
      const at = now();
      const state = initialState(
        mintFor(inputs.kind),
        { overlapHours: inputs.overlapHours, nonce: inputs.rotationNonce },
        at,
      );
      // The id names the slot, not the value: it never changes on rotation.
      return {
        id: `${inputs.systemId}-${inputs.kind}-${at.getTime().toString(36)}`,
        outs: outputsOf(inputs.kind, state),
      };
    },

    async read(id: string, props: Record<string, unknown>) {
      // Nothing outside the state holds these values: the state is the truth, in today's shape.
      return { id, props: normaliseOutputs(props) };
    },

    async diff(_id: string, olds: Record<string, unknown>, news: RotatingSecretInputs) {
      if (hasUnknownInputs(news as unknown as Record<string, unknown>))
        return credentialDiff(undefined, true);
      const stored = normaliseOutputs(olds);
      if (stored.kind !== news.kind) return credentialDiff(undefined, true, ["kind"]);
      // Schedule-only input changes are not changes: the next diff reads them from the inputs.
      return credentialDiff(planFor(stored, news, now()), false);
    },

    async update(_id: string, olds: Record<string, unknown>, news: RotatingSecretInputs) {
      const at = now();
      const stored = normaliseOutputs(olds);
      const state = stateOf(stored);
      const plan = planFor(stored, news, at);
      const policy: RotationPolicy = { overlapHours: news.overlapHours, nonce: news.rotationNonce };
      const next = applyRotation(state, plan, policy, at, () => mintFor(news.kind));
      return { outs: outputsOf(news.kind, next) };
    },

    async delete() {
      // The value lives only in state; consumers stop accepting it when their configuration drops it.
    },
  };
}

/**
 * What the host runs: a fresh provider on the real clock (HOOKFLEET_NOW may pin it). A factory, as
 * 0.1.0's shim expects (it calls a function export). Permanent export: see above.
 */
export const rotatingSecretProvider = (): pulumi.dynamic.ResourceProvider =>
  completeProvider(createRotatingSecretProvider());
