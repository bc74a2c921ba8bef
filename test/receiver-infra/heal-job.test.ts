/**
 * The scheduled heal job: same identity, environment and image as the receiver, every variable heal
 * reads set (derived from app/heal/settings.ts), secrets only from the receiver's Key Vault secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { healReceiverSettingNames, healSettings } from "../../app/heal/settings";
import { receiverSettings, type SettingSpec } from "../../app/settings";
import { healJobKey } from "../../app/telemetry/org";
import { ReceiverInfra, healJobGroups, nameRules, type HealJobArgs } from "../../components/receiver";
import { analyzeKql } from "../support/kql";
import { isSecretValue, outputValue, type RecordedResource } from "../support/pulumi-mocks";
import { deploy, type Deployment } from "./deploy";

const image = "ghcr.io/example/hookfleet-receiver:1.4.0";
const pat = "heal-job-pat-never-plain";
const labsPat = "heal-job-labs-pat-never-plain";
const cosmosKey = "heal-job-cosmos-key-never-plain";
const systems = [{ id: "devops", storageMode: "lean" as const, retentionDays: 30 }];
const urlTokens = [{ sha256: "ab".repeat(32), systemId: "devops" }];

/** Everything the job reads, built here from the two schemas (not from the component's own list). */
const everyHealVariable: Record<string, SettingSpec> = {
  ...healSettings,
  ...Object.fromEntries(healReceiverSettingNames.map((n) => [n, receiverSettings[n]])),
};

interface EnvEntry {
  name: string;
  value?: string;
  secretRef?: string;
}
const envOf = (job: RecordedResource): EnvEntry[] => job.inputs.template.containers[0].env;
const valueOf = (job: RecordedResource, name: string) => envOf(job).find((e) => e.name === name);

let d: Deployment;
let job: RecordedResource;
let identity: RecordedResource;
beforeAll(async () => {
  d = await deploy("healing", {
    image,
    systems,
    urlTokens,
    extraSecrets: { "ado-pat-contoso": pulumi.secret(pat), COSMOS_KEY: pulumi.secret(cosmosKey) },
    healJob: {
      cronExpression: "0,15,30,45 * * * *",
      organizations: [
        { url: "https://dev.azure.com/contoso", adoPatSecret: "ado-pat-contoso" },
        { url: "https://dev.azure.com/contoso-two", adoPatSecret: "ado-pat-contoso" },
      ],
      settings: { HOOKFLEET_HEAL_PROBATION: "enable" },
    },
  });
  job = d.one("app:Job");
  identity = d.one("managedidentity:UserAssignedIdentity");
});

it("runs heal's entry point on the given schedule, in the receiver's environment and image", () => {
  expect(job.inputs.configuration.triggerType).toBe("Schedule");
  expect(job.inputs.configuration.scheduleTriggerConfig.cronExpression).toBe("0,15,30,45 * * * *");
  expect(job.inputs.environmentId).toBe(d.one("app:ManagedEnvironment").id);
  expect(job.inputs.template.containers[0].image).toBe(image);
  expect(job.inputs.template.containers[0].command).toEqual(["node", "dist/app/heal/main.js"]);
  expect(nameRules.containerAppJob.pattern.test(job.inputs.jobName)).toBe(true);
});

it("sets every variable heal requires, and every secret one by Key Vault reference, never plain", () => {
  const env = envOf(job);
  for (const [name, spec] of Object.entries(everyHealVariable)) {
    const entry = env.find((e) => e.name === name);
    if (spec.requiredInProduction) expect({ name, set: entry !== undefined }).toEqual({ name, set: true });
    if (spec.source === "secret" && entry) {
      expect({ name, value: entry.value, ref: typeof entry.secretRef }).toEqual({
        name,
        value: undefined,
        ref: "string",
      });
    }
  }
  // Nothing outside heal's schemas (no read tokens, no receiver-only settings).
  for (const e of env) expect(Object.keys(everyHealVariable)).toContain(e.name);
  expect(isSecretValue(job.rawInputs.template)).toBe(false);
  for (const secret of [pat, cosmosKey]) expect(JSON.stringify(job.inputs)).not.toContain(secret);
});

it("references the receiver's own vault secrets for the shared settings and the PAT", () => {
  const app = d.one("app:ContainerApp");
  const appSecrets: { name: string; keyVaultUrl: string }[] = app.inputs.configuration.secrets;
  const appEnv: EnvEntry[] = app.inputs.template.containers[0].env;
  const jobSecrets: { name: string; keyVaultUrl: string; identity: string }[] =
    job.inputs.configuration.secrets;
  for (const name of ["HOOKFLEET_SYSTEMS", "HOOKFLEET_URL_TOKENS", "COSMOS_KEY"]) {
    const ref = valueOf(job, name)?.secretRef;
    expect(ref).toBe(appEnv.find((e) => e.name === name)?.secretRef);
    expect(jobSecrets.find((s) => s.name === ref)).toEqual({
      ...appSecrets.find((s) => s.name === ref),
      identity: identity.id,
    });
  }
  expect(valueOf(job, "AZURE_DEVOPS_EXT_PAT")).toEqual({
    name: "AZURE_DEVOPS_EXT_PAT",
    secretRef: "ado-pat-contoso",
  });
  const vaultSecret = d.all("keyvault:Secret").find((s) => s.inputs.secretName === "ado-pat-contoso")!;
  expect(jobSecrets.find((s) => s.name === "ado-pat-contoso")?.keyVaultUrl).toBe(
    (vaultSecret.state.properties as { secretUriWithVersion: string }).secretUriWithVersion,
  );
  // Only what it reads: the read tokens stay the receiver's.
  expect(jobSecrets.map((s) => s.name).sort()).toEqual(
    ["ado-pat-contoso", "cosmos-key", "hookfleet-systems", "hookfleet-url-tokens"].sort(),
  );
});

it("points heal at the app's own host, its organizations and options, as the receiver's identity", () => {
  const fqdn = d.one("app:ContainerApp").state.configuration as { ingress: { fqdn: string } };
  expect(valueOf(job, "HOOKFLEET_WEBHOOK_BASE_URL")?.value).toBe(`https://${fqdn.ingress.fqdn}`);
  expect(valueOf(job, "HOOKFLEET_HEAL_ORG_URLS")?.value).toBe(
    "https://dev.azure.com/contoso https://dev.azure.com/contoso-two",
  );
  expect(valueOf(job, "HOOKFLEET_MODE")?.value).toBe("production");
  expect(valueOf(job, "HOOKFLEET_HEAL_PROBATION")?.value).toBe("enable");
  expect(valueOf(job, "HOOKFLEET_HEAL_DISABLED_BY_USER")?.value).toBe("leave");
  // Every 15 minutes: two gaps are half an hour, so heal's own 6 hours stand.
  expect(valueOf(job, "HOOKFLEET_HEAL_RECENT_HOURS")?.value).toBe("6");
  expect(job.inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [identity.id] });
  expect(valueOf(job, "AZURE_CLIENT_ID")?.value).toBe(identity.state.clientId);
  expect(valueOf(job, "COSMOS_ENDPOINT")?.value).toBe(
    d.one("cosmosdb:DatabaseAccount").state.documentEndpoint,
  );
  for (const role of [
    ...d.all("authorization:RoleAssignment"),
    ...d.all("cosmosdb:SqlResourceSqlRoleAssignment"),
  ]) {
    expect(job.dependencies).toContain(role.urn);
  }
});

it("reports its name, and none when there is no job", async () => {
  expect(await outputValue(d.infra.healJobName)).toBe(job.inputs.jobName);
  expect(await outputValue(d.infra.healJobNames)).toEqual([job.inputs.jobName]);
  const plain = await deploy("nojob", { image });
  expect(plain.all("app:Job")).toEqual([]);
  expect(await outputValue(plain.infra.healJobName)).toBeUndefined();
  expect(await outputValue(plain.infra.healJobNames)).toEqual([]);
});

it("runs one job per PAT (a managed PAT is scoped to one organization); none means the identity", async () => {
  const multi = await deploy("multi", {
    image,
    systems,
    urlTokens,
    extraSecrets: { "ado-pat-contoso": pulumi.secret(pat), "ado-pat-labs": pulumi.secret(labsPat) },
    healJob: {
      cronExpression: "0 * * * *",
      organizations: [
        { url: "https://dev.azure.com/contoso", adoPatSecret: "ado-pat-contoso" },
        { url: "https://dev.azure.com/contoso-labs", adoPatSecret: "ado-pat-labs" },
        { url: "https://dev.azure.com/fabrikam" },
      ],
    },
  });
  const jobs = multi.all("app:Job");
  const summary = jobs
    .map((j) => [valueOf(j, "HOOKFLEET_HEAL_ORG_URLS")?.value, valueOf(j, "AZURE_DEVOPS_EXT_PAT")?.secretRef])
    .sort();
  expect(summary).toEqual([
    ["https://dev.azure.com/contoso", "ado-pat-contoso"],
    ["https://dev.azure.com/contoso-labs", "ado-pat-labs"],
    ["https://dev.azure.com/fabrikam", undefined],
  ]);
  const names = jobs.map((j) => j.inputs.jobName);
  expect(new Set(names).size).toBe(3);
  for (const n of names) expect(nameRules.containerAppJob.pattern.test(n) && n.length <= 32).toBe(true);
  expect(((await outputValue(multi.infra.healJobNames)) as string[]).sort()).toEqual(names.sort());
  for (const secret of [pat, labsPat])
    expect(JSON.stringify(jobs.map((j) => j.inputs))).not.toContain(secret);
  // The heal-job alert judges each job's last run, and names a job without one, by the key each run
  // carries: the one the job computes from its own HOOKFLEET_HEAL_ORG_URLS (app/telemetry/heal.ts).
  const query: string = multi
    .all("monitor:ScheduledQueryRule")
    .find((r) => r.name.endsWith("-alert-heal-job"))!.inputs.criteria.allOf[0].query;
  const keys = jobs
    .map((j) => healJobKey(valueOf(j, "HOOKFLEET_HEAL_ORG_URLS")!.value!.split(/[\s,]+/)))
    .sort();
  expect(keys).toEqual(["contoso", "contoso-labs", "fabrikam"]);
  // Each job with its own creation time (ARM systemData.createdAt): a job added later gets its own grace.
  const expected = jobs
    .map((j) => ({
      key: healJobKey(valueOf(j, "HOOKFLEET_HEAL_ORG_URLS")!.value!.split(/[\s,]+/)),
      since: new Date((j.state.systemData as { createdAt: string }).createdAt).toISOString(),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
  for (const { key, since } of expected) expect(query).toContain(`"${key}", datetime(${since})`);
  expect(query).toContain("| where isnull(since) or now() > since + 120m");
  // Only the jobs the stack has are judged by their last run.
  expect(query).toContain(`| where job in (${keys.map((k) => JSON.stringify(k)).join(", ")})`);
  expect(query).toContain("summarize arg_max(TimeGenerated, outcome, problem) by job = job");
  expect(analyzeKql(query).errors).toEqual([]);
});

it("groups organizations per PAT in first-seen order", () => {
  expect(
    healJobGroups({
      organizations: [{ url: "a", adoPatSecret: "p" }, { url: "b" }, { url: "c", adoPatSecret: "p" }],
    }),
  ).toEqual([{ adoPatSecret: "p", urls: ["a", "c"] }, { urls: ["b"] }]);
});

const org = [{ url: "https://dev.azure.com/contoso" }];
it.each<[string, Partial<HealJobArgs>, RegExp]>([
  ["a cron expression without 5 fields", { cronExpression: "@hourly" }, /5 fields/],
  ["an empty command", { command: [] }, /command is empty/],
  ["no organization", { organizations: [] }, /organizations is empty/],
  [
    "a PAT that is not in extraSecrets",
    { organizations: [{ url: "https://dev.azure.com/x", adoPatSecret: "missing" }] },
    /not in extraSecrets/,
  ],
  [
    "an option heal does not read",
    { settings: { HOOKFLEET_HEAL_NOPE: "1" } as HealJobArgs["settings"] },
    /not a heal option/,
  ],
])("refuses %s", (label, override, message) => {
  const healJob: HealJobArgs = { cronExpression: "0 * * * *", organizations: org, ...override };
  expect(() => new ReceiverInfra(`bad-job-${label.length}`, { image, systems, urlTokens, healJob })).toThrow(
    message,
  );
});
