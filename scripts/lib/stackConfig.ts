/**
 * The stack-config changes the scripts make, as data: which `pulumi config set` calls a rotation
 * needs, and how the sandbox points a stack at local servers. The keys are the ones declared in
 * Pulumi.yaml (project namespace `hookfleet`).
 */

export const PROJECT = "hookfleet";

export const CREDENTIALS = ["url-token", "basic-password", "read-token", "pat"] as const;
export type Credential = (typeof CREDENTIALS)[number];

/** Config key prefix per credential, e.g. `urlToken` → `urlTokenRotationNonce`. */
const KEY_PREFIX: Record<Credential, string> = {
  "url-token": "urlToken",
  "basic-password": "basicPassword",
  "read-token": "readToken",
  pat: "pat",
};

export function rotationKeys(credential: Credential): {
  nonce: string;
  overlapHours: string;
  everyDays: string;
} {
  const p = KEY_PREFIX[credential];
  return {
    nonce: `${PROJECT}:${p}RotationNonce`,
    overlapHours: `${PROJECT}:${p}OverlapHours`,
    everyDays: `${PROJECT}:${p}RotateEveryDays`,
  };
}

export interface ConfigSet {
  key: string;
  value: string;
  /** Passed as `--path` (the key addresses inside a structured value). */
  path?: boolean;
  /** Passed as `--secret`: encrypted in the stack file; the value goes on stdin (configSetArgs). */
  secret?: boolean;
}

export interface RotationPlan {
  /** The new rotation nonce: the credential has rotated once its resource has applied it. */
  nonce: string;
  sets: ConfigSet[];
  /** Lines the script prints after applying (what changed, what to do next). */
  notes: string[];
}

/**
 * A rotation is a new nonce: the credential resource sees its nonce input change and rotates on
 * the next `up`. The nonce records who asked when (it lands in the stack file, so in git). An
 * emergency also sets the overlap to 0 so the previous secret stops working at once.
 */
export function planRotation(options: {
  credential: Credential;
  emergency: boolean;
  now: Date;
  /** Who asked, for the audit trail (e.g. $USER or the CI actor). */
  requestedBy?: string;
  /** The overlap in effect before an emergency, to tell how to restore it. */
  previousOverlapHours?: string;
}): RotationPlan {
  const keys = rotationKeys(options.credential);
  const stamp = options.now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const who = (options.requestedBy ?? "").replace(/[^A-Za-z0-9._@-]/g, "") || "unknown";
  const nonce = `${options.emergency ? "emergency" : "rotate"}-${stamp}-${who}`;
  const sets: ConfigSet[] = [{ key: keys.nonce, value: nonce }];
  const notes = [`${options.credential}: ${keys.nonce} = ${nonce}`];
  if (options.emergency) {
    sets.push({ key: keys.overlapHours, value: "0" });
    const restore = options.previousOverlapHours ?? "48";
    notes.push(
      `${options.credential}: ${keys.overlapHours} = 0 (the previous secret is rejected at once).`,
      `Once the incident is over, restore the overlap: pulumi config set ${keys.overlapHours} ${restore} --stack <env>`,
    );
  }
  if (options.credential === "pat") {
    notes.push(
      "PAT rotation calls the ADO PAT API, which accepts only a Microsoft Entra user token: run this as a person (az login), not as a CI service principal.",
    );
  }
  return { nonce, sets, notes };
}

/**
 * Rotating the PAT a destination hands to a hosted product (`hookfleet:destinations[i].pat`): a new
 * nonce at that path (set with `--path`); an emergency also sets its overlap to 0, so the previous PAT
 * is revoked by the same `up`. `destinations` is the key's value as `pulumi config get` prints it.
 */
export function planDestinationPatRotation(options: {
  destinations: unknown;
  destination: string;
  emergency: boolean;
  now: Date;
  requestedBy?: string;
}): RotationPlan {
  const list = Array.isArray(options.destinations) ? (options.destinations as Record<string, unknown>[]) : [];
  const index = list.findIndex((d) => d && d.name === options.destination);
  const names = list.map((d) => d?.name).filter((n): n is string => typeof n === "string");
  if (index < 0)
    throw new Error(
      `--destination ${options.destination}: no such destination in ${PROJECT}:destinations` +
        (names.length ? ` (${names.join(", ")})` : " (the stack lists none)"),
    );
  const pat = list[index].pat as Record<string, unknown> | undefined;
  if (!pat || typeof pat !== "object")
    throw new Error(`--destination ${options.destination} has no pat in ${PROJECT}:destinations[${index}]`);
  const at = `${PROJECT}:destinations[${index}].pat`;
  const stamp = options.now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const who = (options.requestedBy ?? "").replace(/[^A-Za-z0-9._@-]/g, "") || "unknown";
  const nonce = `${options.emergency ? "emergency" : "rotate"}-${stamp}-${who}`;
  const sets: ConfigSet[] = [{ key: `${at}.rotationNonce`, value: nonce, path: true }];
  const notes = [`pat of ${options.destination}: ${at}.rotationNonce = ${nonce}`];
  if (options.emergency) {
    sets.push({ key: `${at}.overlapHours`, value: "0", path: true });
    const restore = typeof pat.overlapHours === "number" ? String(pat.overlapHours) : undefined;
    notes.push(
      `pat of ${options.destination}: ${at}.overlapHours = 0 (the previous PAT is revoked at once).`,
      restore
        ? `Once the incident is over, restore the overlap: pulumi config set --path '${at}.overlapHours' ${restore} --stack <env>`
        : `Once the incident is over, remove the overlap to restore the default: pulumi config rm --path '${at}.overlapHours' --stack <env>`,
    );
  }
  notes.push(
    `Reconnect ${options.destination} with the replacement token (pulumi stack output destinationPats --show-secrets)` +
      (options.emergency
        ? " now: the previous one no longer works."
        : ", before the overlap ends (npm run up says by when)."),
    "PAT rotation calls the ADO PAT API, which accepts only a Microsoft Entra user token: run this as a person (az login), not as a CI service principal.",
  );
  return { nonce, sets, notes };
}

/**
 * `pulumi config set` argv for one change. A secret's value is left out: the caller writes it to the
 * command's stdin, where `pulumi config set` reads a value not given when stdin is not a terminal
 * (pulumi/pulumi pkg/cmd/pulumi/config/config.go, configSetCmd; the CLI docs: "Multi-line values may
 * be set by piping a file to standard in"), so it never shows in a process list.
 */
export function configSetArgs(set: ConfigSet, stack: string): string[] {
  return [
    "config",
    "set",
    ...(set.path ? ["--path"] : []),
    ...(set.secret ? ["--secret", set.key] : [set.key, set.value]),
    "--stack",
    stack,
  ];
}

/**
 * `hookfleet:destinations[1].url` → the key `hookfleet:destinations` and the path [1, "url"] inside it:
 * the part of `pulumi config set --path`'s syntax the scripts use (`[n]`, `.name`; not `["quoted"]`).
 */
export function splitConfigPath(key: string): { key: string; path: (string | number)[] } {
  const m = /^([^.[\]]+)((?:\[\d+\]|\.[A-Za-z_][\w-]*)*)$/.exec(key);
  if (!m) throw new Error(`not a config path: ${key}`);
  const path = [...m[2].matchAll(/\[(\d+)\]|\.([A-Za-z_][\w-]*)/g)].map((p) =>
    p[1] !== undefined ? Number(p[1]) : p[2],
  );
  return { key: m[1], path };
}

/** `pulumi config rm` argv for one key (`--path` inside a structured value). */
export function configRmArgs(key: string, stack: string, options: { path?: boolean } = {}): string[] {
  return ["config", "rm", ...(options.path ? ["--path"] : []), key, "--stack", stack];
}

/**
 * The sandbox points the stack at the receiver, its host's revision endpoint and the emulator it
 * started (ports chosen at run time).
 */
export function sandboxConfig(options: {
  receiverUrl: string;
  receiverRevisionUrl: string;
  organizationUrl: string;
}): ConfigSet[] {
  return [
    { key: `${PROJECT}:deployReceiver`, value: "false" },
    { key: `${PROJECT}:receiverUrl`, value: options.receiverUrl },
    { key: `${PROJECT}:organizations[0].url`, value: options.organizationUrl, path: true },
    { key: `${PROJECT}:receiverRevisionUrl`, value: options.receiverRevisionUrl },
  ];
}
