/**
 * The CI definitions users copy: the properties that matter (OIDC with no stored Azure secret,
 * dev → staging → prod through protected environments, a scheduled drift check that runs the drift
 * script) checked on the parsed YAML, so an edit that drops one fails here.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";

const root = path.resolve(__dirname, "../..");
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML of any shape
const load = (file: string): Doc => YAML.parse(fs.readFileSync(path.join(root, file), "utf8"));
const text = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
jest.setTimeout(60_000);
const workflows = fs.readdirSync(path.join(root, ".github/workflows")).map((f) => `.github/workflows/${f}`);

describe("GitHub Actions", () => {
  it("logs in to Azure with OIDC only: id-token permission, client/tenant/subscription ids, no client secret", () => {
    for (const file of workflows) {
      const wf = load(file);
      const steps = Object.values(wf.jobs as Doc).flatMap((job: Doc) => job.steps ?? []);
      const logins = steps.filter((s: Doc) => String(s.uses ?? "").startsWith("azure/login@"));
      for (const login of logins) {
        expect(Object.keys(login.with).sort()).toEqual(["client-id", "subscription-id", "tenant-id"]);
      }
      if (logins.length > 0 || file.endsWith("apply.yml")) expect(wf.permissions["id-token"]).toBe("write");
      expect(text(file)).not.toMatch(/client-secret|ARM_CLIENT_SECRET|AZURE_CLIENT_SECRET|creds:/);
    }
  });

  it("previews every stack on pull requests with a PR comment", () => {
    const wf = load(".github/workflows/preview.yml");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions["pull-requests"]).toBe("write");
    expect(wf.jobs.preview.strategy.matrix.stack).toEqual(["dev", "staging", "prod"]);
    const steps = wf.jobs.preview.steps as Doc[];
    const at = steps.findIndex((s) => s.with?.command === "preview");
    expect(steps[at]).toMatchObject({ with: { "comment-on-pr": true, refresh: true } });
    expect(String(steps[at].uses)).toMatch(/^pulumi\/actions@/);
    // The action runs the CLI itself: the image the stack runs is put in its environment first.
    expect(steps.slice(0, at).map((s) => s.run)).toContain(
      'npm run -s deployed-image -- --stack "${{ matrix.stack }}" --preview >> "$GITHUB_ENV"',
    );
  });

  it("applies dev, then staging, then prod on merge, each in its protected environment, with the up script", () => {
    const deploy = load(".github/workflows/deploy.yml");
    expect(deploy.on.push.branches).toEqual(["main"]);
    expect(deploy.jobs.staging.needs).toEqual(["build", "dev"]);
    expect(deploy.jobs.prod.needs).toEqual(["build", "staging"]);
    for (const env of ["dev", "staging", "prod"]) expect(deploy.jobs[env].with.stack).toBe(env);
    const apply = load(".github/workflows/apply.yml");
    expect(apply.jobs.up.environment).toBe("${{ inputs.stack }}");
    const runs = apply.jobs.up.steps.map((s: Doc) => s.run).filter(Boolean);
    expect(runs).toContain('npm run up -- --stack "${{ inputs.stack }}" --yes');
  });

  it("builds the image once, in Azure, and promotes that same digest to dev, staging and prod", () => {
    const deploy = load(".github/workflows/deploy.yml");
    const build = deploy.jobs.build;
    expect(build.outputs.image).toBe("${{ steps.image.outputs.image }}");
    const step = build.steps.find((s: Doc) => s.id === "image");
    expect(step.run).toContain('bash scripts/ci-build-image.sh "${{ vars.HOOKFLEET_ACR_ID }}"');
    expect(deploy.jobs.dev.needs).toBe("build");
    for (const env of ["staging", "prod"]) {
      expect(deploy.jobs[env].with.image).toBe("${{ needs.build.outputs.image }}");
      expect([deploy.jobs[env].needs].flat()).toContain("build");
    }
    // dev builds the same code into its own registry, as `npm run up -- --stack dev` by hand does.
    expect(deploy.jobs.dev.with.image).toBeUndefined();
    // The stage deploys exactly the image it was handed, pulled from the shared registry.
    const apply = load(".github/workflows/apply.yml");
    expect(apply.on.workflow_call.inputs.image.type).toBe("string");
    // As environment variables: `--config` would be saved into the runner's copy of the stack file
    // only, and the next drift check or rotation, run from the committed file, would plan a build.
    const up = apply.jobs.up.steps.find((s: Doc) => String(s.run).startsWith("npm run up"));
    expect(up.env).toEqual({
      HOOKFLEET_IMAGE: "${{ inputs.image }}",
      HOOKFLEET_ACR_RESOURCE_ID: "${{ inputs.image != '' && vars.HOOKFLEET_ACR_ID || '' }}",
    });
    for (const file of [...workflows, "azure-pipelines.yml"])
      expect(text(file)).not.toMatch(/--config "?hookfleet:(image|acrResourceId)=/);
    // No Docker engine anywhere: the build is ACR Tasks.
    for (const file of workflows)
      expect(text(file)).not.toMatch(/docker (build|push)|docker\/build-push-action|setup-buildx/);
  });

  it("checks drift on a schedule with the drift script, for every stack", () => {
    const wf = load(".github/workflows/drift.yml");
    expect(wf.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(wf.jobs.check.strategy.matrix.stack).toEqual(["dev", "staging", "prod"]);
    expect(JSON.stringify(wf.jobs.check.steps)).toContain("npm run drift -- --stack");
    expect(wf.jobs.repair.environment).toBe("${{ matrix.stack }}");
  });
});

describe("Azure Pipelines", () => {
  const pipeline = load("azure-pipelines.yml");

  it("has the same flow: test, PR preview, dev → staging → prod deployments to environments, scheduled drift", () => {
    expect(pipeline.schedules[0]).toMatchObject({ always: true });
    const stages = pipeline.stages as Doc[];
    expect(stages.map((s) => s.stage ?? Object.keys(s)[0])).toEqual([
      "Test",
      "Preview",
      "Build",
      "${{ each env in split('dev,staging,prod', ',') }}",
      "Drift",
    ]);
    const deploy = Object.values(stages[3])[0][0];
    expect(deploy.jobs[0]).toMatchObject({ deployment: "up", environment: "hookfleet-${{ env }}" });
    expect(JSON.stringify(stages[4])).toContain("npm run drift -- --stack");
  });

  it("builds the image once (ACR Tasks) and deploys that same digest in every environment", () => {
    const stages = pipeline.stages as Doc[];
    const build = stages[2];
    expect(build.dependsOn).toBe("Test");
    const step = build.jobs[0].steps.find((s: Doc) => s.name === "image");
    expect(step.inputs.inlineScript).toContain('bash scripts/ci-build-image.sh "$(acrResourceId)"');
    expect(step.inputs.inlineScript).toContain("##vso[task.setvariable variable=image;isOutput=true]");
    const deploy = Object.values(stages[3])[0][0];
    // Each environment depends on Build directly, so each reads Build's one output.
    expect(deploy["${{ if eq(env, 'dev') }}"].dependsOn).toBe("Build");
    expect(deploy["${{ if eq(env, 'staging') }}"].dependsOn).toEqual(["Build", "Deploy_dev"]);
    expect(deploy["${{ if eq(env, 'prod') }}"].dependsOn).toEqual(["Build", "Deploy_staging"]);
    expect(deploy.variables.image).toBe("$[ stageDependencies.Build.build.outputs['image.image'] ]");
    const up = JSON.stringify(deploy.jobs[0]);
    expect(up).toContain(
      'export HOOKFLEET_IMAGE=\\"$(image)\\" HOOKFLEET_ACR_RESOURCE_ID=\\"$(acrResourceId)\\"',
    );
    // dev builds the same code into its own registry, as `npm run up -- --stack dev` by hand does.
    expect(up).toContain('if [ \\"${{ env }}\\" != dev ]; then');
    expect(text("azure-pipelines.yml")).not.toMatch(/docker (build|push)|Docker@2/);
  });

  it("authenticates through a workload identity federation service connection, no secret", () => {
    const raw = text("azure-pipelines.yml");
    expect(raw).toContain("addSpnToEnvironment: true");
    expect(raw).toContain('ARM_OIDC_TOKEN="$idToken"');
    expect(raw).not.toMatch(/servicePrincipalKey|ARM_CLIENT_SECRET/);
  });
});

describe("scripts/ci-build-image.sh (with a stand-in az on PATH)", () => {
  const acrId =
    "/subscriptions/0a1b2c3d-0000-4000-8000-0000000000ff/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/contosoacr";
  const tag = () =>
    execFileSync("npm", ["run", "--silent", "image:tag"], { cwd: root, encoding: "utf8" }).trim();

  function buildImage(hasTag: boolean): { image: string; calls: string[] } {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-az-"));
    try {
      const log = path.join(state, "calls");
      const image = execFileSync("bash", [path.join(root, "scripts/ci-build-image.sh"), acrId], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        env: {
          ...process.env,
          PATH: `${path.join(__dirname, "fixtures/az-bin")}${path.delimiter}${process.env.PATH}`,
          FAKE_AZ_LOG: log,
          FAKE_AZ_STATE: state,
          FAKE_AZ_HAS_TAG: hasTag ? "1" : "",
        },
      }).trim();
      return { image, calls: fs.readFileSync(log, "utf8").trim().split("\n") };
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  }

  it("builds this code's tag in the registry with ACR Tasks when it is new, and prints the digest reference", () => {
    const { image, calls } = buildImage(false);
    expect(image).toBe(`contosoacr.azurecr.io/hookfleet/receiver@sha256:${"f".repeat(64)}`);
    expect(calls).toContain(
      `acr build --registry contosoacr --subscription 0a1b2c3d-0000-4000-8000-0000000000ff --image hookfleet/receiver:${tag()} --file app/Dockerfile --platform linux/amd64 .`,
    );
  });

  it("builds nothing when the registry already holds the tag (unchanged code: same digest promoted)", () => {
    const { image, calls } = buildImage(true);
    expect(image).toBe(`contosoacr.azurecr.io/hookfleet/receiver@sha256:${"f".repeat(64)}`);
    expect(calls.some((c) => c.startsWith("acr build"))).toBe(false);
  });
});
