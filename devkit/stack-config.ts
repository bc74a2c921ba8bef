/**
 * Stack config as the Pulumi CLI hands it to a program: Pulumi.yaml's declared defaults, overlaid
 * with stacks/Pulumi.<stack>.yaml, every value a string (objects as JSON), keys `hookfleet:<key>`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";

export const repoRoot = path.resolve(__dirname, "..");

interface Declaration {
  type?: string;
  default?: unknown;
  description?: string;
  secret?: boolean;
}

export function projectDeclarations(): Record<string, Declaration> {
  const project = YAML.parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, Declaration>;
  };
  return project.config;
}

export function stackFile(stack: string, file?: string): Record<string, unknown> {
  const doc = YAML.parse(
    fs.readFileSync(file ?? path.join(repoRoot, "stacks", `Pulumi.${stack}.yaml`), "utf8"),
  ) as {
    config: Record<string, unknown>;
  };
  return doc.config;
}

const asConfigString = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** Defaults first, then the stack's values: what `pulumi up --stack <stack>` gives the program. */
export function effectiveConfig(stackConfig: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, decl] of Object.entries(projectDeclarations())) {
    if (decl.default !== undefined) result[`hookfleet:${key}`] = asConfigString(decl.default);
  }
  for (const [key, value] of Object.entries(stackConfig)) result[key] = asConfigString(value);
  return result;
}

export interface OrgEntry {
  url: string;
  name?: string;
  projects?: unknown;
  events?: unknown[];
}

/** The `hookfleet:organizations` list of a stack. */
export function organizationsOf(stackConfig: Record<string, unknown>): OrgEntry[] {
  return stackConfig["hookfleet:organizations"] as OrgEntry[];
}

/** The ADO org name in an organization URL (its last path segment). */
export function orgSegment(url: string): string {
  return url.replace(/\/+$/, "").split("/").pop()!;
}
