import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  adoAccessDescription,
  availableStacks,
  chooseBackend,
  findExecutable,
  findProjectRoot,
  installHint,
  missingStackProblem,
  onlyChangesProposed,
  passphraseProblem,
  readBackendInputs,
  stackFilePath,
} from "../../scripts/lib/pulumiCli";

const repoRoot = path.resolve(__dirname, "../..");
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-cli-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("findExecutable", () => {
  it("finds an executable file on PATH and skips non-executable ones and directories", () => {
    const a = path.join(tmp, "a");
    const b = path.join(tmp, "b");
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, "pulumi"), "not executable", { mode: 0o644 });
    fs.mkdirSync(path.join(a, "tool"));
    fs.writeFileSync(path.join(b, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    expect(findExecutable("pulumi", [a, b].join(path.delimiter), "linux")).toBe(path.join(b, "pulumi"));
    expect(findExecutable("tool", a, "linux")).toBeUndefined();
    expect(findExecutable("pulumi", "", "linux")).toBeUndefined();
    expect(findExecutable("pulumi", undefined, "linux")).toBeUndefined();
  });
});

describe("installHint", () => {
  it("gives the install command for the platform", () => {
    expect(installHint("linux")).toContain("curl -fsSL https://get.pulumi.com | sh");
    expect(installHint("darwin")).toContain("brew install pulumi/tap/pulumi");
    expect(installHint("win32")).toContain("winget install pulumi");
    expect(installHint("linux")).toMatch(/not found on PATH/);
  });
});

describe("chooseBackend", () => {
  it("keeps the user's backend: environment, then Pulumi.yaml, then `pulumi login`, then an access token", () => {
    const base = { env: {}, repoRoot };
    expect(chooseBackend({ ...base, env: { PULUMI_BACKEND_URL: "azblob://state" } })).toMatchObject({
      url: "azblob://state",
      env: {},
      local: false,
    });
    expect(chooseBackend({ ...base, projectBackendUrl: "s3://b" }).url).toBe("s3://b");
    expect(chooseBackend({ ...base, loggedInUrl: "https://api.pulumi.com" })).toMatchObject({ local: false });
    expect(chooseBackend({ ...base, env: { PULUMI_ACCESS_TOKEN: "pul-x" } })).toMatchObject({ local: false });
  });

  it("falls back to a file backend under .pulumi-state/, given to pulumi through its environment", () => {
    const choice = chooseBackend({ env: {}, repoRoot: "/srv/hookfleet" });
    expect(choice).toEqual({
      url: "file:///srv/hookfleet/.pulumi-state",
      env: { PULUMI_BACKEND_URL: "file:///srv/hookfleet/.pulumi-state" },
      description: "no backend configured: local file backend, state in .pulumi-state/",
      local: true,
    });
  });
});

describe("readBackendInputs", () => {
  it("reads the project backend from Pulumi.yaml and the login from PULUMI_HOME/credentials.json", () => {
    fs.writeFileSync(
      path.join(tmp, "Pulumi.yaml"),
      "name: x\nbackend:\n  url: file://~/state\nruntime: nodejs\n",
    );
    fs.mkdirSync(path.join(tmp, "home"));
    fs.writeFileSync(
      path.join(tmp, "home", "credentials.json"),
      JSON.stringify({ current: "https://api.pulumi.com" }),
    );
    const inputs = readBackendInputs({ PULUMI_HOME: path.join(tmp, "home") }, tmp);
    expect(inputs.projectBackendUrl).toBe("file://~/state");
    expect(inputs.loggedInUrl).toBe("https://api.pulumi.com");
  });

  it("finds neither in this repository with an empty PULUMI_HOME, so the scripts choose the local backend", () => {
    const inputs = readBackendInputs({ PULUMI_HOME: tmp }, repoRoot);
    expect(inputs.projectBackendUrl).toBeUndefined();
    expect(inputs.loggedInUrl).toBeUndefined();
    expect(chooseBackend(inputs).local).toBe(true);
  });
});

describe("passphraseProblem", () => {
  const local = chooseBackend({ env: {}, repoRoot });
  it("stops a non-interactive run on the file backend that has no passphrase", () => {
    expect(passphraseProblem({}, local, false)).toMatch(/PULUMI_CONFIG_PASSPHRASE/);
    expect(passphraseProblem({ PULUMI_CONFIG_PASSPHRASE: "" }, local, false)).toBeUndefined();
    expect(passphraseProblem({ PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }, local, false)).toBeUndefined();
    expect(passphraseProblem({}, local, true)).toBeUndefined();
    const cloud = chooseBackend({ env: { PULUMI_ACCESS_TOKEN: "t" }, repoRoot });
    expect(passphraseProblem({}, cloud, false)).toBeUndefined();
  });
});

describe("stack files", () => {
  it("lists the stacks of stacks/ and explains a missing one", () => {
    expect(availableStacks(repoRoot)).toEqual(["dev", "prod", "sandbox", "staging"]);
    expect(stackFilePath("contoso/hookfleet/prod", repoRoot)).toBe(
      path.join(repoRoot, "stacks", "Pulumi.prod.yaml"),
    );
    expect(missingStackProblem("dev", repoRoot)).toBeUndefined();
    expect(missingStackProblem("qa", repoRoot)).toBe(
      "no stack file stacks/Pulumi.qa.yaml (stacks with a file: dev, prod, sandbox, staging)",
    );
  });

  it("finds the project root from a subdirectory", () => {
    expect(findProjectRoot(path.join(repoRoot, "scripts", "lib"))).toBe(repoRoot);
    expect(findProjectRoot(tmp)).toBeUndefined();
  });
});

describe("adoAccessDescription", () => {
  it("says which ADO credential will be used without printing it", () => {
    const withPat = adoAccessDescription({ AZURE_DEVOPS_EXT_PAT: "s3cr3tpatvalue" });
    expect(withPat).toBe("ADO access: the PAT in AZURE_DEVOPS_EXT_PAT");
    expect(adoAccessDescription({})).toMatch(/Microsoft Entra/);
  });
});

describe("onlyChangesProposed", () => {
  it("tells --expect-no-changes tripping (drift) from a failure, for CLIs before and since v3.226.0", () => {
    expect(
      onlyChangesProposed(7, "error: no changes were expected for preview but changes were proposed\n"),
    ).toBe(true);
    expect(onlyChangesProposed(255, "error: no changes were expected but changes were proposed\n")).toBe(
      true,
    );
    expect(onlyChangesProposed(1, "")).toBe(false);
    expect(onlyChangesProposed(255, "error: could not read the stack's state: 401 Unauthorized\n")).toBe(
      false,
    );
    expect(onlyChangesProposed(3, "error: invalid access token\n")).toBe(false);
  });
});
