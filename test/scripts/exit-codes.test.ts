/**
 * One exit-code convention for every command (app/exit-codes.ts, README): bad arguments or bad
 * configuration exit 64 with the mistake named, whichever script it is. Each command runs as a user
 * runs it, through `npm run`.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { EXIT } from "../../app/exit-codes";
import { EXIT as SCRIPT_EXIT } from "../../scripts/lib/args";

jest.setTimeout(180_000);

const root = path.resolve(__dirname, "../..");

function npmRun(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "-s", script, "--", ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } },
      (err, _stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr: String(stderr) }),
    );
  });
}

// up, drift, rotate and sandbox exit 64 in test/scripts/scripts.test.ts, emulator in
// test/ado/emulator-script.test.ts, heal in test/heal/heal-logic.test.ts and heal-process.test.ts;
// these are the others (each start costs seconds on a shared machine).
const commands = ["token", "receiver", "bench:receiver", "bench:fleet", "soak:rotation"];

describe("exit codes", () => {
  it("are one table, shared by the scripts and the app entry points", () => {
    expect(SCRIPT_EXIT).toBe(EXIT);
    expect(EXIT).toEqual({ ok: 0, failed: 1, drift: 2, preflight: 3, usage: 64, pulumiMissing: 127 });
  });

  it("each command exits 64 for an option it does not know, naming it", async () => {
    // Two at a time: each one starts a TypeScript runtime on a shared two-core machine.
    const results: { script: string; code: number | null; named: boolean }[] = [];
    for (let i = 0; i < commands.length; i += 2)
      results.push(
        ...(await Promise.all(
          commands.slice(i, i + 2).map(async (script) => {
            const { code, stderr } = await npmRun(script, ["--no-such-option"]);
            return { script, code, named: stderr.includes("no-such-option") };
          }),
        )),
      );
    expect(results).toEqual(commands.map((script) => ({ script, code: EXIT.usage, named: true })));
  });

  it("the receiver exits 64 for bad configuration, naming each mistake", async () => {
    const { code, stderr } = await npmRun("receiver", [], { PORT: "http", HOOKFLEET_MODE: "prod" });
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/PORT must be a port number/);
    expect(stderr).toMatch(/HOOKFLEET_MODE must be "production" or "local"/);
  });
});
