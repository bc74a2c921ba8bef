/** The resource graph the credentials components register (pulumi-awsx style: record every registration). */
import { setupPulumiMocks } from "../support/pulumi-mocks";

const mocks = setupPulumiMocks({ project: "hookfleet", stack: "prod" });

// eslint-disable-next-line @typescript-eslint/no-require-imports -- imported after setMocks, as a program is
const credentials = require("../../components/credentials") as typeof import("../../components/credentials");

const ROTATING = "pulumi-nodejs:dynamic/credentials:RotatingSecret";
const PAT = "pulumi-nodejs:dynamic/credentials:AdoPat";

beforeEach(() => mocks.reset());

test("WebhookCredentials in mode `both`: one RotatingSecret per credential, parented, values secret", async () => {
  new credentials.WebhookCredentials("devops", {
    systemId: "devops",
    authMode: "both",
    rotateEveryDays: 7,
    overlapHours: 12,
    urlTokenNonce: "n1",
  });
  await mocks.settled();
  const component = mocks.one("hookfleet:credentials:WebhookCredentials", "devops");
  const secrets = mocks.byType(ROTATING);
  expect(secrets.map((s) => s.name).sort()).toEqual(["devops-basic-password", "devops-url-token"]);
  for (const s of secrets) {
    expect(s.parent).toBe(component.urn);
    expect(s.additionalSecretOutputs).toEqual(expect.arrayContaining(["current", "previous"]));
    expect(typeof s.inputs.__provider).toBe("string");
    expect(s.inputs).toMatchObject({ systemId: "devops", rotateEveryDays: 7, overlapHours: 12 });
  }
  expect(mocks.byName("devops-url-token").inputs).toMatchObject({ kind: "urlToken", rotationNonce: "n1" });
  expect(mocks.byName("devops-basic-password").inputs.kind).toBe("basicPassword");
});

test("WebhookCredentials in mode `urlToken` makes no password", async () => {
  new credentials.WebhookCredentials("ci", { systemId: "ci", authMode: "urlToken" });
  await mocks.settled();
  expect(mocks.byType(ROTATING).map((s) => s.name)).toEqual(["ci-url-token"]);
});

test("AdoPat: secret token outputs, org-scoped inputs, stack named for the warning", async () => {
  new credentials.AdoPat(
    "receiver-pat",
    {
      organizationUrl: "https://dev.azure.com/contoso",
      displayName: "hookfleet-prod-receiver",
      scopes: ["vso.hooks_write", "vso.project"],
      validityDays: 60,
    },
    // A caller's own secret outputs are kept alongside the provider's.
    { additionalSecretOutputs: ["displayName"] },
  );
  await mocks.settled();
  const pat = mocks.one(PAT);
  expect(pat.additionalSecretOutputs).toEqual(
    expect.arrayContaining(["token", "previousToken", "displayName"]),
  );
  expect(pat.inputs).toMatchObject({
    stack: "prod",
    validityDays: 60,
    scopes: ["vso.hooks_write", "vso.project"],
  });
  // The serialized provider is the loader shim: no user token, no client captured.
  expect(pat.inputs.__provider).not.toMatch(/azure-devops-node-api|HOOKFLEET_ADO_USER_TOKEN=/);
});

test("credentialsFingerprint changes with the hashes and holds no secret", async () => {
  const a = [{ sha256: "a".repeat(64), systemId: "devops" }];
  const b = [...a, { sha256: "b".repeat(64), systemId: "devops", notAfter: "2026-01-01T00:00:00.000Z" }];
  const value = (o: import("@pulumi/pulumi").Output<string>) => new Promise<string>((r) => o.apply(r));
  const fa = await value(credentials.credentialsFingerprint(a, []));
  expect(fa).toMatch(/^[0-9a-f]{16}$/);
  expect(await value(credentials.credentialsFingerprint(a, []))).toBe(fa);
  expect(await value(credentials.credentialsFingerprint(b, []))).not.toBe(fa);
});
