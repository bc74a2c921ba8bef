/**
 * The CI definitions users copy: the properties that matter (OIDC with no stored Azure secret,
 * dev → staging → prod through protected environments, a scheduled drift check that runs the drift
 * script) checked on the parsed YAML, so an edit that drops one fails here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";

const root = path.resolve(__dirname, "../..");
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML of any shape
const load = (file: string): Doc => YAML.parse(fs.readFileSync(path.join(root, file), "utf8"));
const text = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
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
    const preview = wf.jobs.preview.steps.find((s: Doc) => String(s.uses).startsWith("pulumi/actions@"));
    expect(preview.with).toMatchObject({ command: "preview", "comment-on-pr": true, refresh: true });
  });

  it("applies dev, then staging, then prod on merge, each in its protected environment, with the up script", () => {
    const deploy = load(".github/workflows/deploy.yml");
    expect(deploy.on.push.branches).toEqual(["main"]);
    expect(deploy.jobs.staging.needs).toBe("dev");
    expect(deploy.jobs.prod.needs).toBe("staging");
    for (const env of ["dev", "staging", "prod"]) expect(deploy.jobs[env].with.stack).toBe(env);
    const apply = load(".github/workflows/apply.yml");
    expect(apply.jobs.up.environment).toBe("${{ inputs.stack }}");
    const runs = apply.jobs.up.steps.map((s: Doc) => s.run).filter(Boolean);
    expect(runs).toContain('npm run up -- --stack "${{ inputs.stack }}" --yes');
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
      "${{ each env in split('dev,staging,prod', ',') }}",
      "Drift",
    ]);
    const deploy = Object.values(stages[2])[0][0];
    expect(deploy.jobs[0]).toMatchObject({ deployment: "up", environment: "hookfleet-${{ env }}" });
    expect(JSON.stringify(stages[3])).toContain("npm run drift -- --stack");
  });

  it("authenticates through a workload identity federation service connection, no secret", () => {
    const raw = text("azure-pipelines.yml");
    expect(raw).toContain("addSpnToEnvironment: true");
    expect(raw).toContain('ARM_OIDC_TOKEN="$idToken"');
    expect(raw).not.toMatch(/servicePrincipalKey|ARM_CLIENT_SECRET/);
  });
});
