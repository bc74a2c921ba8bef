/**
 * Finding the Pulumi CLI, choosing its backend, and locating stack files: the decisions the
 * scripts make before they run `pulumi`, kept pure (inputs in, decision out) so they are tested
 * without a CLI on the machine.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The nearest directory at or above `start` holding Pulumi.yaml. */
export function findProjectRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The project directory. Found from the working directory first: when tsx loads this module
 * from an .mjs script, `__dirname` is not reliably this file's directory.
 */
export const REPO_ROOT = findProjectRoot(process.cwd()) ?? findProjectRoot(__dirname) ?? process.cwd();

/** Where the local file backend keeps state when no backend is configured. */
const LOCAL_STATE_DIR = ".pulumi-state";

/** Full path of an executable on PATH, or undefined. Windows extensions are honoured there. */
export function findExecutable(
  name: string,
  envPath: string | undefined = process.env.PATH,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const extensions = platform === "win32" ? ["", ".exe", ".cmd", ".bat"] : [""];
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext);
      try {
        const stat = fs.statSync(candidate);
        if (!stat.isFile()) continue;
        if (platform !== "win32") fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // Not here, or not executable: keep looking along PATH.
      }
    }
  }
  return undefined;
}

/** What to tell someone who has no Pulumi CLI: one install command for their platform. */
export function installHint(platform: NodeJS.Platform = process.platform): string {
  const command =
    platform === "win32"
      ? "winget install pulumi   (or: choco install pulumi)"
      : platform === "darwin"
        ? "brew install pulumi/tap/pulumi   (or: curl -fsSL https://get.pulumi.com | sh)"
        : "curl -fsSL https://get.pulumi.com | sh   (then open a new shell so ~/.pulumi/bin is on PATH)";
  return [
    "The Pulumi CLI was not found on PATH. HookFleet's scripts drive it to preview and apply stacks.",
    `Install it:  ${command}`,
    "Docs: https://www.pulumi.com/docs/iac/download-install/  — then check with `pulumi version`.",
  ].join("\n");
}

export interface BackendInputs {
  env: NodeJS.ProcessEnv;
  /** The `backend.url` of Pulumi.yaml, if it has one. */
  projectBackendUrl?: string;
  /** The `current` field of ~/.pulumi/credentials.json (the `pulumi login` in effect), if any. */
  loggedInUrl?: string;
  repoRoot: string;
}

export interface BackendChoice {
  /** The backend URL Pulumi will use. */
  url: string;
  /** Environment to add to every `pulumi` child process (empty when the user's choice stands). */
  env: Record<string, string>;
  /** One line for the progress output. */
  description: string;
  /** True when the scripts chose the local file backend themselves. */
  local: boolean;
}

/**
 * The user's backend wins (PULUMI_BACKEND_URL, Pulumi.yaml, `pulumi login`, or a Pulumi Cloud
 * access token); otherwise state goes to the local file backend under .pulumi-state/, set through
 * the environment of the child process so that no global `pulumi login` is changed.
 */
export function chooseBackend(inputs: BackendInputs): BackendChoice {
  const { env } = inputs;
  if (env.PULUMI_BACKEND_URL) {
    return {
      url: env.PULUMI_BACKEND_URL,
      env: {},
      description: "backend from PULUMI_BACKEND_URL",
      local: false,
    };
  }
  if (inputs.projectBackendUrl) {
    return { url: inputs.projectBackendUrl, env: {}, description: "backend from Pulumi.yaml", local: false };
  }
  if (inputs.loggedInUrl) {
    return { url: inputs.loggedInUrl, env: {}, description: "backend from `pulumi login`", local: false };
  }
  if (env.PULUMI_ACCESS_TOKEN) {
    return {
      url: "https://api.pulumi.com",
      env: {},
      description: "Pulumi Cloud (PULUMI_ACCESS_TOKEN is set)",
      local: false,
    };
  }
  const dir = path.join(inputs.repoRoot, LOCAL_STATE_DIR);
  const url = `file://${dir.split(path.sep).join("/")}`;
  return {
    url,
    env: { PULUMI_BACKEND_URL: url },
    description: `no backend configured: local file backend, state in ${LOCAL_STATE_DIR}/`,
    local: true,
  };
}

/** Reads what chooseBackend needs from disk (Pulumi.yaml and the CLI's credentials file). */
export function readBackendInputs(env: NodeJS.ProcessEnv = process.env, repoRoot = REPO_ROOT): BackendInputs {
  let projectBackendUrl: string | undefined;
  try {
    const project = fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8");
    // A line-level match is enough: `backend:` then an indented `url:` in Pulumi.yaml.
    projectBackendUrl = /^backend:\s*\n\s+url:\s*["']?([^"'\s]+)/m.exec(project)?.[1];
  } catch {
    // No project file: the scripts report that separately.
  }
  let loggedInUrl: string | undefined;
  try {
    const home = env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
    const credentials = JSON.parse(fs.readFileSync(path.join(home, "credentials.json"), "utf8")) as {
      current?: string;
    };
    loggedInUrl = credentials.current || undefined;
  } catch {
    // Never logged in.
  }
  return { env, projectBackendUrl, loggedInUrl, repoRoot };
}

/**
 * The passphrase secrets provider (the default with a file backend) prompts when it has no
 * passphrase; with no terminal to prompt on, that would hang or fail obscurely, so say it first.
 */
export function passphraseProblem(
  env: NodeJS.ProcessEnv,
  backend: BackendChoice,
  interactive: boolean,
): string | undefined {
  if (!backend.url.startsWith("file://")) return undefined;
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE) return undefined;
  if (interactive) return undefined;
  return (
    "the local backend encrypts stack secrets with a passphrase and this run cannot prompt for it: " +
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE)"
  );
}

/** Path of a stack's config file in stacks/. */
export function stackFilePath(stack: string, repoRoot = REPO_ROOT): string {
  // `org/project/dev` keeps its config in Pulumi.dev.yaml.
  const short = stack.split("/").pop() ?? stack;
  return path.join(repoRoot, "stacks", `Pulumi.${short}.yaml`);
}

/** Stack names that have a config file in stacks/. */
export function availableStacks(repoRoot = REPO_ROOT): string[] {
  try {
    return fs
      .readdirSync(path.join(repoRoot, "stacks"))
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((s): s is string => Boolean(s))
      .sort();
  } catch {
    return [];
  }
}

/** An error message when the stack has no config file, naming the ones that exist. */
export function missingStackProblem(stack: string, repoRoot = REPO_ROOT): string | undefined {
  if (fs.existsSync(stackFilePath(stack, repoRoot))) return undefined;
  const known = availableStacks(repoRoot);
  return (
    `no stack file ${path.relative(repoRoot, stackFilePath(stack, repoRoot))} ` +
    `(stacks with a file: ${known.length ? known.join(", ") : "none"})`
  );
}

/** One progress line saying how the program and the hook provider will reach ADO (never the PAT). */
export function adoAccessDescription(env: NodeJS.ProcessEnv): string {
  return env.AZURE_DEVOPS_EXT_PAT
    ? "ADO access: the PAT in AZURE_DEVOPS_EXT_PAT"
    : "ADO access: no AZURE_DEVOPS_EXT_PAT, so Microsoft Entra (DefaultAzureCredential: az login, workload identity, managed identity)";
}

/**
 * Whether a non-zero exit of `pulumi preview --expect-no-changes` means only "changes were
 * proposed" (drift) and not that pulumi or the program failed. Since v3.226.0 the CLI exits 7 for
 * it (ExitNoChanges for NoChangesExpectedError, pkg/cmd/pulumi/cmd/exit_codes.go; a failed run
 * exits 1, other failures their own codes). Before, every error exited 255 (`os.Exit(-1)`,
 * pkg/cmd/pulumi/main.go) and this one said "no changes were expected but changes were proposed"
 * (pkg/cmd/pulumi/operations/preview.go; "… expected for preview but …" since v3.226.0).
 */
export function onlyChangesProposed(exitCode: number, stderr: string): boolean {
  return exitCode === 7 || /no changes were expected\b.*\bbut changes were proposed/.test(stderr);
}
