/**
 * HookFleet: one ServiceHook per (project × event type) across an ADO organization.
 *
 * Projects are listed at program time through the ADO client, so a project created since the last
 * run gets its hooks on the next `up`, and a deleted project's hooks drop out of the program and
 * are deleted by the engine. Hooks are named from the project *id*, so renaming a project churns
 * nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoClient } from "../../ado/client";
import { DEFAULT_EVENT_TYPES, eventTypeInfo } from "../../ado/events";
import type { AdoApi, Project, ProjectFilter, SubscriptionStatus } from "../../ado/types";
import { SUBSCRIPTION_STATUSES } from "../../ado/types";
import type { MessagesToSend, ResourceDetailsToSend, TestDeliveryOutcome } from "./mapping";
import { normaliseOrgUrl } from "./org-url";
import { ServiceHook } from "./service-hook";

export type AuthMode = "urlToken" | "basic" | "both";

/** An event type with optional publisher input filters (e.g. `{ branch: "main" }`). */
export interface EventSelection {
  /** ADO event type id, e.g. `git.push`. */
  eventType: string;
  /** Publisher input filters for this event type (keys from ado/events.ts). */
  filters?: Record<string, string>;
}

export interface HookFleetArgs {
  /** Organization URL, e.g. https://dev.azure.com/contoso (legacy https://contoso.visualstudio.com is the same org). */
  orgUrl: string;
  /** Which projects get hooks: "all" (default), `{ include, exclude }` name globs, or `{ names }` (names or ids). */
  projects?: "all" | ProjectFilter;
  /** Event types to subscribe to, each optionally with filters (default: DEFAULT_EVENT_TYPES). */
  eventTypes?: (string | EventSelection)[];
  /** Receiver delivery URL (secret): in urlToken and both modes it carries the URL token. */
  receiverUrl: pulumi.Input<string>;
  /** How the receiver authenticates ADO: URL token (default), HTTP Basic, or both. */
  authMode?: AuthMode;
  /** Basic username (basic and both modes; optional). */
  basicAuthUsername?: pulumi.Input<string>;
  /** Basic password (required in basic and both modes; secret). */
  basicAuthPassword?: pulumi.Input<string>;
  /** Extra HTTP headers ADO sends with each delivery (secret). */
  httpHeaders?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Resource details in each event: all (default), minimal or none. */
  resourceDetailsToSend?: ResourceDetailsToSend;
  /** Message formats in each event: all (default), text, html, markdown or none. */
  messagesToSend?: MessagesToSend;
  /** Detailed message formats in each event: all (default), text, html, markdown or none. */
  detailedMessagesToSend?: MessagesToSend;
  /** Send ADO's test notification after each create/update (default true). */
  testDeliveries?: boolean;
  /** Client that lists projects at program time (default: AdoClient.fromEnvironment(orgUrl)). */
  adoClient?: ProjectLister;
  /**
   * What hook names start with (default: the fleet's name): `<prefix>-<projectId>-<eventType>`. A
   * destination's fleets (one per organization) share its name, so its hooks are named after it.
   */
  hookNamePrefix?: string;
}

/** What HookFleet needs of an ADO client: the program-time project list. */
export type ProjectLister = Pick<AdoApi, "listProjects">;

/**
 * A project lister that asks ADO once per filter: the fleets of several destinations in one
 * organization (the same projects, mostly) share one list call at program time.
 */
export function sharedProjectLists(client: ProjectLister): ProjectLister {
  const lists = new Map<string, Promise<Project[]>>();
  return {
    listProjects(filter: ProjectFilter = {}) {
      const key = JSON.stringify([filter.names ?? [], filter.include ?? [], filter.exclude ?? []]);
      let list = lists.get(key);
      if (!list) {
        list = client.listProjects(filter);
        list.catch(() => lists.delete(key)); // a failed list is asked again by the next fleet
        lists.set(key, list);
      }
      return list;
    },
  };
}

/** A hook that is not enabled, as HookFleet reports it. */
export interface HookNotEnabled {
  /** Pulumi resource name of the ServiceHook. */
  name: string;
  projectId: string;
  projectName: string;
  eventType: string;
  status: SubscriptionStatus;
}

/** One desired hook: the program's plan before resources exist. */
export interface PlannedHook {
  /** Resource name: `<prefix>-<projectId>-<eventType>` (prefix: the fleet's name unless given). */
  name: string;
  project: Project;
  eventType: string;
  filters: Record<string, string>;
}

/** Normalizes the event selection (defaults, filters) and rejects unknown event types. */
export function normalizeEventTypes(eventTypes: HookFleetArgs["eventTypes"]): EventSelection[] {
  const list = (eventTypes && eventTypes.length > 0 ? eventTypes : DEFAULT_EVENT_TYPES).map((e) =>
    typeof e === "string"
      ? { eventType: e, filters: {} }
      : { eventType: e.eventType, filters: e.filters ?? {} },
  );
  const seen = new Set<string>();
  for (const e of list) {
    if (!eventTypeInfo(e.eventType)) throw new Error(`HookFleet: unknown ADO event type "${e.eventType}"`);
    if (seen.has(e.eventType)) throw new Error(`HookFleet: event type "${e.eventType}" listed twice`);
    seen.add(e.eventType);
  }
  return list;
}

/** The hooks a fleet wants for these projects: one per (project id × event type), sorted. */
export function planHooks(namePrefix: string, projects: Project[], events: EventSelection[]): PlannedHook[] {
  const hooks: PlannedHook[] = [];
  for (const project of [...projects].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const e of events) {
      hooks.push({
        name: `${namePrefix}-${project.id}-${e.eventType}`,
        project,
        eventType: e.eventType,
        filters: e.filters ?? {},
      });
    }
  }
  return hooks;
}

export class HookFleet extends pulumi.ComponentResource {
  /** Number of hooks the fleet manages. */
  readonly hookCount: pulumi.Output<number>;
  /** Hooks per live status (every status listed, zero included). */
  readonly statusCounts: pulumi.Output<Record<SubscriptionStatus, number>>;
  /** Hooks whose live status is not `enabled` after this run. */
  readonly hooksNotEnabled: pulumi.Output<HookNotEnabled[]>;
  /** Names of hooks whose test notification failed at their last create/update. */
  readonly failedTestDeliveries: pulumi.Output<string[]>;
  /** What the user must act on, one line per problem (e.g. a test delivery that did not reach the receiver). */
  readonly warnings: pulumi.Output<string[]>;
  /** Project ids that have hooks. */
  readonly projectIds: pulumi.Output<string[]>;

  constructor(name: string, args: HookFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookfleet:hooks:HookFleet", name, {}, opts);
    const authMode = args.authMode ?? "urlToken";
    if ((authMode === "basic" || authMode === "both") && args.basicAuthPassword === undefined) {
      throw new Error(`HookFleet ${name}: authMode "${authMode}" needs basicAuthPassword`);
    }
    const orgUrl = normaliseOrgUrl(args.orgUrl);
    if (!orgUrl)
      throw new Error(
        `HookFleet ${name}: orgUrl must be an organization URL such as https://dev.azure.com/<org>`,
      );
    const events = normalizeEventTypes(args.eventTypes);
    const useBasic = authMode !== "urlToken";
    const client = args.adoClient ?? AdoClient.fromEnvironment(orgUrl);
    const filter = args.projects === undefined || args.projects === "all" ? {} : args.projects;

    // Projects are listed now, at program time; resources follow once the list is in.
    const hooks: Promise<{ plan: PlannedHook; hook: ServiceHook }[]> = client
      .listProjects(filter)
      .then((projects) =>
        planHooks(args.hookNamePrefix ?? name, projects, events).map((plan) => ({
          plan,
          hook: new ServiceHook(
            plan.name,
            {
              orgUrl,
              projectId: plan.project.id,
              eventType: plan.eventType,
              filters: plan.filters,
              url: args.receiverUrl,
              httpHeaders: args.httpHeaders,
              basicAuthUsername: useBasic ? args.basicAuthUsername : undefined,
              basicAuthPassword: useBasic ? args.basicAuthPassword : undefined,
              resourceDetailsToSend: args.resourceDetailsToSend,
              messagesToSend: args.messagesToSend,
              detailedMessagesToSend: args.detailedMessagesToSend,
              testDelivery: args.testDeliveries ?? true,
            },
            { parent: this },
          ),
        })),
      );

    const live = pulumi.output(
      hooks.then((list) =>
        pulumi.all(
          list.map(({ plan, hook }) =>
            pulumi
              .all([hook.status, hook.lastTestDelivery, hook.warnings])
              .apply(([status, test, warnings]) => ({
                name: plan.name,
                projectId: plan.project.id,
                projectName: plan.project.name,
                eventType: plan.eventType,
                status,
                test: test as TestDeliveryOutcome,
                // Named by resource; state written before warnings existed has none until an update.
                warnings: (warnings ?? []).map((w) => `${plan.name}: ${w}`),
              })),
          ),
        ),
      ),
    );
    this.hookCount = live.apply((l) => l.length);
    this.statusCounts = live.apply((l) => {
      const counts = Object.fromEntries(SUBSCRIPTION_STATUSES.map((s) => [s, 0])) as Record<
        SubscriptionStatus,
        number
      >;
      for (const h of l) counts[h.status] = (counts[h.status] ?? 0) + 1;
      return counts;
    });
    this.hooksNotEnabled = live.apply((l) =>
      l
        .filter((h) => h.status !== "enabled")
        .map(({ name: n, projectId, projectName, eventType, status }) => ({
          name: n,
          projectId,
          projectName,
          eventType,
          status,
        })),
    );
    this.failedTestDeliveries = live.apply((l) => l.filter((h) => h.test === "failed").map((h) => h.name));
    this.projectIds = live.apply((l) => [...new Set(l.map((h) => h.projectId))]);
    this.warnings = live.apply((l) => l.flatMap((h) => h.warnings));

    this.registerOutputs({
      hookCount: this.hookCount,
      statusCounts: this.statusCounts,
      hooksNotEnabled: this.hooksNotEnabled,
      failedTestDeliveries: this.failedTestDeliveries,
      warnings: this.warnings,
      projectIds: this.projectIds,
    });
  }
}
