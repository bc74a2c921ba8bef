import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { AdoClient } from "../../ado/client";
import { startAdoEmulator } from "../../devkit/ado-emulator";
import { startReceiver, webhookInput } from "../../devkit/recording-receiver";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

test("npm run emulator prints the org URL and the PAT it accepts, and serves them", async () => {
  const child = spawn(
    tsx,
    [
      "scripts/emulator.ts",
      "--port",
      "0",
      "--projects",
      "4",
      "--orgs",
      "contoso,fabrikam",
      "--allow-basic-over-loopback-http",
    ],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  try {
    const lines: string[] = [];
    const rl = readline.createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      rl.on("line", (line) => {
        lines.push(line);
        if (line.startsWith("Ctrl+C")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
    expect(lines).toContainEqual(
      expect.stringMatching(/^ado control: http:\/\/127\.0\.0\.1:\d+\/_emulator /),
    );
    const orgUrls = lines
      .filter((l) => l.startsWith("ado emulator: "))
      .map((l) => l.slice("ado emulator: ".length));
    const pat = lines.find((l) => l.startsWith("ado pat: "))!.slice("ado pat: ".length);
    expect(orgUrls).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/contoso$/),
      expect.stringMatching(/\/fabrikam$/),
    ]);
    const client = new AdoClient({ orgUrl: orgUrls[1], auth: { kind: "pat", pat } });
    const projects = await client.listProjects();
    expect(projects).toHaveLength(4);
    // --allow-basic-over-loopback-http: a local receiver may take Basic credentials over http.
    await expect(
      client.createSubscription(webhookInput("http://127.0.0.1:9/hook", { projectId: projects[0].id })),
    ).resolves.toMatchObject({ consumerInputs: { basicAuthPassword: "********" } });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }
});

test("the emulator script refuses bad input with a clear message and a non-zero exit", async () => {
  const child = spawn(tsx, ["scripts/emulator.ts", "--projects", "many"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  expect(code).toBe(64);
  expect(stderr).toMatch(/--projects must be an integer/);
});

/** Runs `npm run emulator -- <args>` to completion (the client mode). */
function runScript(args: string[], env: Record<string, string> = {}) {
  const child = spawn(tsx, ["scripts/emulator.ts", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
}

test("npm run emulator -- --emulator URL drives a running emulator: failing deliveries, raising events, the clock", async () => {
  const emu = await startAdoEmulator({ orgs: [{ name: "contoso", projects: ["Alpha", "Beta"] }] });
  const receiver = await startReceiver();
  try {
    const client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
    const alpha = emu.projects()[0].id;
    const hook = await client.createSubscription({
      ...webhookInput(`${receiver.url}/a`, { projectId: alpha }),
      consumerInputs: { url: `${receiver.url}/a` },
    });
    const at = ["--emulator", emu.baseUrl];
    const failing = await runScript([
      ...at,
      "--pat",
      emu.pat,
      "--fail-deliveries",
      receiver.url,
      "--status",
      "500",
      "--project",
      "Alpha",
    ]);
    expect(failing.stdout).toContain(`deliveries to ${receiver.url} (project Alpha) now fail with 500`);
    // The PAT from the environment, as the sandbox's --keep explains.
    const raised = await runScript([...at, "--raise", "git.push", "--project", "Alpha"], {
      AZURE_DEVOPS_EXT_PAT: emu.pat,
    });
    expect(raised.stdout).toMatch(
      /^raised git\.push in contoso\/Alpha \(event [0-9a-f-]{36}\): matched 1 hook\(s\), 1 failed$/m,
    );
    expect(emu.subscription(hook.id)!.status).toBe("onProbation");
    const advanced = await runScript([...at, "--pat", emu.pat, "--advance", "36h"]);
    expect(advanced.stdout).toContain(
      "ADO's delivery clock moved 36h ahead: 7 delivery attempt(s) meanwhile",
    );
    expect(emu.subscription(hook.id)!.status).toBe("disabledBySystem");
    expect(receiver.received).toHaveLength(0);

    const refused = await runScript([...at, "--pat", "wrong", "--clear-failures"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("answered 401");
    const usage = await runScript(["--advance", "36h"]);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain("--advance acts on a running emulator: add --emulator <its base URL>");
  } finally {
    await emu.close();
    await receiver.close();
  }
});
