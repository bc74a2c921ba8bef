/** The optional scheduled heal job: same identity and environment, secrets only from Key Vault. */
import * as pulumi from "@pulumi/pulumi";
import { ReceiverInfra, nameRules } from "../../components/receiver";
import { isSecretValue, outputValue, type RecordedResource } from "../support/pulumi-mocks";
import { deploy, type Deployment } from "./deploy";

const image = "ghcr.io/example/hookfleet-receiver:1.4.0";
const pat = "heal-job-pat-never-plain";

let d: Deployment;
let job: RecordedResource;
let identity: RecordedResource;
beforeAll(async () => {
  d = await deploy("healing", {
    image,
    extraSecrets: { "ado-pat-contoso": pulumi.secret(pat) },
    healJob: {
      cronExpression: "0,15,30,45 * * * *",
      command: ["node", "dist/app/heal.js"],
      env: { ADO_ORG_URL: "https://dev.azure.com/contoso" },
      secretEnv: { AZURE_DEVOPS_EXT_PAT: "ado-pat-contoso" },
    },
  });
  job = d.one("app:Job");
  identity = d.one("managedidentity:UserAssignedIdentity");
});

it("runs on the given schedule, in the receiver's environment and image", () => {
  expect(job.inputs.configuration.triggerType).toBe("Schedule");
  expect(job.inputs.configuration.scheduleTriggerConfig.cronExpression).toBe("0,15,30,45 * * * *");
  expect(job.inputs.environmentId).toBe(d.one("app:ManagedEnvironment").id);
  expect(job.inputs.template.containers[0].image).toBe(image);
  expect(job.inputs.template.containers[0].command).toEqual(["node", "dist/app/heal.js"]);
  expect(nameRules.containerAppJob.pattern.test(job.inputs.jobName)).toBe(true);
});

it("runs as the receiver's identity, after its roles exist", () => {
  expect(job.inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [identity.id] });
  const env: { name: string; value?: string }[] = job.inputs.template.containers[0].env;
  expect(env.find((e) => e.name === "AZURE_CLIENT_ID")?.value).toBe(identity.state.clientId);
  expect(env.find((e) => e.name === "COSMOS_ENDPOINT")?.value).toBe(
    d.one("cosmosdb:DatabaseAccount").state.documentEndpoint,
  );
  expect(env.find((e) => e.name === "ADO_ORG_URL")?.value).toBe("https://dev.azure.com/contoso");
  for (const role of [
    ...d.all("authorization:RoleAssignment"),
    ...d.all("cosmosdb:SqlResourceSqlRoleAssignment"),
  ]) {
    expect(job.dependencies).toContain(role.urn);
  }
});

it("reads the PAT from Key Vault through the identity, never as a plain value", () => {
  const env: { name: string; value?: string; secretRef?: string }[] = job.inputs.template.containers[0].env;
  expect(env.find((e) => e.name === "AZURE_DEVOPS_EXT_PAT")).toEqual({
    name: "AZURE_DEVOPS_EXT_PAT",
    secretRef: "ado-pat-contoso",
  });
  const vaultSecret = d.all("keyvault:Secret").find((s) => s.inputs.secretName === "ado-pat-contoso")!;
  expect(job.inputs.configuration.secrets).toEqual([
    {
      name: "ado-pat-contoso",
      keyVaultUrl: (vaultSecret.state.properties as { secretUriWithVersion: string }).secretUriWithVersion,
      identity: identity.id,
    },
  ]);
  expect(isSecretValue(job.rawInputs.template)).toBe(false);
  expect(JSON.stringify(job.inputs)).not.toContain(pat);
});

it("gets only the secrets it names (not the receiver's token lists)", () => {
  const names = job.inputs.configuration.secrets.map((s: { name: string }) => s.name);
  expect(names).toEqual(["ado-pat-contoso"]);
});

it("reports its name, and none when there is no job", async () => {
  expect(await outputValue(d.infra.healJobName)).toBe(job.inputs.jobName);
  const plain = await deploy("nojob", { image });
  expect(plain.all("app:Job")).toEqual([]);
  expect(await outputValue(plain.infra.healJobName)).toBeUndefined();
});

it.each([
  ["a cron expression without 5 fields", { cronExpression: "@hourly", command: ["x"] }, /5 fields/],
  ["an empty command", { cronExpression: "0 * * * *", command: [] }, /command is empty/],
  [
    "a secret that is not in extraSecrets",
    { cronExpression: "0 * * * *", command: ["x"], secretEnv: { PAT: "missing" } },
    /not in extraSecrets/,
  ],
])("refuses %s", (_label, healJob, message) => {
  expect(() => new ReceiverInfra(`bad-job-${_label.length}`, { image, healJob })).toThrow(message);
});
