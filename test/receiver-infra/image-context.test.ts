/**
 * The build context as Docker would send it: .dockerignore rules (Docker's semantics), the digest
 * that becomes the image tag, and the tarball, read back by the system's GNU tar (not ours).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  contextDigest,
  contextFiles,
  contextTag,
  describeContext,
  isExcluded,
  parseDockerignore,
  tarGz,
} from "../../components/receiver/image/context";

const repoRoot = path.resolve(__dirname, "../..");

describe(".dockerignore", () => {
  const rules = parseDockerignore(fs.readFileSync(path.join(repoRoot, ".dockerignore"), "utf8"));
  it.each([
    ["app/main.ts", false],
    ["ado/client.ts", false],
    ["package.json", false],
    ["tsconfig.build.json", false],
    ["app/heal/main.ts", false],
    ["app/server.test.ts", true],
    ["app/node_modules/x/index.js", true],
    ["components/receiver/index.ts", true],
    ["index.ts", true],
    ["README.md", true],
    ["test/app/main.test.ts", true],
    [".git/HEAD", true],
  ])("the repository's rules: %s excluded=%s", (file, excluded) => {
    expect(isExcluded(file as string, rules)).toBe(excluded);
  });
  it("follows Docker's syntax: comments, leading slash, last rule wins, directories cover their contents", () => {
    const r = parseDockerignore("# comment\n\n/docs\n*.md\n!README.md\n**/secret-*\n");
    expect(isExcluded("docs/a/b.txt", r)).toBe(true);
    expect(isExcluded("CHANGES.md", r)).toBe(true);
    expect(isExcluded("README.md", r)).toBe(false);
    expect(isExcluded("a/b/secret-key.pem", r)).toBe(true);
    expect(isExcluded("src/main.ts", r)).toBe(false);
    expect(isExcluded("sub/notes.md", r)).toBe(false); // `*` does not cross `/`
  });
});

describe("the receiver's context", () => {
  const spec = { contextDir: repoRoot, dockerfile: "app/Dockerfile" };

  it("holds what the Dockerfile copies and nothing of the Pulumi program or the tests", () => {
    const paths = contextFiles(spec).map((f) => f.path);
    for (const needed of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "app/Dockerfile",
      "app/main.ts",
      "ado/client.ts",
    ])
      expect(paths).toContain(needed);
    expect(
      paths.filter((p) => /^(components|test|scripts|docs|node_modules)\/|\.test\.ts$|^index\.ts$/.test(p)),
    ).toEqual([]);
  });

  it("has a digest that does not depend on file times (a fresh clone builds the same tag)", () => {
    const before = describeContext(spec);
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-ctx-"));
    try {
      for (const f of contextFiles(spec)) {
        fs.mkdirSync(path.dirname(path.join(copy, f.path)), { recursive: true });
        fs.writeFileSync(path.join(copy, f.path), f.content);
      }
      fs.copyFileSync(path.join(repoRoot, ".dockerignore"), path.join(copy, ".dockerignore"));
      fs.utimesSync(path.join(copy, "app/main.ts"), new Date(0), new Date(0));
      expect(describeContext({ ...spec, contextDir: copy })).toEqual(before);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it("changes the digest with any file content, name or mode, and with the Dockerfile's path", () => {
    const files = contextFiles(spec);
    const base = contextDigest(files, "app/Dockerfile");
    const edit = (i: number, patch: object) => files.map((f, j) => (j === i ? { ...f, ...patch } : f));
    expect(
      contextDigest(
        edit(3, { content: Buffer.concat([files[3].content, Buffer.from(" ")]) }),
        "app/Dockerfile",
      ),
    ).not.toBe(base);
    expect(contextDigest(edit(3, { path: `${files[3].path}.renamed` }), "app/Dockerfile")).not.toBe(base);
    expect(contextDigest(edit(3, { mode: 0o755 }), "app/Dockerfile")).not.toBe(base);
    expect(contextDigest(files, "other/Dockerfile")).not.toBe(base);
    expect(contextTag(base)).toBe(`src-${base.slice(0, 32)}`);
  });

  it("packs a tarball GNU tar lists and extracts to exactly the context's files", () => {
    const files = contextFiles(spec);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-tar-"));
    try {
      const archive = path.join(dir, "context.tar.gz");
      fs.writeFileSync(archive, tarGz(files));
      const listed = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" }).trim().split("\n");
      expect(listed).toEqual(files.map((f) => f.path));
      const out = path.join(dir, "out");
      fs.mkdirSync(out);
      execFileSync("tar", ["-xzf", archive, "-C", out]);
      for (const f of files) expect(fs.readFileSync(path.join(out, f.path)).equals(f.content)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the same bytes for the same files (reproducible upload)", () => {
    const files = contextFiles(spec);
    expect(tarGz(files).equals(tarGz(files))).toBe(true);
  });
});
