/**
 * `npm run sandbox`: the whole HookFleet story on one machine, told step by step and checked at
 * every step (a failed check stops the run with a message and exit 1):
 *
 *   1 the ADO emulator and the receivers start            6 `up` repairs them
 *   2 `up`: credentials, receiver revision, hooks         7 the heal job replays every failed delivery
 *     of every destination                                8 a URL-token rotation under continuous delivery
 *   3 every event type raised in every project, stored    9 the summary line
 *     once by each destination subscribed to it
 *   4 the receiver fails for one project: probation,
 *     ADO disables its hooks (not the product's)
 *   5 `drift` shows exactly those hooks
 *
 * The program is the real one (index.ts, stack `sandbox`) applied by the Pulumi CLI or by the
 * built-in engine stand-in (./sandbox-deploy.ts). ADO is the emulator (devkit/ado-emulator),
 * driven like an outside service: its REST API through the real ADO client, its control routes
 * over HTTP (./emulator-control.ts). The receivers are the real receiver with embedded stores,
 * run by a local host that takes their revisions (./sandbox-receivers.ts); what they hold is read
 * through their read API (./sandbox-ledger.ts). The heal job runs as `npm run heal` runs.
 *
 * Destinations (stacks/Pulumi.sandbox.yaml, `hookfleet:destinations`): our receiver (kind `receiver`)
 * and a hosted product (kind `webhook`, URL token in its URL). Each has a local receiver named after
 * it; the product's stand-in mints its URL token (./sandbox-receivers.ts `hostedProduct`) and the
 * stack gets the URL as a user sets it, a secret at `hookfleet:destinations[i].url`. Every event
 * raised should be stored once by each destination subscribed to its type and by no other
 * (`destinationsOf`). The receiver's outage in step 4 is its own: the product is another service,
 * so its hooks keep delivering; the heal job and the URL-token rotation are the receiver's too.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AdoClient } from "../../ado/client";
import { EVENT_CATALOGUE } from "../../ado/events";
import type { Project, Subscription } from "../../ado/types";
import { subscriptionStatus } from "../../ado/wire";
import type { HealReport } from "../../app/heal/heal";
import { scrubText } from "../../app/scrub";
import type { AdoEmulator } from "../../devkit/ado-emulator";
import { runToEnd } from "./child-process";
import { EmulatorControl, type RaisedEvent } from "./emulator-control";
import { EXIT, ScriptError, type PreparedPulumi } from "./prepare";
import { formatDriftTable } from "./pulumiJson";
import {
  cliStack,
  engineStack,
  sandboxDestinations,
  SANDBOX_STACK,
  type SandboxDestination,
  type SandboxOutputs,
  type SandboxStack,
} from "./sandbox-deploy";
import { EventLedger, type LedgerCheck, type ReceiverReader } from "./sandbox-ledger";
import {
  hostedProduct,
  preferPort,
  startReceiverHost,
  type HostedProduct,
  type LocalReceiver,
} from "./sandbox-receivers";

/** The emulated organization the sandbox stack wires (stacks/Pulumi.sandbox.yaml). */
export const SANDBOX_ORG = "sandbox";
/** Ports taken when free (the stack file names the first three); else any. */
const PORTS = { receiver: 7071, emulator: 7072, host: 7073, products: [7074] };
/** ADO's schedule runs 1000× faster: the 8 quick retries of a failing delivery take 0.2 s. */
const TIME_SCALE = 0.001;
/** Probation: 7 retries over 36 hours (azure-devops-facts.md), then disabledBySystem. */
const PROBATION_SECONDS = 36 * 3600;
/** What the receiver answers while it fails (503: ADO retries it at once, then puts the hook on probation). */
const FAILURE_STATUS = 503;
const EVENT_TYPES = EVENT_CATALOGUE.map((e) => e.eventType);
/** Pause of each of the two event pumps during the rotation (≈ 60 events/s between them). */
const PUMP_PAUSE_MS = 25;

export interface SandboxOptions {
  /** Projects in the emulated organization. */
  projects: number;
  /** Leave everything running at the end and print how to explore it. */
  keep: boolean;
  /** Progress and story lines (stderr). */
  log: (line: string) => void;
  /** Result lines: the summary (stdout). */
  print: (line: string) => void;
  /** The Pulumi CLI (prepared), or undefined: the built-in engine stand-in. */
  pulumi?: PreparedPulumi;
  /** Where `--keep` writes the servers' secrets (default: .sandbox/ in the project). */
  projectRoot: string;
  /** Resolves when `--keep` should stop (default: SIGINT or SIGTERM). */
  untilStopped?: () => Promise<void>;
}

export interface SandboxSummary {
  /** Hooks of every destination. */
  hooks: number;
  enabled: number;
  /** Events raised. */
  events: number;
  /** Events stored by every destination subscribed to them. */
  stored: number;
  repaired: number;
  replayed: number;
  lost: number;
  duplicated: number;
  /** Per destination, in stack order: its hooks, and the raised events it stored (once each). */
  destinations: { name: string; hooks: number; stored: number }[];
}

/**
 * The last line: `sandbox: hooks=… enabled=… events=… stored=… repaired=… replayed=… lost=… duplicated=…`,
 * then `; <destination>: hooks=… stored=…` per destination.
 */
export function formatSummary(s: SandboxSummary): string {
  return (
    `sandbox: hooks=${s.hooks} enabled=${s.enabled} events=${s.events} stored=${s.stored} ` +
    `repaired=${s.repaired} replayed=${s.replayed} lost=${s.lost} duplicated=${s.duplicated}` +
    s.destinations.map((d) => `; ${d.name}: hooks=${d.hooks} stored=${d.stored}`).join("")
  );
}

/** A check of the story failed: the run stops with this message and exit 1. */
export class SandboxCheckFailed extends ScriptError {
  constructor(step: string, message: string) {
    super(`sandbox step ${step} failed: ${message}`, EXIT.failed);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** Runs `work` with at most `limit` at once. */
async function eachLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

/** Counts per key, as "a 3, b 2" in the order keys first appear. */
function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

/** Lines of at most `width` characters from comma-separated parts. */
function wrap(parts: string[], width = 96): string[] {
  const lines: string[] = [];
  let line = "";
  for (const p of parts) {
    if (line && line.length + p.length + 2 > width) {
      lines.push(`${line},`);
      line = p;
    } else line = line ? `${line}, ${p}` : p;
  }
  if (line) lines.push(line);
  return lines;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A hosted product's stand-in and the destination it is. */
interface Product {
  destination: SandboxDestination;
  stand: HostedProduct;
  local: LocalReceiver;
}

export async function runSandbox(options: SandboxOptions): Promise<SandboxSummary> {
  const { log } = options;
  const started = Date.now();
  // Loaded here: the emulator is the ADO stand-in of the test tooling (README "Layout").
  const { startAdoEmulator } = await import("../../devkit/ado-emulator");

  let current = "1";
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new SandboxCheckFailed(current, message);
  };
  const step = async <T>(n: number, title: string, work: () => Promise<T>): Promise<T> => {
    current = String(n);
    log(`${n}/9 ${title}`);
    const t0 = Date.now();
    const result = await work();
    log(`    (${seconds(Date.now() - t0)})`);
    return result;
  };

  // The stack's destinations: one local receiver each, named after it.
  const destinations = sandboxDestinations();
  const receiverDestination = destinations.find((d) => d.kind === "receiver");
  if (!receiverDestination)
    throw new SandboxCheckFailed(
      "1",
      `stacks/Pulumi.${SANDBOX_STACK}.yaml lists no destination of kind receiver`,
    );
  const stands = destinations
    .filter((d) => d.kind === "webhook")
    .map((destination, i) => ({ destination, stand: hostedProduct(destination.name, PORTS.products[i]) }));
  /** The destinations an event of this type should reach (every project is subscribed: `projects: all`). */
  const destinationsOf = (eventType: string) =>
    destinations.filter((d) => d.eventTypes.includes(eventType)).map((d) => d.name);
  const RECEIVER = receiverDestination.name;

  // ---- 1: servers -----------------------------------------------------------------------------
  let emulator: AdoEmulator | undefined;
  let host: Awaited<ReturnType<typeof startReceiverHost>> | undefined;
  let stack: SandboxStack | undefined;
  const revisionTimes: number[] = [];
  try {
    const world = await step(
      1,
      stands.length === 0
        ? "the ADO emulator and the receiver start"
        : `the ADO emulator, the receiver and the hosted product${stands.length === 1 ? "'s stand-in" : "s' stand-ins"} ` +
            `(${stands.map((p) => p.destination.name).join(", ")}) start`,
      async () => {
        emulator = await preferPort(
          (port) =>
            startAdoEmulator({
              port,
              orgs: [{ name: SANDBOX_ORG, projects: options.projects }],
              timeScale: TIME_SCALE,
              // authMode both: Basic credentials to receivers on 127.0.0.1 over http (ADO itself needs https).
              allowBasicAuthOverLoopbackHttp: true,
            }),
          PORTS.emulator,
        );
        host = await startReceiverHost(
          [{ name: RECEIVER, port: PORTS.receiver, revisions: true }, ...stands.map((p) => p.stand.spec)],
          {
            port: PORTS.host,
            onRevision: (name, revision, settings) => {
              revisionTimes.push(Date.now());
              const passwords = settings.systems.flatMap((s) => s.basicPasswords ?? []).length;
              log(
                `    ${name} runs revision ${revision}: ${plural(settings.urlTokens.length, "URL-token hash", "URL-token hashes")}, ` +
                  `${plural(passwords, "Basic-password hash", "Basic-password hashes")}, ${plural(settings.readTokens.length, "read-token hash", "read-token hashes")}`,
              );
            },
          },
        );
        const receiver = host.get(RECEIVER);
        const products: Product[] = stands.map((p) => ({ ...p, local: host!.get(p.destination.name) }));
        const ado = new AdoClient({
          orgUrl: emulator.orgUrl(SANDBOX_ORG),
          auth: { kind: "pat", pat: emulator.pat },
        });
        const control = new EmulatorControl(emulator.baseUrl, emulator.pat);
        const projects = await ado.listProjects();
        check(
          projects.length === options.projects,
          `the emulator lists ${projects.length} projects, expected ${options.projects}`,
        );
        for (const r of host.receivers) {
          const health = await fetch(`${r.receiver.url}/healthz`);
          check(health.ok, `${r.name} answers /healthz with ${health.status}`);
        }
        log(
          `    ADO emulator   ${emulator.orgUrl(SANDBOX_ORG)} (${plural(projects.length, "project")}; time scale ${TIME_SCALE})`,
        );
        for (const r of host.receivers)
          log(
            `    ${r.name.padEnd(14)} ${r.receiver.url} (embedded store ${r.receiver.embeddedCosmos?.endpoint ?? "?"})` +
              (r.revisionUrl
                ? `; revisions at ${r.revisionUrl}`
                : "; a hosted product: it minted the URL token of its webhook URL, knows only its hash"),
          );
        return { receiver, products, ado, control, projects };
      },
    );
    const { receiver, products, ado, control } = world;
    const projects: Project[] = world.projects;

    const urls = {
      receiverUrl: receiver.receiver.url,
      receiverRevisionUrl: receiver.revisionUrl!,
      organizationUrl: emulator!.orgUrl(SANDBOX_ORG),
    };
    // What the provider host needs, through the environment as `pulumi` would get it.
    const env = { AZURE_DEVOPS_EXT_PAT: emulator!.pat, HOOKFLEET_RECEIVER_REVISION_TOKEN: host!.token };
    stack = options.pulumi
      ? await cliStack({ ctx: options.pulumi, urls, env, log })
      : engineStack({ urls, env, log });

    /** The local receiver of each destination, by name. */
    const localOf = new Map<string, LocalReceiver>([
      [RECEIVER, receiver],
      ...products.map((p) => [p.destination.name, p.local] as const),
    ]);
    /** A destination's hooks in ADO: the subscriptions that deliver to its receiver. */
    const hooksOf = (name: string) =>
      ado.listSubscriptions({ consumerUrlPrefix: `${localOf.get(name)!.receiver.url}/` });
    const ours = () => hooksOf(RECEIVER);
    const ledger = new EventLedger();
    const record = (events: RaisedEvent[]) => {
      for (const e of events) ledger.add(e.id, destinationsOf(e.eventType));
    };
    let readers: ReceiverReader[] = [];
    const audit = async (): Promise<LedgerCheck> => {
      const result = await ledger.check(readers);
      check(
        result.lost.length === 0,
        `${result.lost.length} event(s) not stored: ${result.lost.slice(0, 5).join(", ")}`,
      );
      check(result.duplicated === 0, `${result.duplicated} event(s) stored more than once`);
      check(
        result.unexpected.length === 0,
        `${result.unexpected.length} event(s) stored by a destination not subscribed to them: ${result.unexpected.slice(0, 5).join(", ")}`,
      );
      return result;
    };
    /** "the receiver 204, the product 84" from the audit's per-receiver counts. */
    const perDestination = (audited: LedgerCheck) =>
      destinations.map((d) => `${d.name} ${audited.receivers[d.name]?.stored ?? 0}`).join(", ");
    const notEnabled = (subs: Subscription[]) => subs.filter((s) => subscriptionStatus(s) !== "enabled");
    /** Every product's hooks in ADO. */
    const productHooks = async () =>
      (await Promise.all(products.map((p) => hooksOf(p.destination.name)))).flat();
    /** What would show that hooks changed: their ids, URLs and modification times. */
    const fingerprint = (subs: Subscription[]) =>
      subs
        .map((s) => `${s.id} ${s.modifiedDate ?? ""} ${s.consumerInputs.url ?? ""}`)
        .sort()
        .join("\n");

    // ---- 2: up ----------------------------------------------------------------------------------
    const hooksExpected = (d: SandboxDestination) => options.projects * d.eventTypes.length;
    let outputs: SandboxOutputs = await step(
      2,
      `up on ${stack.description}: credentials, the receiver's revision, one hook per destination × project × event type`,
      async () => {
        for (const p of products) {
          // What a person does with the URL a URL-token product gives (docs/destinations.md).
          const key = `hookfleet:destinations[${p.destination.index}].url`;
          await stack!.setConfig(key, p.local.receiver.webhookUrl(p.stand.urlToken), {
            path: true,
            secret: true,
          });
          log(
            `    ${p.destination.name} gave its webhook URL (its URL token inside), set as a secret: ` +
              `pulumi config set --secret --path '${key}' '${p.local.receiver.url}/api/v1/webhooks/alw_…'`,
          );
        }
        const up = await stack!.up("create");
        const out = up.outputs;
        const expected = destinations.reduce((n, d) => n + hooksExpected(d), 0);
        check(
          out.hookTotal === expected,
          `the stack reports ${out.hookTotal === undefined ? "no" : out.hookTotal} hooks, expected ${expected}`,
        );
        for (const d of destinations) {
          const want = hooksExpected(d);
          const counts = out.destinationHookCounts?.[d.name] ?? {};
          check(
            counts.enabled === want && Object.values(counts).reduce((a, b) => a + b, 0) === want,
            `the stack reports ${d.name}'s hooks as ${JSON.stringify(counts)}, expected ${want} enabled`,
          );
          const live = await hooksOf(d.name);
          const pairs = new Set(live.map((s) => `${s.publisherInputs.projectId} ${s.eventType}`));
          const missing = projects.flatMap((p) =>
            d.eventTypes.filter((t) => !pairs.has(`${p.id} ${t}`)).map((t) => `${p.name} ${t}`),
          );
          check(
            live.length === want && missing.length === 0,
            `ADO holds ${live.length} hooks of ${d.name}, expected ${want} (one per project × its ${d.eventTypes.length} event types)` +
              (missing.length ? `; missing: ${missing.slice(0, 3).join(", ")}` : ""),
          );
          check(
            notEnabled(live).length === 0,
            `${notEnabled(live).length} hooks of ${d.name} are not enabled after the first up`,
          );
          log(
            `    ${d.name}: ${want} hooks in ADO (${plural(projects.length, "project")} × ${plural(d.eventTypes.length, "event type")}), all enabled; by event type:`,
          );
          const byType = countBy(live, (s) => s.eventType);
          for (const line of wrap([...byType].map(([t, n]) => `${t} ${n}`))) log(`      ${line}`);
        }
        // The fix of the first apply's order: the receiver knew the credentials before any hook existed.
        const firstHook = Math.min(...(await ours()).map((s) => Date.parse(s.createdDate ?? "")));
        check(
          revisionTimes.length > 0 && revisionTimes[0] <= firstHook,
          "the receiver got its first revision after hooks were created",
        );
        log("    the receiver ran the new credentials before the first hook was created");
        const failed = Object.entries(out.failedTestDeliveries ?? {}).flatMap(([name, hooks]) =>
          hooks.map((h) => `${name}: ${h}`),
        );
        check(
          failed.length === 0,
          `${failed.length} test deliveries failed: ${failed.slice(0, 3).join(", ")}`,
        );
        readers = [
          { name: RECEIVER, url: receiver.receiver.url, readToken: out.readToken },
          ...products.map((p) => ({
            name: p.destination.name,
            url: p.local.receiver.url,
            readToken: p.stand.readToken,
          })),
        ];
        const audited = await ledger.check(readers);
        for (const d of destinations) {
          const tests = audited.receivers[d.name]?.other ?? 0;
          check(
            tests === hooksExpected(d),
            `${d.name} stored ${tests} test deliveries, expected ${hooksExpected(d)}`,
          );
        }
        log(
          `    ADO's test delivery of each hook answered 2xx and was stored: ` +
            destinations.map((d) => `${d.name} ${hooksExpected(d)}`).join(", "),
        );
        return out;
      },
    );

    // ---- 3: every event type in every project --------------------------------------------------
    await step(
      3,
      `ADO raises one event of each of the ${EVENT_TYPES.length} types in every project`,
      async () => {
        const raised = (
          await eachLimited(projects, 4, (p) =>
            control.raise({ eventType: "all", org: SANDBOX_ORG, project: p.name }),
          )
        ).flat();
        record(raised);
        const odd = raised.filter(
          (e) => e.matched !== destinationsOf(e.eventType).length || e.delivered !== e.matched,
        );
        check(
          odd.length === 0,
          `${odd.length} events did not reach exactly one hook of each destination subscribed to them, e.g. ${JSON.stringify(odd[0])}`,
        );
        const audited = await audit();
        log(
          `    ${raised.length} events, each delivered by one hook to every destination subscribed to its type; ` +
            `stored once: ${perDestination(audited)}; none where not subscribed`,
        );
      },
    );

    // ---- 4: the receiver fails for one project --------------------------------------------------
    const failing = projects[Math.min(2, projects.length - 1)];
    const others = projects.filter((p) => p.id !== failing.id);
    const receiverTypes = receiverDestination.eventTypes.length;
    const failedEvents = await step(
      4,
      `the receiver fails for ${failing.name}: ADO retries, puts its hooks on probation, then disables them`,
      async () => {
        // The trailing "/": a prefix of the receiver's URLs only, never of another port's.
        await control.failDeliveries({
          url: `${receiver.receiver.url}/`,
          status: FAILURE_STATUS,
          org: SANDBOX_ORG,
          project: failing.name,
        });
        log(
          `    deliveries to the receiver for ${failing.name} now answer ${FAILURE_STATUS} (emulator control route)`,
        );
        const [down, meanwhile] = await Promise.all([
          control.raise({ eventType: "all", org: SANDBOX_ORG, project: failing.name, count: 2 }),
          eachLimited(others, 4, (p) =>
            control.raise({ eventType: "all", org: SANDBOX_ORG, project: p.name }),
          ),
        ]);
        record(down);
        record(meanwhile.flat());
        const toReceiver = down.filter((e) => destinationsOf(e.eventType).includes(RECEIVER));
        // Each event of the failing project: its delivery to the receiver fails; one to a product
        // (another service: the receiver's outage is not its) is delivered.
        const odd = down.filter(
          (e) =>
            e.matched !== destinationsOf(e.eventType).length ||
            e.failed !== (destinationsOf(e.eventType).includes(RECEIVER) ? 1 : 0) ||
            e.delivered !== e.matched - e.failed,
        );
        check(
          odd.length === 0,
          `${odd.length} events of ${failing.name} did not fail at the receiver alone, e.g. ${JSON.stringify(odd[0])}`,
        );
        check(
          meanwhile
            .flat()
            .every((e) => e.delivered === e.matched && e.matched === destinationsOf(e.eventType).length),
          "some events of the other projects were not delivered",
        );
        const isFailing = (s: Subscription) => s.publisherInputs.projectId === failing.id;
        const probation = (await ours()).filter(
          (s) => isFailing(s) && subscriptionStatus(s) === "onProbation",
        );
        check(
          probation.length === receiverTypes,
          `${probation.length} hooks of ${failing.name} on probation, expected ${receiverTypes}`,
        );
        log(
          `    ${toReceiver.length} events in ${failing.name}: every delivery to the receiver failed after ADO's quick retries; ` +
            `${probation.length} hooks on probation`,
        );
        log(`    meanwhile ${meanwhile.flat().length} events in the other projects: delivered`);
        const jump = await control.advance(PROBATION_SECONDS + 60);
        const live = await ours();
        const disabled = live.filter((s) => subscriptionStatus(s) === "disabledBySystem");
        check(
          disabled.length === receiverTypes && disabled.every(isFailing),
          `after probation ${disabled.length} hooks are disabledBySystem, expected exactly the ${receiverTypes} of ${failing.name}`,
        );
        check(notEnabled(live).length === disabled.length, "hooks of other projects are not enabled");
        log(
          `    ADO's probation clock advanced 36 h: ${jump.attempts} retries failed; ` +
            `${disabled.length} hooks disabledBySystem, the other ${live.length - disabled.length} enabled`,
        );
        const theirs = await productHooks();
        check(
          notEnabled(theirs).length === 0,
          `${notEnabled(theirs).length} hooks of the products are not enabled, though only the receiver failed`,
        );
        for (const p of products) {
          const n = p.destination.eventTypes.length;
          log(
            `    ${p.destination.name} is another service: its ${n} hooks in ${failing.name} delivered their ` +
              `${down.filter((e) => p.destination.eventTypes.includes(e.eventType)).length} events there and stay enabled`,
          );
        }
        await control.clearFailures();
        log(
          "    the receiver recovers; ADO does not retry disabled hooks: their failed events wait for heal",
        );
        return { events: toReceiver, hooks: disabled };
      },
    );
    const disabledNames = new Set(
      failedEvents.hooks.map((s) => `${SANDBOX_ORG}-${failing.id}-${s.eventType}`),
    );

    // ---- 5: drift -------------------------------------------------------------------------------
    await step(5, "drift: a refresh and preview of the stack (npm run drift) shows those hooks", async () => {
      const drift = await stack!.drift();
      const names = new Set(drift.rows.map((r) => r.name));
      const unexpected = drift.rows.filter((r) => !disabledNames.has(r.name) || r.kind !== "disabled");
      const missing = [...disabledNames].filter((n) => !names.has(n));
      check(
        unexpected.length === 0 && missing.length === 0 && drift.errors.length === 0,
        `drift shows ${drift.rows.length} resources; not the disabled hooks: ` +
          `${unexpected.map((r) => `${r.name} (${r.kind})`).join(", ") || "none"}; missing: ${missing.length}; ` +
          `errors: ${drift.errors.join("; ") || "none"}`,
      );
      for (const line of formatDriftTable(drift).split("\n")) log(`      ${line}`);
      if (products.length)
        log(`    no hook of ${products.map((p) => p.destination.name).join(", ")} drifted`);
    });

    // ---- 6: up repairs --------------------------------------------------------------------------
    const repaired = await step(
      6,
      "up: the refresh sees the disabled hooks as drift and re-enables them",
      async () => {
        const up = await stack!.up("repair");
        outputs = up.outputs;
        const stillDown = Object.values(outputs.hooksNotEnabled ?? {}).flat();
        check(stillDown.length === 0, `${stillDown.length} hooks still not enabled after the repair`);
        const live = await ours();
        check(notEnabled(live).length === 0, `ADO still has ${notEnabled(live).length} hooks not enabled`);
        const back = live.filter((s) => failedEvents.hooks.some((d) => d.id === s.id)).length;
        check(
          back === failedEvents.hooks.length,
          `${back} of ${failedEvents.hooks.length} disabled hooks are back`,
        );
        if (up.changes) {
          const c = up.changes;
          check(
            c.update === back && c.create === 0 && c.replace === 0 && c.delete === 0,
            `the repair changed more than the disabled hooks: ${JSON.stringify(c)}`,
          );
        }
        const failed = Object.values(outputs.failedTestDeliveries ?? {}).flat();
        check(failed.length === 0, `${failed.length} test deliveries failed after the repair`);
        const theirs = await productHooks();
        check(
          notEnabled(theirs).length === 0,
          `${notEnabled(theirs).length} hooks of the products not enabled`,
        );
        log(
          `    ${back} hooks updated (re-enabled, test delivery 2xx); nothing else changed; ` +
            `all ${live.length + theirs.length} enabled`,
        );
        return back;
      },
    );

    // ---- 7: heal --------------------------------------------------------------------------------
    const replayed = await step(
      7,
      "heal: npm run heal replays the failed deliveries of the hooks `up` re-enabled into the receiver's store",
      async () => {
        const report = await runHeal(receiver, emulator!, log);
        const expected = failedEvents.events.length;
        check(
          report.ok,
          `the heal job reported problems: ${JSON.stringify(report.hooks.filter((h) => h.problems.length))}`,
        );
        check(
          report.totals.replayed === expected,
          `heal replayed ${report.totals.replayed} events, expected the ${expected} that failed`,
        );
        const audited = await audit();
        log(
          `    ${plural(report.hooks.length, "hook")} had failed deliveries: ${report.totals.replayed} events replayed, ` +
            `${report.totals.alreadyPresent} already stored`,
        );
        log(
          `    every event raised so far is stored once by each destination subscribed to it ` +
            `(${audited.stored} of ${audited.events}: ${perDestination(audited)})`,
        );
        return report.totals.replayed;
      },
    );

    // ---- 8: rotation under continuous delivery -------------------------------------------------
    await step(8, "a URL-token rotation while ADO delivers without pause", async () => {
      const before = outputs.webhookUrl;
      const productsBefore = fingerprint(await productHooks());
      const revisionsBefore = revisionTimes.length;
      let stop = false;
      let sent = 0;
      let failedDeliveries = 0;
      let n = 0;
      const pump = async () => {
        while (!stop) {
          const i = n++;
          const project = projects[i % projects.length];
          const eventType = EVENT_TYPES[Math.floor(i / projects.length) % EVENT_TYPES.length];
          const events = await control.raise({ eventType, org: SANDBOX_ORG, project: project.name });
          record(events);
          sent += events.length;
          failedDeliveries += events.filter((e) => e.delivered !== e.matched).length;
          // Steady traffic, not a load test: the up shares the machine with it.
          await new Promise((resolve) => setTimeout(resolve, PUMP_PAUSE_MS));
        }
      };
      const pumps = Array.from({ length: 2 }, pump);
      try {
        await stack!.setConfig("hookfleet:urlTokenRotationNonce", `sandbox-${new Date().toISOString()}`);
        log(
          "    hookfleet:urlTokenRotationNonce set (what npm run rotate -- --credential url-token does), then up",
        );
        const sentBefore = sent;
        const up = await stack!.up("rotate");
        outputs = up.outputs;
        check(sent > sentBefore, "no event was raised while the rotation ran");
      } finally {
        stop = true;
        await Promise.all(pumps);
      }
      await emulator!.idle();
      check(outputs.webhookUrl !== before, "the webhook URL (its token) did not change");
      check(revisionTimes.length > revisionsBefore, "the receiver got no new revision");
      const live = await ours();
      const stale = live.filter((s) => s.consumerInputs.url !== outputs.webhookUrl);
      check(stale.length === 0, `${stale.length} hooks still deliver with the old URL token`);
      const switched = Math.min(...live.map((s) => Date.parse(s.modifiedDate ?? "")));
      check(
        revisionTimes[revisionsBefore] <= switched,
        "a hook switched before the receiver had the new token",
      );
      check(notEnabled(live).length === 0, `${notEnabled(live).length} hooks not enabled after the rotation`);
      check(failedDeliveries === 0, `${failedDeliveries} deliveries failed during the rotation`);
      const theirs = await productHooks();
      check(
        fingerprint(theirs) === productsBefore,
        "the rotation of the receiver's URL token changed hooks of a product",
      );
      await audit();
      log(
        `    the receiver had the new token (and the previous one, until the overlap ends) before ${live.length} ` +
          "hooks switched to it",
      );
      if (products.length)
        log(
          `    the ${theirs.length} hooks of ${products.map((p) => p.destination.name).join(", ")} untouched: ` +
            "a product's URL token is the product's to regenerate (docs/destinations.md)",
        );
      log(
        `    ${sent} events raised during the rotation: all delivered (to the receiver with the old or the new token), ` +
          "stored once where subscribed",
      );
    });

    // ---- 9: summary -----------------------------------------------------------------------------
    const summary = await step(9, "summary", async () => {
      const final = await ledger.check(readers);
      const live = [...(await ours()), ...(await productHooks())];
      const s: SandboxSummary = {
        hooks: outputs.hookTotal,
        enabled: live.length - notEnabled(live).length,
        events: final.events,
        stored: final.stored,
        repaired,
        replayed,
        lost: final.lost.length,
        duplicated: final.duplicated,
        destinations: destinations.map((d) => ({
          name: d.name,
          hooks: Object.values(outputs.destinationHookCounts?.[d.name] ?? {}).reduce((a, b) => a + b, 0),
          stored: final.receivers[d.name]?.stored ?? 0,
        })),
      };
      check(
        final.unexpected.length === 0,
        `${final.unexpected.length} event(s) stored by a destination not subscribed to them`,
      );
      log(`    the whole loop in ${seconds(Date.now() - started)}`);
      return s;
    });
    options.print(formatSummary(summary));
    check(summary.lost === 0 && summary.duplicated === 0, formatSummary(summary));

    if (options.keep)
      await keepRunning({
        ...options,
        emulator: emulator!,
        receiver,
        products,
        outputs,
        pulumi: options.pulumi,
      });
    return summary;
  } finally {
    await stack
      ?.restoreConfig()
      .catch((err: unknown) => log(`could not restore the stack config: ${(err as Error).message}`));
    await host?.close();
    await emulator?.close();
  }
}

/**
 * `npm run heal -- --json` against the receiver's own store, as a process: as the scheduled job runs
 * it, so the hooks `up` re-enabled in step 6 are read because they changed recently
 * (app/heal/selection.ts), with no --include-enabled.
 */
async function runHeal(
  local: LocalReceiver,
  emulator: AdoEmulator,
  log: (line: string) => void,
): Promise<HealReport> {
  const root = path.resolve(__dirname, "../..");
  const env = healEnvironment(local, emulator);
  log(`    COSMOS_ENDPOINT=${env.COSMOS_ENDPOINT} (the receiver's embedded store) npm run heal`);
  const { code, stdout, stderr } = await runToEnd(
    path.join(root, "node_modules", ".bin", "tsx"),
    ["scripts/heal.ts", "--json"],
    { cwd: root, env: { ...process.env, ...env } },
  );
  try {
    const report = JSON.parse(stdout) as HealReport;
    if (code !== 0) throw new Error(`exit ${code}`);
    return report;
  } catch (e) {
    throw new SandboxCheckFailed(
      "7",
      `npm run heal failed (${(e as Error).message}):\n${scrubText(stderr.trim().slice(-2000))}`,
    );
  }
}

/** What `npm run heal` needs to work on a local receiver: its store, its settings, ADO. */
function healEnvironment(local: LocalReceiver, emulator: AdoEmulator): Record<string, string> {
  const store = local.receiver.embeddedCosmos;
  if (!store) throw new Error(`${local.name} has no embedded store`);
  const settings = local.receiver.credentials();
  return {
    HOOKFLEET_HEAL_ORG_URLS: emulator.orgUrl(SANDBOX_ORG),
    HOOKFLEET_WEBHOOK_BASE_URL: local.receiver.url,
    AZURE_DEVOPS_EXT_PAT: emulator.pat,
    COSMOS_ENDPOINT: store.endpoint,
    // The embedded store's well-known key (app/embedded-cosmos.ts): it accepts any key.
    COSMOS_KEY: store.key,
    HOOKFLEET_SYSTEMS: JSON.stringify(settings.systems),
    HOOKFLEET_URL_TOKENS: JSON.stringify(settings.urlTokens),
  };
}

/** `--keep`: everything stays up; the secrets go to a file only the user can read, the commands to the screen. */
async function keepRunning(options: {
  log: (line: string) => void;
  projectRoot: string;
  emulator: AdoEmulator;
  receiver: LocalReceiver;
  products: Product[];
  outputs: SandboxOutputs;
  pulumi?: PreparedPulumi;
  untilStopped?: () => Promise<void>;
}): Promise<void> {
  const { log, emulator, receiver, products, outputs } = options;
  /** `product` → PRODUCT: its variables are PRODUCT_RECEIVER and PRODUCT_READ_TOKEN. */
  const prefix = (p: Product) => p.destination.name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  const dir = path.join(options.projectRoot, ".sandbox");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "keep.env");
  const vars: Record<string, string> = {
    ADO_EMULATOR: emulator.baseUrl,
    ADO_ORG: emulator.orgUrl(SANDBOX_ORG),
    HOOKFLEET_RECEIVER: receiver.receiver.url,
    HOOKFLEET_READ_TOKEN: outputs.readToken,
    ...Object.fromEntries(
      products.flatMap((p) => [
        [`${prefix(p)}_RECEIVER`, p.local.receiver.url],
        [`${prefix(p)}_READ_TOKEN`, p.stand.readToken],
      ]),
    ),
    ...healEnvironment(receiver, emulator),
  };
  writeFileSync(
    file,
    Object.entries(vars)
      .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
      .join(""),
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
  const project = (await emulator.projects(SANDBOX_ORG))[0]?.name ?? "Project-001";
  log(
    `--keep: the receiver${products.length ? `, ${products.map((p) => p.destination.name).join(", ")}` : ""} ` +
      "and the ADO emulator keep running; Ctrl-C stops them. Their secrets are in",
  );
  log(`${path.relative(process.cwd(), file) || file} (readable by you only). To explore:`);
  for (const line of [
    `source ${path.relative(process.cwd(), file) || file}`,
    `curl -s -H "Authorization: Bearer $HOOKFLEET_READ_TOKEN" "$HOOKFLEET_RECEIVER/api/v1/messages?limit=5"`,
    ...products.map(
      (p) =>
        `curl -s -H "Authorization: Bearer $${prefix(p)}_READ_TOKEN" "$${prefix(p)}_RECEIVER/api/v1/messages?limit=5"   # what ${p.destination.name} stored`,
    ),
    `curl -s -u ":$AZURE_DEVOPS_EXT_PAT" "$ADO_ORG/_apis/hooks/subscriptions?api-version=7.1"`,
    `curl -s -u ":$AZURE_DEVOPS_EXT_PAT" -H 'content-type: application/json' -d '{"eventType":"git.push","project":"${project}"}' "$ADO_EMULATOR/_emulator/events"`,
    `npm run emulator -- --emulator "$ADO_EMULATOR" --fail-deliveries "$HOOKFLEET_RECEIVER/" --status 503 --project ${project}`,
    `npm run emulator -- --emulator "$ADO_EMULATOR" --raise all --project ${project}`,
    `npm run emulator -- --emulator "$ADO_EMULATOR" --advance 36h      # probation runs out: hooks disabledBySystem`,
    `npm run emulator -- --emulator "$ADO_EMULATOR" --clear-failures`,
    `npm run heal                                                       # replays into the receiver's store`,
    ...(options.pulumi
      ? [
          `npm run drift -- --stack ${SANDBOX_STACK}; npm run up -- --stack ${SANDBOX_STACK} --yes --skip-preflight`,
        ]
      : []),
  ])
    log(`  ${line}`);
  await (
    options.untilStopped ??
    (() =>
      new Promise<void>((resolve) => (process.once("SIGINT", resolve), process.once("SIGTERM", resolve))))
  )();
  log("stopping the receivers and the ADO emulator");
}
