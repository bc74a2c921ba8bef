/**
 * The AdoPat dynamic provider: an organization-scoped Azure DevOps PAT managed over the PAT lifecycle
 * API, rotated before it expires with the same two-slot overlap as RotatingSecret (create new, hand it
 * to consumers, revoke the old one when the overlap ends: ADO has no "regenerate").
 *
 * The PAT API accepts only a Microsoft Entra *user* token. It is read from the environment at run time
 * (HOOKFLEET_ADO_USER_TOKEN), never captured in the serialized provider. A CI run (service principal)
 * has none: refresh and diff then work from state, and a rotation that falls due is not an error: the
 * run keeps the current PAT, and the resource's `warnings` output (computed by the program from the
 * stored schedule, patWarnings) names the command security runs.
 *
 * ADO has no "regenerate" and creating a PAT is not idempotent, so a PAT once created is never lost from
 * state: when revoking a replaced PAT fails after its successor was created, the run still records the
 * successor and lists the replaced PAT in `pendingRevocations`, which the next run retries.
 *
 * PERMANENT: `adoPatProvider` at this path is what HookFleet 0.1.0 state loads for refresh and delete
 * (its serialized shim names this file and export). Keep both, and keep reading what 0.1.0 stored.
 */
import * as pulumi from "@pulumi/pulumi";
import { scrubText } from "../../app/scrub";
import type { AdoPatApi, PatToken } from "../../ado/types";
import { isAdoError } from "../../ado/errors";
import { createPatApi } from "./ado-pat-client";
import { completeProvider } from "../dynamic/complete";
import { orgIdentity, normaliseOrgUrl } from "../hooks/org-url";
import { hasUnknownInputs } from "../dynamic/unknown";
import { Clock, systemClock } from "./clock";
import {
  applyRotation,
  dueBeforeExpiry,
  initialState,
  nextActionAt,
  planRotation,
  policyProblems,
  RotationPlan,
  RotationPolicy,
  RotationState,
  credentialDiff,
} from "./rotation";

/** Environment variable holding a Microsoft Entra user access token for Azure DevOps (audience 499b84ac-…). */
export const USER_TOKEN_ENV = "HOOKFLEET_ADO_USER_TOKEN";
const DAY_MS = 86_400_000;
/** ADO's hard ceiling; organizations may set a lower one (patLifespanPolicyViolation). */
export const MAX_PAT_VALIDITY_DAYS = 365;
/** Scopes that grant everything: never requested (least privilege; orgs often forbid them anyway). */
export const FULL_SCOPES: readonly string[] = ["app_token", "vso.full"];

export interface AdoPatInputs {
  /** Organization URL, e.g. https://dev.azure.com/contoso. */
  organizationUrl: string;
  /** PAT lifecycle API base (default https://vssps.dev.azure.com/{org}); the emulator's in tests. */
  vsspsUrl: string;
  displayName: string;
  /** Least scopes, e.g. ["vso.hooks_write", "vso.project"]. */
  scopes: string[];
  validityDays: number;
  rotateBeforeExpiryDays: number;
  overlapHours: number;
  rotationNonce: string;
  /** Stack name, only to name the rotate command in warnings. */
  stack: string;
}

/** One PAT as kept in state. */
export interface PatSlot {
  authorizationId: string;
  token: string;
  validTo: string;
}

/**
 * A PAT this resource replaced whose revocation failed (it still works until revoked or expired). The
 * token itself is not kept: revoking needs only the authorization id.
 */
export interface PendingRevocation {
  authorizationId: string;
  validTo: string;
}

export interface AdoPatOutputs extends AdoPatInputs {
  /** Secret: the PAT itself, for Key Vault. */
  token: string;
  authorizationId: string;
  validTo: string;
  /** Space-separated scopes of the current PAT as created. */
  scope: string;
  rotatedAt: string;
  /** Secret: the previous PAT during the overlap; "" when none (and so are the three below). */
  previousToken: string;
  previousAuthorizationId: string;
  previousValidTo: string;
  previousNotAfter: string;
  nextRotationAt: string;
  /**
   * Replaced PATs not revoked yet (the revoke call failed); the next run with a user token retries
   * them. [] when none, and for state written before this field existed.
   */
  pendingRevocations: PendingRevocation[];
  /**
   * Entra object id (`oid`) of the user who created the current PAT: only they can list, rotate and
   * revoke it through the PAT API. "" when unknown (state before this field, a token without `oid`).
   */
  ownerId: string;
}

export const ADO_PAT_SECRET_OUTPUTS = ["token", "previousToken"] as const;

export interface AdoPatProviderDeps {
  now?: Clock;
  /**
   * Where deferral notices are echoed (default pulumi.log.warn: the host's stderr). What a user must
   * act on is in the resource's `warnings` output (patWarnings), not only here.
   */
  warn?: (message: string) => void;
  /** Builds the PAT API client for a user token (default: the AdoClient of ado/client.ts). */
  patApi?: (inputs: AdoPatInputs, userToken: string) => Promise<AdoPatApi>;
  /** Reads the user token (default: HOOKFLEET_ADO_USER_TOKEN). */
  userToken?: () => string | undefined;
}

/** https://dev.azure.com/contoso or https://contoso.visualstudio.com → https://vssps.dev.azure.com/contoso. */
export function defaultVsspsUrl(organizationUrl: string): string {
  const u = new URL(organizationUrl);
  const org = u.hostname.endsWith(".visualstudio.com")
    ? u.hostname.split(".")[0]
    : u.pathname.split("/").filter(Boolean)[0];
  if (!org) throw new Error(`cannot tell the organization from ${organizationUrl}`);
  return `https://vssps.dev.azure.com/${org}`;
}

export function rotateCommand(stack: string): string {
  return `npm run rotate -- --stack ${stack} --credential pat`;
}

/** Inputs with defaults, and the problems found (no secrets are involved in PAT inputs). */
export function checkAdoPatInputs(news: Record<string, unknown>): {
  inputs?: AdoPatInputs;
  failures: { property: string; reason: string }[];
} {
  const failures: { property: string; reason: string }[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  let vsspsUrl = typeof news.vsspsUrl === "string" ? news.vsspsUrl.replace(/\/+$/, "") : news.vsspsUrl;
  // One spelling per organization (case, trailing slash, legacy host): see components/hooks/org-url.ts.
  const organizationUrl =
    typeof news.organizationUrl === "string" ? normaliseOrgUrl(news.organizationUrl) : undefined;
  if (organizationUrl === undefined)
    fail(
      "organizationUrl",
      "organizationUrl must be an organization URL such as https://dev.azure.com/contoso",
    );
  else if (vsspsUrl === undefined || vsspsUrl === "") {
    try {
      vsspsUrl = defaultVsspsUrl(organizationUrl);
    } catch (e) {
      fail("organizationUrl", (e as Error).message);
    }
  }
  if (typeof news.displayName !== "string" || news.displayName.trim() === "")
    fail("displayName", "displayName is required");
  const scopes = news.scopes;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === "string" && s !== "")
  )
    fail("scopes", "scopes must list at least one scope, e.g. vso.hooks_write");
  else if (scopes.some((s) => FULL_SCOPES.includes(s)))
    fail("scopes", "full-access scopes are not allowed: list the least scopes the PAT needs");
  const validityDays = news.validityDays ?? 90;
  const rotateBeforeExpiryDays = news.rotateBeforeExpiryDays ?? 14;
  if (
    typeof validityDays !== "number" ||
    !Number.isInteger(validityDays) ||
    validityDays < 1 ||
    validityDays > MAX_PAT_VALIDITY_DAYS
  )
    fail("validityDays", `validityDays must be a whole number from 1 to ${MAX_PAT_VALIDITY_DAYS}`);
  else if (
    typeof rotateBeforeExpiryDays !== "number" ||
    rotateBeforeExpiryDays < 0 ||
    rotateBeforeExpiryDays >= validityDays
  )
    fail("rotateBeforeExpiryDays", "rotateBeforeExpiryDays must be >= 0 and less than validityDays");
  const overlapHours = news.overlapHours ?? 24;
  const rotationNonce = news.rotationNonce ?? "";
  // A PAT is rotated rotateBeforeExpiryDays before it expires, so scheduled rotations come every
  // (validityDays - rotateBeforeExpiryDays) days: an overlap as long would be cut short by the next one,
  // which revokes the previous PAT. (The overlap is also cut at the previous PAT's expiry: overlapEnd.)
  const periodHours =
    typeof validityDays === "number" && typeof rotateBeforeExpiryDays === "number"
      ? (validityDays - rotateBeforeExpiryDays) * 24
      : undefined;
  for (const reason of policyProblems({ overlapHours, nonce: rotationNonce }, periodHours))
    fail(reason.startsWith("rotationNonce") ? "rotationNonce" : "overlapHours", reason);
  if (failures.length > 0) return { failures };
  return {
    failures,
    inputs: {
      organizationUrl: organizationUrl as string,
      vsspsUrl: vsspsUrl as string,
      displayName: news.displayName as string,
      scopes: [...(scopes as string[])],
      validityDays: validityDays as number,
      rotateBeforeExpiryDays: rotateBeforeExpiryDays as number,
      overlapHours: overlapHours as number,
      rotationNonce: rotationNonce as string,
      stack: typeof news.stack === "string" ? news.stack : "<env>",
    },
  };
}

export function scopeString(scopes: string[]): string {
  return [...new Set(scopes)].sort().join(" ");
}

/** A slot as a revocation to make: only its id and expiry (the token is not needed to revoke). */
function pendingOf(slot: PatSlot): PendingRevocation {
  return { authorizationId: slot.authorizationId, validTo: slot.validTo };
}

function slotOf(pat: PatToken): PatSlot {
  if (!pat.token) throw new Error(`ADO created PAT ${pat.authorizationId} but returned no token value`);
  return { authorizationId: pat.authorizationId, token: pat.token, validTo: pat.validTo };
}

export function patStateOf(outs: AdoPatOutputs): RotationState<PatSlot> {
  return {
    current: { authorizationId: outs.authorizationId, token: outs.token, validTo: outs.validTo },
    previous:
      outs.previousAuthorizationId && outs.previousToken && outs.previousValidTo
        ? {
            authorizationId: outs.previousAuthorizationId,
            token: outs.previousToken,
            validTo: outs.previousValidTo,
          }
        : undefined,
    rotatedAt: outs.rotatedAt,
    previousNotAfter: outs.previousNotAfter || undefined,
    nonce: outs.rotationNonce,
  };
}

const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const num = (v: unknown, fallback: number): number =>
  typeof v === "number" && Number.isFinite(v) ? v : fallback;

/**
 * Stored outputs of any release → today's shape, every field present (0.1.0 left the previous*
 * fields out when there was no previous PAT). The inputs part gets the defaults check gives them.
 */
export function normalisePatOutputs(stored: Record<string, unknown>): AdoPatOutputs {
  const previousAuthorizationId = str(stored.previousAuthorizationId);
  return {
    organizationUrl: str(stored.organizationUrl),
    vsspsUrl: str(stored.vsspsUrl),
    displayName: str(stored.displayName),
    scopes: Array.isArray(stored.scopes)
      ? stored.scopes.filter((x): x is string => typeof x === "string")
      : [],
    validityDays: num(stored.validityDays, 90),
    rotateBeforeExpiryDays: num(stored.rotateBeforeExpiryDays, 14),
    overlapHours: num(stored.overlapHours, 24),
    rotationNonce: str(stored.rotationNonce),
    stack: str(stored.stack, "<env>"),
    token: str(stored.token),
    authorizationId: str(stored.authorizationId),
    validTo: str(stored.validTo),
    scope: str(stored.scope),
    rotatedAt: str(stored.rotatedAt),
    previousToken: previousAuthorizationId ? str(stored.previousToken) : "",
    previousAuthorizationId,
    previousValidTo: previousAuthorizationId ? str(stored.previousValidTo) : "",
    previousNotAfter: previousAuthorizationId ? str(stored.previousNotAfter) : "",
    nextRotationAt: str(stored.nextRotationAt),
    ownerId: str(stored.ownerId),
    pendingRevocations: pendingRevocationsOf(stored.pendingRevocations),
  };
}

/** Stored `pendingRevocations` → a list of well-formed entries ([] when absent: state before the field). */
function pendingRevocationsOf(stored: unknown): PendingRevocation[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((p: unknown) => {
    const entry = (typeof p === "object" && p !== null ? p : {}) as Record<string, unknown>;
    const authorizationId = str(entry.authorizationId);
    return authorizationId ? [{ authorizationId, validTo: str(entry.validTo) }] : [];
  });
}

/** The entries that can still be used at `at` (an expired PAT needs no revoking; an unreadable date is kept). */
export function unexpired(pending: PendingRevocation[], at: Date): PendingRevocation[] {
  return pending.filter((p) => !(Date.parse(p.validTo) <= at.getTime()));
}

/**
 * What a user must act on for a PAT in this state at `now`: a rotation that is due, or was asked for
 * with a new rotation nonce, but was not made (no Microsoft Entra user token in the run), a previous
 * PAT past its overlap but not revoked, a replaced PAT whose revocation failed. The program computes it
 * from the stored outputs and the requested nonce (its input), so it shows in stack outputs however
 * the run went.
 */
export function patWarnings(
  outs: Pick<
    AdoPatOutputs,
    | "displayName"
    | "stack"
    | "validTo"
    | "nextRotationAt"
    | "previousAuthorizationId"
    | "previousNotAfter"
    | "previousValidTo"
    | "rotationNonce"
    | "pendingRevocations"
  > & {
    /** The rotation nonce the stack config asks for; `rotationNonce` is the one the PAT has applied. */
    requestedNonce: string;
  },
  now: Date,
): string[] {
  const warnings: string[] = [];
  const t = now.getTime();
  const name = `AdoPat "${outs.displayName}"`;
  const how = `a run with a Microsoft Entra user token in ${USER_TOKEN_ENV} does it: ${rotateCommand(outs.stack)}`;
  if (outs.validTo && t >= Date.parse(outs.validTo)) {
    warnings.push(`${name}: the PAT expired at ${outs.validTo}; ${how}`);
  } else if (outs.requestedNonce !== outs.rotationNonce) {
    // The provider applies a new nonce in the run that sees it, unless the run has no user token.
    warnings.push(
      `${name}: the rotation requested with rotationNonce "${outs.requestedNonce}" was not made ` +
        `(no Microsoft Entra user token in ${USER_TOKEN_ENV}); the current PAT stays valid until ${outs.validTo}; ${how}`,
    );
  } else if (outs.nextRotationAt && t >= Date.parse(outs.nextRotationAt)) {
    warnings.push(
      `${name}: rotation is due since ${outs.nextRotationAt} and was not made; ` +
        `the current PAT stays valid until ${outs.validTo}; ${how}`,
    );
  }
  if (outs.previousAuthorizationId && outs.previousNotAfter && t >= Date.parse(outs.previousNotAfter)) {
    warnings.push(
      `${name}: the previous PAT ${outs.previousAuthorizationId} is past its overlap ` +
        `(${outs.previousNotAfter}) but not revoked; it stays valid until ${outs.previousValidTo}; ${how}`,
    );
  }
  for (const p of unexpired(outs.pendingRevocations, now))
    warnings.push(pendingRevocationWarning(outs.displayName, outs.stack, p));
  return warnings;
}

/** One replaced PAT still to revoke: what it means and what retries it. */
function pendingRevocationWarning(displayName: string, stack: string, p: PendingRevocation): string {
  return (
    `AdoPat "${displayName}": the replaced PAT ${p.authorizationId} could not be revoked and stays valid ` +
    `until ${p.validTo}; the next run with a Microsoft Entra user token in ${USER_TOKEN_ENV} retries it ` +
    `(npm run up -- --stack ${stack}), or revoke it by hand in Azure DevOps`
  );
}

/** Outputs of a state. `rotationNonce` is the nonce *applied*, so a pending nonce keeps showing as a change. */
export function patOutputsOf(
  inputs: AdoPatInputs,
  state: RotationState<PatSlot>,
  scope: string,
  pendingRevocations: PendingRevocation[],
  ownerId: string,
): AdoPatOutputs {
  const outs: AdoPatOutputs = {
    ...inputs,
    ownerId,
    pendingRevocations: pendingRevocations.map((p) => ({
      authorizationId: p.authorizationId,
      validTo: p.validTo,
    })),
    rotationNonce: state.nonce,
    previousToken: "",
    previousAuthorizationId: "",
    previousValidTo: "",
    previousNotAfter: "",
    token: state.current.token,
    authorizationId: state.current.authorizationId,
    validTo: state.current.validTo,
    scope,
    rotatedAt: state.rotatedAt,
    nextRotationAt: nextActionAt(
      state,
      dueBeforeExpiry(state.current.validTo, inputs.rotateBeforeExpiryDays),
    ),
  };
  if (state.previous) {
    outs.previousToken = state.previous.token;
    outs.previousAuthorizationId = state.previous.authorizationId;
    outs.previousValidTo = state.previous.validTo;
    outs.previousNotAfter = state.previousNotAfter ?? "";
  }
  return outs;
}

/** What a run at `now` must do; a change of scopes or name needs a new PAT, so it rotates too. */
export function planPat(olds: AdoPatOutputs, news: AdoPatInputs, now: Date): RotationPlan {
  const state = patStateOf(olds);
  const policy: RotationPolicy = { overlapHours: news.overlapHours, nonce: news.rotationNonce };
  const plan = planRotation(state, policy, dueBeforeExpiry(olds.validTo, news.rotateBeforeExpiryDays), now);
  if (!plan.rotate && (olds.scope !== scopeString(news.scopes) || olds.displayName !== news.displayName))
    return { rotate: true, dropPrevious: false, reasons: ["nonce"] };
  return plan;
}

const POLICY_HINTS: Record<string, string> = {
  patlifespanpolicyviolation:
    "the organization's maximum PAT lifespan is shorter than validityDays: lower validityDays (and rotateBeforeExpiryDays)",
  globalpatpolicyviolation:
    "the organization forbids all-organization PATs; HookFleet only asks for org-scoped ones, so check the vssps URL and organization",
  fullscopepatpolicyviolation: "the organization forbids full-scope PATs: list only the scopes needed",
};

/** A clear error for a refused PAT request: what ADO said, and what to change. Never includes a token. */
export function explainPatError(err: unknown, action: string, inputs: AdoPatInputs): Error {
  if (isAdoError(err) && err.kind === "patPolicy") {
    const key = (err.typeKey ?? "").toLowerCase();
    const code = Object.keys(POLICY_HINTS).find(
      (k) => key.includes(k) || (err.message ?? "").toLowerCase().includes(k),
    );
    const hint = code ? POLICY_HINTS[code] : "an organization PAT policy refused it";
    return new Error(
      `AdoPat "${inputs.displayName}": ADO refused to ${action}: ${err.typeKey ?? "policy violation"}: ${hint} ` +
        `(validityDays=${inputs.validityDays}, scopes=${scopeString(inputs.scopes)}). ADO said: ${err.adoMessage ?? err.message}`,
      { cause: err },
    );
  }
  if (isAdoError(err) && err.kind === "patNeedsUserToken")
    return new Error(
      `AdoPat "${inputs.displayName}": the PAT API needs a Microsoft Entra *user* token in ${USER_TOKEN_ENV} ` +
        `(a PAT, service principal or managed identity cannot ${action}). Security runs: ${rotateCommand(inputs.stack)}`,
      { cause: err },
    );
  return err instanceof Error ? err : new Error(String(err));
}

/** The run's token is not a user token (e.g. a service principal's put in the variable by mistake). */
export function needsUserToken(err: unknown): boolean {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  return isAdoError(cause) && cause.kind === "patNeedsUserToken";
}

/**
 * The Entra object id (`oid` claim) of a *user* access token, read without verifying it (ADO does
 * that): "the immutable identifier for the requestor" (Microsoft identity platform, "Access token
 * claims reference"). A user token carries `scp`, which that page says is "only included for user
 * tokens"; an app-only token (a CI service principal) gives "", as does a token that is not a JWT or
 * has no `oid`: the page says not to depend on a claim being present, so an unknown owner never
 * blocks a run.
 */
export function tokenOwner(userToken: string): string {
  try {
    const payload = JSON.parse(Buffer.from(userToken.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      oid?: unknown;
      scp?: unknown;
    };
    return typeof payload.oid === "string" && typeof payload.scp === "string" ? payload.oid : "";
  } catch {
    return "";
  }
}

async function defaultPatApi(inputs: AdoPatInputs, userToken: string): Promise<AdoPatApi> {
  return createPatApi(inputs, userToken);
}

export function createAdoPatProvider(deps: AdoPatProviderDeps = {}): pulumi.dynamic.ResourceProvider {
  const now = deps.now ?? systemClock;
  const warn = deps.warn ?? ((m: string) => void pulumi.log.warn(m));
  const userToken = deps.userToken ?? (() => process.env[USER_TOKEN_ENV] || undefined);
  const makeApi = deps.patApi ?? defaultPatApi;

  async function api(inputs: AdoPatInputs): Promise<AdoPatApi | undefined> {
    const token = userToken();
    if (!token) return undefined;
    // Every release stored both; without them there is no PAT API to ask.
    if (!inputs.organizationUrl || !inputs.vsspsUrl)
      throw new Error(
        `AdoPat "${inputs.displayName}": state has no organizationUrl/vsspsUrl, so the PAT cannot be managed`,
      );
    return makeApi(inputs, token);
  }

  /** The run's user token, when it is known to belong to another user than the PAT's owner. */
  function otherUser(ownerId: string): string | undefined {
    const token = userToken();
    const caller = token ? tokenOwner(token) : "";
    return ownerId && caller && caller !== ownerId ? caller : undefined;
  }

  /** Why a run as another user leaves the PAT alone (tokens.json: PATs are the requesting user's). */
  function notOwnerNote(displayName: string, ownerId: string): string {
    return (
      `AdoPat "${displayName}": this run's Microsoft Entra user is not the one who created the PAT ` +
      `(object id ${ownerId}), and the PAT API shows and manages each user's own PATs only; so this run ` +
      `leaves it as it is. Run as that user, or revoke the PAT by hand and remove the resource from state`
    );
  }

  async function mint(a: AdoPatApi, inputs: AdoPatInputs, at: Date): Promise<PatSlot> {
    try {
      const validTo = new Date(at.getTime() + inputs.validityDays * DAY_MS).toISOString();
      return slotOf(
        await a.createPat({ displayName: inputs.displayName, scope: scopeString(inputs.scopes), validTo }),
      );
    } catch (e) {
      throw explainPatError(e, "create a PAT", inputs);
    }
  }

  async function revoke(a: AdoPatApi, inputs: AdoPatInputs, slot: PendingRevocation): Promise<void> {
    try {
      await a.revokePat(slot.authorizationId); // false = already gone, which is what we want
    } catch (e) {
      throw explainPatError(e, `revoke PAT ${slot.authorizationId}`, inputs);
    }
  }

  /**
   * Revokes each PAT, after its successor is safely in hand: a failure does not fail the run (that
   * would lose the successor from state), it is warned about and returned, to be kept in state as
   * pending and retried by the next run.
   */
  async function revokeOrKeep(
    a: AdoPatApi,
    inputs: AdoPatInputs,
    retired: PendingRevocation[],
  ): Promise<PendingRevocation[]> {
    const failed: PendingRevocation[] = [];
    for (const p of retired) {
      try {
        await revoke(a, inputs, p);
      } catch (e) {
        failed.push(p);
        const why = scrubText((e as Error).message);
        warn(`${pendingRevocationWarning(inputs.displayName, inputs.stack, p)}. Revoking it failed: ${why}`);
      }
    }
    return failed;
  }

  /** Warns that a run without a user token leaves work undone (it keeps the state as it is). */
  function deferred(
    inputs: AdoPatInputs,
    plan: RotationPlan,
    state: RotationState<PatSlot>,
    pending: PendingRevocation[],
  ): void {
    const what: string[] = [];
    if (plan.rotate && state.nonce !== inputs.rotationNonce)
      what.push(
        `the rotation requested with rotationNonce "${inputs.rotationNonce}" is not made; the current PAT stays in place, valid until ${state.current.validTo}`,
      );
    else if (plan.rotate)
      what.push(
        `rotation is due (${plan.reasons.join(", ")}); the current PAT stays in place, valid until ${state.current.validTo}`,
      );
    else if (plan.dropPrevious)
      what.push(
        `the previous PAT's overlap has ended but it cannot be revoked; it stays valid until ${state.previous?.validTo}`,
      );
    if (pending.length > 0)
      what.push(
        `the replaced PAT(s) ${pending.map((p) => p.authorizationId).join(", ")} still to revoke cannot be revoked`,
      );
    warn(
      `AdoPat "${inputs.displayName}": ${what.join("; ")}. This run has no Microsoft Entra user token in ${USER_TOKEN_ENV}, ` +
        `which the PAT API requires. Security rotates it with: ${rotateCommand(inputs.stack)}`,
    );
  }

  return {
    async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
      // Preview with inputs not known yet: validated when the real run has them.
      if (hasUnknownInputs(news)) return { inputs: news, failures: [] };
      const { inputs, failures } = checkAdoPatInputs(news);
      return { inputs: inputs ?? news, failures };
    },

    async create(inputs: AdoPatInputs) {
      const a = await api(inputs);
      if (!a)
        throw new Error(
          `AdoPat "${inputs.displayName}": creating a PAT needs a Microsoft Entra user token in ${USER_TOKEN_ENV}; ` +
            `a CI service principal cannot create PATs. Security runs: ${rotateCommand(inputs.stack)}`,
        );
      const at = now();
      const slot = await mint(a, inputs, at);
      const state = initialState(
        slot,
        { overlapHours: inputs.overlapHours, nonce: inputs.rotationNonce },
        at,
      );
      return {
        id: `pat-${at.getTime().toString(36)}`,
        outs: patOutputsOf(inputs, state, scopeString(inputs.scopes), [], tokenOwner(userToken() ?? "")),
      };
    },

    async read(id: string, stored: Record<string, unknown>) {
      const props = normalisePatOutputs(stored);
      // Another user's list would not hold it: dropping it would leave a live PAT nobody tracks.
      if (otherUser(props.ownerId)) {
        warn(notOwnerNote(props.displayName, props.ownerId));
        return { id, props };
      }
      const a = await api(props);
      if (!a) return { id, props }; // cannot look without a user token: trust state (diff still sees expiry)
      const at = now();
      // The active list (not GET by id): a revoked PAT may still be returned by id, but it is never
      // listed as active, nor is an expired one.
      let active: PatToken[];
      try {
        active = await a.listPats();
      } catch (e) {
        if (needsUserToken(e)) return { id, props }; // same as no user token: trust state
        throw explainPatError(e, "list PATs", props);
      }
      const alive = (authorizationId: string) =>
        active.find((p) => p.authorizationId === authorizationId && Date.parse(p.validTo) > at.getTime());
      const live = alive(props.authorizationId);
      // Replaced PATs no longer active (revoked by hand, expired) need no revoking any more.
      const pending = props.pendingRevocations.filter((p) => alive(p.authorizationId));
      if (!live) {
        // Gone, revoked or expired → the next up creates a new one; state forgets this resource.
        if (pending.length > 0)
          warn(
            `AdoPat "${props.displayName}": the PAT is gone, and with it the record of replaced PAT(s) still to ` +
              `revoke: revoke ${pending.map((p) => p.authorizationId).join(", ")} by hand in Azure DevOps`,
          );
        return { id: "", props: {} };
      }
      const state = patStateOf(props);
      if (state.previous && !alive(state.previous.authorizationId)) {
        state.previous = undefined;
        state.previousNotAfter = undefined;
      }
      return {
        id,
        props: patOutputsOf(
          props,
          { ...state, current: { ...state.current, validTo: live.validTo } },
          props.scope,
          pending,
          props.ownerId,
        ),
      };
    },

    async diff(_id: string, stored: Record<string, unknown>, news: AdoPatInputs) {
      if (hasUnknownInputs(news as unknown as Record<string, unknown>))
        return credentialDiff(undefined, true);
      const olds = normalisePatOutputs(stored);
      // The organization by identity: another spelling of the same org is no change.
      if (
        orgIdentity(olds.organizationUrl) !== orgIdentity(news.organizationUrl) ||
        olds.vsspsUrl.replace(/\/+$/, "") !== news.vsspsUrl
      )
        return credentialDiff(undefined, true, ["organizationUrl"]);
      const at = now();
      const plan = planPat(olds, news, at);
      // A revocation that failed in an earlier run is retried by an update.
      const pending = unexpired(olds.pendingRevocations, at);
      // Inputs that only shape the *next* PAT or the schedule: recorded without a new PAT.
      const inputsChanged =
        olds.validityDays !== news.validityDays ||
        olds.rotateBeforeExpiryDays !== news.rotateBeforeExpiryDays ||
        olds.overlapHours !== news.overlapHours ||
        olds.stack !== news.stack;
      const work = plan.rotate || plan.dropPrevious || pending.length > 0;
      if (work && otherUser(olds.ownerId)) {
        warn(notOwnerNote(news.displayName, olds.ownerId));
        return credentialDiff(undefined, inputsChanged);
      }
      if (work && !userToken()) {
        deferred(news, plan, patStateOf(olds), pending);
        return credentialDiff(undefined, inputsChanged);
      }
      return credentialDiff(plan, inputsChanged || pending.length > 0);
    },

    async update(_id: string, stored: Record<string, unknown>, news: AdoPatInputs) {
      const olds = normalisePatOutputs(stored);
      const at = now();
      const state = patStateOf(olds);
      const plan = planPat(olds, news, at);
      const pending = unexpired(olds.pendingRevocations, at);
      const keep = () => ({ outs: patOutputsOf(news, state, olds.scope, pending, olds.ownerId) });
      if (!plan.rotate && !plan.dropPrevious && pending.length === 0) return keep();
      if (otherUser(olds.ownerId)) {
        warn(notOwnerNote(news.displayName, olds.ownerId));
        return keep();
      }
      const a = await api(news);
      if (!a) {
        deferred(news, plan, state, pending);
        return keep();
      }
      const policy: RotationPolicy = { overlapHours: news.overlapHours, nonce: news.rotationNonce };
      if (plan.rotate) {
        let fresh: PatSlot;
        try {
          fresh = await mint(a, news, at);
        } catch (e) {
          if (!needsUserToken(e)) throw e;
          deferred(news, plan, state, pending); // a service principal's token: warn and keep, as with none
          return keep();
        }
        // From here on the new PAT exists in ADO and must reach state whatever else fails.
        const next = applyRotation(state, plan, policy, at, () => fresh, state.current.validTo);
        // Whatever the new state no longer holds is revoked now: the old previous, and with overlap 0
        // (emergency) the old current too.
        const retired = [state.previous, state.current].filter(
          (old): old is PatSlot => old !== undefined && old !== next.previous,
        );
        const failed = await revokeOrKeep(a, news, [...pending, ...retired.map(pendingOf)]);
        // The new PAT is this run's user's (the old owner's, or the first one known).
        const owner = tokenOwner(userToken() ?? "") || olds.ownerId;
        return { outs: patOutputsOf(news, next, scopeString(news.scopes), failed, owner) };
      }
      const retired = plan.dropPrevious && state.previous ? [pendingOf(state.previous)] : [];
      const failed = await revokeOrKeep(a, news, [...pending, ...retired]);
      const next = plan.dropPrevious ? applyRotation(state, plan, policy, at, () => state.current) : state;
      return { outs: patOutputsOf(news, next, olds.scope, failed, olds.ownerId) };
    },

    async delete(_id: string, stored: Record<string, unknown>) {
      const props = normalisePatOutputs(stored);
      const colleague = otherUser(props.ownerId);
      const a = colleague ? undefined : await api(props);
      const state = patStateOf(props);
      const slots = [
        ...[state.current, state.previous].filter((s): s is PatSlot => s !== undefined).map(pendingOf),
        ...unexpired(props.pendingRevocations, now()),
      ];
      if (colleague) {
        warn(
          `${notOwnerNote(props.displayName, props.ownerId)}. It is removed from the stack but not revoked; ` +
            `it expires on ${props.validTo}. Revoke ${slots.map((s) => s.authorizationId).join(", ")} as its owner.`,
        );
        return;
      }
      if (!a) {
        warn(
          `AdoPat "${props.displayName}": removed from the stack but not revoked (no ${USER_TOKEN_ENV}); ` +
            `it expires on ${props.validTo}. Revoke ${slots.map((s) => s.authorizationId).join(", ")} with a user token.`,
        );
        return;
      }
      // A failure fails the delete: the resource stays in state, nothing is forgotten.
      for (const s of slots) await revoke(a, props, s);
    },
  };
}

/**
 * What the host runs: a provider on the real clock and environment. A factory, as 0.1.0's shim
 * expects (it calls a function export). Permanent export: see above.
 */
export const adoPatProvider = (): pulumi.dynamic.ResourceProvider => completeProvider(createAdoPatProvider());
