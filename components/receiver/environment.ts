/**
 * Turns the receiver's settings schema (app/settings.ts) into Container App environment entries.
 * Derived from the schema, not a hand-written list: a setting the service starts reading appears
 * here (or fails the deployment loudly when it is required and nobody supplies it).
 */
import { healReceiverSettingNames, healSettings } from "../../app/heal/settings";
import { receiverSettings, type SettingSpec } from "../../app/settings";
import { secretNameFor } from "./names";

/** One Container App `env` entry: exactly one of `value` and `secretRef`. */
export interface EnvEntry<V> {
  name: string;
  value?: V;
  secretRef?: string;
}

/** What the component can supply for the settings. */
export interface EnvironmentSources<V> {
  /** Values for plain settings (missing ones fall back to the schema's default). */
  plain: Record<string, V | undefined>;
  /** Settings whose value the component stores in Key Vault (referenced by secret name). */
  secrets: ReadonlySet<string>;
  /** Container App secret name per setting, where it is not `secretNameFor(setting)` (e.g. a PAT stored under its own key). */
  secretRefs?: Readonly<Record<string, string>>;
  /** Who reads these settings and where they are declared, for error messages; default the receiver's. */
  schema?: { reader: string; declaredIn: string };
}

/**
 * The `env` list for the receiver container (or the heal job, with its own `specs` and `schema`): plain settings as `value` (given value, else the
 * schema default, else left unset), secret settings as `secretRef` to the Container App secret of
 * the same name. Throws when a value is offered for an unknown setting, when a secret-sourced
 * setting is offered as a plain value, or when a setting required in production has no source.
 */
export function receiverEnvironment<V>(
  specs: Readonly<Record<string, SettingSpec>>,
  sources: EnvironmentSources<V>,
): EnvEntry<V | string>[] {
  const { reader, declaredIn } = sources.schema ?? {
    reader: "receiver",
    declaredIn: "app/settings.ts receiverSettings",
  };
  for (const name of [...Object.keys(sources.plain), ...sources.secrets]) {
    if (!(name in specs)) throw new Error(`${reader} setting ${name} is not in ${declaredIn}`);
  }
  const env: EnvEntry<V | string>[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.source === "secret") {
      if (sources.plain[name] !== undefined) {
        throw new Error(
          `${reader} setting ${name} is a secret: it must come from Key Vault, not a plain value`,
        );
      }
      if (sources.secrets.has(name))
        env.push({ name, secretRef: sources.secretRefs?.[name] ?? secretNameFor(name) });
      else if (spec.requiredInProduction) throw missing(reader, name, "a secret value (extraSecrets)");
      continue;
    }
    if (sources.secrets.has(name)) {
      throw new Error(
        `${reader} setting ${name} is plain in ${declaredIn}; pass it in settings, not as a secret`,
      );
    }
    const value = sources.plain[name] ?? spec.default;
    if (value !== undefined) env.push({ name, value });
    else if (spec.requiredInProduction) throw missing(reader, name, "a value (settings)");
  }
  return env;
}

function missing(reader: string, name: string, what: string): Error {
  return new Error(
    `${reader} setting ${name} is required in production but ReceiverInfra has no ${what} for it`,
  );
}

/**
 * Every variable the heal job reads: heal's own schema plus the receiver settings it shares
 * (`healReceiverSettingNames`), with the receiver's specs. Derived, so a setting heal starts
 * reading is set on the job (or, when required and unwired, fails the deployment loudly).
 */
export const healJobSettings: Readonly<Record<string, SettingSpec>> = {
  ...healSettings,
  ...Object.fromEntries(healReceiverSettingNames.map((name) => [name, receiverSettings[name]])),
};
