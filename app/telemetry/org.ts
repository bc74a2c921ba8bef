/**
 * The ADO organization an event comes from, as one short key that the receiver (from the event) and
 * the heal job (from its organization URL) both compute the same way: the per-organization "nothing
 * stored" alert joins the two on it. Pure functions.
 */
import { unknownOrg } from "./names";

const MAX_ORG_LENGTH = 100;

/**
 * `https://dev.azure.com/contoso/…` → `contoso`; `https://contoso.visualstudio.com/…` → `contoso`
 * (the two URL forms of Azure DevOps Services); anything else (Azure DevOps Server, a local
 * stand-in) → host and collection path, e.g. `tfs.example.com/tfs/defaultcollection`, cut before
 * the first `_`-segment (`/_apis/…`, `/_git/…`) so a resource URL gives the same key as the
 * collection's. Lower case (organization names are case-insensitive). `unknownOrg` for what is not
 * an http(s) URL.
 */
export function adoOrgName(url: string): string {
  // Every delivery names its organization by the same few URLs: parse each once.
  const known = orgNameCache.get(url);
  if (known !== undefined) return known;
  const name = parseOrgName(url);
  if (orgNameCache.size >= ORG_NAME_CACHE_SIZE) orgNameCache.clear();
  orgNameCache.set(url, name);
  return name;
}

const ORG_NAME_CACHE_SIZE = 1000;
const orgNameCache = new Map<string, string>();

function parseOrgName(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return unknownOrg;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return unknownOrg;
  const host = u.hostname.toLowerCase();
  const segments = u.pathname.split("/").filter(Boolean);
  const firstApiSegment = segments.findIndex((s) => s.startsWith("_"));
  const collection = firstApiSegment === -1 ? segments : segments.slice(0, firstApiSegment);
  let name: string | undefined;
  if (host === "dev.azure.com") name = segments[0];
  else if (host.endsWith(".visualstudio.com")) name = host.slice(0, -".visualstudio.com".length);
  else name = [u.host.toLowerCase(), ...collection].join("/");
  if (!name) return unknownOrg;
  return decodeSafely(name).toLowerCase().slice(0, MAX_ORG_LENGTH);
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The organization of a delivered ADO event. A delivery carries `resourceContainers` with
 * `collection`, `account` and `project`, each `{id, baseUrl}` (../shared/design/azure-devops-facts.md;
 * `ResourceContainer` in ../shared/ado-spec/hooks/7.1/serviceHooks.json): the collection's baseUrl
 * is the organization URL. Sparse payloads (resourceDetailsToSend: none) may lack them, so the
 * account, the project and then the resource's own `url` are tried. `unknownOrg` when none says.
 */
export function orgOfEvent(event: unknown): string {
  const e = obj(event);
  if (!e) return unknownOrg;
  const containers = obj(e.resourceContainers);
  const candidates = [
    str(obj(containers?.collection)?.baseUrl),
    str(obj(containers?.account)?.baseUrl),
    str(obj(containers?.project)?.baseUrl),
    str(obj(e.resource)?.url),
  ];
  for (const url of candidates) {
    if (url === undefined) continue;
    const name = adoOrgName(url);
    if (name !== unknownOrg) return name;
  }
  return unknownOrg;
}

/**
 * Which heal job a run is: the names of the organizations it heals, sorted and comma-joined. The job
 * (from HOOKFLEET_HEAL_ORG_URLS) and the heal-job alert (from the organizations each job is given,
 * components/receiver/alerts.ts) compute it the same way, so that the alert can tell a stack's jobs
 * apart (one per PAT: with managePat, one per organization).
 */
export function healJobKey(orgUrls: readonly string[]): string {
  return [...new Set(orgUrls.filter((u) => u.trim() !== "").map((u) => adoOrgName(u.trim())))]
    .sort()
    .join(",");
}
