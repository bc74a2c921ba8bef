/**
 * `hookfleet:organizations` and the project and event selections it shares with
 * `hookfleet:destinations`: pure parsers, each error naming the key (objects cannot be typed in
 * Pulumi.yaml, pulumi/pulumi#11321, so the shape is checked here).
 */
import { eventTypeInfo } from "../../ado/events";
import type { ProjectFilter } from "../../ado/types";
import type { EventSelection } from "../hooks/hook-fleet";
import { normaliseOrgUrl } from "../hooks/org-url";

export interface OrganizationConfig {
  /** Organization URL in its canonical spelling (components/hooks/org-url.ts). */
  url: string;
  /** Short name used in resource names (lower case). */
  name: string;
  /** Which projects get hooks, unless a destination says otherwise. */
  projects: "all" | ProjectFilter;
  /** Event types for the receiver's hooks; undefined: HookFleet's defaults. */
  events?: EventSelection[];
}

/** Letters, digits and "-", at most 31: names end up in resource names. */
export const SHORT_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/i;

/** Validates `hookfleet:organizations`. */
export function parseOrganizations(raw: unknown): OrganizationConfig[] {
  const where = "hookfleet:organizations";
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new Error(`${where} must list at least one organization: [{url: https://dev.azure.com/<org>, …}]`);
  }
  const orgs = raw.map((entry: unknown, i): OrganizationConfig => {
    const at = `${where}[${i}]`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${at} must be an object with a url`);
    const o = entry as Record<string, unknown>;
    // One spelling per organization (case, trailing slash, legacy {org}.visualstudio.com): a
    // different spelling of the same org must not rename (and so recreate) its hooks.
    const url = typeof o.url === "string" ? normaliseOrgUrl(o.url) : undefined;
    if (!url) {
      throw new Error(`${at}.url must be an organization URL such as https://dev.azure.com/contoso`);
    }
    const name = typeof o.name === "string" && o.name ? o.name : url.split("/").pop()!;
    if (!SHORT_NAME.test(name)) {
      throw new Error(
        `${at}.name "${name}" must be letters, digits and "-" (at most 31), used in resource names`,
      );
    }
    return {
      url,
      name: name.toLowerCase(),
      projects: parseProjects(o.projects, at),
      events: parseEvents(o.events, at),
    };
  });
  const names = orgs.map((o) => o.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`${where}: two organizations are named "${twice}"; set a distinct name on one`);
  return orgs;
}

/** `projects`: "all", a list of project names (or ids), or `{include, exclude}` name globs. */
export function parseProjects(raw: unknown, at: string): "all" | ProjectFilter {
  if (raw === undefined || raw === "all") return "all";
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string" && s !== "");
  if (strings(raw)) return { names: raw as string[] };
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { include, exclude, ...rest } = raw as Record<string, unknown>;
    if (
      Object.keys(rest).length === 0 &&
      (include === undefined || strings(include)) &&
      (exclude === undefined || strings(exclude))
    ) {
      return { include: include as string[] | undefined, exclude: exclude as string[] | undefined };
    }
  }
  throw new Error(
    `${at}.projects must be "all", a list of project names, or {include: [globs], exclude: [globs]}`,
  );
}

/**
 * `events`: event type ids or `{type, filters}` entries, each checked against the catalogue
 * (ado/events.ts): an unknown type, an unknown filter or a type listed twice names its key.
 * Undefined when absent (the caller's default applies).
 */
export function parseEvents(raw: unknown, at: string): EventSelection[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new Error(`${at}.events must be a list of event type ids`);
  const seen = new Map<string, number>();
  return raw.map((e: unknown, j): EventSelection => {
    const key = `${at}.events[${j}]`;
    let selection: EventSelection;
    if (typeof e === "string") selection = { eventType: e, filters: {} };
    else {
      const o = e as Record<string, unknown> | null;
      if (!o || typeof o.type !== "string")
        throw new Error(`${key} must be an event type id or {type, filters}`);
      const filters = (o.filters ?? {}) as Record<string, unknown>;
      if (
        typeof filters !== "object" ||
        Array.isArray(filters) ||
        Object.values(filters).some((v) => typeof v !== "string")
      ) {
        throw new Error(`${key}.filters must map publisher inputs to strings`);
      }
      selection = { eventType: o.type, filters: filters as Record<string, string> };
    }
    const info = eventTypeInfo(selection.eventType);
    if (!info) {
      throw new Error(
        `${key} is "${selection.eventType}", which is not an ADO event type HookFleet knows (ado/events.ts), e.g. git.push, git.pullrequest.created, workitem.updated, build.complete`,
      );
    }
    for (const filter of Object.keys(selection.filters ?? {})) {
      if (!info.filters.includes(filter)) {
        throw new Error(
          `${key}.filters.${filter} is not a filter of ${info.eventType} (known: ${info.filters.join(", ")})`,
        );
      }
    }
    const first = seen.get(selection.eventType);
    if (first !== undefined)
      throw new Error(`${key} lists ${selection.eventType} again (see ${at}.events[${first}])`);
    seen.set(selection.eventType, j);
    return selection;
  });
}
