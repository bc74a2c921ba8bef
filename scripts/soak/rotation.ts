/**
 * Rotation soak: the ADO emulator delivers events to the receiver without pause while the URL token
 * and the Basic password rotate several times; then the retired credentials are tried.
 *
 *   npm run soak:rotation [-- --events 1200 --rotations 3 --concurrency 16]
 *
 * It drives the code `pulumi up` drives, in the order a deployment applies it: the RotatingSecret
 * provider (check → diff → update, with a movable clock), the receiver configuration a new Container
 * App revision would get (both hashes, swapped atomically), then the ServiceHook provider (diff →
 * update: the hooks now send the new values). After the overlap, a later "run" drops the previous
 * values and the receiver gets a revision without them.
 *
 * Prints one line on stdout:
 *   rotation: rotations=<n> sent=<n> stored=<n> lost=<n> duplicated=<n> stale-credential-rejected=<yes|no>
 * Progress goes to stderr. Exits 1 when an event was lost or duplicated or a retired credential
 * was accepted, 2 on bad arguments.
 */
import { parseArgs } from "node:util";
import type { AdoEvent } from "../../ado/types";
import { AdoClient } from "../../ado/client";
import type { CredentialSettings } from "../../app/config";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import {
  createRotatingSecretProvider,
  type RotatingSecretInputs,
  type RotatingSecretOutputs,
} from "../../components/credentials/rotating-secret-provider";
import { createServiceHookProvider } from "../../components/hooks/provider";
import type { ServiceHookOutputs } from "../../components/hooks/mapping";
import { startAdoEmulator, type AdoEmulator } from "../../test/support/ado-emulator";
import { sampleEvent } from "../../test/support/ado-events";
import { EXIT } from "../lib/args";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SYSTEM = "devops";
const EVENT_TYPES = ["git.push", "workitem.updated", "build.complete", "git.pullrequest.created"];

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
  /** Hook deliveries that failed (4xx/5xx) at first attempt. */
  failedDeliveries: number;
  /** Hooks not `enabled` at the end. */
  hooksNotEnabled: number;
  seconds: number;
}

type Provider = ReturnType<typeof createRotatingSecretProvider>;

/** One credential as Pulumi state holds it, stepped the way the engine steps it. */
class CredentialSlot {
  outs!: RotatingSecretOutputs;
  constructor(
    private readonly provider: Provider,
    private readonly inputs: RotatingSecretInputs,
  ) {}
  async create(): Promise<void> {
    const checked = await this.provider.check!({}, { ...this.inputs });
    this.outs = (await this.provider.create(checked.inputs)).outs as RotatingSecretOutputs;
  }
  /** check → diff → update when the diff says so; returns whether it changed. */
  async up(): Promise<boolean> {
    const checked = await this.provider.check!(this.outs, { ...this.inputs });
    const d = await this.provider.diff!("id", this.outs, checked.inputs);
    if (d.replaces?.length) throw new Error("a rotation must be an update, not a replace");
    if (!d.changes) return false;
    this.outs = (await this.provider.update!("id", this.outs, checked.inputs)).outs as RotatingSecretOutputs;
    return true;
  }
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

export async function runRotationSoak(options: RotationSoakOptions): Promise<RotationSoakResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  let clock = Date.now();
  const secrets = createRotatingSecretProvider({ now: () => new Date(clock) });
  const policy = { systemId: SYSTEM, rotateEveryDays: 30, overlapHours: 24, rotationNonce: "" };
  const token = new CredentialSlot(secrets, { ...policy, kind: "urlToken" });
  const password = new CredentialSlot(secrets, { ...policy, kind: "basicPassword" });
  await token.create();
  await password.create();

  // What a Container App revision is given: hashes only.
  const revision = (): CredentialSettings => ({
    systems: [
      {
        id: SYSTEM,
        storageMode: "lean",
        retentionDays: 7,
        basicUsername: "hookfleet",
        basicPasswords: password.outs.hashes,
        requireBoth: true,
      },
    ],
    urlTokens: token.outs.urlTokens,
    readTokens: [],
  });

  let emulator: AdoEmulator | undefined;
  let receiver: RunningReceiver | undefined;
  try {
    // timeScale: ADO's retry and probation schedule 1000× faster, so a mistake would surface as
    // retries within the run rather than hours later.
    emulator = await startAdoEmulator({ orgs: [{ name: "contoso", projects: 1 }], timeScale: 0.001 });
    receiver = await startReceiver({
      credentials: revision(),
      logLevel: "warn",
      logStream: { write: () => true },
    });
    const rx = receiver;
    const ado = emulator;
    log(`receiver ${rx.url}, ADO emulator ${ado.baseUrl}`);

    const hooks = createServiceHookProvider({
      clientFor: (orgUrl) => new AdoClient({ orgUrl, auth: { kind: "pat", pat: ado.pat } }),
      warn: (m) => log(`warning: ${m}`),
    });
    const project = ado.projects()[0];
    const hookInputs = (eventType: string) => ({
      orgUrl: ado.orgUrl(),
      projectId: project.id,
      eventType,
      url: rx.webhookUrl(token.outs.current),
      basicAuthUsername: "hookfleet",
      basicAuthPassword: password.outs.current,
      testDelivery: false,
      hookName: `rotation-${eventType}`,
    });
    const hookState = new Map<string, { id: string; outs: ServiceHookOutputs }>();
    for (const eventType of EVENT_TYPES) {
      const checked = await hooks.check({}, hookInputs(eventType));
      if (checked.failures?.length) throw new Error(`hook inputs: ${JSON.stringify(checked.failures)}`);
      const r = await hooks.create(checked.inputs);
      hookState.set(eventType, { id: r.id, outs: r.outs as ServiceHookOutputs });
    }
    const updateHooks = async () => {
      for (const eventType of EVENT_TYPES) {
        const prior = hookState.get(eventType)!;
        const checked = await hooks.check(prior.outs, hookInputs(eventType));
        const d = await hooks.diff(prior.id, prior.outs, checked.inputs);
        if (d.replaces?.length) throw new Error(`hook ${eventType} would be replaced`);
        if (!d.changes) throw new Error(`hook ${eventType} did not see the new credentials`);
        const u = await hooks.update(prior.id, prior.outs, checked.inputs);
        hookState.set(eventType, { id: prior.id, outs: u.outs as ServiceHookOutputs });
      }
    };

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
    const step = options.events / (options.rotations + 1);
    for (let i = 1; i <= options.rotations; i++) {
      await untilSent(Math.round(step * (i - 0.5)));
      // A run after the schedule says so: both credentials are due.
      clock += 30 * DAY;
      const oldToken = token.outs.current;
      const oldPassword = password.outs.current;
      if (!(await token.up()) || !(await password.up()))
        throw new Error("rotation was due but diff saw no change");
      rx.setCredentials(revision()); // the new revision accepts both slots…
      await updateHooks(); // …before any hook sends the new values.
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
      // A later run, after the overlap: the previous values are dropped.
      clock += 25 * HOUR;
      if (!(await token.up()) || !(await password.up()))
        throw new Error("overlap ended but diff saw no change");
      if (token.outs.previous !== undefined || password.outs.previous !== undefined)
        throw new Error("previous value kept after the overlap");
      rx.setCredentials(revision());
      retiredTokens.push(oldToken);
      retiredPasswords.push(oldPassword);
      log(`rotation ${i}: overlap over, previous values dropped (sent so far ${sentIds.size})`);
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
      if ((await post(rx.webhookUrl(old), probe(), basic(password.outs.current))) !== 404)
        staleRejected = false;
    for (const old of retiredPasswords)
      if ((await post(rx.webhookUrl(token.outs.current), probe(), basic(old))) !== 401) staleRejected = false;
    if ((await post(rx.webhookUrl(token.outs.current), probe(), basic(password.outs.current))) !== 201)
      staleRejected = false;

    const hooksNotEnabled = ado.subscriptions().filter((s) => s.status !== "enabled").length;
    return {
      rotations: options.rotations,
      sent: sentIds.size,
      stored: [...sentIds].filter((id) => perEvent.has(id)).length,
      lost,
      duplicated,
      staleRejected,
      overlapAccepted,
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
password rotate (provider update → receiver revision with both hashes → hooks updated; later the
previous values are dropped); then the retired credentials are tried.

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
      `${result.overlapAccepted ? "yes" : "no"}; failed hook deliveries: ${result.failedDeliveries}; ` +
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
