/**
 * Issue 13, item 11: what `npm run token` prints works as printed. The receiver command runs
 * verbatim in a shell (on a free port given through PORT, so that this test cannot collide with a
 * receiver already on 7071); the delivery command runs verbatim but for that port.
 */
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { messageId } from "../../app/messages";

jest.setTimeout(90_000);

const root = path.resolve(__dirname, "../..");
const run = promisify(execFile);
const env = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" });

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The two commands under "Try it with a local receiver". */
async function printedCommands(
  args: string[],
): Promise<{ secret: string; receiver: string; deliver: string }> {
  const { stdout } = await run("npm", ["run", "-s", "token", "--", ...args], { cwd: root, env: env() });
  const lines = stdout.split("\n");
  const secret = /^(?:token|password): (\S+)$/m.exec(stdout)![1];
  const at = lines.findIndex((l) => l.startsWith("Try it with a local receiver"));
  expect(at).toBeGreaterThan(0);
  const receiver = lines[at + 1].trim();
  expect(lines[at + 2]).toBe("and, in another shell:");
  const deliver = lines[at + 3].trim();
  expect(receiver).toMatch(/ npm run receiver$/);
  expect(deliver).toMatch(/^curl .* http:\/\/127\.0\.0\.1:7071\//);
  return { secret, receiver, deliver };
}

async function tryPrinted(args: string[], expectedSystem: string): Promise<void> {
  const { secret, receiver, deliver } = await printedCommands(args);
  const port = await freePort();
  const child = spawn("sh", ["-c", receiver], {
    cwd: root,
    detached: true,
    env: { ...env(), PORT: String(port), LOG_LEVEL: "warn" },
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdout.resume();
  try {
    const until = Date.now() + 30_000;
    while (!/receiver listening on/.test(err)) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`receiver did not start:\n${err}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { stdout } = await run("sh", ["-c", deliver.replace("127.0.0.1:7071", `127.0.0.1:${port}`)], {
      env: env(),
    });
    expect(JSON.parse(stdout)).toEqual({
      id: messageId(expectedSystem, "6f9d44f5-0000-4000-8000-000000000001"),
      duplicate: false,
    });
    expect(err).not.toContain(secret);
  } finally {
    const exited = new Promise((resolve) =>
      child.exitCode !== null ? resolve(null) : child.once("exit", resolve),
    );
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    await exited;
  }
}

describe("npm run token's printed instructions", () => {
  it("start a receiver that accepts the URL token, for the default system", () => tryPrinted([], "devops"));

  it("start a receiver that accepts the URL token of another system", () =>
    tryPrinted(["--system", "ops"], "ops"));

  it("start a receiver that accepts the Basic password", () => tryPrinted(["--password"], "devops"));
});

describe("npm run token --not-after", () => {
  const token = (args: string[]) =>
    run("npm", ["run", "-s", "token", "--", "--json", ...args], { cwd: root, env: env() });

  it("reads the time as the receiver does (strict RFC 3339) and prints it in UTC", async () => {
    const { stdout } = await token(["--not-after", "2026-12-31T01:00:00+01:00"]);
    expect(JSON.parse(stdout).entry.notAfter).toBe("2026-12-31T00:00:00.000Z");
  });

  it("refuses a day that does not exist and a time without zone (Date.parse rolled them over) with exit 64", async () => {
    for (const [value, problem] of [
      ["2026-02-30T00:00:00Z", "--not-after names a day that does not exist (2026-02-30)"],
      ["2026-12-31T00:00:00", "--not-after must be an RFC 3339 date-time"],
    ]) {
      const failed = await token(["--not-after", value]).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect({ value, code: failed?.code }).toEqual({ value, code: 64 });
      expect(failed?.stderr).toContain(problem);
    }
  });
});
