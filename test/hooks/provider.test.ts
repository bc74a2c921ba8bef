/**
 * The ServiceHook provider against the ADO emulator, through the real ADO client: every call is
 * HTTP on loopback. Each test builds a fresh provider (a fresh "provider process").
 */
import { AdoClient } from "../../ado/client";
import { MASKED_SECRET } from "../../ado/types";
import {
  checkServiceHookInputs,
  ServiceHookInputs,
  ServiceHookOutputs,
} from "../../components/hooks/mapping";
import { createServiceHookProvider, ServiceHookProvider } from "../../components/hooks/provider";
import { AdoEmulator, startAdoEmulator } from "../../devkit/ado-emulator";
import { Receiver, startReceiver } from "../../devkit/recording-receiver";

let emu: AdoEmulator;
let receiver: Receiver;
let projectIds: string[];
let warnings: string[];

beforeAll(async () => {
  emu = await startAdoEmulator({
    orgs: [{ name: "contoso", projects: 3 }],
    // The receiver listens on 127.0.0.1 over http and the hooks carry Basic credentials.
    allowBasicAuthOverLoopbackHttp: true,
  });
  receiver = await startReceiver();
  projectIds = emu.projects().map((p) => p.id);
});
afterAll(async () => {
  await emu.idle();
  await emu.close();
  await receiver.close();
});

function newProvider(): ServiceHookProvider {
  warnings = [];
  return createServiceHookProvider({
    clientFor: (orgUrl) => new AdoClient({ orgUrl, auth: { kind: "pat", pat: emu.pat }, retryBaseMs: 10 }),
    warn: (m) => warnings.push(m),
  });
}

let seq = 0;
function desired(over: Partial<ServiceHookInputs> = {}): ServiceHookInputs {
  seq++;
  const { inputs, failures } = checkServiceHookInputs({
    orgUrl: emu.orgUrl(),
    projectId: projectIds[0],
    eventType: "git.push",
    url: `${receiver.url}/api/v1/webhooks/alw_case${seq}`,
    basicAuthUsername: "ado",
    basicAuthPassword: `password-${seq}`,
    ...over,
  });
  expect(failures).toEqual([]);
  return inputs;
}

async function created(provider: ServiceHookProvider, d: ServiceHookInputs) {
  const { id, outs } = await provider.create(d);
  return { id, outs: outs as ServiceHookOutputs };
}

/** Everything a refresh + up does for one resource: read, then diff, then update when needed. */
async function refreshAndUp(
  provider: ServiceHookProvider,
  id: string,
  outs: ServiceHookOutputs,
  d: ServiceHookInputs,
) {
  const read = await provider.read(id, outs);
  if (!read.id) return { gone: true as const };
  const diff = await provider.diff(id, read.props, d);
  const updated = diff.changes
    ? ((await provider.update(id, read.props, d)).outs as ServiceHookOutputs)
    : undefined;
  return { gone: false as const, read: read.props as ServiceHookOutputs, diff, updated };
}

it("creates the subscription, tests the delivery, and records live status without the password", async () => {
  const provider = newProvider();
  const d = desired({ filters: { branch: "main" } });
  const { id, outs } = await created(provider, d);
  const live = emu.subscription(id)!;
  expect(live).toMatchObject({ eventType: "git.push", publisherId: "tfs", status: "enabled" });
  expect(live.publisherInputs).toMatchObject({ projectId: projectIds[0], branch: "main" });
  expect(live.consumerInputs).toMatchObject({
    url: d.url,
    basicAuthUsername: "ado",
    basicAuthPassword: d.basicAuthPassword,
  });
  expect(outs).toMatchObject({
    status: "enabled",
    lastTestDelivery: "succeeded",
    adopted: false,
  });
  expect(JSON.stringify(outs)).not.toContain(d.basicAuthPassword);
  expect(warnings).toEqual([]);
  expect(receiver.received.some((r) => r.path.endsWith(`alw_case${seq}`))).toBe(true);
  // Right after create, nothing differs.
  const again = await refreshAndUp(provider, id, outs, d);
  expect(again.diff).toMatchObject({ changes: false, replaces: [] });
});

it("warns in the hook's outputs, naming event, project and subscription, when the receiver fails ADO's test notification", async () => {
  const provider = newProvider();
  receiver.respond = () => 500;
  try {
    const d = desired();
    const { id, outs } = await created(provider, d);
    expect(outs.lastTestDelivery).toBe("failed");
    expect(warnings).toHaveLength(1);
    expect(outs.warnings).toEqual(warnings);
    expect(warnings[0]).toContain(id);
    expect(warnings[0]).toContain("git.push");
    expect(warnings[0]).not.toContain("alw_case"); // the URL token is never in a message
  } finally {
    receiver.respond = () => 201;
  }
});

it("adopts the subscription an interrupted run left behind instead of creating a duplicate", async () => {
  const d = desired({ projectId: projectIds[1] });
  // Run 1 created the hook in ADO, then died before Pulumi recorded it.
  const first = await created(newProvider(), d);
  emu.setSubscriptionStatus(first.id, "disabledBySystem");
  // Run 2 (a new provider process) creates it again.
  const provider = newProvider();
  const second = await created(provider, d);
  expect(second.id).toBe(first.id);
  expect(second.outs).toMatchObject({ adopted: true, status: "enabled" });
  const same = emu.subscriptions().filter((s) => s.consumerInputs.url === d.url);
  expect(same).toHaveLength(1);
  // A different project with the same URL is not ours to adopt.
  const other = await created(provider, { ...d, projectId: projectIds[2] });
  expect(other.id).not.toBe(first.id);
});

it("reads many hooks from one list call, and a deleted hook as gone", async () => {
  const writer = newProvider();
  const hooks = [];
  for (const eventType of [
    "git.pullrequest.created",
    "git.pullrequest.updated",
    "workitem.created",
    "build.complete",
  ]) {
    const d = desired({ eventType, url: `${receiver.url}/api/v1/webhooks/alw_shared` });
    hooks.push({ d, ...(await created(writer, d)) });
  }
  await emu.idle();
  const removed = hooks[3];
  await new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat } }).deleteSubscription(
    removed.id,
  );

  const reader = newProvider(); // a refresh runs in a new provider process
  emu.counters.reset();
  const reads = await Promise.all(hooks.map((h) => reader.read(h.id, h.outs)));
  expect(reads.slice(0, 3).map((r) => r.id)).toEqual(hooks.slice(0, 3).map((h) => h.id));
  expect(reads[3]).toEqual({ id: "", props: {} }); // no id: gone (a total result, Struct-safe)
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions"]).toBe(1);
  // Only the missing one is confirmed with a GET.
  expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions/{id}"]).toBe(1);
  expect(reader.stats.listCalls).toBe(1);
});

it("repairs a hook ADO disabled: diff says update, the PUT re-enables it and keeps the password", async () => {
  const provider = newProvider();
  const d = desired();
  const { id, outs } = await created(provider, d);
  emu.setSubscriptionStatus(id, "disabledBySystem");
  const pass = await refreshAndUp(newProvider(), id, outs, d);
  if (pass.gone) throw new Error("unexpectedly gone");
  expect(pass.read.status).toBe("disabledBySystem");
  expect(pass.diff).toMatchObject({ changes: true, replaces: [] });
  expect(pass.updated?.status).toBe("enabled");
  const live = emu.subscription(id)!;
  expect(live.status).toBe("enabled");
  expect(live.consumerInputs.basicAuthPassword).toBe(d.basicAuthPassword);
  // And the next pass is quiet.
  const quiet = await refreshAndUp(newProvider(), id, pass.updated!, d);
  expect(!quiet.gone && quiet.diff.changes).toBe(false);
});

it("rotates the URL and the password through an update", async () => {
  const provider = newProvider();
  const d = desired();
  const { id, outs } = await created(provider, d);
  const rotated = {
    ...d,
    url: `${receiver.url}/api/v1/webhooks/alw_rotated`,
    basicAuthPassword: "new-password",
  };
  const pass = await refreshAndUp(newProvider(), id, outs, rotated);
  if (pass.gone) throw new Error("unexpectedly gone");
  expect(pass.diff).toMatchObject({ changes: true, replaces: [] });
  const live = emu.subscription(id)!;
  expect(live.consumerInputs.url).toBe(rotated.url);
  expect(live.consumerInputs.basicAuthPassword).toBe("new-password");
  // Password only: detected through the hash although ADO answers with the mask.
  const onlyPassword = { ...rotated, basicAuthPassword: "third-password" };
  const read = await provider.read(id, pass.updated!);
  expect((read.props as ServiceHookOutputs).passwordSet).toBe(true);
  expect(JSON.stringify(read.props)).not.toContain("new-password");
  const diff = await provider.diff(id, read.props, onlyPassword);
  expect(diff.changes).toBe(true);
  await provider.update(id, read.props, onlyPassword);
  expect(emu.subscription(id)!.consumerInputs.basicAuthPassword).toBe("third-password");
  expect(MASKED_SECRET).not.toBe("third-password");
});

it("asks for a replacement when the event type changes", async () => {
  const provider = newProvider();
  const d = desired();
  const { id, outs } = await created(provider, d);
  const diff = await provider.diff(id, outs, { ...d, eventType: "workitem.updated" });
  expect(diff).toMatchObject({ changes: true, replaces: ["eventType"] });
});

it("deletes, and tolerates a hook that is already gone", async () => {
  const provider = newProvider();
  const d = desired();
  const { id, outs } = await created(provider, d);
  await provider.delete(id, outs);
  expect(emu.subscription(id)).toBeUndefined();
  await expect(provider.delete(id, outs)).resolves.toBeUndefined();
  const read = await provider.read(id, outs);
  expect(read.id).toBe("");
});

it("says what to do when an update finds the hook deleted since the refresh", async () => {
  const provider = newProvider();
  const d = desired();
  const { id, outs } = await created(provider, d);
  await provider.delete(id, outs);
  await expect(provider.update(id, outs, { ...d, basicAuthPassword: "x" })).rejects.toThrow(/pulumi refresh/);
});
