/**
 * ADO's own words (a test delivery's error message, an error answer) may quote the consumer URL,
 * whose path holds the receiver's URL token. They reach the user through the ServiceHook's plain
 * `warnings` output (state, the stack's outputs, `npm run up`'s summary), the host's stderr and a
 * provider error in `pulumi up`'s output: each must keep the useful words and lose the token.
 *
 * Driven like fleet.test.ts: the HookFleet program under the engine model against the real
 * dynamic-provider host, against the ADO emulator. The consumer endpoint answers 502 with a reason
 * phrase that echoes the request path (as a proxy in front of a receiver may), which the emulator
 * reports as the test notification's `details.errorMessage`, as ADO reports a delivery's HTTP
 * failure. (The emulator's failDeliveries rules answer for the receiver with a fixed text that
 * names no URL, so they could not show a token leaking.)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AdoClient } from "../../ado/client";
import type * as hookFleetModule from "../../components/hooks/hook-fleet";
import { SERVICE_HOOK_TYPE } from "../../components/hooks/service-hook";
import { AdoEmulator, startAdoEmulator } from "../../devkit/ado-emulator";
import type { ResourceState } from "../../devkit/provider-host/engine";
import { ProviderError, ProviderHost } from "../../devkit/provider-host/host";
import { isolatedCommand } from "../../devkit/provider-host/isolated";
import { isSecret, secret } from "../../devkit/provider-host/values";
import { summariseStackOutputs } from "../../scripts/lib/pulumiJson";

const URL_TOKEN = "alw_scrubTokenSecret0123456789abcdefg";

let emu: AdoEmulator;
let consumer: http.Server;
let consumerUrl: string;
let state: ResourceState[] = [];
let hostOutput = "";

beforeAll(async () => {
  emu = await startAdoEmulator({ orgs: [{ name: "contoso", projects: ["Alpha"] }] });
  consumer = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(502, `Bad Gateway: no backend for ${req.url}`).end());
  });
  await new Promise<void>((resolve) => consumer.listen(0, "127.0.0.1", resolve));
  consumerUrl = `http://127.0.0.1:${(consumer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await emu.idle();
  await emu.close();
  await new Promise<void>((resolve) => consumer.close(() => resolve()));
});

/** One `pulumi up` of a fleet in one project; keeps the state it leaves and what the host printed. */
async function up(eventTypes = ["git.push"]): Promise<string[]> {
  const client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  const result = await isolatedCommand<{ warnings: string[] }>(
    "up",
    {
      stack: "test",
      config: { "hookfleet:adoPat": emu.pat },
      secretKeys: ["hookfleet:adoPat"],
      state,
      onHostOutput: (line) => (hostOutput += `${line}\n`),
    },
    () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the command's fresh registry
      const { HookFleet } = require("../../components/hooks/hook-fleet") as typeof hookFleetModule;
      const fleet = new HookFleet("hf", {
        orgUrl: emu.orgUrl(),
        receiverUrl: `${consumerUrl}/api/v1/webhooks/${URL_TOKEN}`,
        eventTypes,
        adoClient: client,
      });
      return { warnings: fleet.warnings };
    },
  );
  state = result.state;
  return result.run.outputs.warnings;
}

/** Every value of the state that is stored in plain text (secret values are encrypted in a checkpoint). */
function plainValues(value: unknown): string[] {
  if (isSecret(value)) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainValues);
  if (value && typeof value === "object") return Object.values(value).flatMap(plainValues);
  return [];
}

it("keeps ADO's words about a failed test delivery, without the URL token, in outputs, state, the summary and stderr", async () => {
  const warnings = await up();
  expect(warnings).toHaveLength(1);
  // The useful part: what the consumer answered, and where (the path without its token).
  expect(warnings[0]).toContain("HTTP 502 Bad Gateway: no backend for /api/v1/webhooks/[redacted]");
  expect(warnings[0]).not.toContain(URL_TOKEN);
  const hook = state.find((r) => r.type === SERVICE_HOOK_TYPE)!;
  expect(hook.outputs.lastTestDelivery).toBe("failed");
  // The URL itself is in state only as a secret.
  expect(isSecret(hook.outputs.url)).toBe(true);
  expect(plainValues(state.map((r) => [r.inputs, r.outputs])).join("\n")).not.toContain(URL_TOKEN);
  const summary = summariseStackOutputs({ warnings }).join("\n");
  expect(summary).toContain("HTTP 502 Bad Gateway");
  expect(summary).not.toContain(URL_TOKEN);
  expect(hostOutput).toContain("HTTP 502 Bad Gateway");
  expect(hostOutput).not.toContain(URL_TOKEN);
}, 60_000);

it("keeps ADO's error answer to the test notification, without the URL token, in the warning", async () => {
  hostOutput = "";
  // ADO disabled the hook: the next up re-enables it and tests it again; ADO refuses the test.
  emu.failNext(1, 400, {
    route: "POST /_apis/hooks/testnotifications",
    message: `The consumer URL ${consumerUrl}/api/v1/webhooks/${URL_TOKEN} cannot be tested now.`,
  });
  const ours = emu.subscriptions().find((x) => x.consumerInputs.url?.includes(URL_TOKEN))!;
  emu.setSubscriptionStatus(ours.id, "disabledBySystem");
  const warnings = await up();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    /could not send ADO's test notification: 400: The consumer URL http:\/\/127\.0\.0\.1:\d+\/api\/v1\/webhooks\/\[redacted\] cannot be tested now\. \(POST http:\/\/127\.0\.0\.1:\d+\/contoso\/_apis\/hooks\/testnotifications/,
  );
  expect(plainValues(state.map((r) => [r.inputs, r.outputs])).join("\n")).not.toContain(URL_TOKEN);
  expect(hostOutput).toContain("cannot be tested now");
  expect(hostOutput).not.toContain(URL_TOKEN);
}, 60_000);

it("keeps ADO's error answer, without the URL token, in a provider error and what the host prints with it", async () => {
  // A refresh in the real host; ADO refuses the list it reads the hook from.
  emu.failNext(1, 400, {
    route: "GET /_apis/hooks/subscriptions",
    message: `The filter 'consumerUrl' is not accepted: ${consumerUrl}/api/v1/webhooks/${URL_TOKEN}`,
  });
  const hook = state.find((r) => r.type === SERVICE_HOOK_TYPE)!;
  const host = await ProviderHost.start();
  try {
    await host.configure({ "hookfleet:adoPat": secret(emu.pat) });
    const error = await host
      .read({ urn: hook.urn, id: hook.id, inputs: hook.inputs, state: hook.outputs })
      .then(
        () => undefined,
        (err: Error) => err,
      );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error?.message).toMatch(
      /The filter 'consumerUrl' is not accepted: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/webhooks\/\[redacted\]/,
    );
    expect(error?.message).not.toContain(URL_TOKEN);
    // The host prints the error and its stack to stderr, which `pulumi up` shows.
    expect(host.stderr).toContain("The filter 'consumerUrl' is not accepted");
    expect(host.stderr).not.toContain(URL_TOKEN);
  } finally {
    await host.close();
  }
}, 60_000);
