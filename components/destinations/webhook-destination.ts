/**
 * WebhookDestination: the hooks of one hosted receiver (a SaaS product that gave a webhook URL, maybe
 * a Basic password) across the organizations it covers, and optionally an ADO PAT minted for it.
 *
 * One HookFleet per organization (named `<destination>-<organization>`), whose hooks are named
 * `<destination>-<projectId>-<eventType>`: removing the destination from the stack removes exactly
 * these resources, so the engine deletes exactly its subscriptions and nothing made by hand. The
 * product's URL and password are secrets in the hooks' state; a change of either in the stack
 * config updates every hook of the destination in one `up` (the password compared by its hash).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ProjectFilter } from "../../ado/types";
import { AdoPat } from "../credentials";
import { systemClock } from "../credentials/clock";
import { HookFleet, type EventSelection, type ProjectLister } from "../hooks/hook-fleet";
import { summariseFleets, type FleetSummary } from "../hooks/fleet-summary";
import type { MessagesToSend, ResourceDetailsToSend } from "../hooks/mapping";

/** One organization a destination's hooks are in. */
export interface DestinationOrganization {
  /** Short name (hookfleet:organizations): names the destination's fleet there. */
  name: string;
  /** Organization URL, e.g. https://dev.azure.com/contoso. */
  url: string;
  /** Which projects get hooks: "all" (default), `{ include, exclude }` globs or `{ names }`. */
  projects?: "all" | ProjectFilter;
  /** Lists the organization's projects at program time (default: AdoClient.fromEnvironment). */
  adoClient?: ProjectLister;
}

/** The PAT a product asks for (e.g. Code read & write, Work items read), rotated with overlap. */
export interface DestinationPatArgs {
  /** Least scopes, e.g. ["vso.code_write", "vso.work"]. */
  scopes: string[];
  /** Validity of each PAT in days (at most 365, and the organization's policy). */
  validityDays: number;
  /** Days between rotations (below validityDays). */
  rotateEveryDays: number;
  /** Hours the previous PAT stays valid after a rotation: the time people have to reconnect the product. */
  overlapHours: number;
  /** Any new value rotates the PAT on the next up. */
  rotationNonce?: string;
  /** Name shown in the PAT owner's token list (default `hookfleet-<stack>-<destination>`). */
  displayName?: string;
}

export interface WebhookDestinationArgs {
  /** Organizations the hooks are in (exactly one when `pat` is set: a PAT is org-scoped). */
  organizations: DestinationOrganization[];
  /** Event types, each optionally with filters; required (no guessing what a product wants). */
  events: EventSelection[];
  /** The URL the product gave (secret: it may carry its token). */
  url: pulumi.Input<string>;
  /** Basic user name the product gave, if any. */
  basicAuthUsername?: pulumi.Input<string>;
  /** Basic password the product gave, if any (secret). */
  basicAuthPassword?: pulumi.Input<string>;
  /** Extra HTTP headers ADO sends with each delivery (secret). */
  httpHeaders?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Resource details in each event: all (default), minimal or none. */
  resourceDetailsToSend?: ResourceDetailsToSend;
  /** Message formats in each event: all (default), text, html, markdown or none. */
  messagesToSend?: MessagesToSend;
  /** Detailed message formats in each event: all (default), text, html, markdown or none. */
  detailedMessagesToSend?: MessagesToSend;
  /** A PAT for the product, exposed as a secret for handing over. */
  pat?: DestinationPatArgs;
  /** Send ADO's test notification after each create/update and expect 2xx (default true). */
  testDeliveries?: boolean;
}

/**
 * The line telling people to give the product its new PAT while the previous one still works: after
 * a rotation, until the previous PAT is revoked (`previousNotAfter`). undefined when nothing is pending.
 */
export function reconnectNotice(
  destination: string,
  pat: { previousAuthorizationId: string; previousNotAfter: string; rotatedAt: string },
  now: Date,
): string | undefined {
  const until = Date.parse(pat.previousNotAfter);
  if (!pat.previousAuthorizationId || Number.isNaN(until) || now.getTime() >= until) return undefined;
  return (
    `destination "${destination}": reconnect in ${destination} with the replacement token by ${pat.previousNotAfter} ` +
    `(its ADO PAT rotated at ${pat.rotatedAt}; the previous one is revoked after that; the new one: ` +
    `pulumi stack output destinationPats --show-secrets)`
  );
}

export class WebhookDestination extends pulumi.ComponentResource {
  /** The destination's fleet in each of its organizations. */
  readonly fleets: { organization: string; fleet: HookFleet }[];
  /** Hooks, statuses, failed test deliveries and warnings (each prefixed with the destination) summed over its fleets. */
  readonly summary: pulumi.Output<FleetSummary>;
  /** Hooks per live status (every status listed, zero included). */
  readonly statusCounts: pulumi.Output<FleetSummary["statusCounts"]>;
  /** Names of its hooks whose test notification did not get a 2xx at their last create/update. */
  readonly failedTestDeliveries: pulumi.Output<string[]>;
  /** What someone must act on: failed test deliveries, a PAT to hand over again, a PAT rotation deferred. */
  readonly warnings: pulumi.Output<string[]>;
  /** The PAT minted for the product (when asked for). */
  readonly pat?: AdoPat;
  /** Secret: the PAT the product must hold now (undefined without `pat`). */
  readonly patToken?: pulumi.Output<string>;

  constructor(name: string, args: WebhookDestinationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookfleet:destinations:WebhookDestination", name, {}, opts);
    if (args.events.length === 0)
      throw new Error(`WebhookDestination ${name}: events must list at least one event type`);
    if (args.pat && args.organizations.length !== 1)
      throw new Error(`WebhookDestination ${name}: a PAT is scoped to one organization; give exactly one`);

    const secretOrUndefined = <T>(v: pulumi.Input<T> | undefined) =>
      v === undefined ? undefined : pulumi.secret(v);
    const password = secretOrUndefined(args.basicAuthPassword);
    this.fleets = args.organizations.map((org) => ({
      organization: org.name,
      fleet: new HookFleet(
        `${name}-${org.name}`,
        {
          orgUrl: org.url,
          projects: org.projects,
          eventTypes: args.events,
          receiverUrl: pulumi.secret(args.url),
          // Basic credentials go with the URL (which may carry a token too): "both" sends both.
          authMode: password ? "both" : "urlToken",
          basicAuthUsername: args.basicAuthUsername,
          basicAuthPassword: password,
          httpHeaders: secretOrUndefined(args.httpHeaders),
          resourceDetailsToSend: args.resourceDetailsToSend,
          messagesToSend: args.messagesToSend,
          detailedMessagesToSend: args.detailedMessagesToSend,
          testDeliveries: args.testDeliveries,
          adoClient: org.adoClient,
          hookNamePrefix: name,
        },
        { parent: this },
      ),
    }));

    if (args.pat) {
      const org = args.organizations[0];
      this.pat = new AdoPat(
        `${name}-pat`,
        {
          organizationUrl: org.url,
          displayName: args.pat.displayName ?? `hookfleet-${pulumi.getStack()}-${name}`,
          scopes: args.pat.scopes,
          validityDays: args.pat.validityDays,
          rotateBeforeExpiryDays: args.pat.validityDays - args.pat.rotateEveryDays,
          overlapHours: args.pat.overlapHours,
          rotationNonce: args.pat.rotationNonce ?? "",
        },
        { parent: this },
      );
      this.patToken = pulumi.secret(this.pat.token);
    }

    const prefix = (w: string) => `destination "${name}": ${w}`;
    const fleets = summariseFleets(this.fleets.map((f) => f.fleet));
    const patNotices: pulumi.Output<string[]> = this.pat
      ? pulumi
          .all([
            this.pat.warnings,
            this.pat.previousAuthorizationId,
            this.pat.previousNotAfter,
            this.pat.rotatedAt,
          ])
          .apply(([patWarnings, previousAuthorizationId, previousNotAfter, rotatedAt]) => {
            const notice = reconnectNotice(
              name,
              {
                previousAuthorizationId: previousAuthorizationId ?? "",
                previousNotAfter: previousNotAfter ?? "",
                rotatedAt: rotatedAt ?? "",
              },
              systemClock(),
            );
            return [...(notice ? [notice] : []), ...patWarnings.map(prefix)];
          })
      : pulumi.output([]);
    this.summary = pulumi
      .all([fleets, patNotices])
      .apply(([s, notices]) => ({ ...s, warnings: [...s.warnings.map(prefix), ...notices] }));
    this.statusCounts = this.summary.apply((s) => s.statusCounts);
    this.failedTestDeliveries = this.summary.apply((s) => s.failedTestDeliveries);
    this.warnings = this.summary.apply((s) => s.warnings);

    this.registerOutputs({
      statusCounts: this.statusCounts,
      failedTestDeliveries: this.failedTestDeliveries,
      warnings: this.warnings,
    });
  }
}
