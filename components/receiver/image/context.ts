/**
 * The receiver image's build context: exactly the files `docker build -f app/Dockerfile .` would send
 * (the repository filtered by its .dockerignore), a content digest of them, and a gzipped tar of
 * them for ACR to build from. Pure Node (fs, crypto, zlib): no Docker engine, no Pulumi.
 *
 * The digest is the image tag: the same files give the same tag (no new revision), any change to a
 * file that goes into the image gives a new one (a new revision). Files the .dockerignore leaves out
 * (tests, docs, the Pulumi program) never change it.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import picomatch from "picomatch";

/** One .dockerignore rule. */
export interface IgnoreRule {
  /** Pattern, cleaned (no leading `/` or `./`, no trailing `/`). */
  pattern: string;
  /** `!pattern`: re-includes what an earlier rule excluded. */
  negated: boolean;
  matcher: (p: string) => boolean;
}

/**
 * Parses .dockerignore as Docker does ("Build context: .dockerignore files", docs.docker.com):
 * one pattern per line, `#` comments, blank lines ignored, `!` re-includes, Go filepath.Match
 * syntax plus `**` for any number of directories; patterns are relative to the context root
 * (a leading `/` means the same). The last rule that matches a path decides.
 */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    const pattern = path.posix
      .normalize((negated ? line.slice(1) : line).trim())
      .replace(/^(\.\/|\/)+/, "")
      .replace(/\/+$/, "");
    if (!pattern || pattern === ".") continue;
    rules.push({ pattern, negated, matcher: picomatch(pattern, { dot: true }) });
  }
  return rules;
}

/**
 * Whether a context-relative path (posix) is excluded. Docker matches each rule against the path and
 * against each of its parent directories, so `app` covers `app/main.ts` and `**\/node_modules` covers
 * everything below any node_modules.
 */
export function isExcluded(relPath: string, rules: readonly IgnoreRule[]): boolean {
  const parts = relPath.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let excluded = false;
  for (const rule of rules) {
    if (candidates.some((c) => rule.matcher(c))) excluded = !rule.negated;
  }
  return excluded;
}

/** A directory can be skipped whole when excluded and no `!` rule could re-include something in it. */
function canSkipDirectory(relDir: string, rules: readonly IgnoreRule[]): boolean {
  if (!isExcluded(relDir, rules)) return false;
  return !rules.some(
    (r) =>
      r.negated &&
      (r.pattern.startsWith(`${relDir}/`) || r.pattern.startsWith("*") || r.pattern.includes("/**")),
  );
}

export interface ContextFile {
  /** Path relative to the context root, posix separators. */
  path: string;
  /** Unix permission bits Docker keeps (executable or not). */
  mode: number;
  content: Buffer;
}

export interface BuildContextSpec {
  /** Context root (absolute, or relative to the working directory). */
  contextDir: string;
  /** Dockerfile, relative to the context root; always sent, like `docker build -f` does. */
  dockerfile: string;
}

/**
 * The files of the context, sorted by path: every regular file not excluded by the context's
 * .dockerignore, plus the Dockerfile and .dockerignore themselves (Docker sends both even when
 * excluded: the builder needs them). Symbolic links are not followed (Docker sends the link).
 */
export function contextFiles(spec: BuildContextSpec): ContextFile[] {
  const root = path.resolve(spec.contextDir);
  const ignoreFile = path.join(root, ".dockerignore");
  const rules = fs.existsSync(ignoreFile) ? parseDockerignore(fs.readFileSync(ignoreFile, "utf8")) : [];
  const always = new Set([path.posix.normalize(spec.dockerfile)]);
  const files: ContextFile[] = [];
  const walk = (relDir: string) => {
    for (const entry of fs.readdirSync(path.join(root, relDir), { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!canSkipDirectory(rel, rules)) walk(rel);
      } else if (entry.isFile() && (always.has(rel) || !isExcluded(rel, rules))) {
        const full = path.join(root, rel);
        files.push({
          path: rel,
          mode: fs.statSync(full).mode & 0o111 ? 0o755 : 0o644,
          content: fs.readFileSync(full),
        });
      }
    }
  };
  walk("");
  if (!files.some((f) => f.path === path.posix.normalize(spec.dockerfile))) {
    throw new Error(`build context ${root} has no ${spec.dockerfile}`);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * SHA-256 over the sorted (path, mode, content digest) list, plus the Dockerfile's path: what decides
 * the image. File times and owners are left out, so a fresh clone gives the same digest.
 */
export function contextDigest(files: readonly ContextFile[], dockerfile: string): string {
  const h = createHash("sha256").update(`dockerfile ${dockerfile}\n`);
  for (const f of files) {
    const content = createHash("sha256").update(f.content).digest("hex");
    h.update(`${f.path}\u0000${f.mode.toString(8)}\u0000${content}\n`);
  }
  return h.digest("hex");
}

/** Image tag for a context digest: `src-` and the first 32 hex digits (ACR tags: ≤128 of [\w.-]). */
export function contextTag(digest: string): string {
  return `src-${digest.slice(0, 32)}`;
}

/** The context's digest and tag in one read (what the program calls at every run). */
export function describeContext(spec: BuildContextSpec): { digest: string; tag: string; fileCount: number } {
  const files = contextFiles(spec);
  const digest = contextDigest(files, spec.dockerfile);
  return { digest, tag: contextTag(digest), fileCount: files.length };
}

/**
 * A gzipped POSIX ustar archive of the files (what `az acr build` uploads). Times are fixed at 0
 * and owners at root, so the same files give the same bytes. Paths over ustar's 100+155 limit throw.
 */
export function tarGz(files: readonly ContextFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    blocks.push(ustarHeader(f.path, f.mode, f.content.length));
    blocks.push(f.content);
    const pad = (512 - (f.content.length % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(blocks));
}

/** One 512-byte ustar header (POSIX.1-1988 "ustar Interchange Format"). */
function ustarHeader(filePath: string, mode: number, size: number): Buffer {
  const header = Buffer.alloc(512);
  let name = filePath;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = filePath.lastIndexOf("/", filePath.length - 1);
    prefix = filePath.slice(0, cut);
    name = filePath.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`path too long for a ustar archive: ${filePath}`);
    }
  }
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0") + "\0";
  header.write(name, 0, 100, "utf8");
  header.write(octal(mode, 8), 100, 8, "ascii");
  header.write(octal(0, 8), 108, 8, "ascii"); // uid
  header.write(octal(0, 8), 116, 8, "ascii"); // gid
  header.write(octal(size, 12), 124, 12, "ascii");
  header.write(octal(0, 12), 136, 12, "ascii"); // mtime
  header.write("        ", 148, 8, "ascii"); // checksum placeholder: spaces while summing
  header.write("0", 156, 1, "ascii"); // regular file
  header.write("ustar\u000000", 257, 8, "ascii");
  header.write("root", 265, 32, "ascii");
  header.write("root", 297, 32, "ascii");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return header;
}
