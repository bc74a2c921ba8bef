/**
 * The RotatingSecret dynamic provider: a two-slot secret (URL token or Basic password) that rotates
 * on schedule, on a nonce change, or is revoked in an emergency, as an *update* of the resource.
 *
 * `diff` reads the clock, so a plain `pulumi up` (or a preview) sees a credential that fell due even
 * though no input changed. Values are minted here, in the provider; they leave it only as outputs that
 * the resource marks secret. No value is ever put in a message or a log line.
 */
import type * as pulumi from "@pulumi/pulumi";
import { mintPassword, mintToken, sha256Hex } from "../../app/tokens";
import type { CredentialHash, UrlTokenSetting } from "../../app/settings";
import { hasUnknownInputs } from "../dynamic/unknown";
import { Clock, systemClock } from "./clock";
import {
  applyRotation,
  dueByAge,
  initialState,
  nextActionAt,
  planRotation,
  policyProblems,
  RotationPlan,
  RotationPolicy,
  RotationState,
  credentialDiff,
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

/** Outputs (Pulumi state) of a RotatingSecret. `current` and `previous` are secret. */
export interface RotatingSecretOutputs extends RotatingSecretInputs {
  current: string;
  previous?: string;
  rotatedAt: string;
  previousNotAfter?: string;
  currentSha256: string;
  previousSha256?: string;
  /**
   * Hashes of the accepted values (current, then previous with its notAfter): `SystemSetting.basicPasswords`
   * for a password, HOOKFLEET_READ_TOKENS for a read token.
   */
  hashes: CredentialHash[];
  /** The same hashes bound to the system: entries of HOOKFLEET_URL_TOKENS (empty for a password). */
  urlTokens: UrlTokenSetting[];
  /** When the next run has something to do (rotate, or drop the previous value). */
  nextRotationAt: string;
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

/** The policy and due time the inputs define for a state. */
function scheduleOf(inputs: RotatingSecretInputs, state: RotationState<string>) {
  const policy: RotationPolicy = { overlapHours: inputs.overlapHours, nonce: inputs.rotationNonce };
  return { policy, dueAt: dueByAge(state.rotatedAt, inputs.rotateEveryDays) };
}

export function stateOf(outs: RotatingSecretOutputs): RotationState<string> {
  return {
    current: outs.current,
    previous: outs.previous ?? undefined,
    rotatedAt: outs.rotatedAt,
    previousNotAfter: outs.previousNotAfter ?? undefined,
    nonce: outs.rotationNonce,
  };
}

/** The receiver-ready hashes of a state: current first, previous with its overlap end. */
export function hashesOf(state: RotationState<string>): CredentialHash[] {
  const hashes: CredentialHash[] = [{ sha256: sha256Hex(state.current) }];
  if (state.previous !== undefined)
    hashes.push({ sha256: sha256Hex(state.previous), notAfter: state.previousNotAfter });
  return hashes;
}

export function outputsOf(inputs: RotatingSecretInputs, state: RotationState<string>): RotatingSecretOutputs {
  const hashes = hashesOf(state);
  const outs: RotatingSecretOutputs = {
    ...inputs,
    current: state.current,
    rotatedAt: state.rotatedAt,
    currentSha256: hashes[0].sha256,
    hashes,
    urlTokens: inputs.kind === "urlToken" ? hashes.map((h) => ({ ...h, systemId: inputs.systemId })) : [],
    nextRotationAt: nextActionAt(state, scheduleOf(inputs, state).dueAt),
  };
  // Absent rather than undefined: keys with undefined values are not kept in state anyway.
  if (state.previous !== undefined) {
    outs.previous = state.previous;
    outs.previousSha256 = hashes[1].sha256;
    outs.previousNotAfter = state.previousNotAfter;
  }
  return outs;
}

/** What a run at `now` would do to the resource whose outputs are `olds`, with the desired `news`. */
export function planFor(olds: RotatingSecretOutputs, news: RotatingSecretInputs, now: Date): RotationPlan {
  const state = stateOf(olds);
  const { policy, dueAt } = scheduleOf(news, state);
  return planRotation(state, policy, dueAt, now);
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

const INPUT_KEYS: (keyof RotatingSecretInputs)[] = [
  "kind",
  "systemId",
  "rotateEveryDays",
  "overlapHours",
  "rotationNonce",
];

/** The provider object. Every method is self-contained so that a thin shim can call it at run time. */
export function createRotatingSecretProvider(
  deps: RotatingSecretProviderDeps = {},
): pulumi.dynamic.ResourceProvider {
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
        outs: outputsOf(inputs, state),
      };
    },

    async read(id: string, props: RotatingSecretOutputs) {
      // Nothing outside the state holds these values: the state is the truth. Due-ness is decided by diff.
      return { id, props };
    },

    async diff(_id: string, olds: RotatingSecretOutputs, news: RotatingSecretInputs) {
      if (hasUnknownInputs(news as unknown as Record<string, unknown>))
        return credentialDiff(undefined, true);
      if (olds.kind !== news.kind) return credentialDiff(undefined, true, ["kind"]);
      const inputsChanged = INPUT_KEYS.some((k) => olds[k] !== news[k]);
      return credentialDiff(planFor(olds, news, now()), inputsChanged);
    },

    async update(_id: string, olds: RotatingSecretOutputs, news: RotatingSecretInputs) {
      const at = now();
      const state = stateOf(olds);
      const { policy, dueAt } = scheduleOf(news, state);
      const plan = planRotation(state, policy, dueAt, at);
      const next = applyRotation(state, plan, policy, at, () => mintFor(news.kind));
      return { outs: outputsOf(news, next) };
    },

    async delete() {
      // The value lives only in state; consumers stop accepting it when their configuration drops it.
    },
  };
}

/** What the runtime shim loads (components/dynamic): a fresh provider on the real clock. */
export const rotatingSecretProvider = () => createRotatingSecretProvider();
