import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { AdoClient } from "../../ado/client";
import { webhookInput } from "./helpers";

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
