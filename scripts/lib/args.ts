/**
 * Command-line parsing shared by the zx scripts: one declarative spec per script gives parsing,
 * validation with clear messages, and the --help text, so the three never disagree.
 */

/**
 * Exit codes of every command (scripts here and the app/ entry points): 0 ok, 1 failed, 2 drift
 * (drift.mjs), 64 bad arguments or configuration, 127 no Pulumi CLI. Defined in app/ because the
 * receiver and heal entry points ship in the container image without scripts/.
 */
export { EXIT } from "../../app/exit-codes";

export interface OptionSpec {
  /** Long flag name without dashes, e.g. `stack`. */
  name: string;
  /** `string` takes a value (`--stack dev` or `--stack=dev`); `boolean` is a switch. */
  type: "string" | "boolean";
  /** One line for --help. */
  description: string;
  required?: boolean;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** Shown in --help; applied when the option is absent. */
  default?: string | boolean;
  /** Placeholder in --help, e.g. `<env>`. */
  valueName?: string;
}

export interface CommandSpec {
  /** How the user runs it, e.g. `npm run up -- --stack <env>`. */
  usage: string;
  /** What the command does, a few lines. */
  summary: string;
  options: readonly OptionSpec[];
  /** Extra lines at the end of --help (examples, environment variables). */
  epilogue?: string;
}

export type ParsedValues = Record<string, string | boolean | undefined>;

export type ParseResult =
  | { kind: "help" }
  | { kind: "error"; errors: string[] }
  | {
      kind: "ok";
      values: ParsedValues;
      /** Everything after a literal `--`, passed through to the Pulumi CLI. */
      passthrough: string[];
    };

const HELP_OPTION: OptionSpec = { name: "help", type: "boolean", description: "Show this help and exit." };

/** Parses argv (without node and script path) against the spec. Never throws, never exits. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParseResult {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const values: ParsedValues = {};
  const errors: string[] = [];
  const passthrough: string[] = [];
  // Options given with a bad value: already reported, so not also reported as missing.
  const mentioned = new Set<string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      passthrough.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (!arg.startsWith("--")) {
      errors.push(`unexpected argument "${arg}" (options start with --; see --help)`);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inlineValue = eq === -1 ? undefined : arg.slice(eq + 1);
    const option = byName.get(name) ?? (name.startsWith("no-") ? byName.get(name.slice(3)) : undefined);
    if (!option) {
      errors.push(`unknown option --${name} (see --help)`);
      continue;
    }
    mentioned.add(option.name);
    if (option.type === "boolean") {
      if (inlineValue !== undefined && !["true", "false"].includes(inlineValue)) {
        errors.push(`--${option.name} is a switch: use --${option.name} or --${option.name}=false`);
        continue;
      }
      values[option.name] = name.startsWith("no-") ? false : inlineValue !== "false";
      continue;
    }
    let value = inlineValue;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        errors.push(
          `--${option.name} needs a value${option.choices ? `: ${option.choices.join(" | ")}` : ""}`,
        );
        continue;
      }
      value = next;
      i++;
    }
    if (value === "") {
      errors.push(`--${option.name} must not be empty`);
      continue;
    }
    if (option.choices && !option.choices.includes(value)) {
      errors.push(`--${option.name} must be one of ${option.choices.join(", ")} (got "${value}")`);
      continue;
    }
    values[option.name] = value;
  }

  for (const option of spec.options) {
    if (values[option.name] !== undefined || mentioned.has(option.name)) continue;
    if (option.required) errors.push(`--${option.name} is required (${option.description})`);
    else if (option.default !== undefined) values[option.name] = option.default;
  }
  return errors.length > 0 ? { kind: "error", errors } : { kind: "ok", values, passthrough };
}

/** The --help text. */
export function formatHelp(spec: CommandSpec): string {
  const rows = [...spec.options, HELP_OPTION].map((o) => {
    const placeholder =
      o.type === "string" ? ` ${o.valueName ?? (o.choices ? o.choices.join("|") : "<value>")}` : "";
    const notes = [
      o.required ? "required" : undefined,
      o.default !== undefined && o.default !== false ? `default: ${String(o.default)}` : undefined,
    ].filter(Boolean);
    return {
      left: `  --${o.name}${placeholder}`,
      right: `${o.description}${notes.length ? ` (${notes.join(", ")})` : ""}`,
    };
  });
  const width = Math.max(...rows.map((r) => r.left.length)) + 2;
  const lines = [
    `Usage: ${spec.usage}`,
    "",
    spec.summary,
    "",
    "Options:",
    ...rows.map((r) => r.left.padEnd(width) + r.right),
  ];
  if (spec.epilogue) lines.push("", spec.epilogue);
  return lines.join("\n");
}

/** Stack names Pulumi accepts: letters, digits, `-`, `_`, `.`; optionally `org/project/stack`. */
export function validateStackName(stack: string): string | undefined {
  return /^([A-Za-z0-9][A-Za-z0-9._-]*\/){0,2}[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stack)
    ? undefined
    : `invalid stack name "${stack}": use letters, digits, "-", "_" or "."`;
}
