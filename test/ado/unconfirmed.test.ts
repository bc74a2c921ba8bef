/**
 * What if ADO behaves otherwise than the facts assume? The unconfirmed behaviours HookFleet relies
 * on (docs/ado.md lists them), played the other way by the emulator's knobs, against the code that
 * guards against them: ado/replace.ts (PUT, read back, password sent again) through the client
 * and through the ServiceHook provider, and the client's following of a test notification that
 * Notifications_Get does not show.
 */
import { AdoClient } from "../../ado/client";
import { replaceAndVerify } from "../../ado/replace";
import { MASKED_SECRET } from "../../ado/types";
import { subscriptionStatus } from "../../ado/wire";
import { reenableInput } from "../../app/heal/heal";
import {
  checkServiceHookInputs,
  type ServiceHookInputs,
  type ServiceHookOutputs,
} from "../../components/hooks/mapping";
import { createServiceHookProvider } from "../../components/hooks/provider";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { startReceiver, webhookInput, type Receiver } from "../../devkit/recording-receiver";
import { startExampleServer } from "./spec/example-server";
import { exampleRoutes, patClient } from "./spec/fixtures";

let emu: AdoEmulator;
let receiver: Receiver;
let client: AdoClient;
let projectId: string;

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: 1 }],
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  client = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } });
  projectId = emu.projects()[0].id;
});
afterAll(async () => {
  await emu.close();
  await receiver.close();
});
afterEach(() => emu.setUnconfirmed({ putMaskKeepsPassword: true, putStatusEnables: true }));

/** A hook with a Basic password that ADO has disabled. */
async function disabledHook(path: string) {
  const sub = await client.createSubscription(webhookInput(`${receiver.url}${path}`, { projectId }));
  emu.setSubscriptionStatus(sub.id, "disabledBySystem");
  return (await client.getSubscription(sub.id))!;
}

describe("replaceAndVerify (ado/replace.ts)", () => {
  test("as the facts say: the re-enable is read back enabled, the masked password kept; nothing to report", async () => {
    const sub = await disabledHook("/ok");
    emu.counters.reset();
    const checked = await replaceAndVerify(client, sub.id, reenableInput(sub), { readBack: true });
    expect(checked).toMatchObject({ problems: [], repairs: [] });
    expect(subscriptionStatus(checked.subscription)).toBe("enabled");
    expect(emu.counters.byRoute).toEqual({
      "PUT /_apis/hooks/subscriptions/{id}": 1,
      "GET /_apis/hooks/subscriptions/{id}": 1,
    });
  });

  test("if a PUT with status enabled does not re-enable, the read-back says so", async () => {
    emu.setUnconfirmed({ putStatusEnables: false });
    const sub = await disabledHook("/stays-disabled");
    const checked = await replaceAndVerify(client, sub.id, reenableInput(sub), { readBack: true });
    expect(subscriptionStatus(checked.subscription)).toBe("disabledBySystem");
    expect(checked.problems).toEqual([
      expect.stringMatching(/status: enabled but the subscription reads back as disabledBySystem/),
    ]);
  });

  test("if ******** drops the password: sent again when the caller has it, reported when not", async () => {
    emu.setUnconfirmed({ putMaskKeepsPassword: false });
    const a = await disabledHook("/lost-a");
    const repaired = await replaceAndVerify(client, a.id, reenableInput(a), {
      readBack: true,
      password: "s3cret-pass",
    });
    expect(repaired.problems).toEqual([]);
    expect(repaired.repairs).toEqual([expect.stringMatching(/dropped the Basic password.*sent it again/)]);
    expect(emu.subscription(a.id)!.consumerInputs.basicAuthPassword).toBe("s3cret-pass");
    expect(repaired.subscription.consumerInputs.basicAuthPassword).toBe(MASKED_SECRET);

    const b = await disabledHook("/lost-b");
    const reported = await replaceAndVerify(client, b.id, reenableInput(b), { readBack: true });
    expect(reported.problems).toEqual([expect.stringMatching(/dropped the Basic password.*pulumi up/)]);
    expect(emu.subscription(b.id)!.consumerInputs.basicAuthPassword).toBeUndefined();
    // A subscription that had no password is not a loss.
    const c = await client.createSubscription(
      webhookInput(`${receiver.url}/none`, { projectId, consumerInputs: { url: `${receiver.url}/none` } }),
    );
    expect((await replaceAndVerify(client, c.id, reenableInput(c))).problems).toEqual([]);
  });
});

describe("the ServiceHook provider's update uses it", () => {
  let seq = 0;
  const desired = (): ServiceHookInputs => {
    const { inputs } = checkServiceHookInputs({
      orgUrl: emu.orgUrl(),
      projectId,
      eventType: "git.push",
      url: `${receiver.url}/provider-${++seq}`,
      basicAuthUsername: "ado",
      basicAuthPassword: `password-${seq}`,
      testDelivery: false,
    });
    return inputs;
  };
  const provider = (warnings: string[]) =>
    createServiceHookProvider({
      clientFor: (orgUrl) => new AdoClient({ orgUrl, auth: { kind: "pat", pat: emu.pat } }),
      warn: (m) => warnings.push(m),
    });

  test("a repair PUT whose masked password ADO dropped sends the password again, and says so", async () => {
    const warnings: string[] = [];
    const d = desired();
    const { id, outs } = await provider(warnings).create(d);
    emu.setSubscriptionStatus(id, "disabledBySystem");
    emu.setUnconfirmed({ putMaskKeepsPassword: false });
    const p = provider(warnings);
    const read = (await p.read(id, outs as ServiceHookOutputs)).props as ServiceHookOutputs;
    const updated = (await p.update(id, read, d)).outs as ServiceHookOutputs;
    expect(updated).toMatchObject({ status: "enabled", passwordSet: true });
    expect(emu.subscription(id)!.consumerInputs.basicAuthPassword).toBe(d.basicAuthPassword);
    expect(warnings).toEqual([expect.stringMatching(/dropped the Basic password.*sent it again/)]);
    expect(warnings.join()).not.toContain(d.basicAuthPassword);
  });

  test("a re-enable ADO ignores is recorded as it is (the next up tries again) with a warning", async () => {
    const warnings: string[] = [];
    const d = desired();
    const { id, outs } = await provider(warnings).create(d);
    emu.setSubscriptionStatus(id, "disabledBySystem");
    emu.setUnconfirmed({ putStatusEnables: false });
    const p = provider(warnings);
    const read = (await p.read(id, outs as ServiceHookOutputs)).props as ServiceHookOutputs;
    const updated = (await p.update(id, read, d)).outs as ServiceHookOutputs;
    expect(updated.status).toBe("disabledBySystem");
    expect(warnings).toEqual([expect.stringMatching(/reads back as disabledBySystem/)]);
    expect((await p.diff(id, updated, d)).changes).toBe(true);
  });
});

test("a test notification that Notifications_Get does not show: the client stops after three 404s, outcome not completed", async () => {
  const server = await startExampleServer(
    exampleRoutes().filter((r) => !(r.method === "GET" && String(r.path).includes("notifications\\/"))),
  );
  try {
    const started = Date.now();
    const n = await patClient(server.orgUrl, { testNotificationTimeoutMs: 30_000 }).sendTestNotification(
      "a3c0ef7e-610c-4321-9a05-6d74e4930c7d",
    );
    expect(n.status).toBeUndefined(); // still queued as far as anyone can tell
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests.filter((r) => /\/notifications\/12$/.test(r.path))).toHaveLength(3);
  } finally {
    await server.close();
  }
});
