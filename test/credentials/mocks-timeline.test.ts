/**
 * The rotation timeline of a program in which hooks consume the credentials (WebhookCredentials →
 * webhookUrl/currentBasicPassword → HookFleet), each `pulumi preview` and `pulumi up` run by the
 * engine model against the real dynamic-provider host (devkit/provider-host), with the ADO
 * emulator as ADO. The provider clock moves through HOOKFLEET_NOW in the host's environment.
 *
 * What a user would notice: a preview shows a change for the hooks only when a value rotates. Not
 * when nothing is due, not when an overlap ends, not after a schedule-only change: the drift check
 * (`pulumi preview --refresh --expect-no-changes`, npm run drift) stays clean then.
 */
import { AdoClient } from "../../ado/client";
import type { CredentialHash, UrlTokenSetting } from "../../app/settings";
import { sha256Hex } from "../../app/tokens";
import type * as credentialsModule from "../../components/credentials";
import { providerStub } from "../../components/dynamic/stub";
import type * as hooksModule from "../../components/hooks";
import { startReceiver, type Receiver } from "../../devkit/recording-receiver";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { stepsOf, type Deployment, type ResourceState } from "../../devkit/provider-host/engine";
import { isolatedCommand } from "../../devkit/provider-host/isolated";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-03-01T00:00:00.000Z");

let emulator: AdoEmulator;
let receiver: Receiver;
let client: AdoClient;
let state: ResourceState[] = [];

beforeAll(async () => {
  emulator = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: ["Alpha"] }],
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  client = new AdoClient({ orgUrl: emulator.orgUrl(), auth: { kind: "pat", pat: emulator.pat } });
});
afterAll(async () => {
  await emulator?.idle();
  await emulator?.close();
  await receiver?.close();
});

interface Config {
  overlapHours?: number;
  rotateEveryDays?: number;
  urlTokenNonce?: string;
}

interface Outputs {
  token: string;
  password: string;
  urlTokens: UrlTokenSetting[];
  basicPasswords: CredentialHash[];
  next: string;
  hookCount: number;
}

function program(config: Config) {
  return () => {
    // The command's fresh registry: the engine's @pulumi/pulumi.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { WebhookCredentials, webhookUrl } =
      require("../../components/credentials") as typeof credentialsModule;
    const { HookFleet } = require("../../components/hooks") as typeof hooksModule;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const creds = new WebhookCredentials("devops", {
      systemId: "devops",
      authMode: "both",
      rotateEveryDays: config.rotateEveryDays ?? 30,
      overlapHours: config.overlapHours ?? 24,
      urlTokenNonce: config.urlTokenNonce,
    });
    const fleet = new HookFleet("contoso", {
      orgUrl: emulator.orgUrl(),
      eventTypes: ["git.push", "build.complete"],
      receiverUrl: webhookUrl(receiver.url, creds),
      authMode: "both",
      basicAuthUsername: "hookfleet",
      basicAuthPassword: creds.currentBasicPassword.apply((p) => p ?? ""),
      adoClient: client,
    });
    return {
      token: creds.currentUrlToken,
      password: creds.currentBasicPassword,
      urlTokens: creds.urlTokens,
      basicPasswords: creds.basicPasswords,
      next: creds.nextRotationAt,
      hookCount: fleet.hookCount,
    };
  };
}

const options = (at: number) => ({
  stack: "dev",
  config: { "hookfleet:adoPat": emulator.pat },
  secretKeys: ["hookfleet:adoPat"],
  hostEnv: { HOOKFLEET_NOW: new Date(at).toISOString() },
});

/** `pulumi preview` (refresh: always) at `at`: nothing stored. */
async function preview(at: number, config: Config = {}): Promise<Deployment<Outputs>> {
  return (await isolatedCommand<Outputs>("preview", { ...options(at), state }, program(config))).run;
}

/** `pulumi up` at `at`. */
async function up(at: number, config: Config = {}): Promise<Deployment<Outputs>> {
  const result = await isolatedCommand<Outputs>("up", { ...options(at), state }, program(config));
  state = result.state;
  return result.run;
}

/** What `--expect-no-changes` counts (pkg/engine/update.go HasChanges: every op but same/read). */
const hasChanges = (run: Deployment) =>
  run.changes.create + run.changes.update + run.changes.replace + run.changes.delete > 0;
const HOOKS = "pulumi-nodejs:dynamic/hookfleet:ServiceHook";
/** Our Web Hooks subscriptions (the emulator's org also holds other consumers', as ADO's list does). */
const ours = (s: { consumerId: string }) => s.consumerId === "webHooks";
const SECRETS = "pulumi-nodejs:dynamic/credentials:RotatingSecret";

test("previews show hook changes only when a value rotates; the receiver gets both hashes during an overlap", async () => {
  const r1 = await up(T0);
  expect(r1.changes.create).toBe(2 + 2); // URL token, Basic password, two hooks
  expect(r1.outputs.urlTokens).toEqual([{ sha256: sha256Hex(r1.outputs.token), systemId: "devops" }]);
  expect(r1.outputs.basicPasswords).toEqual([{ sha256: sha256Hex(r1.outputs.password) }]);
  expect(r1.outputs.next).toBe(new Date(T0 + 30 * DAY).toISOString());
  expect(
    emulator
      .subscriptions()
      .filter(ours)
      .every((s) => s.consumerInputs.url!.endsWith(r1.outputs.token)),
  ).toBe(true);

  // Not due: nothing to preview, nothing to apply.
  expect(hasChanges(await preview(T0 + 29 * DAY))).toBe(false);
  expect(hasChanges(await up(T0 + 29 * DAY))).toBe(false);

  // Due: the preview says which values rotate and that the hooks will follow.
  const t3 = T0 + 30 * DAY + HOUR;
  const due = await preview(t3);
  expect(stepsOf(due, "update", SECRETS).sort()).toEqual(["devops-basic-password", "devops-url-token"]);
  expect(stepsOf(due, "update", HOOKS)).toHaveLength(2);
  const r3 = await up(t3);
  expect(stepsOf(r3, "update", HOOKS)).toHaveLength(2);
  expect(r3.outputs.token).not.toBe(r1.outputs.token);
  const overlapEnd = new Date(t3 + 24 * HOUR).toISOString();
  expect(r3.outputs.urlTokens).toEqual([
    { sha256: sha256Hex(r3.outputs.token), systemId: "devops" },
    { sha256: sha256Hex(r1.outputs.token), systemId: "devops", notAfter: overlapEnd },
  ]);
  expect(r3.outputs.basicPasswords).toEqual([
    { sha256: sha256Hex(r3.outputs.password) },
    { sha256: sha256Hex(r1.outputs.password), notAfter: overlapEnd },
  ]);
  expect(
    emulator
      .subscriptions()
      .filter(ours)
      .every((s) => s.consumerInputs.url!.endsWith(r3.outputs.token)),
  ).toBe(true);

  // The overlap ends: no change at all. The receiver refuses the previous values by their notAfter
  // (app/credentials.ts), so its hash lists, and the hooks, stay as they are: the drift check is clean.
  const ended = await preview(t3 + 25 * HOUR);
  expect(hasChanges(ended)).toBe(false);
  const r4 = await up(t3 + 25 * HOUR);
  expect(hasChanges(r4)).toBe(false);
  expect(r4.outputs.urlTokens).toEqual(r3.outputs.urlTokens);

  // A schedule-only change: recorded, no change previewed or applied; the next rotation moves.
  const schedule = { rotateEveryDays: 45, overlapHours: 12 };
  expect(hasChanges(await preview(t3 + 26 * HOUR, schedule))).toBe(false);
  const r5 = await up(t3 + 26 * HOUR, schedule);
  expect(hasChanges(r5)).toBe(false);
  expect(r5.outputs.next).toBe(new Date(t3 + 45 * DAY).toISOString());
  // …and the diff reads it: at day 31 after the rotation nothing is due under the new schedule.
  expect(hasChanges(await preview(t3 + 31 * DAY, schedule))).toBe(false);

  // A new nonce rotates only the credential it names, at once; the hooks follow.
  const nonce = { ...schedule, urlTokenNonce: "incident-42" };
  const rotating = await preview(t3 + 27 * HOUR, nonce);
  expect(stepsOf(rotating, "update", SECRETS)).toEqual(["devops-url-token"]);
  const r6 = await up(t3 + 27 * HOUR, nonce);
  expect(stepsOf(r6, "same", SECRETS)).toEqual(["devops-basic-password"]);
  expect(r6.outputs.urlTokens.map((t) => t.sha256)).toEqual([
    sha256Hex(r6.outputs.token),
    sha256Hex(r3.outputs.token),
  ]);

  // Emergency revoke (overlap 0, no rotation): previous values are refused at once, and the URL
  // token's (still in its overlap) is dropped from state; the Basic password's expired long ago and
  // needs no change. The current values, and so the hooks, do not change.
  const r7 = await up(t3 + 28 * HOUR, { ...nonce, overlapHours: 0 });
  expect(stepsOf(r7, "update", SECRETS)).toEqual(["devops-url-token"]);
  expect(stepsOf(r7, "same", HOOKS)).toHaveLength(2);
  expect(r7.outputs.token).toBe(r6.outputs.token);
  expect(r7.outputs.urlTokens).toEqual([{ sha256: sha256Hex(r6.outputs.token), systemId: "devops" }]);
  expect(r7.outputs.basicPasswords).toEqual([{ sha256: sha256Hex(r3.outputs.password) }]);

  // State holds the stub as every provider, and no credential outside secret values.
  for (const r of state) {
    expect(r.outputs.__provider).toBe(providerStub(r.type.split(":").pop()!));
    expect(JSON.stringify(r.outputs.__provider)).not.toMatch(/alw_[0-9A-Za-z]{20,}/);
  }
}, 180_000);
