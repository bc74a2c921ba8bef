/**
 * The zx scripts run as real processes. The Pulumi CLI is absent on this machine, so the
 * "no CLI" path is tested as users meet it; the up/drift/rotate flows run against a stand-in
 * `pulumi` executable first on PATH (fixtures/bin/pulumi) that answers with recorded JSON.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REQUIRED_PROVIDERS } from "../../scripts/lib/preflight";
import { startArmStandIn, type ArmStandIn } from "../support/arm-stand-in";
import { previewDriftCounts } from "./fixtures/preview-drift";
import { contributor, rbacAdministrator } from "./fixtures/azure-roles";

// Generous: the other suites of `npm test` load this 2-core machine while these run.
jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, "../..");
const tsxCli = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
const fixtures = path.join(__dirname, "fixtures");
const fakeBin = path.join(fixtures, "bin");
/** The image CI hands the scripts (HOOKFLEET_IMAGE) in most tests. */
const CI_IMAGE = `contosoacr.azurecr.io/hookfleet/receiver@sha256:${"cd".repeat(32)}`;
// A PATH with a shell for zx and node for the stand-in, but no pulumi.
const basePath = [path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Calls the stand-in pulumi received. */
  calls: { argv: string[]; backend: string | null; passphraseSet: boolean; env: string[]; stdin?: string }[];
  project: string;
}

/** A throwaway project (Pulumi.yaml + stacks/) so the local backend lands in a temp dir. */
function makeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-scripts-"));
  fs.copyFileSync(path.join(repoRoot, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.cpSync(path.join(repoRoot, "stacks"), path.join(dir, "stacks"), { recursive: true });
  fs.mkdirSync(path.join(dir, "pulumi-home"));
  return dir;
}

const projects: string[] = [];
afterAll(() => projects.forEach((p) => fs.rmSync(p, { recursive: true, force: true })));

function run(
  script: string,
  args: string[],
  options: {
    fake?: boolean;
    env?: Record<string, string | undefined>;
    previews?: string[];
    outputs?: string;
    /** The outputs a successful `up` leaves ("${config:<key>}": the value set for the key). */
    upOutputs?: unknown;
  } = {},
): Promise<Run> {
  const project = makeProject();
  projects.push(project);
  const log = path.join(project, "pulumi-calls.jsonl");
  const env: Record<string, string | undefined> = {
    PATH: options.fake ? `${fakeBin}${path.delimiter}${basePath}` : basePath,
    HOME: project,
    // An empty Pulumi home: no `pulumi login` of the machine leaks into the backend choice.
    PULUMI_HOME: path.join(project, "pulumi-home"),
    FAKE_PULUMI_LOG: log,
    FAKE_PULUMI_PREVIEWS: (options.previews ?? []).map((f) => path.join(fixtures, f)).join(","),
    FAKE_PULUMI_OUTPUTS: options.outputs ? path.join(fixtures, options.outputs) : "",
    FAKE_PULUMI_UP_OUTPUTS: options.upOutputs === undefined ? "" : JSON.stringify(options.upOutputs),
    // dev, staging and prod run the image CI promotes: named here as CI names it, except where a test
    // is about keeping the deployed one ("image": undefined).
    HOOKFLEET_IMAGE: CI_IMAGE,
    ...options.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, path.join(repoRoot, "scripts", script), ...args], {
      cwd: project,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const calls = fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Run["calls"][number])
        : [];
      resolve({ code, stdout, stderr, calls, project });
    });
  });
}

const withPassphrase = { PULUMI_CONFIG_PASSPHRASE: "" };

describe("every script", () => {
  it.concurrent.each(["up.mjs", "drift.mjs", "rotate.mjs", "sandbox.mjs", "deployed-image.mjs"])(
    "%s --help prints usage and exits 0",
    async (script) => {
      const r = await run(script, ["--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: npm run /);
      expect(r.stdout).toMatch(/--help\s+Show this help/);
    },
  );

  // sandbox.mjs runs without the CLI (on the engine stand-in): test/program/sandbox-loop.test.ts.
  it.concurrent.each([
    ["up.mjs", ["--stack", "dev"]],
    ["drift.mjs", ["--stack", "prod"]],
    ["rotate.mjs", ["--stack", "prod", "--credential", "url-token"]],
  ])("%s without the Pulumi CLI says so, how to install it, and exits 127", async (script, args) => {
    const r = await run(script, args);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("The Pulumi CLI was not found on PATH");
    expect(r.stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
  });
});

describe("argument validation (exit 64, before anything runs)", () => {
  it.concurrent("up needs --stack and a stack file in stacks/", async () => {
    const missing = await run("up.mjs", [], { fake: true });
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("--stack is required");
    const unknown = await run("up.mjs", ["--stack", "qa"], { fake: true });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain(
      "no stack file stacks/Pulumi.qa.yaml (stacks with a file: dev, prod, sandbox, staging)",
    );
    expect(unknown.calls).toEqual([]);
  });

  it.concurrent("rotate refuses an unknown credential, naming the valid ones", async () => {
    const r = await run("rotate.mjs", ["--stack", "prod", "--credential", "password"], { fake: true });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--credential must be one of url-token, basic-password, read-token, pat");
    expect(r.calls).toEqual([]);
  });

  it.concurrent("drift refuses unknown options", async () => {
    const r = await run("drift.mjs", ["--stack", "prod", "--repair"], { fake: true });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("unknown option --repair");
  });
});

describe("up.mjs", () => {
  it.concurrent(
    "uses a local file backend under .pulumi-state/, creates/selects the stack, runs pulumi up, summarises the fleet",
    async () => {
      const r = await run("up.mjs", ["--stack", "dev", "--yes", "--skip-preflight"], {
        fake: true,
        env: withPassphrase,
        outputs: "stack-outputs.json",
      });
      expect(r.stderr).toContain("no backend configured: local file backend, state in .pulumi-state/");
      expect(r.code).toBe(0);
      expect(r.calls.map((c) => c.argv)).toEqual([
        ["stack", "select", "--create", "dev", "--non-interactive"],
        ["up", "--yes", "--non-interactive", "--stack", "dev"],
        ["stack", "output", "--json", "--stack", "dev"],
      ]);
      // After the run: the fleet's state, which hooks are down; never a secret.
      expect(r.stdout).toContain("hooks in contoso: 55 enabled, 1 disabledBySystem");
      expect(r.stdout).toContain("not enabled in contoso: git.push in Payments (disabledBySystem)");
      expect(r.stdout).not.toContain("[secret]");
      const backend = `file://${r.project}/.pulumi-state`;
      expect(r.calls.every((c) => c.backend === backend)).toBe(true);
      expect(fs.existsSync(path.join(r.project, ".pulumi-state"))).toBe(true);
    },
  );

  it.concurrent("keeps a configured backend and passes extra flags through", async () => {
    const r = await run("up.mjs", ["--stack", "prod", "--yes", "--skip-preflight", "--", "--diff"], {
      fake: true,
      env: { ...withPassphrase, PULUMI_BACKEND_URL: "azblob://hookfleet-state" },
    });
    expect(r.code).toBe(0);
    expect(r.calls[1]).toEqual({
      argv: ["up", "--yes", "--non-interactive", "--stack", "prod", "--diff"],
      backend: "azblob://hookfleet-state",
      passphraseSet: true,
      env: ["HOOKFLEET_IMAGE"],
    });
  });

  it.concurrent(
    "keeps the image a promoted-image stack runs (and its registry) when HOOKFLEET_IMAGE is unset",
    async () => {
      const r = await run("up.mjs", ["--stack", "prod", "--yes", "--skip-preflight"], {
        fake: true,
        env: { ...withPassphrase, HOOKFLEET_IMAGE: undefined },
        outputs: "stack-outputs.json",
      });
      expect(r.code).toBe(0);
      const deployed = JSON.parse(fs.readFileSync(path.join(fixtures, "stack-outputs.json"), "utf8"))
        .receiverInfo.image as string;
      expect(r.stderr).toContain(`keeping the image stack prod runs: ${deployed} (set HOOKFLEET_IMAGE`);
      expect(r.calls.map((c) => c.argv)).toEqual([
        ["stack", "select", "--create", "prod", "--non-interactive"],
        ["stack", "output", "--json", "--stack", "prod"],
        ["up", "--yes", "--non-interactive", "--stack", "prod"],
        ["stack", "output", "--json", "--stack", "prod"],
      ]);
      expect(r.calls[2].env).toEqual(["HOOKFLEET_IMAGE", "HOOKFLEET_ACR_RESOURCE_ID"]);
    },
  );

  it.concurrent(
    "does not take a stack whose outputs cannot be read for one with nothing deployed (exit 1, pulumi's words)",
    async () => {
      const r = await run("drift.mjs", ["--stack", "prod"], {
        fake: true,
        env: { ...withPassphrase, HOOKFLEET_IMAGE: undefined, FAKE_PULUMI_OUTPUT_FAIL: "1" },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("could not read stack prod's outputs for the image it runs");
      expect(r.stderr).toContain("the backend did not answer");
      expect(r.stderr).not.toContain("set HOOKFLEET_IMAGE");
      expect(r.calls.map((c) => c.argv)).toEqual([["stack", "output", "--json", "--stack", "prod"]]);
    },
  );

  it.concurrent(
    "refuses a promoted-image stack with no image named and none deployed, before anything runs",
    async () => {
      const r = await run("drift.mjs", ["--stack", "staging"], {
        fake: true,
        env: { ...withPassphrase, HOOKFLEET_IMAGE: undefined },
      });
      expect(r.code).toBe(64);
      expect(r.stderr).toContain(
        "stack staging runs the image CI promotes (hookfleet:imagePromoted) and has none deployed yet",
      );
      expect(r.stderr).toContain("set HOOKFLEET_IMAGE to the image to deploy");
      expect(r.calls.map((c) => c.argv)).toEqual([["stack", "output", "--json", "--stack", "staging"]]);
    },
  );

  it.concurrent(
    "stops before pulumi when the local backend has no passphrase and cannot prompt",
    async () => {
      const r = await run("up.mjs", ["--stack", "dev", "--yes"], { fake: true });
      expect(r.code).toBe(64);
      expect(r.stderr).toContain("set PULUMI_CONFIG_PASSPHRASE");
      expect(r.calls).toEqual([]);
    },
  );

  it.concurrent("exits 1 when pulumi up fails", async () => {
    const r = await run("up.mjs", ["--stack", "dev", "--yes", "--skip-preflight"], {
      fake: true,
      env: { ...withPassphrase, FAKE_PULUMI_UP_EXIT: "255" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pulumi up failed (exit 255)");
  });
});

describe("up.mjs preflight (against a local stand-in of the two ARM endpoints)", () => {
  const subscription = "5b0c1e3a-0000-4000-8000-00000000a5b5";
  const registered = REQUIRED_PROVIDERS.map((namespace) => ({
    namespace,
    registrationState: "Registered" as const,
  }));
  let arm: ArmStandIn | undefined;
  afterEach(async () => {
    await arm?.close();
    arm = undefined;
  });
  const armEnv = (standIn: ArmStandIn) => ({
    ...withPassphrase,
    HOOKFLEET_ARM_ENDPOINT: standIn.endpoint,
    HOOKFLEET_ARM_TOKEN: "stand-in-token",
    ARM_SUBSCRIPTION_ID: subscription,
  });

  it("stops before pulumi up, exit 3, naming each missing provider and right with the az command that fixes it", async () => {
    arm = await startArmStandIn({
      providers: registered.map((p) =>
        p.namespace === "Microsoft.App" ? { ...p, registrationState: "NotRegistered" as const } : p,
      ),
      // Contributor only: everything but Microsoft.Authorization writes (Azure built-in roles reference).
      permissions: { [`/subscriptions/${subscription}`]: [contributor] },
    });
    const r = await run("up.mjs", ["--stack", "dev", "--yes"], { fake: true, env: armEnv(arm) });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`Microsoft.App is NotRegistered in subscription ${subscription}`);
    expect(r.stderr).toContain(
      `az provider register --namespace Microsoft.App --subscription ${subscription} --wait`,
    );
    expect(r.stderr).toContain(
      `the deployer may not Microsoft.Authorization/roleAssignments/write at /subscriptions/${subscription}`,
    );
    expect(r.stderr).toContain(
      `--role "Role Based Access Control Administrator" --scope /subscriptions/${subscription}`,
    );
    expect(r.stderr).toContain("--skip-preflight");
    expect(r.calls.map((c) => c.argv[0])).not.toContain("up");
    expect(arm.requests.map((q) => q.path)).toEqual(
      expect.arrayContaining([
        `/subscriptions/${subscription}/providers`,
        `/subscriptions/${subscription}/providers/Microsoft.Authorization/permissions`,
      ]),
    );
  });

  it("goes on to pulumi up when all is in place", async () => {
    arm = await startArmStandIn({
      providers: registered,
      permissions: { [`/subscriptions/${subscription}`]: [contributor, rbacAdministrator] },
    });
    const r = await run("up.mjs", ["--stack", "dev", "--yes"], { fake: true, env: armEnv(arm) });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/preflight ok: \d+ checks passed/);
    expect(r.calls.map((c) => c.argv[0])).toContain("up");
  });

  it("--skip-preflight asks Azure nothing", async () => {
    arm = await startArmStandIn({ providers: [] });
    const r = await run("up.mjs", ["--stack", "dev", "--yes", "--skip-preflight"], {
      fake: true,
      env: armEnv(arm),
    });
    expect(r.code).toBe(0);
    expect(arm.requests).toEqual([]);
  });

  it("says how to sign in when it cannot ask Azure", async () => {
    arm = await startArmStandIn({ providers: registered });
    const r = await run("up.mjs", ["--stack", "dev", "--yes"], {
      fake: true,
      env: { ...armEnv(arm), HOOKFLEET_ARM_TOKEN: "expired" },
    });
    // The preflight did not run, so it found no problem (3): the run failed (1).
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("preflight could not ask Azure: ARM 401 InvalidAuthenticationToken");
    expect(r.stderr).toContain("az login");
  });
});

describe("drift.mjs", () => {
  it.concurrent("runs the refresh preview gate and prints the drift table, exit 2", async () => {
    const r = await run("drift.mjs", ["--stack", "prod"], {
      fake: true,
      env: withPassphrase,
      previews: ["preview-drift.json"],
    });
    expect(r.code).toBe(2);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["preview", "--stack", "prod", "--refresh", "--expect-no-changes", "--json", "--non-interactive"],
    ]);
    expect(r.stdout).toMatch(
      /^disabled\s+contoso-6ce954b1-git\.push\s+ServiceHook\s+status: disabledBySystem after 8 failed retries → enabled/m,
    );
    expect(r.stdout).toMatch(/^deleted\s+contoso-8a1c2b3d-build\.complete/m);
    expect(r.stdout).toContain("Drift: 5 resource(s)");
    expect(r.stdout).not.toContain("[secret]");
    expect(r.stderr).toContain("npm run drift -- --stack prod --fix");
  });

  it.concurrent("exits 0 with no drift, and writes the summary file for CI", async () => {
    const r = await run("drift.mjs", ["--stack", "prod", "--summary-file", "drift.json"], {
      fake: true,
      env: withPassphrase,
      previews: ["preview-clean.json"],
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No drift");
    expect(JSON.parse(fs.readFileSync(path.join(r.project, "drift.json"), "utf8"))).toMatchObject({
      clean: true,
    });
  });

  it.concurrent("--json prints the summary as JSON", async () => {
    const r = await run("drift.mjs", ["--stack", "prod", "--json"], {
      fake: true,
      env: withPassphrase,
      previews: ["preview-drift.json"],
    });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).counts).toEqual(previewDriftCounts);
  });

  it.concurrent("--fix applies with refresh, checks again and reports the repair", async () => {
    const r = await run("drift.mjs", ["--stack", "prod", "--fix"], {
      fake: true,
      env: withPassphrase,
      previews: ["preview-drift.json", "preview-clean.json"],
    });
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.argv[0])).toEqual(["preview", "up", "preview"]);
    expect(r.calls[1].argv).toEqual(["up", "--stack", "prod", "--refresh", "--yes", "--non-interactive"]);
    expect(r.stderr).toContain("repaired 5 resource(s); stack prod matches the program");
  });

  it.concurrent(
    "--fix --json keeps pulumi's output off stdout: only the two summaries are there",
    async () => {
      const r = await run("drift.mjs", ["--stack", "prod", "--fix", "--json"], {
        fake: true,
        env: withPassphrase,
        previews: ["preview-drift.json", "preview-clean.json"],
      });
      expect(r.code).toBe(0);
      const documents = r.stdout.trim().split(/\n(?=\{)/);
      expect(documents.map((d) => (JSON.parse(d) as { clean: boolean }).clean)).toEqual([false, true]);
      expect(r.stderr).toContain("Updating (prod)");
    },
  );

  it.concurrent("--fix that leaves drift exits 2", async () => {
    const r = await run("drift.mjs", ["--stack", "prod", "--fix"], {
      fake: true,
      env: withPassphrase,
      previews: ["preview-drift.json", "preview-drift.json"],
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("still drifting after the repair");
  });

  it.concurrent(
    "a preview that failed part-way is an error (exit 1) after the rows it found, and --fix repairs nothing",
    async () => {
      const r = await run("drift.mjs", ["--stack", "prod", "--fix"], {
        fake: true,
        env: withPassphrase,
        previews: ["preview-partial-failure.json"],
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^disabled\s+contoso-6ce954b1-git\.push/m);
      expect(r.stderr).toContain("ADO answered 401 listing projects of https://dev.azure.com/fabrikam");
      expect(r.stderr).toContain("the check did not finish: the 1 row(s) above may not be all the drift");
      expect(r.calls.map((c) => c.argv[0])).toEqual(["preview"]);
    },
  );

  it.concurrent("a non-zero pulumi exit other than --expect-no-changes is an error (exit 1)", async () => {
    const r = await run("drift.mjs", ["--stack", "prod", "--json"], {
      fake: true,
      env: { ...withPassphrase, FAKE_PULUMI_PREVIEW_EXIT: "1" },
      previews: ["preview-clean.json"],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: fake pulumi: failed after writing its JSON");
    expect(JSON.parse(r.stdout).errors).toEqual(["pulumi preview failed (exit 1)"]);
  });

  it.concurrent("drift is exit 2 with a CLI before v3.226.0 too (255 and its message)", async () => {
    const r = await run("drift.mjs", ["--stack", "prod"], {
      fake: true,
      env: { ...withPassphrase, FAKE_PULUMI_VERSION: "v3.225.0" },
      previews: ["preview-drift-cli.json"],
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("Drift: 5 resource(s)");
  });

  it.concurrent("a failing program is an error (exit 1) with its message, not drift", async () => {
    const r = await run("drift.mjs", ["--stack", "prod"], {
      fake: true,
      env: withPassphrase,
      previews: ["preview-error.json"],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ADO answered 401 listing projects");
  });
});

describe("sandbox.mjs with the Pulumi CLI", () => {
  it.concurrent(
    "applies the sandbox stack with pulumi up (PAT and revision token in its environment, the product's URL a secret set on stdin) and stops at the first failed check",
    async () => {
      // The stand-in's `up` creates nothing: the check of step 2 fails, as it would if hooks were missing.
      const r = await run("sandbox.mjs", ["--projects", "2"], {
        fake: true,
        env: { HOOKFLEET_IMAGE: undefined },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain("no Pulumi CLI");
      expect(r.stderr).toMatch(/^» checking the Pulumi CLI$/m);
      expect(r.stderr).toMatch(/» 2\/9 up on the Pulumi CLI, no backend configured: local file backend/);
      expect(r.stderr).toMatch(/✖ sandbox step 2 failed: the stack reports no hooks, expected 48/);
      const argv = r.calls.map((c) => c.argv);
      expect(argv[0]).toEqual(["stack", "select", "--create", "sandbox", "--non-interactive"]);
      // Ports in use elsewhere (other suites) are pointed at with `config set`; then up and the outputs.
      const rest = argv.slice(1).filter((a) => a[0] !== "config");
      expect(rest).toEqual([
        ["up", "--stack", "sandbox", "--yes", "--refresh", "--non-interactive", "--skip-preview"],
        ["stack", "output", "--stack", "sandbox", "--json", "--show-secrets"],
      ]);
      // The product's webhook URL, as a user sets what a URL-token product gives: a secret at its
      // destination's path, before the first up; its value on stdin, never in argv; removed at the end.
      const urlKey = "hookfleet:destinations[1].url";
      const setUrl = r.calls.findIndex((c) => c.argv.includes(urlKey) && c.argv[1] === "set");
      expect(r.calls[setUrl].argv).toEqual([
        "config",
        "set",
        "--path",
        "--secret",
        urlKey,
        "--stack",
        "sandbox",
      ]);
      expect(r.calls[setUrl].stdin).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/webhooks\/alw_[A-Za-z0-9]{20,}$/,
      );
      expect(setUrl).toBeLessThan(argv.findIndex((a) => a[0] === "up"));
      expect(argv.at(-1)).toEqual(["config", "rm", "--path", urlKey, "--stack", "sandbox"]);
      for (const call of r.calls) expect(call.argv.join(" ")).not.toContain("alw_");
      expect(r.stderr).not.toMatch(/alw_[A-Za-z0-9]{20,}/);
      for (const call of r.calls) {
        // An empty passphrase: the sandbox's secrets are throwaway.
        expect(call.passphraseSet).toBe(true);
        expect(call.env).toEqual(["AZURE_DEVOPS_EXT_PAT", "HOOKFLEET_RECEIVER_REVISION_TOKEN"]);
        expect(call.backend).toBe(`file://${r.project}/.pulumi-state`);
      }
    },
  );

  it.concurrent("a failing pulumi up stops the sandbox with its output's tail, exit 1", async () => {
    const r = await run("sandbox.mjs", ["--projects", "1"], {
      fake: true,
      env: { FAKE_PULUMI_UP_EXIT: "255" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/✖ .*pulumi up --stack failed \(exit 255\):\nUpdating \(sandbox\)/);
  });

  it.concurrent("refuses a bad project count before starting anything", async () => {
    const r = await run("sandbox.mjs", ["--projects", "0"], { fake: true });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--projects must be a whole number from 1 to 50");
    expect(r.calls).toEqual([]);
  });
});

describe("deployed-image.mjs (for CI steps that run the Pulumi CLI themselves)", () => {
  it.concurrent(
    "prints the image and registry a promoted-image stack keeps, as lines for $GITHUB_ENV",
    async () => {
      const r = await run("deployed-image.mjs", ["--stack", "prod"], {
        fake: true,
        env: { ...withPassphrase, HOOKFLEET_IMAGE: undefined },
        outputs: "stack-outputs.json",
      });
      expect(r.code).toBe(0);
      const info = JSON.parse(
        fs.readFileSync(path.join(fixtures, "stack-outputs.json"), "utf8"),
      ).receiverInfo;
      expect(r.stdout).toBe(
        `HOOKFLEET_IMAGE=${info.image}\nHOOKFLEET_ACR_RESOURCE_ID=${info.acrResourceId}\n`,
      );
    },
  );

  it.concurrent(
    "gives a preview of a stack that runs no image yet a stand-in, and nothing else",
    async () => {
      const r = await run("deployed-image.mjs", ["--stack", "staging", "--preview"], {
        fake: true,
        env: { ...withPassphrase, HOOKFLEET_IMAGE: undefined },
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("HOOKFLEET_IMAGE=not-deployed-yet.invalid/hookfleet/receiver:preview\n");
      const refused = await run("deployed-image.mjs", ["--stack", "staging"], {
        fake: true,
        env: { ...withPassphrase, HOOKFLEET_IMAGE: undefined },
      });
      expect(refused.code).toBe(64);
      expect(refused.stdout).toBe("");
    },
  );
});

describe("rotate.mjs", () => {
  it.concurrent(
    "an emergency rotation sets the nonce and overlap 0, applies, and says how to restore the overlap",
    async () => {
      const r = await run(
        "rotate.mjs",
        ["--stack", "prod", "--credential", "url-token", "--emergency", "--yes"],
        {
          fake: true,
          env: {
            ...withPassphrase,
            FAKE_PULUMI_CONFIG: JSON.stringify({ "hookfleet:urlTokenOverlapHours": "48" }),
            GITHUB_ACTOR: "octocat",
          },
        },
      );
      expect(r.code).toBe(0);
      const argv = r.calls.map((c) => c.argv);
      expect(argv[0]).toEqual(["stack", "select", "prod", "--non-interactive"]);
      expect(argv[1]).toEqual(["config", "get", "hookfleet:urlTokenOverlapHours", "--stack", "prod"]);
      expect(argv[2]).toEqual([
        "config",
        "set",
        "hookfleet:urlTokenRotationNonce",
        expect.stringMatching(/^emergency-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ-octocat$/),
        "--stack",
        "prod",
      ]);
      expect(argv[3]).toEqual(["config", "set", "hookfleet:urlTokenOverlapHours", "0", "--stack", "prod"]);
      expect(argv[4]).toEqual(["up", "--stack", "prod", "--yes", "--non-interactive"]);
      expect(r.stderr).toContain("pulumi config set hookfleet:urlTokenOverlapHours 48");
    },
  );

  it.concurrent("--no-apply only sets the nonce", async () => {
    const r = await run("rotate.mjs", ["--stack", "dev", "--credential", "basic-password", "--no-apply"], {
      fake: true,
      env: withPassphrase,
    });
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.argv.slice(0, 3))).toEqual([
      ["stack", "select", "dev"],
      ["config", "get", "hookfleet:basicPasswordOverlapHours"],
      ["config", "set", "hookfleet:basicPasswordRotationNonce"],
    ]);
  });

  it.concurrent("refuses to rotate a PAT the stack does not manage", async () => {
    const r = await run("rotate.mjs", ["--stack", "dev", "--credential", "pat", "--yes"], {
      fake: true,
      env: { ...withPassphrase, FAKE_PULUMI_CONFIG: JSON.stringify({ "hookfleet:managePat": "false" }) },
    });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("does not manage a PAT");
    expect(r.calls.some((c) => c.argv[1] === "set")).toBe(false);
  });

  it.concurrent("--destination rotates that destination's PAT: its nonce set by path, then up", async () => {
    const destinations = [
      { name: "receiver", kind: "receiver" },
      {
        name: "productb",
        kind: "webhook",
        url: "https://productb.example/hook",
        pat: { scopes: ["vso.work"] },
      },
    ];
    const r = await run(
      "rotate.mjs",
      ["--stack", "prod", "--credential", "pat", "--destination", "productb", "--yes"],
      {
        fake: true,
        env: {
          ...withPassphrase,
          FAKE_PULUMI_CONFIG: JSON.stringify({ "hookfleet:destinations": JSON.stringify(destinations) }),
          GITHUB_ACTOR: "octocat",
          HOOKFLEET_ADO_USER_TOKEN: "entra-user-token",
        },
        upOutputs: {
          patRotations: {
            "destinationPat-productb": {
              rotationNonce: "${config:hookfleet:destinations[1].pat.rotationNonce}",
              pendingRevocations: [],
            },
          },
        },
      },
    );
    expect(r.code).toBe(0);
    const argv = r.calls.map((c) => c.argv);
    expect(argv[1]).toEqual(["config", "get", "hookfleet:destinations", "--stack", "prod"]);
    expect(argv[2]).toEqual([
      "config",
      "set",
      "--path",
      "hookfleet:destinations[1].pat.rotationNonce",
      expect.stringMatching(/^rotate-.+-octocat$/),
      "--stack",
      "prod",
    ]);
    expect(argv[3]).toEqual(["up", "--stack", "prod", "--yes", "--non-interactive"]);
    expect(r.calls[3].env).toContain("HOOKFLEET_ADO_USER_TOKEN");
    expect(argv[4]).toEqual(["stack", "output", "--json", "--stack", "prod"]);
    expect(r.stderr).toContain("the stack outputs confirm it");
    expect(r.stderr).toContain("Reconnect productb with the replacement token");
  });

  const managed = {
    ...withPassphrase,
    FAKE_PULUMI_CONFIG: JSON.stringify({ "hookfleet:managePat": "true" }),
  };

  it.concurrent(
    "a PAT rotation without HOOKFLEET_ADO_USER_TOKEN is refused before anything changes, saying how to get one",
    async () => {
      const r = await run("rotate.mjs", ["--stack", "prod", "--credential", "pat", "--emergency", "--yes"], {
        fake: true,
        env: managed,
      });
      expect(r.code).toBe(64);
      expect(r.stderr).toContain(
        "rotating the stack's PATs needs a Microsoft Entra user token in HOOKFLEET_ADO_USER_TOKEN",
      );
      expect(r.stderr).toContain(
        "export HOOKFLEET_ADO_USER_TOKEN=$(az account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 --query accessToken -o tsv)",
      );
      expect(r.calls.some((c) => c.argv[1] === "set" || c.argv[0] === "up")).toBe(false);
      expect(r.stderr).not.toContain("revoked at once");
    },
  );

  it.concurrent(
    "an emergency PAT rotation that pulumi up did not apply (the user token not accepted) exits 1 and says so",
    async () => {
      // A service principal's token in the variable: the provider defers, `up` succeeds, the PATs keep
      // the nonce they had.
      const r = await run("rotate.mjs", ["--stack", "prod", "--credential", "pat", "--emergency", "--yes"], {
        fake: true,
        env: { ...managed, HOOKFLEET_ADO_USER_TOKEN: "app-only-token" },
        upOutputs: {
          patRotations: {
            "pat-contoso": { rotationNonce: "rotate-2026-10-01T08:00:00Z-alice", pendingRevocations: [] },
            "pat-labs": { rotationNonce: "${config:hookfleet:patRotationNonce}", pendingRevocations: [] },
          },
        },
      });
      expect(r.code).toBe(1);
      expect(r.calls.map((c) => c.argv[0])).toContain("up");
      expect(r.stderr).toMatch(
        /pat-contoso: the rotation was not made \(the PAT still has rotationNonce "rotate-2026-10-01T08:00:00Z-alice", not "emergency-.+"\)/,
      );
      expect(r.stderr).toContain("npm run up -- --stack prod");
      expect(r.stderr).not.toContain("pat-labs");
      // Nothing claims the previous PAT is gone.
      expect(r.stderr).not.toContain("revoked at once");
    },
  );

  it.concurrent("a PAT rotation whose old PAT could not be revoked exits 1 naming it", async () => {
    const r = await run("rotate.mjs", ["--stack", "prod", "--credential", "pat", "--emergency", "--yes"], {
      fake: true,
      env: { ...managed, HOOKFLEET_ADO_USER_TOKEN: "entra-user-token" },
      upOutputs: {
        patRotations: {
          "pat-contoso": {
            rotationNonce: "${config:hookfleet:patRotationNonce}",
            pendingRevocations: [{ authorizationId: "a1b2", validTo: "2027-01-10T00:00:00.000Z" }],
          },
        },
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "pat-contoso: the new PAT is in place, but revoking the PAT(s) it replaced failed: a1b2 (valid until 2027-01-10T00:00:00.000Z)",
    );
    expect(r.stderr).not.toContain("revoked at once");
  });

  it.concurrent(
    "an applied PAT rotation exits 0; --no-apply needs no token and says the up does",
    async () => {
      const done = await run("rotate.mjs", ["--stack", "prod", "--credential", "pat", "--yes"], {
        fake: true,
        env: { ...managed, HOOKFLEET_ADO_USER_TOKEN: "entra-user-token" },
        upOutputs: {
          patRotations: {
            "pat-contoso": { rotationNonce: "${config:hookfleet:patRotationNonce}", pendingRevocations: [] },
            "pat-labs": { rotationNonce: "${config:hookfleet:patRotationNonce}", pendingRevocations: [] },
          },
        },
      });
      expect(done.code).toBe(0);
      expect(done.stderr).toContain("the stack outputs confirm it");
      const later = await run("rotate.mjs", ["--stack", "prod", "--credential", "pat", "--no-apply"], {
        fake: true,
        env: managed,
      });
      expect(later.code).toBe(0);
      expect(later.stderr).toContain("(with HOOKFLEET_ADO_USER_TOKEN set, or the PAT does not rotate)");
      expect(later.calls.some((c) => c.argv[0] === "up")).toBe(false);
    },
  );

  it.concurrent("--destination needs --credential pat and a destination that has a PAT", async () => {
    const wrong = await run(
      "rotate.mjs",
      ["--stack", "prod", "--credential", "url-token", "--destination", "x"],
      {
        fake: true,
        env: withPassphrase,
      },
    );
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toContain("--destination goes with --credential pat");
    const missing = await run(
      "rotate.mjs",
      ["--stack", "prod", "--credential", "pat", "--destination", "x", "--yes"],
      {
        fake: true,
        env: { ...withPassphrase, FAKE_PULUMI_CONFIG: JSON.stringify({ "hookfleet:destinations": "[]" }) },
      },
    );
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("--destination x: no such destination in hookfleet:destinations");
    expect(missing.calls.some((c) => c.argv[1] === "set")).toBe(false);
  });

  it.concurrent("refuses to rotate in a stack that was never deployed", async () => {
    const r = await run("rotate.mjs", ["--stack", "staging", "--credential", "pat", "--yes"], {
      fake: true,
      env: { ...withPassphrase, FAKE_PULUMI_NO_STACK: "1" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "stack staging does not exist yet: deploy it first (npm run up -- --stack staging)",
    );
    expect(r.calls.some((c) => c.argv[0] === "config")).toBe(false);
  });
});
