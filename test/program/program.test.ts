/**
 * The whole program (index.ts) under Pulumi mocks, once per stack file in stacks/, with the config
 * the CLI would give it (Pulumi.yaml defaults + the stack file). Projects are listed at program
 * time from the ADO emulator, standing in for each stack's organizations. Asserts the resource
 * graph: what exists, how many hooks, what is secret, and that no secret value travels in plain.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { healSettings } from "../../app/heal/settings";
import { CLOUD_IMAGE_BUILD_TYPE } from "../../components/receiver/image";
import { azureRoleIds } from "../../components/receiver/roles";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import {
  ADO_PAT,
  fakeSecret,
  PROMOTED_IMAGE,
  ROTATING_SECRET,
  SERVICE_HOOK,
  SNAPSHOT_PROJECTS,
  snapshotMockOutputs,
} from "./hook-snapshot";
import { plainStrings, runProgramUnderMocks, type ProgramRun } from "./program-run";
import {
  effectiveConfig,
  orgSegment,
  organizationsOf,
  projectDeclarations,
  repoRoot,
  stackFile,
} from "../../devkit/stack-config";

// Generous: the other suites of `npm test` load this 2-core machine while these run.
jest.setTimeout(120_000);

let emulator: AdoEmulator;
const savedPat = process.env.AZURE_DEVOPS_EXT_PAT;

beforeAll(async () => {
  const orgs = new Set<string>();
  for (const stack of ["dev", "staging", "prod", "sandbox"]) {
    for (const org of organizationsOf(stackFile(stack))) orgs.add(orgSegment(org.url));
  }
  emulator = await startAdoEmulator({
    orgs: [...orgs].map((name) => ({ name, projects: SNAPSHOT_PROJECTS })),
  });
  // The program and HookFleet list projects through AdoClient.fromEnvironment: the PAT comes from here.
  process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
});

afterAll(async () => {
  if (savedPat === undefined) delete process.env.AZURE_DEVOPS_EXT_PAT;
  else process.env.AZURE_DEVOPS_EXT_PAT = savedPat;
  await emulator.close();
});

/** The stack's config with each organization URL pointed at the emulator. */
function configFor(stack: string): Record<string, string> {
  const raw = stackFile(stack);
  const orgs = organizationsOf(raw).map((o) => ({ ...o, url: emulator.orgUrl(orgSegment(o.url)) }));
  return effectiveConfig({ ...raw, "hookfleet:organizations": orgs });
}

/** The image CI promotes, as its deploy hands it over (HOOKFLEET_IMAGE, HOOKFLEET_ACR_RESOURCE_ID). */
const CI_ENV: Record<string, string> = {
  HOOKFLEET_IMAGE: PROMOTED_IMAGE,
  HOOKFLEET_ACR_RESOURCE_ID:
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hookfleet-shared/providers/Microsoft.ContainerRegistry/registries/contosoacr",
};

/**
 * Runs index.ts in a fresh module registry (its own @pulumi/pulumi) with the stack's config;
 * `secretKeys`: the keys the CLI would mark secret (set with `--secret`). A stack with
 * `hookfleet:imagePromoted` runs as CI deploys it (CI_ENV) unless `env` says otherwise.
 */
async function runProgram(
  stack: string,
  config: Record<string, string>,
  preview = false,
  secretKeys: string[] = [],
  env: Record<string, string> = config["hookfleet:imagePromoted"] === "true" ? CI_ENV : {},
): Promise<ProgramRun> {
  const saved = Object.keys(CI_ENV).map((k) => [k, process.env[k]] as const);
  for (const k of Object.keys(CI_ENV)) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return await runProgramWithEnv(stack, config, preview, secretKeys);
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function runProgramWithEnv(
  stack: string,
  config: Record<string, string>,
  preview: boolean,
  secretKeys: string[],
): Promise<ProgramRun> {
  // What the providers store (components/credentials, components/hooks): every output present.
  return runProgramUnderMocks({ stack, config, preview, secretKeys, outputs: snapshotMockOutputs });
}

function hooksOf(run: ProgramRun) {
  return run.mocks.byType(SERVICE_HOOK);
}

interface JobEnv {
  name: string;
  value?: string;
  secretRef?: string;
}

/** The heal jobs, each summed up as what a reader of the portal would check. */
function healJobsOf(run: ProgramRun) {
  const fqdn = (
    run.mocks.one("azure-native:app:ContainerApp").state.configuration as { ingress: { fqdn: string } }
  ).ingress.fqdn;
  return run.mocks.byType("azure-native:app:Job").map((job) => {
    const env: JobEnv[] = job.inputs.template.containers[0].env;
    const get = (name: string) => env.find((e) => e.name === name);
    expect(get("HOOKFLEET_WEBHOOK_BASE_URL")?.value).toBe(`https://${fqdn}`);
    for (const shared of ["HOOKFLEET_SYSTEMS", "HOOKFLEET_URL_TOKENS"])
      expect(get(shared)).toEqual({ name: shared, secretRef: expect.any(String) });
    return {
      schedule: job.inputs.configuration.scheduleTriggerConfig.cronExpression,
      command: job.inputs.template.containers[0].command,
      orgs: get("HOOKFLEET_HEAL_ORG_URLS")?.value,
      pat: get("AZURE_DEVOPS_EXT_PAT"),
      probation: get("HOOKFLEET_HEAL_PROBATION")?.value,
      includeEnabled: get("HOOKFLEET_HEAL_INCLUDE_ENABLED")?.value,
      recentHours: get("HOOKFLEET_HEAL_RECENT_HOURS")?.value,
    };
  });
}

function expectNoPlainSecrets(run: ProgramRun) {
  const secrets = [...run.mocks.byType(ROTATING_SECRET), ...run.mocks.byType(ADO_PAT)].map((r) =>
    fakeSecret(r.name),
  );
  expect(secrets.length).toBeGreaterThan(0);
  for (const r of run.mocks.resources) {
    if (r.type === ROTATING_SECRET || r.type === ADO_PAT) continue;
    const leaks = plainStrings(r.rawInputs).filter((s) => secrets.some((secret) => s.includes(secret)));
    expect({ resource: `${r.type}::${r.name}`, leaks }).toEqual({
      resource: `${r.type}::${r.name}`,
      leaks: [],
    });
  }
}

describe("Pulumi.yaml", () => {
  it("declares a description for every key, and a default for every key but the two lists of objects", () => {
    const decls = projectDeclarations();
    // Lists of objects cannot be typed in Pulumi.yaml (pulumi/pulumi#11321), nor given a default there.
    const untyped = ["organizations", "destinations"];
    for (const [key, d] of Object.entries(decls)) {
      expect({ key, description: Boolean(d.description) }).toEqual({ key, description: true });
      if (!untyped.includes(key))
        expect({ key, hasDefault: d.default !== undefined }).toEqual({ key, hasDefault: true });
    }
  });

  it("declares exactly the keys the program reads (so every setting is documented where people look)", () => {
    // index.ts composes; components/config reads the config (program.ts).
    const program = fs.readFileSync(path.join(repoRoot, "components/config/program.ts"), "utf8");
    const read = new Set<string>();
    for (const m of program.matchAll(
      /(?:config\.\w+(?:<[^>]*>)?|oneOf(?:<[^>]*>)?|wholeNumber)\(\s*"([A-Za-z]+)"/g,
    ))
      read.add(m[1]);
    for (const m of program.matchAll(/rotation\("([a-zA-Z]+)"/g)) {
      for (const suffix of ["RotateEveryDays", "OverlapHours", "RotationNonce"]) read.add(`${m[1]}${suffix}`);
    }
    // The hooks provider reads this one itself (its `configure`), not index.ts.
    const readElsewhere = ["adoPat"];
    const declared = Object.keys(projectDeclarations()).filter((k) => !readElsewhere.includes(k));
    expect([...read].sort()).toEqual(declared.sort());
  });

  it("declares the heal job's defaults as heal itself has them, hourly", () => {
    const decls = projectDeclarations();
    expect(decls.healEnabled.default).toBe(true);
    expect(decls.healSchedule.default).toBe("0 * * * *");
    expect(decls.healProbation.default).toBe(healSettings.HOOKFLEET_HEAL_PROBATION.default);
    expect(decls.healDisabledByUser.default).toBe(healSettings.HOOKFLEET_HEAL_DISABLED_BY_USER.default);
    expect(String(decls.healIncludeEnabled.default)).toBe(
      healSettings.HOOKFLEET_HEAL_INCLUDE_ENABLED.default,
    );
    // Empty: ReceiverInfra derives it from the schedule (at least heal's own default).
    expect(decls.healRecentHours.default).toBe("");
  });

  it("keeps secrets out of the stack files: none holds a credential-looking plain value", () => {
    for (const file of fs.readdirSync(path.join(repoRoot, "stacks"))) {
      const text = fs.readFileSync(path.join(repoRoot, "stacks", file), "utf8");
      expect({
        file,
        match: /(pat|password|token|secret|key)\w*:\s*(?!\s*$)[^#\n]*[A-Za-z0-9]{20,}/i.exec(text)?.[0],
      }).toEqual({
        file,
        match: undefined,
      });
    }
  });
});

describe("program under each stack file", () => {
  it("dev: receiver scaled to zero-to-2, lean storage, URL-token auth, 3 projects × 4 events", async () => {
    const run = await runProgram("dev", configFor("dev"));
    expect(run.mocks.byType("hookfleet:receiver:ReceiverInfra")).toHaveLength(1);
    const app = run.mocks.one("azure-native:app:ContainerApp");
    expect(app.inputs.template.scale).toMatchObject({ minReplicas: 0, maxReplicas: 2 });
    expect(run.mocks.one("azure-native:cosmosdb:DatabaseAccount").inputs.capabilities).toEqual([
      { name: "EnableServerless" },
    ]);

    // include platform-*, hookfleet-*; exclude *-archive
    const hooks = hooksOf(run);
    const projects = new Set(hooks.map((h) => h.inputs.projectId));
    const names = emulator
      .projects("contoso-dev")
      .filter((p) => projects.has(p.id))
      .map((p) => p.name)
      .sort();
    expect(names).toEqual(["hookfleet-core", "platform-api", "platform-web"]);
    expect(hooks).toHaveLength(12);
    expect(new Set(hooks.map((h) => h.inputs.eventType))).toEqual(
      new Set(["git.push", "git.pullrequest.created", "git.pullrequest.merged", "build.complete"]),
    );
    expect(
      run.mocks
        .byType(ROTATING_SECRET)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["read-token", "url-token"]);
    for (const h of hooks) {
      expect(run.helpers.isSecretValue(h.rawInputs.url)).toBe(true);
      expect(h.inputs.url).toMatch(/\/api\/v1\/webhooks\/alw_FAKEurltokenSECRETVALUE$/);
      expect(h.inputs.basicAuthPassword ?? "").toBe("");
    }
    expect(run.values.hookTotal).toEqual({ value: 12, secret: false });
    expect(run.values.webhookUrl.secret).toBe(true);
    expect(run.values.readToken.secret).toBe(true);
    expect(run.values.hookCounts.value).toEqual({
      "contoso-dev": expect.objectContaining({ enabled: 12, disabledBySystem: 0 }),
    });
    expect(run.values.hooksNotEnabled.value).toEqual({ "contoso-dev": [] });
    // Nothing to act on: no failed test delivery, no PAT.
    expect(run.values.warnings).toEqual({ value: [], secret: false });
    expect(Object.keys(run.values.credentialsNextRotation.value as object).sort()).toEqual([
      "readToken",
      "urlToken",
    ]);
    expect(run.values.receiverEnvironment).toBeUndefined();
    // healEnabled: false in the dev stack
    expect(run.mocks.byType("azure-native:app:Job")).toEqual([]);
    expectNoPlainSecrets(run);
  });

  it("staging: a project list × 8 events with a filter, both auth modes, 90-day retention", async () => {
    const run = await runProgram("staging", configFor("staging"));
    const hooks = hooksOf(run);
    expect(hooks).toHaveLength(3 * 8);
    const deployment = hooks.filter(
      (h) => h.inputs.eventType === "ms.vss-release.deployment-completed-event",
    );
    expect(deployment).toHaveLength(3);
    expect(deployment[0].inputs.filters).toEqual({ releaseEnvironmentStatus: "succeeded" });
    expect(
      run.mocks
        .byType(ROTATING_SECRET)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["basic-password", "read-token", "url-token"]);
    for (const h of hooks) {
      expect(run.helpers.isSecretValue(h.rawInputs.basicAuthPassword)).toBe(true);
      expect(h.inputs.basicAuthPassword).toBe(fakeSecret("basic-password"));
      expect(h.inputs.basicAuthUsername).toBe("hookfleet");
    }
    expect(run.mocks.one("azure-native:app:ContainerApp").inputs.template.scale).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
    });
    // The heal job by default: hourly, the organization, as the receiver's identity (no PAT).
    expect(healJobsOf(run)).toEqual([
      {
        schedule: "0 * * * *",
        command: ["node", "dist/app/heal/main.js"],
        orgs: emulator.orgUrl("contoso"),
        pat: undefined,
        probation: "leave",
        includeEnabled: "false",
        // Twice the hourly schedule's gap is below heal's own default, 6 hours.
        recentHours: "6",
      },
    ]);
    expectNoPlainSecrets(run);
  });

  it("prod: two organizations, every project but the excluded, autoscale Cosmos DB, 2–10 replicas", async () => {
    const run = await runProgram("prod", configFor("prod"));
    expect(
      run.mocks
        .byType("hookfleet:hooks:HookFleet")
        .map((f) => f.name)
        .sort(),
    ).toEqual(["contoso", "labs"]);
    const hooks = hooksOf(run);
    const contoso = hooks.filter((h) => h.inputs.orgUrl === emulator.orgUrl("contoso"));
    const labs = hooks.filter((h) => h.inputs.orgUrl === emulator.orgUrl("contoso-labs"));
    // 10 projects minus sandbox-tools, platform-archive, billing-archive; 8 event types
    expect(contoso).toHaveLength(7 * 8);
    expect(labs).toHaveLength(10 * 2);
    expect(run.values.hookTotal.value).toBe(76);
    expect(run.values.hookCounts.value).toEqual({
      contoso: expect.objectContaining({ enabled: 56 }),
      labs: expect.objectContaining({ enabled: 20 }),
    });
    const account = run.mocks.one("azure-native:cosmosdb:DatabaseAccount");
    expect(account.inputs.capabilities).toEqual([]);
    const container = run.mocks.one("azure-native:cosmosdb:SqlResourceSqlContainer");
    expect(container.inputs.options).toEqual({ autoscaleSettings: { maxThroughput: 4000 } });
    expect(run.mocks.one("azure-native:app:ContainerApp").inputs.template.scale).toMatchObject({
      minReplicas: 2,
      maxReplicas: 10,
    });
    expect(run.mocks.byType("azure-native:resources:ResourceGroup")).toHaveLength(0); // rg-hookfleet-prod exists
    // One heal job for both organizations, on prod's schedule.
    expect(healJobsOf(run)).toEqual([
      expect.objectContaining({
        schedule: "0,15,30,45 * * * *",
        orgs: `${emulator.orgUrl("contoso")} ${emulator.orgUrl("contoso-labs")}`,
        pat: undefined,
      }),
    ]);
    // The image's registry: the identity may pull from it, and the app pulls as the identity.
    const acrId = stackFile("prod")["hookfleet:acrResourceId"] as string;
    const acrPull = run.mocks
      .byType("azure-native:authorization:RoleAssignment")
      .filter((r) => r.inputs.scope === acrId);
    expect(acrPull).toHaveLength(1);
    expect(acrPull[0].inputs.roleDefinitionId).toMatch(new RegExp(`/${azureRoleIds.acrPull}$`));
    expect(run.mocks.one("azure-native:app:ContainerApp").inputs.configuration.registries).toEqual([
      { server: "contosoacr.azurecr.io", identity: expect.any(String) },
    ]);
    // receiverInfo names the image the app runs, the one its container is given.
    const runs = run.mocks.one("azure-native:app:ContainerApp").inputs.template.containers[0].image;
    expect(runs).toMatch(/^contosoacr\.azurecr\.io\/hookfleet\/receiver@sha256:[0-9a-f]{64}$/);
    expect((run.values.receiverInfo.value as Record<string, unknown>).image).toBe(runs);
    expectNoPlainSecrets(run);
  });

  it("sandbox: no Azure at all, hooks deliver to the local receiver and the product, the receiver's settings exported as a secret", async () => {
    // The product's URL as npm run sandbox sets it: `pulumi config set --secret --path 'hookfleet:destinations[1].url'`.
    const productUrl = "http://127.0.0.1:7074/api/v1/webhooks/alw_PRODUCTGAVETHISTOKEN0000000000";
    const config = configFor("sandbox");
    const destinations = JSON.parse(config["hookfleet:destinations"]) as Record<string, unknown>[];
    destinations[1] = { ...destinations[1], url: productUrl };
    const run = await runProgram(
      "sandbox",
      { ...config, "hookfleet:destinations": JSON.stringify(destinations) },
      false,
      ["hookfleet:destinations"],
    );
    expect(run.mocks.resources.filter((r) => r.type.startsWith("azure-native:"))).toEqual([]);
    expect(run.mocks.byType("hookfleet:receiver:ReceiverInfra")).toHaveLength(0);
    const hooks = hooksOf(run);
    const receiverHooks = hooks.filter((h) => h.name.startsWith("sandbox-"));
    const productHooks = hooks.filter((h) => h.name.startsWith("product-"));
    // 10 projects × every event type of the catalogue (the sandbox raises one of each) for the
    // receiver; 10 × the 7 of a URL-token product for the product.
    expect([receiverHooks.length, productHooks.length, hooks.length]).toEqual([10 * 17, 10 * 7, 10 * 24]);
    for (const h of receiverHooks)
      expect(h.inputs.url).toMatch(/^http:\/\/127\.0\.0\.1:7071\/api\/v1\/webhooks\/alw_/);
    expect(new Set(productHooks.map((h) => h.inputs.eventType))).toEqual(
      new Set([
        "git.push",
        "git.pullrequest.created",
        "git.pullrequest.updated",
        "workitem.created",
        "workitem.updated",
        "build.complete",
        "ms.vss-release.deployment-completed-event",
      ]),
    );
    for (const h of productHooks) {
      expect(h.inputs.url).toBe(productUrl);
      expect(run.helpers.isSecretValue(h.rawInputs.url)).toBe(true);
      expect(h.inputs).toMatchObject({
        resourceDetailsToSend: "all",
        messagesToSend: "all",
        detailedMessagesToSend: "all",
      });
    }
    // The receiver gets its credentials from a revision of its host before any hook uses them.
    const [revision] = run.mocks.byType("pulumi-nodejs:dynamic/hookfleet:LocalReceiverRevision");
    expect(revision.inputs).toMatchObject({
      receiverUrl: "http://127.0.0.1:7071",
      revisionUrl: "http://127.0.0.1:7073/receivers/receiver/revision",
    });
    for (const h of receiverHooks) expect(h.dependencies).toContain(revision.urn);
    const env = run.values.receiverEnvironment;
    expect(env.secret).toBe(true);
    const systems = JSON.parse((env.value as Record<string, string>).HOOKFLEET_SYSTEMS);
    expect(systems).toEqual([
      expect.objectContaining({ id: "devops", storageMode: "full", retentionDays: 7, requireBoth: true }),
    ]);
    expectNoPlainSecrets(run);
  });

  it("sandbox without the product's URL (npm run sandbox sets it for its run) says which key to set, and how", async () => {
    await expect(runProgram("sandbox", configFor("sandbox"))).rejects.toThrow(
      "hookfleet:destinations[1].url is required for kind webhook: the URL the product gave, set as a secret: " +
        "pulumi config set --secret --path 'hookfleet:destinations[1].url' <url>",
    );
  });
});

describe("pulumi preview (outputs of new resources unknown)", () => {
  it("prod previews: every hook is planned while the receiver URL and credentials are still unknown", async () => {
    const run = await runProgram("prod", configFor("prod"), true);
    expect(hooksOf(run)).toHaveLength(76);
    expect(run.mocks.byType("hookfleet:receiver:ReceiverInfra")).toHaveLength(1);
  });
});

describe("managed PATs", () => {
  it("prod with managePat: one org-scoped PAT per organization, kept in Key Vault, its rotation reported", async () => {
    const run = await runProgram("prod", { ...configFor("prod"), "hookfleet:managePat": "true" });
    const pats = run.mocks.byType(ADO_PAT);
    expect(pats.map((p) => [p.name, p.inputs.organizationUrl, p.inputs.displayName])).toEqual([
      ["contoso-pat", emulator.orgUrl("contoso"), "hookfleet-prod-contoso"],
      ["labs-pat", emulator.orgUrl("contoso-labs"), "hookfleet-prod-labs"],
    ]);
    expect(pats[0].inputs).toMatchObject({
      scopes: ["vso.hooks_write", "vso.project"],
      validityDays: 90,
      rotateBeforeExpiryDays: 30,
    });
    const vaultSecrets = run.mocks
      .byType("azure-native:keyvault:Secret")
      .filter((s) => s.inputs.properties?.value === fakeSecret("contoso-pat"));
    expect(vaultSecrets).toHaveLength(1);
    // Secret at `properties` or at `properties.value`: either way the value is encrypted in state.
    const { properties } = vaultSecrets[0].rawInputs;
    expect(run.helpers.isSecretValue(properties) || run.helpers.isSecretValue(properties.value)).toBe(true);
    expect(run.values.credentialsNextRotation.value).toMatchObject({
      "pat-contoso": "2027-01-05T00:00:00.000Z",
      "pat-labs": "2027-01-05T00:00:00.000Z",
    });
    // What `npm run rotate` reads after its `up`: each PAT's applied nonce, in plain (not secret).
    expect(run.values.patRotations).toEqual({
      value: {
        "pat-contoso": { rotationNonce: "", pendingRevocations: [] },
        "pat-labs": { rotationNonce: "", pendingRevocations: [] },
      },
      secret: false,
    });
    // Each PAT is org-scoped: one heal job per organization, each reading its own PAT from Key Vault.
    const jobs = healJobsOf(run).map((j) => [j.orgs, j.pat]);
    expect(jobs.sort()).toEqual([
      [emulator.orgUrl("contoso"), { name: "AZURE_DEVOPS_EXT_PAT", secretRef: "ado-pat-contoso" }],
      [emulator.orgUrl("contoso-labs"), { name: "AZURE_DEVOPS_EXT_PAT", secretRef: "ado-pat-labs" }],
    ]);
    expectNoPlainSecrets(run);
  });
});

describe("heal job config", () => {
  it("staging with healEnabled false has no job; options reach the job's environment", async () => {
    const off = await runProgram("staging", { ...configFor("staging"), "hookfleet:healEnabled": "false" });
    expect(off.mocks.byType("azure-native:app:Job")).toEqual([]);
    expect(off.mocks.byType("azure-native:app:ContainerApp")).toHaveLength(1);
    const tuned = await runProgram("staging", {
      ...configFor("staging"),
      "hookfleet:healSchedule": "30 2 * * *",
      "hookfleet:healProbation": "enable",
      "hookfleet:healIncludeEnabled": "true",
    });
    expect(healJobsOf(tuned)).toEqual([
      expect.objectContaining({
        schedule: "30 2 * * *",
        probation: "enable",
        includeEnabled: "true",
        // Daily: a hook re-enabled just after a run is still "changed recently" if the next run is missed.
        recentHours: "48",
      }),
    ]);
    const blind = await runProgram("staging", {
      ...configFor("staging"),
      "hookfleet:healRecentHours": "0",
    });
    expect(healJobsOf(blind)).toEqual([expect.objectContaining({ schedule: "0 * * * *", recentHours: "0" })]);
  });
});

describe("receiver telemetry config", () => {
  const traceLimit = (run: ProgramRun) =>
    (run.mocks.one("azure-native:app:ContainerApp").inputs.template.containers[0].env as JobEnv[]).find(
      (e) => e.name === "HOOKFLEET_DELIVERY_TRACES_PER_SECOND",
    );

  it("deliveryTracesPerSecond reaches the receiver's environment; unset, the receiver keeps its own default", async () => {
    expect(traceLimit(await runProgram("staging", configFor("staging")))).toBeUndefined();
    const all = await runProgram("staging", {
      ...configFor("staging"),
      "hookfleet:deliveryTracesPerSecond": "all",
    });
    expect(traceLimit(all)).toEqual({ name: "HOOKFLEET_DELIVERY_TRACES_PER_SECOND", value: "all" });
    const tuned = await runProgram("staging", {
      ...configFor("staging"),
      "hookfleet:deliveryTracesPerSecond": " 250 ",
    });
    expect(traceLimit(tuned)?.value).toBe("250");
  });
});

describe("config mistakes fail before anything is created, naming the key", () => {
  it.each([
    [{ "hookfleet:authMode": "token" }, /hookfleet:authMode must be one of urlToken, basic, both/],
    [
      { "hookfleet:minReplicas": "5", "hookfleet:maxReplicas": "2" },
      /minReplicas \(5\) exceeds hookfleet:maxReplicas \(2\)/,
    ],
    [{ "hookfleet:organizations": "[]" }, /hookfleet:organizations must list at least one organization/],
    [
      { "hookfleet:organizations": '[{"url":"contoso"}]' },
      /organizations\[0\]\.url must be an organization URL/,
    ],
    [{ "hookfleet:deployReceiver": "false" }, /hookfleet:receiverUrl must be set/],
    [
      { "hookfleet:managePat": "true", "hookfleet:patRotateEveryDays": "90" },
      /patRotateEveryDays must be below/,
    ],
    [
      { "hookfleet:urlTokenRotateEveryDays": "1", "hookfleet:urlTokenOverlapHours": "24" },
      /hookfleet:urlTokenOverlapHours and hookfleet:urlTokenRotateEveryDays: overlapHours \(24\) must be shorter than the rotation period \(24 h\)/,
    ],
    [{ "hookfleet:healSchedule": "@hourly" }, /hookfleet:healSchedule must be a 5-field cron/],
    [{ "hookfleet:healProbation": "yes" }, /hookfleet:healProbation must be one of leave, enable/],
    [
      { "hookfleet:healRecentHours": "-1" },
      /hookfleet:healRecentHours must be a number of hours from 0 to 8760, e\.g\. 6 or 0\.5; got "-1"/,
    ],
    [
      { "hookfleet:deliveryTracesPerSecond": "0" },
      /hookfleet:deliveryTracesPerSecond must be a number of traces per second above 0, or "all"; got "0"/,
    ],
    [
      { "hookfleet:acrResourceId": "contosoacr" },
      /hookfleet:acrResourceId \(or HOOKFLEET_ACR_RESOURCE_ID\) must be a registry's ARM id/,
    ],
  ])("%j", async (override, message) => {
    const config = { ...configFor("dev"), ...override };
    await expect(runProgram("dev", config)).rejects.toThrow(message);
  });
});

describe("a stack that runs the image CI promotes (hookfleet:imagePromoted)", () => {
  it("runs the image in HOOKFLEET_IMAGE, pulling from HOOKFLEET_ACR_RESOURCE_ID, and builds none", async () => {
    // A registry other than the stack file's: CI's names the one it built into, over the file's.
    const ciRegistry =
      "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-ci/providers/Microsoft.ContainerRegistry/registries/ciacr";
    const env = { ...CI_ENV, HOOKFLEET_ACR_RESOURCE_ID: ciRegistry };
    const run = await runProgram("staging", configFor("staging"), false, [], env);
    expect(run.mocks.one("azure-native:app:ContainerApp").inputs.template.containers[0].image).toBe(
      PROMOTED_IMAGE,
    );
    expect(run.mocks.byType(CLOUD_IMAGE_BUILD_TYPE)).toEqual([]);
    expect(run.mocks.byType("azure-native:containerregistry:Registry")).toEqual([]);
    const acrPull = run.mocks
      .byType("azure-native:authorization:RoleAssignment")
      .filter((r) => r.inputs.scope === ciRegistry);
    expect(acrPull.map((r) => r.inputs.roleDefinitionId)).toEqual([
      expect.stringMatching(new RegExp(`/${azureRoleIds.acrPull}$`)),
    ]);
    // What a later run reads back to keep both (scripts/lib/deployedImage.ts).
    expect(run.values.receiverInfo.value).toMatchObject({ image: PROMOTED_IMAGE, acrResourceId: ciRegistry });
  });

  it("refuses to run without an image instead of building one, saying how to name it", async () => {
    await expect(runProgram("staging", configFor("staging"), false, [], {})).rejects.toThrow(
      /hookfleet:imagePromoted is true: .*HOOKFLEET_IMAGE \(or hookfleet:image\) must name it/,
    );
  });

  it("takes HOOKFLEET_IMAGE over the stack file's image (CI names what it promotes); a stack that builds its own ignores it", async () => {
    const pinned = "docker.io/contoso/receiver:1.2.3";
    const promoted = await runProgram(
      "staging",
      { ...configFor("staging"), "hookfleet:image": pinned },
      false,
      [],
      CI_ENV,
    );
    expect(promoted.mocks.one("azure-native:app:ContainerApp").inputs.template.containers[0].image).toBe(
      PROMOTED_IMAGE,
    );
    // dev builds its own: a HOOKFLEET_IMAGE left in a shell changes nothing there.
    const dev = await runProgram("dev", configFor("dev"), false, [], CI_ENV);
    expect(dev.mocks.byType(CLOUD_IMAGE_BUILD_TYPE)).toHaveLength(1);
    expect(dev.mocks.one("azure-native:app:ContainerApp").inputs.template.containers[0].image).not.toBe(
      PROMOTED_IMAGE,
    );
  });
});
