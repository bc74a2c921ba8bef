/**
 * What the engine sees when a ServiceHook is declared (recorded with the shared mocks): secret
 * inputs, additionalSecretOutputs, the type token, and the provider stub as `__provider` (no
 * implementation code, no credential, no ADO client).
 */
import { isSecretValue, setupPulumiMocks } from "../support/pulumi-mocks";

const mocks = setupPulumiMocks({ project: "hookfleet", stack: "unit" });

// Imported after the mocks are set, as Pulumi's unit-test guide asks.
/* eslint-disable @typescript-eslint/no-require-imports */
const { ServiceHook, SERVICE_HOOK_TYPE } =
  require("../../components/hooks/service-hook") as typeof import("../../components/hooks/service-hook");
const { providerStub } =
  require("../../components/dynamic/stub") as typeof import("../../components/dynamic/stub");
/* eslint-enable @typescript-eslint/no-require-imports */

it("registers secrets as secrets and stores only the provider stub", async () => {
  new ServiceHook("hook", {
    orgUrl: "https://dev.azure.com/contoso",
    projectId: "p1",
    eventType: "git.push",
    url: "https://rx.example.net/api/v1/webhooks/alw_unitTokenSecret",
    basicAuthPassword: "unit-password-secret",
    httpHeaders: { "X-Key": "header-secret" },
  });
  await mocks.settled();
  const hook = mocks.one(SERVICE_HOOK_TYPE, "hook");
  for (const key of ["url", "basicAuthPassword", "httpHeaders"])
    expect(isSecretValue(hook.rawInputs[key])).toBe(true);
  expect(isSecretValue(hook.rawInputs.eventType)).toBe(false);
  expect(hook.additionalSecretOutputs).toEqual(expect.arrayContaining(["url", "passwordHash"]));

  // The provider state holds is the stub: no implementation, no credential, no ADO client.
  const text = hook.inputs.__provider as string;
  expect(isSecretValue(hook.rawInputs.__provider)).toBe(false);
  expect(text).toBe(providerStub("ServiceHook"));
  for (const secret of ["alw_unitTokenSecret", "unit-password-secret", "header-secret"]) {
    expect(text).not.toContain(secret);
  }
});
