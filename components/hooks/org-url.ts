/**
 * One spelling per Azure DevOps organization URL, so that writing the same organization differently
 * in stack config (case, a trailing slash, the legacy host) changes nothing in ADO or in state.
 *
 * Facts relied on:
 * - Every organization is reachable as `https://dev.azure.com/{organization}` and, in the legacy
 *   form, `https://{organization}.visualstudio.com`; organization-level REST APIs accept either
 *   (learn.microsoft.com/azure/devops/extend/develop/work-with-urls).
 * - Organization names are English letters, digits and hyphens
 *   (learn.microsoft.com/azure/devops/organizations/accounts/rename-organization). The legacy form
 *   makes each name a DNS label, and DNS names are case-insensitive (RFC 4343), so two
 *   organizations cannot differ only in case: the name is lower-cased.
 * - Old collection-style URLs carried `/DefaultCollection` after the legacy host (a reserved name,
 *   learn.microsoft.com/azure/devops/organizations/settings/naming-restrictions); it names no
 *   organization and is dropped.
 *
 * Any other host (Azure DevOps Server, the ADO emulator) keeps its path as written, because a
 * server's collection names are not known to be case-insensitive: only the scheme and host are
 * lower-cased (as every URL parser does) and trailing slashes dropped.
 */

const SERVICES_HOST = "dev.azure.com";
const LEGACY_SUFFIX = ".visualstudio.com";

/** The canonical spelling of an organization URL, or undefined when `url` is not one. */
export function normaliseOrgUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
  if (u.search || u.hash || u.username || u.password) return undefined;
  const segments = u.pathname.split("/").filter(Boolean);
  const host = u.host; // lower-cased by the URL parser, port kept
  if (host.endsWith(LEGACY_SUFFIX) && host !== `vssps${LEGACY_SUFFIX}`) {
    const org = host.slice(0, -LEGACY_SUFFIX.length);
    const rest = segments.filter((s) => s.toLowerCase() !== "defaultcollection");
    if (!/^[a-z0-9][a-z0-9-]*$/.test(org) || rest.length > 0) return undefined;
    return `https://${SERVICES_HOST}/${org}`;
  }
  if (host === SERVICES_HOST) {
    if (segments.length !== 1 || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(segments[0])) return undefined;
    return `https://${SERVICES_HOST}/${segments[0].toLowerCase()}`;
  }
  if (segments.length === 0) return undefined;
  return `${u.protocol}//${host}/${segments.join("/")}`;
}

/** Like normaliseOrgUrl, for values already validated: an unparsable URL comes back as written. */
export function orgIdentity(url: string): string {
  return normaliseOrgUrl(url) ?? url;
}
