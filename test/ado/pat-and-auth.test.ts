import type { AccessToken, TokenCredential } from "@azure/identity";
import { ADO_SCOPE, AdoClient, deriveVsspsUrl } from "../../ado/client";
import { AdoError } from "../../ado/errors";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { OTHER_CONSUMERS, consumersOf } from "../../devkit/recording-receiver";

/** A TokenCredential handing out a fixed token, counting calls (stands in for @azure/identity). */
function credential(token: () => string, lifetimeMs: number): TokenCredential & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      calls.push(String(scopes));
      return { token: token(), expiresOnTimestamp: Date.now() + lifetimeMs };
    },
  };
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe("Entra auth and the PAT lifecycle API against the emulator", () => {
  let emu: AdoEmulator;

  beforeAll(async () => {
    emu = await startAdoEmulator({
      orgs: [{ name: "contoso", projects: 2 }],
      patPolicy: { maxLifespanDays: 90 },
    });
  });
  afterAll(() => emu.close());

  const userClient = (cred = credential(() => emu.userToken, 3_600_000)) =>
    new AdoClient({
      orgUrl: emu.orgUrl(),
      vsspsUrl: emu.vsspsUrl(),
      auth: { kind: "entra", credential: cred },
    });

  test("an Entra token is asked for ADO's scope, reused, and refreshed before it expires", async () => {
    // Valid 5 min + 600 ms: due for refresh (5 min before expiry) 600 ms from now.
    const cred = credential(() => emu.userToken, 5 * 60_000 + 600);
    const client = userClient(cred);
    await client.listSubscriptions();
    await client.listSubscriptions();
    expect(cred.calls).toEqual([ADO_SCOPE]);
    await new Promise((r) => setTimeout(r, 700));
    await client.listSubscriptions();
    expect(cred.calls.length).toBe(2);
  });

  test("create, get, list (paged), revoke; a created PAT works on the org APIs until revoked", async () => {
    const client = userClient();
    const pat = await client.createPat({
      displayName: "hookfleet-hooks",
      scope: "vso.hooks_write vso.project",
      validTo: inDays(30),
    });
    expect(pat.token).toMatch(/^\w{20,}$/);
    expect(pat.authorizationId).toBeTruthy();

    const withPat = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: pat.token! } });
    expect(consumersOf(await withPat.listSubscriptions())).toEqual(OTHER_CONSUMERS);

    const got = await client.getPat(pat.authorizationId);
    expect(got).toMatchObject({ displayName: "hookfleet-hooks", scope: "vso.hooks_write vso.project" });
    expect(got?.token).toBeUndefined();
    expect(await client.getPat("00000000-0000-0000-0000-000000000000")).toBeUndefined();

    // More than one page of 100.
    for (let i = 0; i < 120; i++)
      await client.createPat({ displayName: `bulk-${i}`, scope: "vso.code", validTo: inDays(1) });
    emu.counters.reset();
    const all = await client.listPats();
    expect(all).toHaveLength(121);
    expect(new Set(all.map((p) => p.authorizationId)).size).toBe(121);
    expect(emu.counters.byRoute["GET /vssps/_apis/tokens/pats"]).toBe(2);

    expect(await client.revokePat(pat.authorizationId)).toBe(true);
    expect(await client.revokePat(pat.authorizationId)).toBe(false);
    expect((await client.listPats()).map((p) => p.authorizationId)).not.toContain(pat.authorizationId);
    const refused = (await withPat.listSubscriptions().catch((e: unknown) => e)) as AdoError;
    expect(refused.status).toBe(401);
  });

  test.each([
    ["patLifespanPolicyViolation", { validTo: inDays(200) }],
    ["fullScopePatPolicyViolation", { scope: "app_token" }],
  ])("organization policy errors are surfaced clearly: %s", async (typeKey, change) => {
    const err = (await userClient()
      .createPat({ displayName: "too-much", scope: "vso.code", validTo: inDays(10), ...change })
      .catch((e: unknown) => e)) as AdoError;
    expect(err).toBeInstanceOf(AdoError);
    expect(err.kind).toBe("patPolicy");
    expect(err.typeKey).toBe(typeKey);
    expect(err.message).toContain(typeKey);
  });

  test("a PAT credential cannot manage PATs: a clear error, and no request is sent", async () => {
    const client = new AdoClient({
      orgUrl: emu.orgUrl(),
      vsspsUrl: emu.vsspsUrl(),
      auth: { kind: "pat", pat: emu.pat },
    });
    emu.counters.reset();
    const err = (await client.listPats().catch((e: unknown) => e)) as AdoError;
    expect(err.kind).toBe("patNeedsUserToken");
    expect(err.message).toMatch(/only a Microsoft Entra user token/);
    expect(emu.counters.total).toBe(0);
  });

  test("a service principal token works on the org APIs but not on the PAT API", async () => {
    const sp = userClient(credential(() => emu.servicePrincipalToken, 3_600_000));
    await expect(sp.listProjects()).resolves.toHaveLength(2);
    const err = (await sp
      .createPat({ displayName: "x", scope: "vso.code", validTo: inDays(1) })
      .catch((e: unknown) => e)) as AdoError;
    expect(err.kind).toBe("patNeedsUserToken");
    expect(err.message).toMatch(/app-only/);
  });

  test("the emulator's PAT API itself refuses anything but a user bearer token", async () => {
    for (const authorization of [
      `Bearer ${emu.servicePrincipalToken}`,
      `Basic ${Buffer.from(`:${emu.pat}`).toString("base64")}`,
    ]) {
      const res = await fetch(`${emu.vsspsUrl()}/_apis/tokens/pats?api-version=7.1-preview.1`, {
        headers: { authorization },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { message: string }).message).toMatch(/only Microsoft Entra user tokens/);
    }
  });

  test("an opaque (non-JWT) token refused by ADO still yields the clear error", async () => {
    const opaque = userClient(credential(() => "opaque-token-value", 3_600_000));
    const err = (await opaque.listPats().catch((e: unknown) => e)) as AdoError;
    expect(err.kind).toBe("patNeedsUserToken");
    expect(err.status).toBe(401);
    expect(err.message).not.toContain("opaque-token-value");
  });

  test("the PAT API URL is derived for cloud organizations and required elsewhere", async () => {
    expect(deriveVsspsUrl("https://dev.azure.com/contoso/")).toBe("https://vssps.dev.azure.com/contoso");
    expect(deriveVsspsUrl("https://contoso.visualstudio.com")).toBe("https://vssps.dev.azure.com/contoso");
    expect(deriveVsspsUrl("http://127.0.0.1:8080/contoso")).toBeUndefined();
    const noVssps = new AdoClient({
      orgUrl: emu.orgUrl(),
      auth: { kind: "entra", credential: credential(() => emu.userToken, 3_600_000) },
    });
    await expect(noVssps.listPats()).rejects.toMatchObject({
      kind: "config",
      message: expect.stringMatching(/vsspsUrl/),
    });
  });

  test("fromEnvironment uses AZURE_DEVOPS_EXT_PAT", async () => {
    const saved = process.env.AZURE_DEVOPS_EXT_PAT;
    process.env.AZURE_DEVOPS_EXT_PAT = emu.pat;
    try {
      await expect(AdoClient.fromEnvironment(emu.orgUrl()).listProjects()).resolves.toHaveLength(2);
    } finally {
      if (saved === undefined) delete process.env.AZURE_DEVOPS_EXT_PAT;
      else process.env.AZURE_DEVOPS_EXT_PAT = saved;
    }
  });
});
