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
  normalisePatOutputs,
  patWarnings,
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

test("a revoke that fails after the new PAT exists: the new PAT is kept, the old one pending, revoked by the next run", async () => {
  const { provider, warnings } = world();
  const inputs = await checked(provider);
  const first = (await provider.create(inputs)).outs as AdoPatOutputs;
  const mine = () => emulator.pats().filter((p) => p.displayName === inputs.displayName);

  // Emergency rotation (overlap 0): the new PAT is created, then ADO refuses to revoke the old one.
  emulator.failNext(1, 400, { route: "DELETE /vssps", message: "TF400898: An internal error occurred" });
  const emergency = { ...inputs, rotationNonce: "leak-2026-11", overlapHours: 0 };
  const second = (await up(provider, first, emergency)).outs;
  expect(second.authorizationId).not.toBe(first.authorizationId);
  expect(second.rotationNonce).toBe("leak-2026-11");
  expect(second.previousAuthorizationId).toBe("");
  expect(second.pendingRevocations).toEqual([
    { authorizationId: first.authorizationId, validTo: first.validTo },
  ]);
  expect(await patWorks(second.token)).toBe(true);
  expect(await patWorks(first.token)).toBe(true); // not revoked yet, and said so:
  expect(warnings).toEqual([
    expect.stringMatching(
      new RegExp(
        `the replaced PAT ${first.authorizationId} could not be revoked.*Revoking it failed: 400: TF400898`,
      ),
    ),
  ]);
  expect(warnings.join("\n")).not.toContain(first.token);
  expect(JSON.stringify(second)).not.toContain(`"token":"${first.token}"`);
  expect(
    mine()
      .map((p) => p.authorizationId)
      .sort(),
  ).toEqual([first.authorizationId, second.authorizationId].sort());

  // A run without a user token cannot retry: no change, and it says what stays to be done.
  const ci = world(null);
  expect((await ci.provider.diff!("pat", second, emergency)).changes).toBe(false);
  expect(ci.warnings.join("\n")).toContain(`${first.authorizationId} still to revoke cannot be revoked`);

  // The next run with a user token sees the pending revocation and makes it, minting nothing.
  const third = await up(provider, second, emergency);
  expect(third.changed).toBe(true);
  expect(third.outs.authorizationId).toBe(second.authorizationId);
  expect(third.outs.token).toBe(second.token);
  expect(third.outs.pendingRevocations).toEqual([]);
  expect(stored(first.authorizationId)!.revoked).toBe(true);
  expect(await patWorks(first.token)).toBe(false);
  expect(await patWorks(second.token)).toBe(true);
  expect(mine()).toHaveLength(2);
  expect((await up(provider, third.outs, emergency)).changed).toBe(false);
});

test("pending revocations: absent in older state reads as none; warnings name each one until it expires", () => {
  const stored: Record<string, unknown> = {
    organizationUrl: "https://dev.azure.com/contoso",
    vsspsUrl: "https://vssps.dev.azure.com/contoso",
    displayName: "hookfleet-prod-contoso",
    rotationNonce: "n1",
    stack: "prod",
    authorizationId: "a2",
    validTo: "2027-03-01T00:00:00.000Z",
    nextRotationAt: "2027-02-01T00:00:00.000Z",
  };
  expect(normalisePatOutputs(stored).pendingRevocations).toEqual([]);
  const outs = normalisePatOutputs({
    ...stored,
    pendingRevocations: [{ authorizationId: "a1", validTo: "2027-01-10T00:00:00.000Z" }, { bad: 1 }],
  });
  expect(outs.pendingRevocations).toEqual([{ authorizationId: "a1", validTo: "2027-01-10T00:00:00.000Z" }]);
  const at = (iso: string) => patWarnings({ ...outs, requestedNonce: "n1" }, new Date(iso));
  expect(at("2027-01-05T00:00:00.000Z")).toEqual([
    'AdoPat "hookfleet-prod-contoso": the replaced PAT a1 could not be revoked and stays valid until ' +
      "2027-01-10T00:00:00.000Z; the next run with a Microsoft Entra user token in HOOKFLEET_ADO_USER_TOKEN " +
      "retries it (npm run up -- --stack prod), or revoke it by hand in Azure DevOps",
  ]);
  expect(at("2027-01-11T00:00:00.000Z")).toEqual([]);
});

test("a requested rotation (new nonce) that a run without a user token did not make is a warning", () => {
  const outs = {
    displayName: "hookfleet-prod-contoso",
    stack: "prod",
    validTo: "2027-03-01T00:00:00.000Z",
    nextRotationAt: "2027-02-01T00:00:00.000Z",
    previousAuthorizationId: "",
    previousNotAfter: "",
    previousValidTo: "",
    rotationNonce: "rotate-2026-12-01T10:00:00Z-alice",
    pendingRevocations: [],
  };
  const now = new Date("2027-01-05T00:00:00.000Z");
  expect(patWarnings({ ...outs, requestedNonce: outs.rotationNonce }, now)).toEqual([]);
  expect(patWarnings({ ...outs, requestedNonce: "emergency-2027-01-05T00:00:00Z-bob" }, now)).toEqual([
    'AdoPat "hookfleet-prod-contoso": the rotation requested with rotationNonce "emergency-2027-01-05T00:00:00Z-bob" ' +
      "was not made (no Microsoft Entra user token in HOOKFLEET_ADO_USER_TOKEN); the current PAT stays valid until " +
      "2027-03-01T00:00:00.000Z; a run with a Microsoft Entra user token in HOOKFLEET_ADO_USER_TOKEN does it: " +
      "npm run rotate -- --stack prod --credential pat",
  ]);
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

test("another user's run leaves the PAT alone: the PAT API shows each user their own PATs only", async () => {
  const owner = world();
  const inputs = await checked(owner.provider);
  const created = (await owner.provider.create(inputs)).outs as AdoPatOutputs;
  expect(created.ownerId).not.toBe("");
  const pats = () => emulator.pats().filter((p) => p.displayName === inputs.displayName);

  const colleague = world(emulator.otherUserToken);
  colleague.clock.now = owner.clock.now;
  // Refresh: the colleague's list does not hold the PAT; before, the resource was dropped from state
  // and the next up minted a second PAT while the first stayed valid.
  const read = await colleague.provider.read!("pat", created);
  expect(read.id).toBe("pat");
  expect((read.props as AdoPatOutputs).authorizationId).toBe(created.authorizationId);
  expect(colleague.warnings.join("\n")).toMatch(/not the one who created the PAT.*Run as that user/);

  // A rotation the colleague asks for is left to the owner: no new PAT, the old one untouched.
  const rotate = { ...inputs, rotationNonce: "colleague" };
  const r = await up(colleague.provider, created, rotate);
  expect(r.changed).toBe(false);
  expect(pats()).toHaveLength(1);
  expect(await patWorks(created.token)).toBe(true);

  // The owner makes it.
  owner.clock.now = colleague.clock.now;
  const rotated = await up(owner.provider, created, rotate);
  expect(rotated.changed).toBe(true);
  expect(rotated.outs.authorizationId).not.toBe(created.authorizationId);
  expect(rotated.outs.ownerId).toBe(created.ownerId);
  expect(pats()).toHaveLength(2);

  // Removing it from the stack as the colleague does not pretend to revoke it.
  await colleague.provider.delete!("pat", rotated.outs);
  expect(await patWorks(rotated.outs.token)).toBe(true);
  expect(colleague.warnings.join("\n")).toMatch(/removed from the stack but not revoked/);
  await owner.provider.delete!("pat", rotated.outs);
  expect(await patWorks(rotated.outs.token)).toBe(false);
});

test("state written before ownerId reads as an unknown owner, which blocks nobody", () => {
  const props = normalisePatOutputs({ authorizationId: "a", displayName: "x" });
  expect(props.ownerId).toBe("");
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
  // Rotated every 90 - 89 = 1 day: a 24-hour overlap would end only when the next rotation revokes it.
  const overlapTooLong = await provider.check!(
    {},
    {
      organizationUrl: emulator.orgUrl(),
      displayName: "x",
      scopes: ["vso.code"],
      validityDays: 90,
      rotateBeforeExpiryDays: 89,
      overlapHours: 24,
    },
  );
  expect(overlapTooLong.failures).toEqual([
    expect.objectContaining({
      property: "overlapHours",
      reason: expect.stringMatching(/overlapHours \(24\) must be shorter than the rotation period \(24 h\)/),
    }),
  ]);
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

test("through the real host: a requested rotation a run could not make, and a failed revoke, are warning outputs until done", async () => {
  const asked = { nonce: "", overlapHours: 24 };
  const program = () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the command's fresh registry
    const { AdoPat } = require("../../components/credentials") as typeof credentialsModule;
    const pat = new AdoPat("heal-pat", {
      organizationUrl: emulator.orgUrl(),
      vsspsUrl: emulator.vsspsUrl(),
      displayName: "hookfleet-dev-pending",
      scopes: ["vso.hooks_write"],
      validityDays: 30,
      rotateBeforeExpiryDays: 7,
      rotationNonce: asked.nonce,
      overlapHours: asked.overlapHours,
    });
    return {
      token: pat.token,
      id: pat.authorizationId,
      nonce: pat.rotationNonce,
      pending: pat.pendingRevocations,
      warnings: pat.warnings,
    };
  };
  type Out = { token: string; id: string; nonce: string; pending: unknown[]; warnings: string[] };
  const withToken = { stack: "dev", hostEnv: { [USER_TOKEN_ENV]: emulator.userToken } };
  const created = await isolatedCommand<Out>("up", withToken, program);
  expect(created.run.outputs.pending).toEqual([]);

  // `npm run rotate` set a new nonce, but the run has no user token: nothing fails, nothing rotates,
  // and the outputs say the requested rotation was not made (what rotate checks afterwards).
  asked.nonce = "emergency-2026-11-22T17:30:12Z-alice";
  asked.overlapHours = 0;
  const ci = await isolatedCommand<Out>("up", { stack: "dev", state: created.state }, program);
  // (An update all the same: the overlap 0 an emergency sets is recorded.)
  expect(ci.run.outputs.id).toBe(created.run.outputs.id);
  expect(ci.run.outputs.nonce).toBe("");
  expect(ci.run.outputs.warnings).toEqual([
    expect.stringContaining(
      `the rotation requested with rotationNonce "${asked.nonce}" was not made (no Microsoft Entra user token in ${USER_TOKEN_ENV})`,
    ),
  ]);

  // With the token: the new PAT is created, revoking the old one fails; the run records the new PAT.
  emulator.failNext(1, 400, { route: "DELETE /vssps" });
  const rotated = await isolatedCommand<Out>("up", { ...withToken, state: ci.state }, program);
  expect(rotated.run.changes).toMatchObject({ update: 1 });
  expect(rotated.run.outputs.nonce).toBe(asked.nonce);
  expect(rotated.run.outputs.id).not.toBe(created.run.outputs.id);
  expect(rotated.run.outputs.pending).toEqual([
    { authorizationId: created.run.outputs.id, validTo: expect.any(String) },
  ]);
  expect(rotated.run.outputs.warnings).toEqual([
    expect.stringContaining(`the replaced PAT ${created.run.outputs.id} could not be revoked`),
  ]);
  expect(await patWorks(rotated.run.outputs.token)).toBe(true);
  expect(await patWorks(created.run.outputs.token)).toBe(true);

  // The next run retries the revocation, and only that.
  const retried = await isolatedCommand<Out>("up", { ...withToken, state: rotated.state }, program);
  expect(retried.run.changes).toMatchObject({ update: 1 });
  expect(retried.run.outputs.id).toBe(rotated.run.outputs.id);
  expect(retried.run.outputs.pending).toEqual([]);
  expect(retried.run.outputs.warnings).toEqual([]);
  expect(await patWorks(created.run.outputs.token)).toBe(false);
  expect(emulator.pats().filter((p) => p.displayName === "hookfleet-dev-pending")).toHaveLength(2);
}, 90_000);
