/**
 * A credential change must roll a new Container App revision in the same `pulumi up`. Container App
 * secrets are application-scope: changing one creates no revision and running revisions keep the old
 * value (learn.microsoft.com/azure/container-apps/manage-secrets), so only a change in the template
 * (revision-scope) makes the receiver accept a rotated token. The component puts a fingerprint of the
 * credential hashes in a plain env var for that; these tests compare the template Azure would receive.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ReceiverInfraArgs } from "../../components/receiver";
import type { CredentialHash, SystemSetting, UrlTokenSetting } from "../../app/settings";
import { isSecretValue } from "../support/pulumi-mocks";
import { deploy, mocks } from "./deploy";

const fingerprintName = "HOOKFLEET_CREDENTIALS_FINGERPRINT";
const image = "ghcr.io/contoso/hookfleet-receiver:1.4.0";
const hash = (c: string) => c.repeat(64);
const systems: SystemSetting[] = [
  { id: "devops", storageMode: "lean", retentionDays: 30, basicPasswords: [{ sha256: hash("1") }] },
];
const urlTokens: UrlTokenSetting[] = [{ sha256: hash("2"), systemId: "devops" }];
const readTokens: CredentialHash[] = [{ sha256: hash("3") }];
const cosmosKey = "c29tZS1jb3Ntb3Mta2V5LXZhbHVl";
// Read-token hashes arrive as a Pulumi secret, as the credentials component may hand them over.
const base: ReceiverInfraArgs = {
  image,
  systems,
  urlTokens,
  readTokens: pulumi.secret(readTokens),
  extraSecrets: { COSMOS_KEY: cosmosKey },
};

interface EnvVar {
  name: string;
  value?: unknown;
  secretRef?: string;
}
interface Deployed {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the recorded ARM template, compared whole
  template: any;
  env: EnvVar[];
  rawFingerprint: unknown;
}

/** Deploys the same component (same name, so same physical names) with `args`; the mocks forget the last run. */
async function templateFor(args: ReceiverInfraArgs): Promise<Deployed> {
  mocks.reset();
  const d = await deploy("receiver", args);
  const app = d.one("app:ContainerApp");
  const env: EnvVar[] = app.inputs.template.containers[0].env;
  const rawEnv: EnvVar[] = app.rawInputs.template.containers[0].env;
  return {
    template: app.inputs.template,
    env,
    rawFingerprint: rawEnv.find((e) => e.name === fingerprintName)?.value,
  };
}
const fingerprintOf = (d: Deployed) => d.env.find((e) => e.name === fingerprintName)?.value;
/** Env entries that differ between two runs, by name. */
const changedEnv = (a: Deployed, b: Deployed) =>
  [...new Set([...a.env, ...b.env].map((e) => e.name))].filter(
    (name) =>
      JSON.stringify(a.env.find((e) => e.name === name)) !==
      JSON.stringify(b.env.find((e) => e.name === name)),
  );

let before: Deployed;
beforeAll(async () => {
  before = await templateFor(base);
});

test("unchanged credentials give an identical template (no needless revision)", async () => {
  // Equal copies, not the same objects (spreads: structuredClone's arrays come from another realm under jest).
  const again = await templateFor({
    ...base,
    systems: systems.map((s) => ({ ...s, basicPasswords: [...(s.basicPasswords ?? [])] })),
    urlTokens: urlTokens.map((t) => ({ ...t })),
  });
  expect(again.template).toEqual(before.template);
});

test.each<[string, Partial<ReceiverInfraArgs>]>([
  ["a new URL-token hash", { urlTokens: [...urlTokens, { sha256: hash("4"), systemId: "devops" }] }],
  [
    "a rotated Basic password",
    {
      systems: [
        {
          ...systems[0],
          basicPasswords: [{ sha256: hash("5") }, { sha256: hash("1"), notAfter: "2026-12-01T00:00:00Z" }],
        },
      ],
    },
  ],
  ["a new read-token hash", { readTokens: [{ sha256: hash("6") }] }],
  ["a dropped credential (emergency revoke)", { urlTokens: [] }],
  ["another secret the app reads (COSMOS_KEY)", { extraSecrets: { COSMOS_KEY: "bmV3LWNvc21vcy1rZXk=" } }],
])("%s changes the template env (a new revision)", async (_, change) => {
  const after = await templateFor({ ...base, ...change });
  expect(after.template).not.toEqual(before.template);
  // The secrets themselves are referenced by name: the fingerprint is the only revision-scope change.
  expect(changedEnv(before, after)).toEqual([fingerprintName]);
});

test("a change outside the credentials keeps the fingerprint", async () => {
  const after = await templateFor({ ...base, image: image.replace("1.4.0", "1.5.0") });
  expect(fingerprintOf(after)).toBe(fingerprintOf(before));
});

test("the fingerprint is plain, short, and reveals no hash or secret", () => {
  const fingerprint = fingerprintOf(before);
  expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
  // Plain in the engine's inputs (visible in the preview's diff), yet derived from secret inputs only.
  expect(isSecretValue(before.rawFingerprint)).toBe(false);
  const inputs = [hash("1"), hash("2"), hash("3"), cosmosKey];
  for (const input of inputs) {
    expect(input).not.toContain(fingerprint);
    expect(fingerprint).not.toContain(input);
  }
});
