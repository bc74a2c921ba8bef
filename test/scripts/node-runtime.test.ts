/**
 * One Node line everywhere the project runs (issue 10): the tests themselves, the receiver image,
 * the CI templates users copy and `engines`. Node 20 is end-of-life since 2026-04-30
 * (../shared/design/pulumi-and-azure-notes.md); Node 24 is the LTS line the `node` dev dependency
 * pins, so a machine whose system Node is older still runs everything on 24 through npm scripts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";

const root = path.resolve(__dirname, "../..");
const text = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
const pkg = JSON.parse(text("package.json"));
type Step = { uses?: string; with?: Record<string, unknown> };
const pinnedMajor = Number(String(pkg.devDependencies.node).replace(/^\D*/, "").split(".")[0]);

describe("Node runtime", () => {
  it("pins Node 24 as a dev dependency and requires it in engines", () => {
    expect(pinnedMajor).toBe(24);
    expect(pkg.engines.node).toBe(">=24");
    // npm ≥ 11 may skip dependency install scripts not listed here; the `node` package's binary
    // comes from its preinstall script.
    expect(pkg.allowScripts.node).toBe(true);
  });

  it("runs these tests on the pinned Node, not the system one", () => {
    expect(Number(process.versions.node.split(".")[0])).toBe(pinnedMajor);
  });

  it("builds and runs the receiver image on the same Node line", () => {
    const froms = text("app/Dockerfile")
      .split("\n")
      .filter((l) => l.startsWith("FROM "));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(new RegExp(`^FROM node:${pinnedMajor}-slim\\b`));
  });

  it("sets up the same Node line in every GitHub workflow and Azure Pipelines job", () => {
    const dir = path.join(root, ".github/workflows");
    const versions: string[] = [];
    for (const file of fs.readdirSync(dir)) {
      const wf = YAML.parse(text(`.github/workflows/${file}`));
      for (const job of Object.values(wf.jobs ?? {}) as Array<{ steps?: Step[] }>) {
        for (const step of job.steps ?? [])
          if (String(step.uses ?? "").startsWith("actions/setup-node@"))
            versions.push(String(step.with?.["node-version"]));
      }
    }
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([String(pinnedMajor)]));
    const specs = [...text("azure-pipelines.yml").matchAll(/versionSpec: "([^"]+)"/g)].map((m) => m[1]);
    expect(specs.length).toBeGreaterThan(0);
    expect(new Set(specs)).toEqual(new Set([`${pinnedMajor}.x`]));
  });
});
