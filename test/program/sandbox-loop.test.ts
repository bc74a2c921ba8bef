/**
 * `npm run sandbox` end to end, as a user runs it on a machine with no Pulumi CLI: the real program
 * (index.ts, stack `sandbox`) applied on the built-in engine stand-in against the ADO emulator, a
 * local receiver and a hosted product's stand-in (two destinations), every step checked by the script
 * itself; then `--keep` leaves them running, what it prints works, and what each destination stored is
 * read back here through its read API: every event it subscribed to once, none other. Two projects
 * keep it short (the default is 12). The CLI path is covered by the stand-in `pulumi` in
 * test/scripts/scripts.test.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { findExecutable } from "../../scripts/lib/pulumiCli";
import { repoRoot } from "../../devkit/stack-config";

// The whole loop: four program runs, each a fresh process, on a machine shared with other suites.
jest.setTimeout(300_000);

const node = path.join(repoRoot, "node_modules", ".bin", "node");
/** PATH without any directory that holds a `pulumi`: this is the machine without the CLI. */
const pathWithoutPulumi = [
  path.join(repoRoot, "node_modules", ".bin"),
  ...(process.env.PATH ?? "").split(":"),
]
  .filter((dir) => dir && !findExecutable("pulumi", dir))
  .join(":");

let project: string;
beforeAll(() => {
  // A copy of the project files the script looks for: --keep writes its .sandbox/ here, not in the repo.
  project = fs.mkdtempSync(path.join(os.tmpdir(), "hookfleet-sandbox-"));
  fs.copyFileSync(path.join(repoRoot, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  fs.cpSync(path.join(repoRoot, "stacks"), path.join(project, "stacks"), { recursive: true });
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

function start(args: string[]): { child: ChildProcessWithoutNullStreams; out: string[]; err: string[] } {
  // node with the tsx loader (the package's entry, `tsx` resolved from the repository, not the
  // temporary project), as `npm run receiver` runs: SIGINT reaches the script itself.
  const loader = pathToFileURL(path.join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;
  const child = spawn(node, ["--import", loader, path.join(repoRoot, "scripts", "sandbox.mjs"), ...args], {
    cwd: project,
    env: { PATH: pathWithoutPulumi, HOME: process.env.HOME ?? project },
  });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => out.push(d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => err.push(d));
  return { child, out, err };
}

/** The seven event types of the URL-token product (stacks/Pulumi.sandbox.yaml, issue 15). */
const PRODUCT_EVENTS = [
  "git.push",
  "git.pullrequest.created",
  "git.pullrequest.updated",
  "workitem.created",
  "workitem.updated",
  "build.complete",
  "ms.vss-release.deployment-completed-event",
];

/** Every message a receiver stored, through its read API (every page). */
async function storedMessages(
  url: string,
  readToken: string,
): Promise<{ sourceEventId: string; type: string }[]> {
  const all: { sourceEventId: string; type: string }[] = [];
  let continuation: string | null = null;
  do {
    const page = new URL("/api/v1/messages", url);
    page.searchParams.set("limit", "200");
    if (continuation) page.searchParams.set("continuation", continuation);
    const res = await fetch(page, { headers: { authorization: `Bearer ${readToken}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      messages: { sourceEventId: string; type: string }[];
      continuation: string | null;
    };
    all.push(...body.messages);
    continuation = body.continuation;
  } while (continuation);
  return all;
}

async function until(fn: () => boolean, what: string, child: ChildProcessWithoutNullStreams, err: string[]) {
  while (!fn()) {
    if (child.exitCode !== null)
      throw new Error(`sandbox exited ${child.exitCode} before ${what}:\n${err.join("")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it("runs the whole loop on the engine stand-in, every step checked, each destination holding every event it subscribed to once and no other; --keep leaves it explorable", async () => {
  const { child, out, err } = start(["--projects", "2", "--keep"]);
  try {
    // The last --keep line (without a Pulumi CLI): the child writes them one by one, so waiting for
    // the first could read the story before the rest arrived.
    await until(
      () => /Ctrl-C stops them[\s\S]*npm run heal +# replays into the receiver's store\n/.test(err.join("")),
      "the --keep lines",
      child,
      err,
    );
    const story = err.join("");
    const lines = story.split("\n");
    expect(lines[0]).toBe(
      "no Pulumi CLI: running the sandbox on the built-in engine stand-in; deployments need the CLI",
    );
    // Nine steps, in order, each with its time.
    const steps = lines.filter((l) => /^» \d\/9 /.test(l)).map((l) => Number(l.slice(2, 3)));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lines.filter((l) => /^» {5}\(\d+\.\d s\)$/.test(l))).toHaveLength(9);

    // The product's URL reached the stack as a user sets it: a secret at its destination's path.
    expect(story).toContain(
      "product gave its webhook URL (its URL token inside), set as a secret: " +
        "pulumi config set --secret --path 'hookfleet:destinations[1].url' 'http://127.0.0.1:",
    );
    // 2 projects × 17 event types for the receiver, × 7 for the product; the receiver knew the
    // credentials before the first hook existed.
    expect(story).toContain(
      "receiver: 34 hooks in ADO (2 projects × 17 event types), all enabled; by event type:",
    );
    expect(story).toContain(
      "product: 14 hooks in ADO (2 projects × 7 event types), all enabled; by event type:",
    );
    expect(story).toContain("the receiver ran the new credentials before the first hook was created");
    expect(story).toContain(
      "ADO's test delivery of each hook answered 2xx and was stored: receiver 34, product 14",
    );
    expect(story).toContain(
      "34 events, each delivered by one hook to every destination subscribed to its type; " +
        "stored once: receiver 34, product 14; none where not subscribed",
    );
    // The receiver's outage is its own: the product's hooks deliver, stay enabled, never drift.
    expect(story).toMatch(/17 hooks disabledBySystem, the other 17 enabled/);
    expect(story).toMatch(
      /product is another service: its 7 hooks in Project-\d+ delivered their 14 events there and stay enabled/,
    );
    expect(story).toMatch(/^» {7}Drift: 17 resource\(s\) \(17 disabled\)\.$/m);
    expect(story).toContain("no hook of product drifted");
    expect(story).toContain(
      "17 hooks updated (re-enabled, test delivery 2xx); nothing else changed; all 48 enabled",
    );
    expect(story).toContain("17 hooks had failed deliveries: 34 events replayed, 0 already stored");
    expect(story).toMatch(/receiver runs revision [0-9a-f]{16}: 2 URL-token hashes/);
    expect(story).toMatch(/before 34 hooks switched to it/);
    expect(story).toContain("the 14 hooks of product untouched");

    const summary =
      /^sandbox: hooks=(\d+) enabled=(\d+) events=(\d+) stored=(\d+) repaired=(\d+) replayed=(\d+) lost=(\d+) duplicated=(\d+); receiver: hooks=(\d+) stored=(\d+); product: hooks=(\d+) stored=(\d+)$/m.exec(
        out.join(""),
      );
    expect(summary).not.toBeNull();
    const [hooks, enabled, events, stored, repaired, replayed, lost, duplicated, ...perDestination] = summary!
      .slice(1)
      .map(Number);
    const [receiverHooks, receiverStored, productHooks, productStored] = perDestination;
    expect({ hooks, enabled, repaired, replayed, lost, duplicated, receiverHooks, productHooks }).toEqual({
      hooks: 48,
      enabled: 48,
      repaired: 17,
      replayed: 34,
      lost: 0,
      duplicated: 0,
      receiverHooks: 34,
      productHooks: 14,
    });
    // Step 3 (34) and step 4 (34 failed + 17 elsewhere), then the rotation's traffic.
    expect(events).toBeGreaterThan(85);
    expect(stored).toBe(events);
    // The receiver subscribes to every type, the product to 7 of 17: about 7/17 of the events.
    expect(receiverStored).toBe(events);
    expect(productStored).toBeGreaterThanOrEqual(14 + 14 + 7);
    expect(productStored).toBeLessThan(events);
    // No token in what it printed: secrets went to the --keep file only.
    expect(`${story}${out.join("")}`).not.toMatch(/alw_[A-Za-z0-9]{20,}/);

    // --keep: the file is the user's alone, and what it holds reaches the running servers.
    const file = path.join(project, ".sandbox", "keep.env");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const vars = Object.fromEntries(
      [...fs.readFileSync(file, "utf8").matchAll(/^export (\w+)='(.*)'$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(story).toContain(
      'curl -s -H "Authorization: Bearer $HOOKFLEET_READ_TOKEN" "$HOOKFLEET_RECEIVER/api/v1/messages?limit=5"',
    );
    const messages = await fetch(`${vars.HOOKFLEET_RECEIVER}/api/v1/messages?limit=5`, {
      headers: { authorization: `Bearer ${vars.HOOKFLEET_READ_TOKEN}` },
    });
    expect(messages.status).toBe(200);
    expect(((await messages.json()) as { messages: unknown[] }).messages).toHaveLength(5);
    expect(story).toContain(
      'curl -s -H "Authorization: Bearer $PRODUCT_READ_TOKEN" "$PRODUCT_RECEIVER/api/v1/messages?limit=5"',
    );

    // What each destination holds, read here through its read API rather than taken from the script:
    // every message once (ids are per event), the product only its seven types, and exactly the
    // events the summary counts plus one test delivery per hook.
    const product = await storedMessages(vars.PRODUCT_RECEIVER, vars.PRODUCT_READ_TOKEN);
    expect(new Set(product.map((m) => m.sourceEventId)).size).toBe(product.length);
    expect([...new Set(product.map((m) => m.type))].sort()).toEqual([...PRODUCT_EVENTS].sort());
    expect(product).toHaveLength(productStored + productHooks);
    const ours = await storedMessages(vars.HOOKFLEET_RECEIVER, vars.HOOKFLEET_READ_TOKEN);
    expect(new Set(ours.map((m) => m.sourceEventId)).size).toBe(ours.length);
    expect(ours.length).toBeGreaterThan(events);
    const control = await fetch(`${vars.ADO_EMULATOR}/_emulator`, {
      headers: { authorization: `Basic ${Buffer.from(`:${vars.AZURE_DEVOPS_EXT_PAT}`).toString("base64")}` },
    });
    expect(control.status).toBe(200);
    expect(vars.COSMOS_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    expect(err.join("")).toContain("stopping the receivers and the ADO emulator");
    await expect(fetch(`${vars.HOOKFLEET_RECEIVER}/healthz`)).rejects.toThrow();
    await expect(fetch(`${vars.PRODUCT_RECEIVER}/healthz`)).rejects.toThrow();
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
