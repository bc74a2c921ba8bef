/**
 * The HookFleet program: the receiver on Azure, the credentials ADO uses to reach it, and one
 * service hook per (destination × project × event type) in every configured ADO organization.
 *
 * Every setting is declared, with its default and meaning, in Pulumi.yaml; stacks/ holds the
 * values per environment. Config is read once and checked before anything is created
 * (components/config), so a mistake in a stack file fails the preview with the key's name.
 *
 * Destinations (`hookfleet:destinations`, docs/destinations.md): the receiver this stack deploys
 * (kind `receiver`, implied when the stack lists none) and hosted receivers (kind `webhook`). The
 * receiver's hooks keep the names they always had (`<organization>-<projectId>-<eventType>` under a
 * HookFleet per organization), so a stack without destinations, or one that lists its receiver,
 * changes nothing; a hosted receiver's hooks are `<destination>-<projectId>-<eventType>`.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoClient } from "./ado/client";
import type { SystemSetting } from "./app/settings";
import {
  readProgramConfig,
  type OrganizationConfig,
  type ReceiverDestinationConfig,
  type WebhookDestinationConfig,
} from "./components/config";
import { AdoPat, RotatingSecret } from "./components/credentials";
import { WebhookDestination } from "./components/destinations";
import {
  HookFleet,
  sharedProjectLists,
  summariseFleets,
  type FleetSummary,
  type HookNotEnabled,
} from "./components/hooks";
import { LocalReceiverRevision, ReceiverInfra } from "./components/receiver";

// ---------------------------------------------------------------------------------------------
// Configuration (keys and defaults: Pulumi.yaml; checks: components/config)

const cfg = readProgramConfig();
const { stack, organizations, system } = cfg;
const receiverDestination = cfg.destinations.find(
  (d): d is ReceiverDestinationConfig => d.kind === "receiver",
);
const webhookDestinations = cfg.destinations.filter(
  (d): d is WebhookDestinationConfig => d.kind === "webhook",
);

// ---------------------------------------------------------------------------------------------
// Credentials: generated here, rotated on schedule or by nonce (npm run rotate), never typed by hand.
// Only a stack with a receiver has them: hosted receivers bring their own.

const usesUrlToken = cfg.receiver.wanted && system.authMode !== "basic";
const usesBasic = cfg.receiver.wanted && system.authMode !== "urlToken";

// The secret in the hook URL; the receiver gets its hash, bound to the system.
const urlToken = usesUrlToken
  ? new RotatingSecret("url-token", { kind: "urlToken", systemId: system.id, ...cfg.rotation.urlToken })
  : undefined;
// The HTTP Basic password set on every hook; the receiver gets its hash.
const basicPassword = usesBasic
  ? new RotatingSecret("basic-password", {
      kind: "basicPassword",
      systemId: system.id,
      ...cfg.rotation.basicPassword,
    })
  : undefined;
// Bearer token of the receiver's read API (people and the sandbox list stored messages with it).
const readTokenSecret = cfg.receiver.wanted
  ? new RotatingSecret("read-token", { kind: "readToken", ...cfg.rotation.readToken })
  : undefined;

// One org-scoped PAT per organization, for the receiver's heal job (Key Vault), when asked for.
const patSecretKey = (org: OrganizationConfig) => `ado-pat-${org.name}`;
const pats = cfg.managedPats.enabled
  ? organizations.map(
      (org) =>
        new AdoPat(`${org.name}-pat`, {
          organizationUrl: org.url,
          displayName: `hookfleet-${stack}-${org.name}`,
          scopes: cfg.managedPats.scopes,
          validityDays: cfg.managedPats.validDays,
          rotateBeforeExpiryDays: cfg.managedPats.validDays - cfg.rotation.pat.rotateEveryDays,
          overlapHours: cfg.rotation.pat.overlapHours,
          rotationNonce: cfg.rotation.pat.rotationNonce,
        }),
    )
  : [];

// What the receiver accepts: one system, the URL-token hashes, the read-token hashes.
const systems: pulumi.Output<SystemSetting[]> = pulumi
  .all([basicPassword?.hashes ?? pulumi.output(undefined)])
  .apply(([passwords]) => [
    {
      id: system.id,
      storageMode: system.storageMode,
      retentionDays: system.retentionDays,
      ...(passwords ? { basicPasswords: passwords, basicUsername: system.basicUsername } : {}),
      ...(system.authMode === "both" ? { requireBoth: true } : {}),
    },
  ]);
const urlTokens = urlToken ? urlToken.urlTokens : pulumi.output([]);
const readTokens = readTokenSecret ? readTokenSecret.hashes : pulumi.output([]);

// ---------------------------------------------------------------------------------------------
// The receiver: on Azure, or (sandbox) one already running at receiverUrl.

const receiver = cfg.receiver.deploy
  ? new ReceiverInfra("receiver", {
      image: cfg.receiver.image,
      location: cfg.receiver.location,
      resourceGroupName: cfg.receiver.resourceGroupName,
      minReplicas: cfg.receiver.minReplicas,
      maxReplicas: cfg.receiver.maxReplicas,
      cosmosMode: cfg.receiver.cosmosCapacity,
      cosmosMaxThroughput:
        cfg.receiver.cosmosCapacity === "autoscale" ? cfg.receiver.cosmosMaxThroughput : undefined,
      systems,
      urlTokens,
      readTokens,
      // Secret in state whatever the resource marks: the PAT value only ever travels as a secret.
      extraSecrets: Object.fromEntries(
        pats.map((pat, i) => [patSecretKey(organizations[i]), pulumi.secret(pat.token)]),
      ),
      acrResourceId: cfg.receiver.acrResourceId,
      nameSuffix: cfg.receiver.nameSuffix,
      keyVaultPurgeProtection: cfg.receiver.keyVaultPurgeProtection,
      settings: cfg.receiver.deliveryTracesPerSecond
        ? { HOOKFLEET_DELIVERY_TRACES_PER_SECOND: cfg.receiver.deliveryTracesPerSecond }
        : undefined,
      // Hourly by default: well inside ADO's notification history, so failed deliveries are still there.
      healJob: cfg.heal.enabled
        ? {
            cronExpression: cfg.heal.schedule,
            // With managed PATs each organization uses its own (org-scoped); else the identity (Entra).
            organizations: organizations.map((org) =>
              cfg.managedPats.enabled ? { url: org.url, adoPatSecret: patSecretKey(org) } : { url: org.url },
            ),
            settings: {
              HOOKFLEET_HEAL_PROBATION: cfg.heal.probation,
              HOOKFLEET_HEAL_DISABLED_BY_USER: cfg.heal.disabledByUser,
              HOOKFLEET_HEAL_INCLUDE_ENABLED: String(cfg.heal.includeEnabled),
              // Unset: ReceiverInfra derives it from the schedule (components/receiver/schedule.ts).
              ...(cfg.heal.recentHours !== undefined && {
                HOOKFLEET_HEAL_RECENT_HOURS: String(cfg.heal.recentHours),
              }),
            },
          }
        : undefined,
      alerts: {
        emails: cfg.alerts.emails,
        webhookUrl: cfg.alerts.webhookUrl,
        quietHours: cfg.alerts.quietHours,
      },
    })
  : undefined;

// A receiver run elsewhere whose host takes revisions (the sandbox's): it gets the credential hashes
// before the hooks use them, as a Container App revision does on Azure.
const localRevision =
  cfg.receiver.wanted && !cfg.receiver.deploy && cfg.receiver.revisionUrl
    ? new LocalReceiverRevision("receiver", {
        receiverUrl: cfg.receiver.url,
        revisionUrl: cfg.receiver.revisionUrl,
        settings: pulumi.all([systems, urlTokens, readTokens]).apply(([s, u, r]) => ({
          systems: s,
          urlTokens: u,
          readTokens: r,
        })),
      })
    : undefined;

// ReceiverInfra reports `https://<fqdn>/api/v1/webhooks`; the routes are built from the host part.
// Either way the hooks' URL resolves only once the receiver runs with the current credentials.
const receiverBase: pulumi.Output<string> = receiver
  ? receiver.webhookBaseUrl.apply((u) => u.replace(/\/api\/v1\/webhooks\/?$/, ""))
  : localRevision
    ? localRevision.receiverUrl
    : pulumi.output(cfg.receiver.url);

// The URL hooks deliver to: the URL-token route, or the Basic route when there is no token.
const hookUrl = pulumi.secret(
  pulumi
    .all([receiverBase, urlToken?.current ?? pulumi.output(undefined)])
    .apply(([base, token]) =>
      token
        ? `${base}/api/v1/webhooks/${token}`
        : `${base}/api/v1/systems/${encodeURIComponent(system.id)}/webhooks`,
    ),
);

// ---------------------------------------------------------------------------------------------
// The hooks. Projects are listed from ADO now, at program time: once per organization (and
// project filter), whatever number of destinations use them.

const projectLists = new Map(
  organizations.map((org) => [org.name, sharedProjectLists(AdoClient.fromEnvironment(org.url))]),
);
const organizationsOf = (names: string[]) => organizations.filter((org) => names.includes(org.name));

// The receiver's: one HookFleet per organization, named after it, as before destinations existed.
const receiverFleets: { organization: string; fleet: HookFleet }[] = receiverDestination
  ? organizationsOf(receiverDestination.organizations).map((org) => ({
      organization: org.name,
      fleet: new HookFleet(org.name, {
        orgUrl: org.url,
        projects: receiverDestination.projects ?? org.projects,
        eventTypes: receiverDestination.events ?? org.events,
        receiverUrl: hookUrl,
        authMode: system.authMode,
        basicAuthUsername: usesBasic ? system.basicUsername : undefined,
        basicAuthPassword: basicPassword?.current,
        httpHeaders: Object.keys(receiverDestination.httpHeaders).length
          ? pulumi.secret(receiverDestination.httpHeaders)
          : undefined,
        resourceDetailsToSend:
          receiverDestination.resourceDetailsToSend ?? cfg.whatToSend.resourceDetailsToSend,
        messagesToSend: receiverDestination.messagesToSend ?? cfg.whatToSend.messagesToSend,
        detailedMessagesToSend:
          receiverDestination.detailedMessagesToSend ?? cfg.whatToSend.detailedMessagesToSend,
        adoClient: projectLists.get(org.name),
      }),
    }))
  : [];

// Each hosted receiver's: its own component, its hooks named after it, its PAT if it asked for one.
const destinations = webhookDestinations.map(
  (d) =>
    new WebhookDestination(d.name, {
      organizations: organizationsOf(d.organizations).map((org) => ({
        name: org.name,
        url: org.url,
        projects: d.projects ?? org.projects,
        adoClient: projectLists.get(org.name),
      })),
      events: d.events,
      url: pulumi.secret(d.url),
      basicAuthUsername: d.basicUsername || undefined,
      basicAuthPassword: d.basicPassword ? pulumi.secret(d.basicPassword) : undefined,
      httpHeaders: Object.keys(d.httpHeaders).length ? pulumi.secret(d.httpHeaders) : undefined,
      resourceDetailsToSend: d.resourceDetailsToSend,
      messagesToSend: d.messagesToSend,
      detailedMessagesToSend: d.detailedMessagesToSend,
      pat: d.pat && {
        scopes: d.pat.scopes,
        validityDays: d.pat.validDays,
        rotateEveryDays: d.pat.rotateEveryDays,
        overlapHours: d.pat.overlapHours,
        rotationNonce: d.pat.rotationNonce,
      },
    }),
);

// ---------------------------------------------------------------------------------------------
// Stack outputs

const allFleets = [...receiverFleets, ...destinations.flatMap((d) => d.fleets)];
/** Every fleet in each organization (all destinations), keyed by organization name. */
const byOrganization: pulumi.Output<Record<string, FleetSummary>> = pulumi
  .all(
    organizations.map((org) =>
      summariseFleets(allFleets.filter((f) => f.organization === org.name).map((f) => f.fleet)),
    ),
  )
  .apply((summaries) => Object.fromEntries(summaries.map((s, i) => [organizations[i].name, s])));
const receiverSummary = summariseFleets(receiverFleets.map((f) => f.fleet));
/** Every destination's summary, keyed by destination name, in stack order. */
const byDestination: pulumi.Output<Record<string, FleetSummary>> = pulumi
  .all([receiverSummary, ...destinations.map((d) => d.summary)])
  .apply(([receiverPart, ...webhookParts]) =>
    Object.fromEntries(
      cfg.destinations.map((d) => [
        d.name,
        d.kind === "receiver" ? receiverPart : webhookParts[webhookDestinations.indexOf(d)],
      ]),
    ),
  );
const perDestination = <T>(pick: (s: FleetSummary) => T) =>
  byDestination.apply((all) => Object.fromEntries(Object.entries(all).map(([name, s]) => [name, pick(s)])));

/** The URL ADO delivers to (secret: it carries the URL token); absent without a receiver. */
export const webhookUrl = cfg.receiver.wanted ? hookUrl : undefined;

/** Hooks per live status, per organization (all destinations), e.g. `{contoso: {enabled: 46, disabledBySystem: 1, …}}`. */
export const hookCounts = byOrganization.apply((all) =>
  Object.fromEntries(Object.entries(all).map(([org, s]) => [org, s.statusCounts])),
);

/** Hooks per live status, per destination, e.g. `{receiver: {enabled: 46, …}, producta: {enabled: 14, …}}`. */
export const destinationHookCounts = perDestination((s) => s.statusCounts);

/** Total hooks managed. */
export const hookTotal = byOrganization.apply((all) =>
  Object.values(all).reduce((total, s) => total + s.hookCount, 0),
);

/** Hooks whose live status is not `enabled` after this run, per organization (the next `up` re-enables them). */
export const hooksNotEnabled: pulumi.Output<Record<string, HookNotEnabled[]>> = byOrganization.apply((all) =>
  Object.fromEntries(Object.entries(all).map(([org, s]) => [org, s.hooksNotEnabled])),
);

/** Per destination: hooks whose test delivery did not get a 2xx at their last create/update. */
export const failedTestDeliveries = perDestination((s) => s.failedTestDeliveries);

/**
 * What someone must act on, one line each: hooks whose test delivery did not reach their destination
 * (a hosted receiver's prefixed `destination "<name>"`), a product to reconnect with its new PAT, a
 * PAT rotation that is due but could not be made in this run. `npm run up` prints them.
 */
export const warnings = pulumi
  .all([
    receiverSummary.apply((s) => s.warnings),
    ...destinations.map((d) => d.warnings),
    ...pats.map((p) => p.warnings),
  ])
  .apply((lists) => lists.flat());

/** Secret: the PAT minted for each destination that asked for one, for handing to the product. */
export const destinationPats = destinations.some((d) => d.patToken)
  ? pulumi.secret(
      pulumi
        .all(destinations.map((d) => d.patToken ?? pulumi.output(undefined)))
        .apply((tokens) =>
          Object.fromEntries(
            webhookDestinations.flatMap((d, i) => (tokens[i] === undefined ? [] : [[d.name, tokens[i]]])),
          ),
        ),
    )
  : undefined;

/** When each credential next needs a run (its scheduled rotation). */
export const credentialsNextRotation = pulumi
  .all([
    urlToken?.nextRotationAt,
    basicPassword?.nextRotationAt,
    readTokenSecret?.nextRotationAt,
    pulumi.all(pats.map((p) => p.nextRotationAt)),
    pulumi.all(destinations.map((d) => d.pat?.nextRotationAt)),
  ])
  .apply(([url, basic, read, patTimes, destinationTimes]) => ({
    ...(url ? { urlToken: url } : {}),
    ...(basic ? { basicPassword: basic } : {}),
    ...(read ? { readToken: read } : {}),
    ...Object.fromEntries(patTimes.map((t, i) => [`pat-${organizations[i].name}`, t])),
    ...Object.fromEntries(
      destinationTimes.flatMap((t, i) => (t ? [[`destinationPat-${webhookDestinations[i].name}`, t]] : [])),
    ),
  }));

/**
 * Each managed PAT (keys as credentialsNextRotation's): the rotation nonce it has applied (behind the
 * stack config's while a run without a Microsoft Entra user token defers the rotation) and the replaced
 * PATs whose revocation failed. `npm run rotate` reads it to confirm a rotation was made.
 */
export const patRotations = pulumi
  .all([
    pulumi.all(pats.map((p) => patRotationOf(p))),
    pulumi.all(destinations.map((d) => (d.pat ? patRotationOf(d.pat) : pulumi.output(undefined)))),
  ])
  .apply(([patRotations, destinationRotations]) => ({
    ...Object.fromEntries(patRotations.map((r, i) => [`pat-${organizations[i].name}`, r])),
    ...Object.fromEntries(
      destinationRotations.flatMap((r, i) =>
        r ? [[`destinationPat-${webhookDestinations[i].name}`, r]] : [],
      ),
    ),
  }));

function patRotationOf(pat: AdoPat) {
  return pulumi
    .all([pat.rotationNonce, pat.pendingRevocations])
    .apply(([rotationNonce, pendingRevocations]) => ({
      rotationNonce: rotationNonce ?? "",
      // Absent from state written before the field existed: nothing pending.
      pendingRevocations: pendingRevocations ?? [],
    }));
}

/** Bearer token of the receiver's read API (secret): `pulumi stack output readToken --show-secrets`. */
export const readToken = readTokenSecret ? pulumi.secret(readTokenSecret.current) : undefined;

/** Where the receiver runs on Azure (absent when deployReceiver is false). */
export const receiverInfo = receiver
  ? {
      resourceGroupName: receiver.resourceGroupName,
      containerAppName: receiver.containerAppName,
      // What the Container App runs: the cloud build's `<registry>/<repository>@sha256:…` or the prebuilt image.
      image: receiver.image,
      // The registry the identity pulls from ("" for none): with `image`, what a later run passes back
      // (scripts/lib/deployedImage.ts) so that it keeps the AcrPull grant.
      acrResourceId: cfg.receiver.acrResourceId ?? "",
      cosmosEndpoint: receiver.cosmosEndpoint,
      identityClientId: receiver.identityClientId,
      healJobNames: receiver.healJobNames,
    }
  : undefined;

/**
 * For a receiver the program does not deploy (the sandbox): the settings it must run with, as the
 * environment variables app/ reads. Hashes only, but secret all the same.
 */
export const receiverEnvironment =
  cfg.receiver.deploy || !cfg.receiver.wanted
    ? undefined
    : pulumi.secret(
        pulumi.all([systems, urlTokens, readTokens]).apply(([s, u, r]) => ({
          HOOKFLEET_SYSTEMS: JSON.stringify(s),
          HOOKFLEET_URL_TOKENS: JSON.stringify(u),
          HOOKFLEET_READ_TOKENS: JSON.stringify(r),
        })),
      );
