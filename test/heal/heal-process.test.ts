/**
 * The heal command as a process (`npm run heal` runs scripts/heal.ts with tsx) against the ADO
 * emulator and a Cosmos DB server, and the store-outage path: a replay that fails keeps the hook
 * disabled so the next run retries it.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { AdoClient } from "../../ado/client";
import { runHeal, type HealReport } from "../../app/heal/heal";
import type { SystemSetting } from "../../app/settings";
import { CosmosMessageStore } from "../../app/store";
import { mintToken, sha256Hex } from "../../app/tokens";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";
import { hookDisabledByDownReceiver } from "./disabled-hook";

jest.setTimeout(60_000);

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

function runProcess(args: string[], env: Record<string, string>) {
  const child = spawn(tsx, ["scripts/heal.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
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

describe("heal as a process, and with the store down", () => {
  let emu: AdoEmulator;
  let cosmos: CosmosTestServer;
  let client: AdoClient;
  let base: string;
  let hookId: string;
  const token = mintToken();
  const systems: SystemSetting[] = [{ id: "devops", storageMode: "full", retentionDays: 7 }];
  const urlTokens = [{ sha256: sha256Hex(token), systemId: "devops" }];

  beforeAll(async () => {
    emu = await startAdoEmulator({ orgs: [{ name: "contoso", projects: ["Alpha"] }], timeScale: 1e-6 });
    cosmos = await startCosmosServer();
    // The receiver is down (connection refused): transient retries, then probation, then disabled.
    ({ hookId, base, client } = await hookDisabledByDownReceiver(emu, token));
    expect(emu.subscription(hookId)!.status).toBe("disabledBySystem");
  });
  afterAll(async () => {
    await emu?.close();
    await cosmos?.close();
  });

  test("store unreachable: the replay fails, the hook stays disabled for the next run, the run fails", async () => {
    const down = await startCosmosServer();
    const store = await CosmosMessageStore.open({
      settings: { endpoint: down.endpoint, key: down.key, database: "hookfleet", container: "messages" },
      createIfMissing: false,
      requestTimeoutMs: 2_000,
    });
    await down.close();
    try {
      const report: HealReport = await runHeal({
        orgs: [client],
        webhookBaseUrl: base,
        store,
        credentials: { systems, urlTokens },
      });
      expect(report.ok).toBe(false);
      expect(report.hooks[0]).toMatchObject({
        id: hookId,
        action: "notEnabled",
        replayed: 0,
        failedEvents: 1,
      });
      expect(report.hooks[0].problems.join()).toMatch(/replay of event .* failed/);
      expect(emu.subscription(hookId)!.status).toBe("disabledBySystem");
    } finally {
      await store.close();
    }
  });

  test("an organization that cannot be listed fails the run; the others are still healed (dry run here)", async () => {
    const store = await CosmosMessageStore.open({
      settings: { endpoint: cosmos.endpoint, key: cosmos.key, database: "hookfleet", container: "messages" },
      createIfMissing: false,
    });
    const report = await runHeal({
      orgs: [
        new AdoClient({ orgUrl: `${emu.baseUrl}/nosuchorg`, auth: { kind: "pat", pat: emu.pat } }),
        client,
      ],
      webhookBaseUrl: base,
      store,
      credentials: { systems, urlTokens },
      dryRun: true,
    }).finally(() => store.close());
    expect(report.ok).toBe(false);
    expect(report.orgs[0]).toMatchObject({
      orgUrl: `${emu.baseUrl}/nosuchorg`,
      error: expect.stringMatching(/organization/),
    });
    expect(report.orgs[1]).toMatchObject({ orgUrl: emu.orgUrl(), hooks: 1, notEnabled: 1 });
    expect(report.hooks[0]).toMatchObject({ id: hookId, action: "wouldEnable" });
  });

  test("npm run heal: --dry-run --json, then a real run; exit codes; the process ends by itself", async () => {
    const env = {
      HOOKFLEET_HEAL_ORG_URLS: emu.orgUrl(),
      HOOKFLEET_WEBHOOK_BASE_URL: base,
      AZURE_DEVOPS_EXT_PAT: emu.pat,
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: cosmos.key,
      HOOKFLEET_SYSTEMS: JSON.stringify(systems),
      HOOKFLEET_URL_TOKENS: JSON.stringify(urlTokens),
    };
    const dry = await runProcess(["--dry-run", "--json"], env);
    expect(dry.code).toBe(0);
    const dryReport = JSON.parse(dry.stdout) as HealReport;
    expect(dryReport.hooks[0]).toMatchObject({ id: hookId, action: "wouldEnable", replayed: 1 });
    expect(emu.subscription(hookId)!.status).toBe("disabledBySystem");
    expect(await cosmos.storedMessages()).toHaveLength(0);

    const real = await runProcess([], env);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(
      new RegExp(`contoso\\s+Alpha\\s+git\\.push\\s+${hookId}\\s+disabledBySystem\\s+enabled`),
    );
    expect(real.stderr).toMatch(/\[1\/1\] Alpha git.push .*disabledBySystem → enabled; replayed 1/);
    expect(real.stdout + real.stderr).not.toContain(token);
    expect(real.stdout + real.stderr).not.toContain(emu.pat);
    expect(emu.subscription(hookId)!.status).toBe("enabled");
    expect(await cosmos.storedMessages("devops")).toHaveLength(1);

    const bad = await runProcess([], { ...env, HOOKFLEET_WEBHOOK_BASE_URL: "" });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/HOOKFLEET_WEBHOOK_BASE_URL \(or --base-url\) is required/);
  });
});
