/** The service as `npm run receiver` starts it: a real process, its printed lines, SIGTERM. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { EXIT } from "../../app/exit-codes";
import { loadHealConfig } from "../../app/heal/cli";
import { CosmosMessageStore } from "../../app/store";
import { isWellFormedToken, sha256Hex } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { postJson, send } from "./harness";

const root = path.resolve(__dirname, "../..");
// The server as `npm run receiver` runs it (node with the tsx loader, no tsx CLI in between: the
// CLI relays signals to its child and kills it when the child has not answered within 30 ms, which
// a loaded machine misses).
const node = path.join(root, "node_modules/.bin/node");

function start(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  out: string[];
  err: string[];
} {
  const child = spawn(node, ["--import", "tsx", "app/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => out.push(d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => err.push(d));
  return { child, out, err };
}

async function waitFor(fn: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("npm run receiver (local mode)", () => {
  it("listens on loopback only, starts an embedded store, mints a token for devops, prints both lines, stores a delivery, drains on SIGTERM", async () => {
    // No HOST: local mode listens on loopback only.
    const { child, out, err } = start({ PORT: "0", LOG_LEVEL: "warn" });
    try {
      // The heal line comes last of the three.
      await waitFor(() => /^heal: .*\n/m.test(out.join("")), "the heal line");
      const text = out.join("");
      const webhookUrl = /^webhook url: (\S+)$/m.exec(text)?.[1];
      const readToken = /^read token: (\S+)$/m.exec(text)?.[1];
      expect(webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/webhooks\/alw_/);
      const outside = outsideAddress();
      if (outside) expect(await refused(outside, Number(new URL(webhookUrl!).port))).toBe(true);
      expect(isWellFormedToken(webhookUrl!.split("/").pop())).toBe(true);
      expect(err.join("")).toMatch(/not durable/i);

      const event = sampleEvent("git.push");
      const res = await postJson(webhookUrl!, event);
      expect(res.status).toBe(201);
      const base = new URL(webhookUrl!).origin;
      const list = await send(`${base}/api/v1/messages?systemId=devops`, {
        method: "GET",
        headers: { authorization: `Bearer ${readToken}` },
      });
      expect((list.json().messages as { sourceEventId: string }[]).map((m) => m.sourceEventId)).toEqual([
        event.id,
      ]);

      // What heal needs to replay into this store, printed whole; it opens the very store.
      const heal = /^heal: (.+) npm run heal -- --org <ADO organization URL>$/m.exec(text)?.[1];
      const env = Object.fromEntries(
        [...heal!.matchAll(/(\w+)=(?:'([^']*)'|(\S+))/g)].map((m) => [m[1], m[2] ?? m[3]]),
      );
      expect(env.HOOKFLEET_WEBHOOK_BASE_URL).toBe(base);
      expect(JSON.parse(env.HOOKFLEET_URL_TOKENS)).toEqual([
        { sha256: sha256Hex(webhookUrl!.split("/").pop()!), systemId: "devops" },
      ]);
      const config = loadHealConfig({ ...env, HOOKFLEET_HEAL_ORG_URLS: "https://dev.azure.com/contoso" });
      const store = await CosmosMessageStore.open({ settings: config.cosmos, createIfMissing: false });
      try {
        expect(
          (await store.list({ systemId: "devops", limit: 5 })).messages.map((m) => m.sourceEventId),
        ).toEqual([event.id]);
      } finally {
        await store.close();
      }

      child.kill("SIGTERM");
      expect(await exitOf(child)).toBe(0);
      expect(err.join("")).toMatch(/SIGTERM: draining/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses to start with a clear message per configuration mistake", async () => {
    const { child, err } = start({ HOOKFLEET_MODE: "production", PORT: "99999", HOOKFLEET_SYSTEMS: "[{]" });
    expect(await exitOf(child)).toBe(EXIT.usage);
    const text = err.join("");
    expect(text).toMatch(/invalid receiver configuration/);
    expect(text).toMatch(/PORT must be a port number/);
    expect(text).toMatch(/COSMOS_ENDPOINT is required in production mode/);
    expect(text).toMatch(/HOOKFLEET_SYSTEMS is not valid JSON/);
  });
});

/** True when nothing listens on host:port any more (a connection is refused). */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
function outsideAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

describe("npm run receiver (issue 13, item 11)", () => {
  function npmRunReceiver(env: Record<string, string>) {
    // Its own process group, so that the clean-up below can reach whatever npm started.
    const child = spawn("npm", ["run", "receiver"], {
      cwd: root,
      detached: true,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    });
    const out: string[] = [];
    child.stdout.setEncoding("utf8").on("data", (d: string) => out.push(d));
    child.stderr.setEncoding("utf8").resume();
    return { child, out };
  }

  it.each(["SIGTERM", "SIGINT"] as const)(
    "stops when %s is sent to the PID of npm, and frees its port",
    async (signal) => {
      const { child, out } = npmRunReceiver({ PORT: "0" });
      try {
        await waitFor(() => /read token: /.test(out.join("")), "the read token line");
        const url = new URL(/^webhook url: (\S+)$/m.exec(out.join(""))![1]);
        const port = Number(url.port);
        expect(await refused("127.0.0.1", port)).toBe(false);
        process.kill(child.pid!, signal);
        expect(await exitOf(child)).toBe(0);
        expect(await refused("127.0.0.1", port)).toBe(true);
      } finally {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone: the group is empty
        }
      }
    },
  );
});
