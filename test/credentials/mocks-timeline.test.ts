/**
 * The rotation timeline of a whole program under `pulumi.runtime.setMocks`, through the dynamic
 * harness (test/support): each registration loads the *serialized* provider the way Pulumi's
 * dynamic-provider host does and runs check, then create or diff + update against the state the
 * previous "pulumi up" left. The clock moves through HOOKFLEET_NOW, which the provider reads
 * at run time, exactly as it would in a real provider process.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CredentialHash, UrlTokenSetting } from "../../app/settings";
import { sha256Hex } from "../../app/tokens";
import { WebhookCredentials, webhookUrl } from "../../components/credentials";
import { DynamicHarness } from "../support/dynamic-harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- what the dynamic-provider host uses
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};

/**
 * The provider code runs in Node's own module system (as in the host), whose `process.env` is not
 * jest's sandbox copy: the clock is moved there.
 */
const providerEnv = (requireFromString as unknown as (code: string) => NodeJS.ProcessEnv)(
  "module.exports = process.env",
);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-03-01T00:00:00.000Z");

const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const harness = new DynamicHarness({ project: "hookfleet", stack: "dev" });

/** One `pulumi up` of a program holding the credentials of system `devops`, at time `at`. */
async function up(at: number, config: { overlapHours?: number; urlTokenNonce?: string } = {}) {
  providerEnv.HOOKFLEET_NOW = new Date(at).toISOString();
  let secrets: pulumi.Output<unknown>[] = [];
  const run = await harness.up(() => {
    const creds = new WebhookCredentials("devops", {
      systemId: "devops",
      authMode: "both",
      rotateEveryDays: 30,
      overlapHours: config.overlapHours ?? 24,
      urlTokenNonce: config.urlTokenNonce,
    });
    const url = webhookUrl("https://rx.example/", creds);
    secrets = [creds.currentUrlToken, creds.currentBasicPassword, url];
    return {
      token: creds.currentUrlToken,
      password: creds.currentBasicPassword,
      urlTokens: creds.urlTokens,
      basicPasswords: creds.basicPasswords,
      next: creds.nextRotationAt,
      hookUrl: url,
    };
  });
  // The harness resolves the program's Outputs to plain values.
  const o = run.outputs as unknown as { token?: string; password?: string; next: string; hookUrl: string };
  // The receiver-ready lists are read from state, after the JSON trip the gRPC wire makes: the harness
  // hands the provider's arrays (built in Node's realm, not jest's) straight to the SDK, which does not
  // recognise a foreign realm's Array (instanceof) and would turn it into an object.
  const stateOf = (name: string) =>
    wire(harness.state.get(`pulumi-nodejs:dynamic/credentials:RotatingSecret::${name}`)!.outputs);
  return {
    ...o,
    urlTokens: stateOf("devops-url-token").urlTokens as UrlTokenSetting[],
    basicPasswords: stateOf("devops-basic-password").hashes as CredentialHash[],
    token: o.token!,
    password: o.password!,
    allSecret: (await Promise.all(secrets.map((x) => pulumi.isSecret(x)))).every(Boolean),
    ops: Object.fromEntries(run.ops.map(([op, key]) => [key.split("::")[1], op])),
  };
}

afterAll(() => {
  delete providerEnv.HOOKFLEET_NOW;
});

test("not due → no change; due → both slots; overlap end → dropped; nonce → now; emergency → gone at once", async () => {
  const r1 = await up(T0);
  expect(r1.ops).toEqual({ "devops-url-token": "create", "devops-basic-password": "create" });
  expect(r1.allSecret).toBe(true);
  expect(r1.urlTokens).toEqual([{ sha256: sha256Hex(r1.token), systemId: "devops" }]);
  expect(r1.basicPasswords).toEqual([{ sha256: sha256Hex(r1.password) }]);
  expect(r1.next).toBe(new Date(T0 + 30 * DAY).toISOString());
  expect(r1.hookUrl).toBe(`https://rx.example/api/v1/webhooks/${r1.token}`);

  // Not due: a plain up changes nothing.
  const r2 = await up(T0 + 29 * DAY);
  expect(r2.ops).toEqual({ "devops-url-token": "same", "devops-basic-password": "same" });
  expect(r2.token).toBe(r1.token);

  // Due: both rotate by update; the receiver gets both hashes, the hooks the new values.
  const t3 = T0 + 30 * DAY + HOUR;
  const r3 = await up(t3);
  expect(r3.ops).toEqual({ "devops-url-token": "update", "devops-basic-password": "update" });
  expect(r3.token).not.toBe(r1.token);
  expect(r3.password).not.toBe(r1.password);
  const overlapEnd = new Date(t3 + 24 * HOUR).toISOString();
  expect(r3.urlTokens).toEqual([
    { sha256: sha256Hex(r3.token), systemId: "devops" },
    { sha256: sha256Hex(r1.token), systemId: "devops", notAfter: overlapEnd },
  ]);
  expect(r3.basicPasswords).toEqual([
    { sha256: sha256Hex(r3.password) },
    { sha256: sha256Hex(r1.password), notAfter: overlapEnd },
  ]);
  expect(r3.next).toBe(overlapEnd);

  // Overlap end: a later run drops the previous value and keeps the current one.
  const r4 = await up(t3 + 25 * HOUR);
  expect(r4.ops).toEqual({ "devops-url-token": "update", "devops-basic-password": "update" });
  expect(r4.token).toBe(r3.token);
  expect(r4.urlTokens).toEqual([{ sha256: sha256Hex(r3.token), systemId: "devops" }]);
  expect(r4.basicPasswords).toHaveLength(1);

  // A new nonce rotates only the credential it names, at once.
  const r5 = await up(t3 + 26 * HOUR, { urlTokenNonce: "incident-42" });
  expect(r5.ops).toEqual({ "devops-url-token": "update", "devops-basic-password": "same" });
  expect(r5.token).not.toBe(r4.token);
  expect(r5.urlTokens.map((t) => t.sha256)).toEqual([sha256Hex(r5.token), sha256Hex(r4.token)]);

  // Emergency (overlap 0): the previous value is gone from the receiver's list at once.
  const r6 = await up(t3 + 26 * HOUR + 60_000, { urlTokenNonce: "incident-43", overlapHours: 0 });
  expect(r6.token).not.toBe(r5.token);
  expect(r6.urlTokens).toEqual([{ sha256: sha256Hex(r6.token), systemId: "devops" }]);
  expect(r6.basicPasswords).toEqual([{ sha256: sha256Hex(r4.password) }]);

  // The serialized providers hold no credential: only the loader shim.
  for (const code of harness.providerTexts()) {
    for (const secret of [r1.token, r1.password, r6.token]) expect(code).not.toContain(secret);
    expect(code).not.toMatch(/alw_[0-9A-Za-z]{36}/);
  }
});
