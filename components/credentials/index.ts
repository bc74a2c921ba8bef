/**
 * Declarative credential rotation: RotatingSecret (URL token or Basic password), WebhookCredentials
 * (the pair one system's hooks and receiver need) and AdoPat (an ADO PAT over the lifecycle API).
 *
 * Security rotates by changing a schedule or a nonce in stack config and running `pulumi up`. The
 * receiver is given the hashes of both slots (the previous one with its not-after time), the hooks
 * the current value, so deliveries queued with the old value still land during the overlap.
 * Wiring order matters: make the hooks depend on the receiver app, so that the revision accepting the
 * new value is live before any hook starts sending it.
 *
 * State holds each provider as the tiny stub of components/dynamic/stub.ts (`RotatingSecret`,
 * `AdoPat` in dynamic-providers.cjs): refresh and delete run today's code, no credential is captured.
 * What is derived from the stored slots (hash lists, next rotation, warnings) is computed here, in the
 * program, so the stored outputs change only when a value does (quiet previews: docs/credentials.md).
 */
import * as pulumi from "@pulumi/pulumi";
import type { CredentialHash, UrlTokenSetting } from "../../app/settings";
import { sha256Hex } from "../../app/tokens";
import { StubbedDynamicResource } from "../dynamic/stub";
import { ADO_PAT_SECRET_OUTPUTS, patWarnings, type PendingRevocation } from "./ado-pat-provider";
import { systemClock } from "./clock";
import {
  acceptedHashes,
  nextRotationAt,
  ROTATING_SECRET_SECRET_OUTPUTS,
  SecretKind,
} from "./rotating-secret-provider";

export { CLOCK_ENV } from "./clock";
export { USER_TOKEN_ENV, rotateCommand } from "./ado-pat-provider";
export type { PendingRevocation } from "./ado-pat-provider";
export type { SecretKind } from "./rotating-secret-provider";

/** Names of the providers in dynamic-providers.cjs (stored in state: never change them). */
export const ROTATING_SECRET_PROVIDER = "RotatingSecret";
export const ADO_PAT_PROVIDER = "AdoPat";

export interface RotatingSecretArgs {
  /** `urlToken` (an `alw_` token for the webhook URL), `basicPassword`, or `readToken` (messages API). */
  kind: pulumi.Input<SecretKind>;
  /** The receiver system the credential delivers to, e.g. `devops` (required for a URL token). */
  systemId?: pulumi.Input<string>;
  /** Days between scheduled rotations. Default 30. */
  rotateEveryDays?: pulumi.Input<number>;
  /** Hours the previous value stays accepted after a rotation. Default 24; 0 = emergency revoke. */
  overlapHours?: pulumi.Input<number>;
  /** Any new value rotates at once (stack config `rotation nonce`). Default "". */
  rotationNonce?: pulumi.Input<string>;
}

/**
 * A two-slot secret that rotates by update, never by replace. Values are secret in state and outputs.
 * Its stored outputs change only when a value rotates (or an emergency revoke drops the previous one).
 */
export class RotatingSecret extends StubbedDynamicResource {
  /** Secret: the value hooks send now. */
  declare readonly current: pulumi.Output<string>;
  /** Secret: the value retired by the last rotation, "" when none. */
  declare readonly previous: pulumi.Output<string>;
  /** Until when the receiver accepts `previous` (ISO), "" when none. */
  declare readonly previousNotAfter: pulumi.Output<string>;
  declare readonly currentSha256: pulumi.Output<string>;
  /** "" when there is no previous value. */
  declare readonly previousSha256: pulumi.Output<string>;
  declare readonly rotatedAt: pulumi.Output<string>;
  declare readonly kind: pulumi.Output<SecretKind>;
  /** Receiver-ready hashes (current, then previous with notAfter): `SystemSetting.basicPasswords` / HOOKFLEET_READ_TOKENS. */
  readonly hashes: pulumi.Output<CredentialHash[]>;
  /** The same bound to the system: entries of HOOKFLEET_URL_TOKENS (empty unless kind is urlToken). */
  readonly urlTokens: pulumi.Output<UrlTokenSetting[]>;
  /** When the schedule next rotates the value (ISO). */
  readonly nextRotationAt: pulumi.Output<string>;
  readonly systemId: pulumi.Output<string>;

  constructor(name: string, args: RotatingSecretArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ROTATING_SECRET_PROVIDER,
      "credentials",
      "RotatingSecret",
      name,
      {
        ...args,
        current: undefined,
        previous: undefined,
        previousNotAfter: undefined,
        currentSha256: undefined,
        previousSha256: undefined,
        rotatedAt: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: [...ROTATING_SECRET_SECRET_OUTPUTS] }),
    );
    // Defaults as the provider's check applies them (rotating-secret-provider.ts).
    const overlapHours = pulumi.output(args.overlapHours ?? 24);
    const rotateEveryDays = pulumi.output(args.rotateEveryDays ?? 30);
    this.systemId = pulumi.output(args.systemId ?? "");
    this.hashes = pulumi
      .all([this.currentSha256, this.previousSha256, this.previousNotAfter, overlapHours])
      .apply(([currentSha256, previousSha256, previousNotAfter, overlap]) =>
        acceptedHashes({ currentSha256, previousSha256, previousNotAfter }, overlap),
      );
    this.urlTokens = pulumi
      .all([this.hashes, pulumi.output(args.kind), this.systemId])
      .apply(([hashes, kind, systemId]) =>
        kind === "urlToken" ? hashes.map((h) => ({ ...h, systemId })) : [],
      );
    this.nextRotationAt = pulumi
      .all([this.rotatedAt, rotateEveryDays])
      .apply(([rotatedAt, days]) => nextRotationAt(rotatedAt, days));
  }
}

export type WebhookAuthMode = "urlToken" | "basic" | "both";

export interface WebhookCredentialsArgs {
  /** The receiver system these credentials deliver to. */
  systemId: pulumi.Input<string>;
  /** Which credentials the system's hooks use: URL token, Basic password, or both. */
  authMode: WebhookAuthMode;
  /** Days between scheduled rotations. Default 30. */
  rotateEveryDays?: pulumi.Input<number>;
  /** Hours a retired value stays accepted. Default 24; 0 = emergency revoke. */
  overlapHours?: pulumi.Input<number>;
  /** Rotate the URL token now when this changes. */
  urlTokenNonce?: pulumi.Input<string>;
  /** Rotate the Basic password now when this changes. */
  basicPasswordNonce?: pulumi.Input<string>;
}

/** The credentials one system's hooks send and its receiver accepts, each a RotatingSecret. */
export class WebhookCredentials extends pulumi.ComponentResource {
  readonly urlToken?: RotatingSecret;
  readonly basicPassword?: RotatingSecret;
  /** Secret: the URL token hooks put in the path (undefined when the mode has none). */
  readonly currentUrlToken: pulumi.Output<string | undefined>;
  /** Secret: the Basic password hooks send (undefined when the mode has none). */
  readonly currentBasicPassword: pulumi.Output<string | undefined>;
  /** HOOKFLEET_URL_TOKENS entries for this system. */
  readonly urlTokens: pulumi.Output<UrlTokenSetting[]>;
  /** `SystemSetting.basicPasswords` for this system. */
  readonly basicPasswords: pulumi.Output<CredentialHash[]>;
  /** The earliest time either credential next needs a run. */
  readonly nextRotationAt: pulumi.Output<string>;
  readonly systemId: pulumi.Output<string>;

  constructor(name: string, args: WebhookCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookfleet:credentials:WebhookCredentials", name, {}, opts);
    const common = {
      systemId: args.systemId,
      rotateEveryDays: args.rotateEveryDays,
      overlapHours: args.overlapHours,
    };
    // One resource per credential, so each rotates (and is rotated by its own nonce) independently.
    if (args.authMode !== "basic")
      this.urlToken = new RotatingSecret(
        `${name}-url-token`,
        { ...common, kind: "urlToken", rotationNonce: args.urlTokenNonce },
        { parent: this },
      );
    if (args.authMode !== "urlToken")
      this.basicPassword = new RotatingSecret(
        `${name}-basic-password`,
        { ...common, kind: "basicPassword", rotationNonce: args.basicPasswordNonce },
        { parent: this },
      );
    const none = pulumi.secret(pulumi.output<string | undefined>(undefined));
    this.currentUrlToken = this.urlToken ? pulumi.secret(this.urlToken.current) : none;
    this.currentBasicPassword = this.basicPassword ? pulumi.secret(this.basicPassword.current) : none;
    this.urlTokens = this.urlToken ? this.urlToken.urlTokens : pulumi.output([]);
    this.basicPasswords = this.basicPassword ? this.basicPassword.hashes : pulumi.output([]);
    const times = [this.urlToken?.nextRotationAt, this.basicPassword?.nextRotationAt].filter(
      (t): t is pulumi.Output<string> => t !== undefined,
    );
    this.nextRotationAt = pulumi.all(times).apply((ts) => [...ts].sort()[0]);
    this.systemId = pulumi.output(args.systemId);
    this.registerOutputs({
      currentUrlToken: this.currentUrlToken,
      currentBasicPassword: this.currentBasicPassword,
      urlTokens: this.urlTokens,
      basicPasswords: this.basicPasswords,
      nextRotationAt: this.nextRotationAt,
    });
  }
}

/**
 * The URL hooks deliver to (secret when it carries the token): the URL-token route when the system has
 * a URL token, else the Basic-auth route (receiver-contract.md).
 */
export function webhookUrl(
  receiverBaseUrl: pulumi.Input<string>,
  creds: WebhookCredentials,
): pulumi.Output<string> {
  return pulumi
    .all([receiverBaseUrl, creds.currentUrlToken, creds.systemId])
    .apply(([base, token, systemId]) =>
      token
        ? `${base.replace(/\/+$/, "")}/api/v1/webhooks/${token}`
        : `${base.replace(/\/+$/, "")}/api/v1/systems/${encodeURIComponent(systemId)}/webhooks`,
    );
}

/**
 * A short, non-secret fingerprint of the receiver's credential settings (hashes only), for a
 * *revision-scope* field of the Container App (the plain env var HOOKFLEET_CREDENTIALS_FINGERPRINT that ReceiverInfra sets).
 * Why: changing a Container App secret does not create a revision, and running revisions keep the old
 * value until one is created or restarted (learn.microsoft.com/azure/container-apps/manage-secrets).
 * Without a revision-scope change a rotation would reach the hooks but not the receiver.
 */
export function credentialsFingerprint(...settings: pulumi.Input<unknown>[]): pulumi.Output<string> {
  return pulumi.all(settings).apply((values) => sha256Hex(JSON.stringify(values)).slice(0, 16));
}

export interface AdoPatArgs {
  /** Organization URL, e.g. https://dev.azure.com/contoso. The PAT is scoped to this org only. */
  organizationUrl: pulumi.Input<string>;
  /** PAT lifecycle API base. Default https://vssps.dev.azure.com/{org}. */
  vsspsUrl?: pulumi.Input<string>;
  /** Name shown in the user's PAT list, e.g. `hookfleet-prod-receiver`. */
  displayName: pulumi.Input<string>;
  /** Least scopes, e.g. ["vso.hooks_write", "vso.project"]. Full-access scopes are refused. */
  scopes: pulumi.Input<pulumi.Input<string>[]>;
  /** Validity of each new PAT in days, within the org's policy (at most 365). Default 90. */
  validityDays?: pulumi.Input<number>;
  /** Rotate this many days before the current PAT expires. Default 14. */
  rotateBeforeExpiryDays?: pulumi.Input<number>;
  /** Hours the previous PAT stays valid after a rotation before it is revoked. Default 24; 0 = revoke at once. */
  overlapHours?: pulumi.Input<number>;
  /** Any new value rotates at once. Default "". */
  rotationNonce?: pulumi.Input<string>;
}

/**
 * An org-scoped ADO PAT, rotated before expiry and revoked after the overlap. Needs a Microsoft Entra
 * user token in HOOKFLEET_ADO_USER_TOKEN to create, rotate or revoke; without one a due rotation is a
 * warning naming `npm run rotate -- --stack <env> --credential pat`, and the current PAT stays.
 */
export class AdoPat extends StubbedDynamicResource {
  /** Secret: the PAT, for Key Vault. */
  declare readonly token: pulumi.Output<string>;
  declare readonly authorizationId: pulumi.Output<string>;
  declare readonly validTo: pulumi.Output<string>;
  /** Space-separated scopes of the current PAT. */
  declare readonly scope: pulumi.Output<string>;
  declare readonly rotatedAt: pulumi.Output<string>;
  /** Secret: the previous PAT during the overlap, "" when none. */
  declare readonly previousToken: pulumi.Output<string>;
  declare readonly previousAuthorizationId: pulumi.Output<string>;
  declare readonly previousValidTo: pulumi.Output<string>;
  declare readonly previousNotAfter: pulumi.Output<string>;
  declare readonly nextRotationAt: pulumi.Output<string>;
  declare readonly displayName: pulumi.Output<string>;
  declare readonly stack: pulumi.Output<string>;
  /** The rotation nonce the PAT has applied; differs from the one asked for while a rotation is deferred. */
  declare readonly rotationNonce: pulumi.Output<string>;
  /** Replaced PATs whose revocation failed, retried by the next run with a user token; [] when none. */
  declare readonly pendingRevocations: pulumi.Output<PendingRevocation[]>;
  /**
   * What a user must act on, as of this run: a rotation that is due or was asked for (a new nonce) but
   * was not made (no Microsoft Entra user token in the run), a previous PAT past its overlap and not
   * revoked, a replaced PAT whose revocation failed. [] when nothing.
   */
  readonly warnings: pulumi.Output<string[]>;

  constructor(name: string, args: AdoPatArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ADO_PAT_PROVIDER,
      "credentials",
      "AdoPat",
      name,
      {
        ...args,
        stack: pulumi.getStack(),
        token: undefined,
        authorizationId: undefined,
        validTo: undefined,
        scope: undefined,
        rotatedAt: undefined,
        previousToken: undefined,
        previousAuthorizationId: undefined,
        previousValidTo: undefined,
        previousNotAfter: undefined,
        nextRotationAt: undefined,
        pendingRevocations: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: [...ADO_PAT_SECRET_OUTPUTS] }),
    );
    // The nonce asked for (the input) against the one applied (the output): a rotation the run deferred.
    const requestedNonce = pulumi.output(args.rotationNonce ?? "");
    this.warnings = pulumi
      .all([
        pulumi.all([this.displayName, this.stack, this.validTo, this.nextRotationAt]),
        pulumi.all([this.previousAuthorizationId, this.previousNotAfter, this.previousValidTo]),
        this.rotationNonce,
        this.pendingRevocations,
        requestedNonce,
      ])
      .apply(
        ([
          [displayName, stack, validTo, next],
          [previousAuthorizationId, previousNotAfter, previousValidTo],
          rotationNonce,
          pendingRevocations,
          requested,
        ]) =>
          patWarnings(
            {
              displayName,
              stack,
              validTo,
              nextRotationAt: next,
              previousAuthorizationId: previousAuthorizationId ?? "",
              previousNotAfter: previousNotAfter ?? "",
              previousValidTo: previousValidTo ?? "",
              // pendingRevocations is absent from state written before it existed (and both from mocks).
              rotationNonce: rotationNonce ?? requested,
              pendingRevocations: pendingRevocations ?? [],
              requestedNonce: requested,
            },
            systemClock(),
          ),
      );
  }
}
