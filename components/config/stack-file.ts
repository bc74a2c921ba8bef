/**
 * The stack file as written (`Pulumi.<stack>.yaml` in Pulumi.yaml's `stackConfigDir`), read only
 * to see which values in it are `{secure: …}` (plain-text.ts). Values themselves always come from
 * Pulumi's config, which may differ (`--config`, Pulumi ESC): a file that is missing, unreadable or
 * silent about a key just means the key's own secret flag decides.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";

/** The raw value of `key` (e.g. `hookfleet:destinations`) in the stack file, or undefined. */
export function stackFileValue(projectRoot: string, stack: string, key: string): unknown {
  try {
    const project = YAML.parse(readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as {
      stackConfigDir?: string;
    };
    const dir = path.join(projectRoot, project?.stackConfigDir ?? ".");
    const file = YAML.parse(readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8")) as {
      config?: Record<string, unknown>;
    };
    return file?.config?.[key];
  } catch {
    return undefined;
  }
}
