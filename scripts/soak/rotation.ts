/**
 * Rotation soak: the ADO emulator delivers events to the receiver without pause while the URL token
 * and the Basic password rotate several times; then the retired credentials are tried.
 *
 *   npm run soak:rotation [-- --events 1200 --rotations 3 --concurrency 16]
 *
 * Each rotation is a `pulumi up` of a small program, run as the Pulumi engine runs it: the program
 * under mocks, its dynamic resources (two RotatingSecrets, one ServiceHook per event type) stepped
 * against the real dynamic-provider host (devkit/provider-host). The program wires what a
 * deployment wires: the rotation nonce changes → both RotatingSecrets update → a receiver revision
 * with both hashes (a stand-in resource whose "deployment" hands the receiver its new settings)
 * → the hooks, which depend on that revision, are updated to send the new values. The overlap is
 * 0.002 h (7.2 s) so that it ends in real time, the time the receiver checks `notAfter` against;
 * a later `up` after it ended must change nothing.
 *
 * Prints one line on stdout:
 *   rotation: rotations=<n> sent=<n> stored=<n> lost=<n> duplicated=<n> stale-credential-rejected=<yes|no>
 * Progress goes to stderr. Exits 1 when an event was lost or duplicated or a retired credential
 * was accepted, 2 on bad arguments.
 */
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import type { AdoEvent } from "../../ado/types";
import { AdoClient } from "../../ado/client";
import type { CredentialSettings } from "../../app/config";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { WebhookCredentials, webhookUrl } from "../../components/credentials";
import { HookFleet } from "../../components/hooks";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { sampleEvent } from "../../devkit/ado-events";
import { Engine, type Deployment } from "../../devkit/provider-host/engine";
import { EXIT } from "../lib/args";

const SYSTEM = "devops";
const EVENT_TYPES = ["git.push", "workitem.updated", "build.complete", "git.pullrequest.created"];
/** 7.2 s: short enough to end during the run, in the receiver's real time. */
export const SOAK_OVERLAP_HOURS = 0.002;
const RECEIVER_REVISION = "hookfleet:soak:ReceiverRevision";

export interface RotationSoakOptions {
  /** Events the emulator emits (at least). */
  events: number;
  /** Rotations of both credentials, spread over the run. */
  rotations: number;
  /** Events in flight at once. */
  concurrency: number;
  /** Progress lines (default: none). */
  log?: (message: string) => void;
}

export interface RotationSoakResult {
  rotations: number;
  /** Events the emulator emitted to a matching hook. */
  sent: number;
  /** Distinct events stored (by ADO event id). */
  stored: number;
  lost: number;
  /** Stored documents beyond one per event. */
  duplicated: number;
  /** Every retired URL token got 404 and every retired password 401; the current pair still works. */
  staleRejected: boolean;
  /** During each overlap, a delivery carrying the *previous* token and password was stored (201). */
  overlapAccepted: boolean;
  /** After each overlap ended, an `up` changed nothing (no hook, no credential). */
  quietAfterOverlap: boolean;
  /** Hook deliveries that failed (4xx/5xx) at first attempt. */
  failedDeliveries: number;
  /** Hooks not `enabled` at the end. */
  hooksNotEnabled: number;
  seconds: number;
}

async function post(url: string, body: unknown, authorization?: string): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const basic = (password: string) => `Basic ${Buffer.from(`hookfleet:${password}`).toString("base64")}`;
const changed = (run: Deployment) =>
  run.changes.create + run.changes.update + run.changes.replace + run.changes.delete;

interface SoakOutputs {
  token: string;
  password: string;
  previousNotAfter: string;
}

/** Stands for the receiver's Container App revision (a mock resource: the engine model answers it). */
class ReceiverRevision extends pulumi.CustomResource {
  constructor(name: string, props: { credentials: pulumi.Input<CredentialSettings> }) {
    super(RECEIVER_REVISION, name, props);
  }
}

/** The soak's stack: credentials, a receiver revision that applies them, hooks that follow it. */
function soakProgram(ado: AdoEmulator, rx: RunningReceiver, client: AdoClient, nonce: string) {
  return () => {
    const creds = new WebhookCredentials(SYSTEM, {
      systemId: SYSTEM,
      authMode: "both",
      rotateEveryDays: 30,
      overlapHours: SOAK_OVERLAP_HOURS,
      urlTokenNonce: nonce,
      basicPasswordNonce: nonce,
    });
    const credentials: pulumi.Output<CredentialSettings> = pulumi
      .all([creds.basicPasswords, creds.urlTokens])
      .apply(([basicPasswords, urlTokens]): CredentialSettings => ({
        systems: [
          {
            id: SYSTEM,
            storageMode: "lean",
            retentionDays: 7,
            basicUsername: "hookfleet",
            basicPasswords,
            requireBoth: true,
          },
        ],
        urlTokens,
        readTokens: [],
      }));
    // Stands for the Container App revision: hooks send new values only once it is live.
    const revision = new ReceiverRevision("receiver-revision", { credentials });
    const fleet = new HookFleet("contoso", {
      orgUrl: ado.orgUrl(),
      eventTypes: EVENT_TYPES,
      receiverUrl: pulumi.all([revision.id, webhookUrl(rx.url, creds)]).apply(([, url]) => url),
      authMode: "both",
      basicAuthUsername: "hookfleet",
      basicAuthPassword: creds.currentBasicPassword.apply((p) => p ?? ""),
      testDeliveries: false,
      adoClient: client,
    });
    return {
      token: creds.currentUrlToken,
      password: creds.currentBasicPassword,
      previousNotAfter: creds.urlToken!.previousNotAfter,
      hooks: fleet.hookCount,
    };
  };
}

export async function runRotationSoak(options: RotationSoakOptions): Promise<RotationSoakResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  let emulator: AdoEmulator | undefined;
  let receiver: RunningReceiver | undefined;
  try {
    // timeScale: ADO's retry and probation schedule 1000× faster, so a mistake would surface as
    // retries within the run rather than hours later.
    emulator = await startAdoEmulator({
      orgs: [{ name: "contoso", projects: 1 }],
      timeScale: 0.001,
      // Basic credentials to the receiver on 127.0.0.1 over http (ADO itself needs https).
      allowBasicAuthOverLoopbackHttp: true,
    });
    receiver = await startReceiver({
      // Accepts nothing until the first revision "deploys".
      credentials: {
        systems: [{ id: SYSTEM, storageMode: "lean", retentionDays: 7 }],
        urlTokens: [],
        readTokens: [],
      },
      logLevel: "warn",
      logStream: { write: () => true },
    });
    const rx = receiver;
    const ado = emulator;
    log(`receiver ${rx.url}, ADO emulator ${ado.baseUrl}`);
    const client = new AdoClient({ orgUrl: ado.orgUrl(), auth: { kind: "pat", pat: ado.pat } });
    const engine = new Engine({
      stack: "soak",
      config: { "hookfleet:adoPat": ado.pat },
      secretKeys: ["hookfleet:adoPat"],
      otherResource: (args, { preview }) => {
        if (args.type === RECEIVER_REVISION && !preview)
          rx.setCredentials(args.inputs.credentials as CredentialSettings);
        return undefined;
      },
      onHostOutput: (line) => log(`provider host: ${line}`),
    });
    let run = await engine.up(soakProgram(ado, rx, client, "r0"));
    let outs = run.outputs as unknown as SoakOutputs;
    log(`created the credentials and ${run.changes.create - 2} hooks`);

    const project = ado.projects()[0];
    // The emitter: `concurrency` workers emit events back to back until told to stop.
    const sentIds = new Set<string>();
    let failedDeliveries = 0;
    let stop = false;
    let seq = 0;
    const worker = async () => {
      while (!stop) {
        const eventType = EVENT_TYPES[seq++ % EVENT_TYPES.length];
        const event = sampleEvent(eventType, {
          org: "contoso",
          project: { id: project.id, name: project.name },
        });
        const report = await ado.emit(event);
        if (report.matched > 0) sentIds.add(report.event.id);
        failedDeliveries += report.deliveries.filter((d) => d.outcome !== "delivered").length;
        // An emit to a hook on probation only queues (no I/O): yield, or the loop would starve timers.
        await new Promise((r) => setImmediate(r));
      }
    };
    const workers = Array.from({ length: options.concurrency }, worker);
    const untilSent = async (n: number) => {
      while (sentIds.size < n) await new Promise((r) => setTimeout(r, 5));
    };

    const retiredTokens: string[] = [];
    const retiredPasswords: string[] = [];
    let overlapAccepted = true;
    let quietAfterOverlap = true;
    const step = options.events / (options.rotations + 1);
    for (let i = 1; i <= options.rotations; i++) {
      await untilSent(Math.round(step * (i - 0.5)));
      const oldToken = outs.token;
      const oldPassword = outs.password;
      // `npm run rotate`: a new nonce, then `pulumi up`.
      run = await engine.up(soakProgram(ado, rx, client, `r${i}`));
      outs = run.outputs as unknown as SoakOutputs;
      if (outs.token === oldToken || outs.password === oldPassword)
        throw new Error("the nonce did not rotate");
      if (run.changes.update !== 2 + EVENT_TYPES.length)
        throw new Error(
          `rotation ${i} updated ${run.changes.update} resources, expected ${2 + EVENT_TYPES.length}`,
        );
      // A delivery ADO queued before the switch still carries the old values: it must land.
      const queued = sampleEvent("git.push", {
        org: "contoso",
        project: { id: project.id, name: project.name },
      });
      const status = await post(rx.webhookUrl(oldToken), queued, basic(oldPassword));
      if (status !== 201) overlapAccepted = false;
      else sentIds.add(queued.id);
      log(`rotation ${i}: new token and password live, hooks updated (sent so far ${sentIds.size})`);

      await untilSent(Math.round(step * i));
      // The overlap ends in real time; then the previous values are refused, with no run needed.
      const wait = Date.parse(outs.previousNotAfter) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait + 50));
      const after = await engine.up(soakProgram(ado, rx, client, `r${i}`));
      if (changed(after) > 0) quietAfterOverlap = false;
      retiredTokens.push(oldToken);
      retiredPasswords.push(oldPassword);
      log(`rotation ${i}: overlap over, previous values refused; an up changed ${changed(after)} resources`);
    }
    await untilSent(options.events);
    stop = true;
    await Promise.all(workers);
    await ado.idle();

    // Count what the store holds for the system.
    const perEvent = new Map<string, number>();
    let continuation: string | undefined;
    do {
      const page = await rx.store.list({ systemId: SYSTEM, limit: 1000, continuation });
      for (const m of page.messages) perEvent.set(m.sourceEventId, (perEvent.get(m.sourceEventId) ?? 0) + 1);
      continuation = page.continuation ?? undefined;
    } while (continuation);
    let lost = 0;
    for (const id of sentIds) if (!perEvent.has(id)) lost++;
    const duplicated = [...perEvent.values()].reduce((n, c) => n + (c - 1), 0);

    // The retired credentials: each alone is refused, and the current pair still works.
    const probe = (): AdoEvent =>
      sampleEvent("git.push", { org: "contoso", project: { id: project.id, name: project.name } });
    let staleRejected = retiredTokens.length > 0;
    for (const old of retiredTokens)
      if ((await post(rx.webhookUrl(old), probe(), basic(outs.password))) !== 404) staleRejected = false;
    for (const old of retiredPasswords)
      if ((await post(rx.webhookUrl(outs.token), probe(), basic(old))) !== 401) staleRejected = false;
    if ((await post(rx.webhookUrl(outs.token), probe(), basic(outs.password))) !== 201) staleRejected = false;

    const hooksNotEnabled = ado.subscriptions().filter((s) => s.status !== "enabled").length;
    return {
      rotations: options.rotations,
      sent: sentIds.size,
      stored: [...sentIds].filter((id) => perEvent.has(id)).length,
      lost,
      duplicated,
      staleRejected,
      overlapAccepted,
      quietAfterOverlap,
      failedDeliveries,
      hooksNotEnabled,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await receiver?.close();
    await emulator?.close();
  }
}

export function formatResult(r: RotationSoakResult): string {
  return (
    `rotation: rotations=${r.rotations} sent=${r.sent} stored=${r.stored} lost=${r.lost} ` +
    `duplicated=${r.duplicated} stale-credential-rejected=${r.staleRejected ? "yes" : "no"}`
  );
}

const HELP = `Usage: npm run soak:rotation -- [--events N] [--rotations N] [--concurrency N]

The ADO emulator delivers events to the receiver without pause while the URL token and the Basic
password rotate: each rotation is a \`pulumi up\` run through the real dynamic-provider host (new
values → receiver revision with both hashes → hooks updated); the previous values are refused once
the 7.2 s overlap ends; then the retired credentials are tried.

Options:
  --events N        events to deliver, at least (default 1200, minimum 100)
  --rotations N     rotations of both credentials (default 3, minimum 1)
  --concurrency N   events in flight at once (default 16)
  --help            this text

Prints: rotation: rotations=<n> sent=<n> stored=<n> lost=<n> duplicated=<n> stale-credential-rejected=<yes|no>
Exit 0 when nothing was lost or duplicated and every retired credential was refused, 1 otherwise, 2 on bad arguments.`;

function positiveInt(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number >= ${min} (got ${value})`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let options: RotationSoakOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        events: { type: "string" },
        rotations: { type: "string" },
        concurrency: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    options = {
      events: positiveInt("events", values.events, 1200, 100),
      rotations: positiveInt("rotations", values.rotations, 3, 1),
      concurrency: positiveInt("concurrency", values.concurrency, 16, 1),
      log: (m) => process.stderr.write(`» ${m}\n`),
    };
  } catch (err) {
    process.stderr.write(`soak:rotation: ${(err as Error).message}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  const result = await runRotationSoak(options);
  process.stderr.write(
    `» ${result.seconds.toFixed(1)} s; overlap deliveries with the previous values stored: ` +
      `${result.overlapAccepted ? "yes" : "no"}; up after each overlap changed nothing: ` +
      `${result.quietAfterOverlap ? "yes" : "no"}; failed hook deliveries: ${result.failedDeliveries}; ` +
      `hooks not enabled: ${result.hooksNotEnabled}\n`,
  );
  console.log(formatResult(result));
  const ok = result.lost === 0 && result.duplicated === 0 && result.staleRejected && result.overlapAccepted;
  return ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak:rotation failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
