/**
 * The AdoPat provider against the ADO emulator's PAT lifecycle API, through the real AdoClient: create,
 * rotate with overlap, revoke after the overlap, gone → recreate, the warning path of a run with no
 * Entra user token (CI), and policy errors. A PAT is judged the way a user would: can it still call the
 * organization's API?
 */
import { AdoClient } from "../../ado/client";
import {
  AdoPatInputs,
  AdoPatOutputs,
  createAdoPatProvider,
  USER_TOKEN_ENV,
} from "../../components/credentials/ado-pat-provider";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { isolatedCommand } from "../../devkit/provider-host/isolated";
import type * as credentialsModule from "../../components/credentials";

const DAY = 86_400_000;
const HOUR = 3_600_000;

let emulator: AdoEmulator;
beforeAll(async () => {
  emulator = await startAdoEmulator({ patPolicy: { maxLifespanDays: 180 } });
});
afterAll(async () => {
  await emulator.close();
});

/** Can this PAT list the org's projects? (What the receiver and heal job would do with it.) */
async function patWorks(token: string): Promise<boolean> {
  const client = new AdoClient({
    orgUrl: emulator.orgUrl(),
    auth: { kind: "pat", pat: token },
    maxRetries: 0,
  });
  try {
    await client.listProjects();
    return true;
  } catch {
    return false;
  }
}

/** `userToken: null` = a run without one (CI). */
function world(userToken: string | null = emulator.userToken) {
  const clock = { now: Date.now() };
  const warnings: string[] = [];
  const provider = createAdoPatProvider({
    now: () => new Date(clock.now),
    warn: (m) => warnings.push(m),
    userToken: () => userToken ?? undefined,
  });
  return { clock, warnings, provider };
}

async function checked(
  provider: ReturnType<typeof createAdoPatProvider>,
  over: Record<string, unknown> = {},
) {
  const r = await provider.check!(
    {},
    {
      organizationUrl: emulator.orgUrl(),
      vsspsUrl: emulator.vsspsUrl(),
      displayName: `hookfleet-test-${Math.random().toString(36).slice(2, 8)}`,
      scopes: ["vso.hooks_write", "vso.project"],
      validityDays: 90,
      rotateBeforeExpiryDays: 14,
      overlapHours: 24,
      stack: "prod",
      ...over,
    },
  );
  expect(r.failures).toEqual([]);
  return r.inputs as AdoPatInputs;
}

/** One `pulumi up` step: diff with the clock, update when it says so. */
async function up(p: ReturnType<typeof createAdoPatProvider>, olds: AdoPatOutputs, news: AdoPatInputs) {
  const d = await p.diff!("pat", olds, news);
  expect(d.replaces ?? []).toEqual([]);
  if (!d.changes) return { changed: false, outs: olds };
  return { changed: true, outs: (await p.update!("pat", olds, news)).outs as AdoPatOutputs };
}

const stored = (authorizationId: string) =>
  emulator.pats().find((p) => p.authorizationId === authorizationId) as
    (ReturnType<AdoEmulator["pats"]>[number] & { revoked: boolean }) | undefined;

test("create: an org-scoped PAT with exactly the scopes asked, valid for validityDays, usable", async () => {
  const { provider, clock } = world();
  const inputs = await checked(provider);
  const { outs } = (await provider.create(inputs)) as { outs: AdoPatOutputs };
  const pat = stored(outs.authorizationId)!;
  expect(pat.scope).toBe("vso.hooks_write vso.project");
  expect(pat.displayName).toBe(inputs.displayName);
  expect(Date.parse(outs.validTo)).toBe(clock.now + 90 * DAY);
  expect(outs.nextRotationAt).toBe(new Date(clock.now + 76 * DAY).toISOString());
  expect(outs.previousToken).toBe("");
  expect(await patWorks(outs.token)).toBe(true);
});

test("timeline: not due → same; due → new PAT with the old still valid; overlap end → old revoked", async () => {
  const { provider, clock, warnings } = world();
  const inputs = await checked(provider);
  let outs = (await provider.create(inputs)).outs as AdoPatOutputs;
  const first = outs;
  const t0 = clock.now;

  clock.now = t0 + 75 * DAY;
  expect((await up(provider, outs, inputs)).changed).toBe(false);

  clock.now = t0 + 76 * DAY + HOUR;
  let r = await up(provider, outs, inputs);
  expect(r.changed).toBe(true);
  outs = r.outs;
  expect(outs.authorizationId).not.toBe(first.authorizationId);
  expect(outs.token).not.toBe(first.token);
  expect(outs.previousAuthorizationId).toBe(first.authorizationId);
  expect(outs.previousToken).toBe(first.token);
  expect(outs.previousNotAfter).toBe(new Date(clock.now + 24 * HOUR).toISOString());
  expect(await patWorks(outs.token)).toBe(true);
  expect(await patWorks(first.token)).toBe(true); // consumers still holding it keep working

  clock.now += 23 * HOUR;
  expect((await up(provider, outs, inputs)).changed).toBe(false);

  clock.now += 2 * HOUR;
  r = await up(provider, outs, inputs);
  expect(r.changed).toBe(true);
  outs = r.outs;
  expect(outs.previousToken).toBe("");
  expect(stored(first.authorizationId)!.revoked).toBe(true);
  expect(await patWorks(first.token)).toBe(false);
  expect(await patWorks(outs.token)).toBe(true);
  expect(warnings).toEqual([]);
});

test("nonce rotates at once; emergency (overlap 0) revokes the old PAT in the same run", async () => {
  const { provider } = world();
  const inputs = await checked(provider);
  const first = (await provider.create(inputs)).outs as AdoPatOutputs;
  const second = (await up(provider, first, { ...inputs, rotationNonce: "n1" })).outs;
  expect(second.previousAuthorizationId).toBe(first.authorizationId);

  const third = (await up(provider, second, { ...inputs, rotationNonce: "leak-2026-11", overlapHours: 0 }))
    .outs;
  expect(third.previousToken).toBe("");
  expect(stored(first.authorizationId)!.revoked).toBe(true);
  expect(stored(second.authorizationId)!.revoked).toBe(true);
  expect(await patWorks(second.token)).toBe(false);
  expect(await patWorks(third.token)).toBe(true);
});

test("read: a PAT revoked by hand is gone (no id), so the next up creates a new one", async () => {
  const { provider } = world();
  const inputs = await checked(provider);
  const { id, outs } = (await provider.create(inputs)) as { id: string; outs: AdoPatOutputs };
  expect((await provider.read!(id, outs)).id).toBe(id);
  const admin = new AdoClient({
    orgUrl: emulator.orgUrl(),
    vsspsUrl: emulator.vsspsUrl(),
    auth: {
      kind: "entra",
      credential: {
        getToken: async () => ({ token: emulator.userToken, expiresOnTimestamp: Date.now() + HOUR }),
      },
    },
  });
  await admin.revokePat(outs.authorizationId);
  const read = await provider.read!(id, outs);
  expect(read.id).toBeFalsy();
});

test("no user token (CI service principal): a due rotation warns with the rotate command and keeps the PAT", async () => {
  const owner = world();
  const inputs = await checked(owner.provider, { stack: "prod" });
  const outs = (await owner.provider.create(inputs)).outs as AdoPatOutputs;
  const before = emulator.pats().length;

  for (const token of [null, emulator.servicePrincipalToken]) {
    const ci = world(token);
    ci.clock.now = Date.now() + 80 * DAY;
    const d = await ci.provider.diff!("pat", outs, inputs);
    // Forced update too (e.g. another input changed): still no failure, still the same PAT.
    const u = (await ci.provider.update!("pat", outs, inputs)).outs as AdoPatOutputs;
    expect(u.token).toBe(outs.token);
    expect(u.authorizationId).toBe(outs.authorizationId);
    if (token === null) expect(d.changes).toBe(false);
    expect(ci.warnings.length).toBeGreaterThan(0);
    for (const w of ci.warnings) {
      expect(w).toContain("npm run rotate -- --stack prod --credential pat");
      expect(w).toContain(USER_TOKEN_ENV);
      expect(w).not.toContain(outs.token);
    }
    // Refresh works from state.
    expect((await ci.provider.read!("pat", outs)).id).toBe("pat");
  }
  expect(emulator.pats().length).toBe(before);
  expect(await patWorks(outs.token)).toBe(true);
});

test("organization URL: another spelling of the same org is no change, another org is a new PAT", async () => {
  const { provider } = world(null);
  const base = {
    vsspsUrl: "https://vssps.dev.azure.com/contoso",
    displayName: "x",
    scopes: ["vso.hooks_write"],
  };
  const stored = (await provider.check!({}, { ...base, organizationUrl: "https://dev.azure.com/contoso" }))
    .inputs as AdoPatInputs;
  const outs = {
    ...stored,
    token: "t",
    authorizationId: "a",
    validTo: new Date(Date.now() + 90 * DAY).toISOString(),
    scope: "vso.hooks_write",
    rotatedAt: new Date().toISOString(),
    nextRotationAt: "",
  };
  for (const spelling of ["https://dev.azure.com/Contoso/", "https://contoso.visualstudio.com"]) {
    const news = (await provider.check!({}, { ...base, organizationUrl: spelling })).inputs as AdoPatInputs;
    expect(news.organizationUrl).toBe("https://dev.azure.com/contoso");
    expect(await provider.diff!("pat", outs, news)).toMatchObject({ changes: false, replaces: [] });
  }
  const other = (
    await provider.check!({}, { ...base, organizationUrl: "https://dev.azure.com/fabrikam", vsspsUrl: "" })
  ).inputs as AdoPatInputs;
  expect(other.vsspsUrl).toBe("https://vssps.dev.azure.com/fabrikam");
  expect((await provider.diff!("pat", outs, other)).replaces).toEqual(["organizationUrl"]);
});

test("no user token at create: a clear error naming what is needed", async () => {
  const ci = world(null);
  const inputs = await checked(ci.provider);
  await expect(ci.provider.create(inputs)).rejects.toThrow(
    /needs a Microsoft Entra user token in HOOKFLEET_ADO_USER_TOKEN.*npm run rotate -- --stack prod --credential pat/,
  );
});

test("policy errors: the org's lifespan limit is surfaced with what to change; full scope refused up front", async () => {
  const { provider } = world();
  const inputs = await checked(provider, { validityDays: 200 });
  await expect(provider.create(inputs)).rejects.toThrow(
    /ADO refused to create a PAT: patLifespanPolicyViolation: .*lower validityDays.*validityDays=200/,
  );
  const full = await provider.check!(
    {},
    { organizationUrl: emulator.orgUrl(), displayName: "x", scopes: ["app_token"] },
  );
  expect(full.failures).toEqual([expect.objectContaining({ property: "scopes" })]);
  const tooLong = await provider.check!(
    {},
    { organizationUrl: emulator.orgUrl(), displayName: "x", scopes: ["vso.code"], validityDays: 400 },
  );
  expect(tooLong.failures).toEqual([expect.objectContaining({ property: "validityDays" })]);
});

test("delete revokes both slots", async () => {
  const { provider } = world();
  const inputs = await checked(provider);
  const first = (await provider.create(inputs)).outs as AdoPatOutputs;
  const second = (await up(provider, first, { ...inputs, rotationNonce: "n" })).outs;
  await provider.delete!("pat", second);
  expect(stored(first.authorizationId)!.revoked).toBe(true);
  expect(stored(second.authorizationId)!.revoked).toBe(true);
});

test("through the real host: the user token comes from the host's environment; a deferred rotation is a warning output", async () => {
  const program = () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the command's fresh registry
    const { AdoPat } = require("../../components/credentials") as typeof credentialsModule;
    const pat = new AdoPat("heal-pat", {
      organizationUrl: emulator.orgUrl(),
      vsspsUrl: emulator.vsspsUrl(),
      displayName: "hookfleet-dev-heal",
      scopes: ["vso.hooks_write"],
      validityDays: 30,
      rotateBeforeExpiryDays: 7,
    });
    return { token: pat.token, id: pat.authorizationId, warnings: pat.warnings };
  };
  type Out = { token: string; id: string; warnings: string[] };
  const stack = { stack: "dev", hostEnv: { [USER_TOKEN_ENV]: emulator.userToken } };
  const created = await isolatedCommand<Out>("up", stack, program);
  expect(created.run.changes.create).toBe(1);
  expect(await patWorks(created.run.outputs.token)).toBe(true);
  expect(created.run.outputs.warnings).toEqual([]);
  // Nothing secret in what state holds as the provider: the stub.
  for (const r of created.state) {
    expect(r.outputs.__provider).not.toContain(created.run.outputs.token);
    expect(r.outputs.__provider).not.toContain(emulator.userToken);
  }

  // 25 days later, in CI (no user token): the rotation is due and cannot be made. The run does not
  // fail, changes nothing, and says so in the resource's outputs, not only on the host's stderr.
  const later = new Date(Date.now() + 25 * DAY).toISOString();
  const saved = process.env.HOOKFLEET_NOW;
  process.env.HOOKFLEET_NOW = later; // the program's clock (it computes the warnings)
  try {
    const ci = await isolatedCommand<Out>(
      "up",
      { stack: "dev", state: created.state, hostEnv: { HOOKFLEET_NOW: later } },
      program,
    );
    expect(ci.run.changes).toMatchObject({ same: 1, update: 0 });
    expect(ci.run.outputs.token).toBe(created.run.outputs.token);
    expect(ci.run.outputs.warnings).toEqual([
      expect.stringMatching(/rotation is due since .* npm run rotate -- --stack dev --credential pat/),
    ]);
    expect(ci.run.outputs.warnings.join("\n")).not.toContain(created.run.outputs.token);

    const destroyed = await isolatedCommand("destroy", { ...stack, state: ci.state });
    expect(destroyed.run.changes.delete).toBe(1);
    expect(stored(created.run.outputs.id)!.revoked).toBe(true);
  } finally {
    if (saved === undefined) delete process.env.HOOKFLEET_NOW;
    else process.env.HOOKFLEET_NOW = saved;
  }
}, 60_000);
