/**
 * The program (index.ts) with destinations, under Pulumi mocks: the prod stack's two organizations
 * feeding our receiver and two hosted products (a URL-token product with its seven events in both
 * organizations, a Basic-password product with PR and work item events and a PAT in one). Counts the
 * hooks per destination and per organization, checks names, parents and secrecy, and the outputs a
 * user reads (docs/destinations.md). Projects come from the ADO emulator.
 */
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import {
  ADO_PAT,
  fakeSecret,
  HOOK_FLEET,
  ROTATING_SECRET,
  SERVICE_HOOK,
  seedSnapshotProjects,
  snapshotConfig,
  snapshotMockOutputs,
  snapshotOrganizations,
  SNAPSHOT_VARIANTS,
} from "./hook-snapshot";
import { plainStrings, runProgramUnderMocks, type ProgramRun } from "./program-run";

jest.setTimeout(120_000);

const WEBHOOK_DESTINATION = "hookfleet:destinations:WebhookDestination";
const TOKEN_URL = "https://hooks.producta.example/api/v1/webhooks/alw_0123456789abcdefghijABCDEFGHIJ";
const PRODUCT_B_URL = "https://productb.example/ado/webhook";
const PASSWORD = "Pr0duct-B-Passw0rd";
const SEVEN = [
  "git.push",
  "git.pullrequest.created",
  "git.pullrequest.updated",
  "workitem.created",
  "workitem.updated",
  "build.complete",
  "ms.vss-release.deployment-completed-event",
];
const PR_AND_WORK_ITEMS = [
  "git.pullrequest.created",
  "git.pullrequest.updated",
  "workitem.created",
  "workitem.updated",
];

const destinations = [
  { name: "receiver", kind: "receiver" },
  { name: "producta", kind: "webhook", url: TOKEN_URL, events: SEVEN },
  {
    name: "productb",
    kind: "webhook",
    url: PRODUCT_B_URL,
    basicPassword: PASSWORD,
    events: PR_AND_WORK_ITEMS,
    organizations: ["contoso"],
    pat: { scopes: ["vso.code_write", "vso.work"], validDays: 90, rotateEveryDays: 60 },
  },
];

let emulator: AdoEmulator;
const saved = { pat: process.env.AZURE_DEVOPS_EXT_PAT, now: process.env.HOOKFLEET_NOW };

beforeAll(async () => {
  emulator = await startAdoEmulator({
    orgs: snapshotOrganizations().map((name) => ({ name, projects: [] })),
  });
  seedSnapshotProjects(emulator);
  process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
});
afterAll(async () => {
  for (const [k, v] of [
    ["AZURE_DEVOPS_EXT_PAT", saved.pat],
    ["HOOKFLEET_NOW", saved.now],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await emulator.close();
});

/** index.ts under mocks (a fresh registry) with prod's config plus `extra`; `hookfleet:destinations` secret. */
async function runProgram(
  extra: Record<string, string>,
  opts: { secretKeys?: string[]; outputs?: typeof snapshotMockOutputs; preview?: boolean } = {},
): Promise<ProgramRun> {
  const prod = SNAPSHOT_VARIANTS.find((v) => v.label === "prod")!;
  return runProgramUnderMocks({
    stack: "prod",
    config: { ...snapshotConfig(prod, emulator), ...extra },
    secretKeys: opts.secretKeys ?? ["hookfleet:destinations"],
    preview: opts.preview,
    outputs: opts.outputs ?? snapshotMockOutputs,
  });
}

const withDestinations = (list: unknown[]) => ({ "hookfleet:destinations": JSON.stringify(list) });

describe("two hosted products beside the receiver, across two organizations", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    emulator.counters.reset();
    run = await runProgram(withDestinations(destinations));
  });

  it("makes one hook per (destination, project, event type), named after the destination", () => {
    const hooks = run.mocks.byType(SERVICE_HOOK);
    const ofDestination = (d: string) => hooks.filter((h) => h.name.startsWith(`${d}-`));
    const contoso = emulator.orgUrl("contoso");
    const labs = emulator.orgUrl("contoso-labs");
    // prod: contoso has 7 projects (3 excluded), labs 10; the receiver's hooks as in prod: 7×8 + 10×2.
    const receiverHooks = hooks.filter((h) => h.name.startsWith("contoso-") || h.name.startsWith("labs-"));
    expect(receiverHooks).toHaveLength(7 * 8 + 10 * 2);
    expect(ofDestination("producta")).toHaveLength(7 * 7 + 10 * 7);
    expect(ofDestination("productb")).toHaveLength(7 * 4);
    expect(hooks).toHaveLength(76 + 119 + 28);
    expect(ofDestination("productb").every((h) => h.inputs.orgUrl === contoso)).toBe(true);
    expect(ofDestination("producta").filter((h) => h.inputs.orgUrl === labs)).toHaveLength(70);
    for (const h of ofDestination("producta")) {
      expect(h.name).toBe(`producta-${h.inputs.projectId}-${h.inputs.eventType}`);
      expect(SEVEN).toContain(h.inputs.eventType);
    }
  });

  it("groups them: a WebhookDestination per product, a HookFleet per organization under it, its PAT beside", () => {
    const products = run.mocks.byType(WEBHOOK_DESTINATION);
    expect(products.map((d) => d.name)).toEqual(["producta", "productb"]);
    const fleetsOf = (urn: string) =>
      run.mocks
        .childrenOf(urn)
        .filter((c) => c.type === HOOK_FLEET)
        .map((c) => c.name);
    expect(fleetsOf(products[0].urn)).toEqual(["producta-contoso", "producta-labs"]);
    expect(fleetsOf(products[1].urn)).toEqual(["productb-contoso"]);
    // The receiver's fleets are where they always were: at the top, named after the organization.
    expect(
      run.mocks
        .byType(HOOK_FLEET)
        .filter((f) => f.parent === undefined || !f.parent.includes("WebhookDestination"))
        .map((f) => f.name),
    ).toEqual(["contoso", "labs"]);
    const [pat] = run.mocks.byType(ADO_PAT);
    expect(pat.name).toBe("productb-pat");
    expect(pat.parent).toBe(products[1].urn);
    expect(pat.inputs).toMatchObject({
      organizationUrl: emulator.orgUrl("contoso"),
      displayName: "hookfleet-prod-productb",
      scopes: ["vso.code_write", "vso.work"],
      validityDays: 90,
      rotateBeforeExpiryDays: 30,
      overlapHours: 168,
    });
  });

  it("sends each product its URL, password and what-to-send; secrets stay secrets", () => {
    const hooks = run.mocks.byType(SERVICE_HOOK);
    const a = hooks.find((h) => h.name.startsWith("producta-"))!;
    const b = hooks.find((h) => h.name.startsWith("productb-"))!;
    expect(a.inputs).toMatchObject({ url: TOKEN_URL, basicAuthPassword: "", basicAuthUsername: "" });
    expect(b.inputs).toMatchObject({ url: PRODUCT_B_URL, basicAuthPassword: PASSWORD });
    for (const h of [a, b]) {
      expect(run.helpers.isSecretValue(h.rawInputs.url)).toBe(true);
      expect(h.inputs).toMatchObject({
        resourceDetailsToSend: "all",
        messagesToSend: "all",
        detailedMessagesToSend: "all",
      });
    }
    expect(run.helpers.isSecretValue(b.rawInputs.basicAuthPassword)).toBe(true);
    // No resource holds a product's URL, password or PAT in plain text.
    const secrets = [TOKEN_URL, PASSWORD, fakeSecret("productb-pat")];
    for (const r of run.mocks.resources) {
      const leaks = plainStrings(r.rawInputs).filter((s) => secrets.some((x) => s.includes(x)));
      expect({ resource: r.name, leaks }).toEqual({ resource: r.name, leaks: [] });
    }
  });

  it("lists each organization's projects once, whatever the number of destinations", () => {
    const projectCalls = Object.entries(emulator.counters.byRoute)
      .filter(([route]) => route === "GET /_apis/projects")
      .reduce((n, [, c]) => n + c, 0);
    expect(projectCalls).toBe(2);
  });

  it("reports per destination: hook counts by status, failed test deliveries; per organization as before", () => {
    expect(run.values.destinationHookCounts.value).toEqual({
      receiver: expect.objectContaining({ enabled: 76, disabledBySystem: 0 }),
      producta: expect.objectContaining({ enabled: 119 }),
      productb: expect.objectContaining({ enabled: 28 }),
    });
    expect(run.values.hookCounts.value).toEqual({
      contoso: expect.objectContaining({ enabled: 56 + 49 + 28 }),
      labs: expect.objectContaining({ enabled: 20 + 70 }),
    });
    expect(run.values.hookTotal.value).toBe(223);
    expect(run.values.failedTestDeliveries.value).toEqual({ receiver: [], producta: [], productb: [] });
    expect(run.values.warnings.value).toEqual([]);
    expect(run.values.destinationPats).toEqual({
      value: { productb: fakeSecret("productb-pat") },
      secret: true,
    });
    expect(run.values.credentialsNextRotation.value).toMatchObject({
      urlToken: expect.any(String),
      "destinationPat-productb": "2027-01-05T00:00:00.000Z",
    });
    // Where `npm run rotate -- --destination productb` confirms its rotation (the key it looks up).
    expect(run.values.patRotations).toEqual({
      value: { "destinationPat-productb": { rotationNonce: "", pendingRevocations: [] } },
      secret: false,
    });
  });
});

it("a product's failed test deliveries are reported under its name, prefixed in warnings", async () => {
  const run = await runProgram(withDestinations(destinations), {
    outputs: (args) =>
      args.type === SERVICE_HOOK && args.name.startsWith("producta-") && args.inputs.eventType === "git.push"
        ? {
            status: "enabled",
            lastTestDelivery: "failed",
            warnings: [
              "service hook for git.push: ADO's test notification did not reach the receiver (HTTP 500)",
            ],
          }
        : snapshotMockOutputs(args),
  });
  const failed = run.values.failedTestDeliveries.value as Record<string, string[]>;
  expect(failed.receiver).toEqual([]);
  expect(failed.productb).toEqual([]);
  expect(failed.producta).toHaveLength(17); // git.push in 7 + 10 projects
  expect(failed.producta.every((n) => /^producta-.+-git\.push$/.test(n))).toBe(true);
  const warnings = run.values.warnings.value as string[];
  expect(warnings).toHaveLength(17);
  expect(warnings[0]).toMatch(/^destination "producta": producta-.+-git\.push: service hook for git\.push/);
});

it("after the product's PAT rotated: the warnings say to reconnect by the end of the overlap", async () => {
  process.env.HOOKFLEET_NOW = "2027-01-06T12:00:00.000Z";
  try {
    const run = await runProgram(withDestinations(destinations), {
      outputs: (args) =>
        args.type === ADO_PAT
          ? {
              token: fakeSecret(args.name),
              validTo: "2027-04-06T00:00:00.000Z",
              nextRotationAt: "2027-03-07T00:00:00.000Z",
              rotatedAt: "2027-01-06T00:00:00.000Z",
              authorizationId: "auth-new",
              previousAuthorizationId: "auth-old",
              previousNotAfter: "2027-01-13T00:00:00.000Z",
              previousValidTo: "2027-02-04T00:00:00.000Z",
            }
          : snapshotMockOutputs(args),
    });
    expect(run.values.warnings.value).toEqual([
      expect.stringMatching(
        /^destination "productb": reconnect in productb with the replacement token by 2027-01-13T00:00:00\.000Z /,
      ),
    ]);
  } finally {
    delete process.env.HOOKFLEET_NOW;
  }
});

it("only hosted products, no receiver (deployReceiver: false): no receiver credentials, no receiver outputs", async () => {
  const run = await runProgram({
    ...withDestinations(destinations.slice(1)),
    "hookfleet:deployReceiver": "false",
  });
  expect(run.mocks.byType(ROTATING_SECRET)).toEqual([]);
  expect(run.mocks.byType("hookfleet:receiver:ReceiverInfra")).toEqual([]);
  expect(run.mocks.resources.filter((r) => r.type.startsWith("azure-native:"))).toEqual([]);
  expect(run.mocks.byType(SERVICE_HOOK)).toHaveLength(119 + 28);
  for (const output of ["webhookUrl", "readToken", "receiverEnvironment"])
    expect(run.values[output]).toBeUndefined();
  expect(run.values.hookCounts.value).toEqual({
    contoso: expect.objectContaining({ enabled: 77 }),
    labs: expect.objectContaining({ enabled: 70 }),
  });
  expect(Object.keys(run.values.destinationHookCounts.value as object)).toEqual(["producta", "productb"]);
});

it("a preview (outputs of new resources unknown) plans every destination's hooks", async () => {
  const run = await runProgram(withDestinations(destinations), { preview: true });
  expect(run.mocks.byType(SERVICE_HOOK)).toHaveLength(223);
});

describe("mistakes stop the program before anything is created, naming the key", () => {
  it("the product's password in plain text (the key is not a secret)", async () => {
    await expect(runProgram(withDestinations(destinations), { secretKeys: [] })).rejects.toThrow(
      /hookfleet:destinations\[1\]\.url is in plain text[^\n]*\n- hookfleet:destinations\[2\]\.basicPassword is in plain text/,
    );
  });

  it("a value set by hand that is not a list: refused without quoting it", async () => {
    const run = runProgram({ "hookfleet:destinations": "url=https://x.example/alw_secret0000" });
    await expect(run).rejects.toThrow("hookfleet:destinations must be a list of destinations");
    await expect(run).rejects.not.toThrow(/alw_secret/);
  });

  it("destinations without a receiver while the stack deploys one", async () => {
    await expect(runProgram(withDestinations(destinations.slice(1)))).rejects.toThrow(
      /hookfleet:destinations lists no destination of kind receiver, so the receiver this stack deploys would get no hooks/,
    );
  });
});
