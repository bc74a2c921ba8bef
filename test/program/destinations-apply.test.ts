/**
 * Destinations applied for real: index.ts run by the engine model against the real dynamic-provider
 * host (devkit/provider-host), each `up` a fresh program and host on the state the last one
 * left, against the ADO emulator delivering over HTTP to three local receivers (ours and two hosted
 * products). One stack, two organizations, the receiver plus a URL-token product (both
 * organizations) and a Basic-password product (one organization):
 *
 * - one `up` wires all three; each receives every event it subscribed to, exactly once;
 * - the product's Basic password changes in config: one `up` updates exactly that product's hooks;
 * - a product answers 500 to the test delivery after its URL changed: reported under its name;
 * - the product is removed: exactly its hooks are deleted, hand-made hooks are never touched.
 */
import { AdoClient } from "../../ado/client";
import type { Subscription } from "../../ado/types";
import { SERVICE_HOOK_TYPE } from "../../components/hooks/service-hook";
import {
  startReceiver,
  subscriptionShape,
  webhookInput,
  type Receiver,
} from "../../devkit/recording-receiver";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { stepsOf, type Deployment, type ResourceState } from "../../devkit/provider-host/engine";
import { isolatedCommand } from "../../devkit/provider-host/isolated";
import { effectiveConfig } from "../../devkit/stack-config";

jest.setTimeout(180_000);

interface Outputs {
  hookTotal: number;
  destinationHookCounts: Record<string, Record<string, number>>;
  failedTestDeliveries: Record<string, string[]>;
  warnings: string[];
}

let emulator: AdoEmulator;
let ours: Receiver;
let productA: Receiver;
let productB: Receiver;
let elsewhere: Receiver;
let state: ResourceState[] = [];
const handMade: Subscription[] = [];
const savedPat = process.env.AZURE_DEVOPS_EXT_PAT;

const urlA = (token: string) => `${productA.url}/api/v1/webhooks/alw_${token}`;
const urlB = () => `${productB.url}/api/v1/systems/productb/webhooks`;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** The stack's destinations, with the product details that change between runs. */
function destinations(o: { tokenA: string; passwordB: string; withB?: boolean }) {
  return [
    { name: "receiver", kind: "receiver" },
    { name: "producta", kind: "webhook", url: urlA(o.tokenA), events: ["git.push", "workitem.created"] },
    ...(o.withB === false
      ? []
      : [
          {
            name: "productb",
            kind: "webhook",
            url: urlB(),
            basicUsername: "ado",
            basicPassword: o.passwordB,
            events: ["git.pullrequest.created"],
            organizations: ["contoso"],
          },
        ]),
  ];
}

/** One `pulumi up` (or preview) of index.ts with these destinations; keeps the state an up leaves. */
async function pulumi(command: "up" | "preview", list: unknown[]): Promise<Deployment<Outputs>> {
  const config = effectiveConfig({
    "hookfleet:organizations": [
      { url: emulator.orgUrl("contoso"), events: ["git.push"] },
      { url: emulator.orgUrl("labs"), name: "labs", events: ["git.push"] },
    ],
    "hookfleet:deployReceiver": false,
    "hookfleet:receiverUrl": ours.url,
    "hookfleet:destinations": list,
    "hookfleet:adoPat": emulator.pat,
  });
  const result = await isolatedCommand<Outputs>(
    command,
    // `pulumi config set --secret --path 'hookfleet:destinations[1].url' …` makes the key secret.
    { stack: "destinations", config, secretKeys: ["hookfleet:adoPat", "hookfleet:destinations"], state },
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the command's fresh registry
    () => require("../../index"),
  );
  if (command === "up") state = result.state;
  return result.run;
}

const hookNames = () => state.filter((r) => r.type === SERVICE_HOOK_TYPE).map((r) => r.name);
const named = (prefix: string) =>
  hookNames()
    .filter((n) => n.startsWith(`${prefix}-`))
    .sort();
const allSubscriptions = () => emulator.orgs.flatMap((org) => emulator.subscriptions(org));
/** The requests a receiver got for this event (test notifications carry other ids). */
const deliveriesOf = (receiver: Receiver, eventId: string) =>
  receiver.received.filter((r) => r.body.id === eventId);

beforeAll(async () => {
  emulator = await startAdoEmulator({
    orgs: [
      { name: "contoso", projects: ["Alpha", "Beta"] },
      { name: "labs", projects: ["Gamma"] },
    ],
    // Product B's Basic credentials go to a receiver on 127.0.0.1 over http.
    allowBasicAuthOverLoopbackHttp: true,
  });
  [ours, productA, productB, elsewhere] = await Promise.all([
    startReceiver(),
    startReceiver(),
    startReceiver(),
    startReceiver(),
  ]);
  process.env.AZURE_DEVOPS_EXT_PAT = emulator.pat;
  // Hooks people made by hand: one to another tool, one to product A for an event HookFleet does not
  // manage there. Neither may ever be changed or deleted.
  const client = new AdoClient({
    orgUrl: emulator.orgUrl("contoso"),
    auth: { kind: "pat", pat: emulator.pat },
  });
  const alpha = emulator.projects("contoso").find((p) => p.name === "Alpha")!;
  handMade.push(
    await client.createSubscription(webhookInput(`${elsewhere.url}/hook`, { projectId: alpha.id })),
    await client.createSubscription(
      webhookInput(urlA("handmade0000000000000000"), { projectId: alpha.id, eventType: "build.complete" }),
    ),
  );
});

afterAll(async () => {
  if (savedPat === undefined) delete process.env.AZURE_DEVOPS_EXT_PAT;
  else process.env.AZURE_DEVOPS_EXT_PAT = savedPat;
  await emulator?.idle();
  await emulator?.close();
  await Promise.all([ours, productA, productB, elsewhere].map((r) => r?.close()));
});

it("one up wires the receiver and both products; each receives every event it subscribed to, once", async () => {
  const run = await pulumi(
    "up",
    destinations({ tokenA: "productA000000000000000001", passwordB: "pw-one-0001" }),
  );
  // receiver: 3 projects × git.push; A: 3 × 2; B: contoso's 2 × 1; + the URL token and read token.
  expect(run.changes).toMatchObject({ create: 3 + 6 + 2 + 2, update: 0, delete: 0 });
  expect(named("producta")).toHaveLength(6);
  expect(named("productb")).toHaveLength(2);
  expect(run.outputs.destinationHookCounts).toEqual({
    receiver: expect.objectContaining({ enabled: 3 }),
    producta: expect.objectContaining({ enabled: 6 }),
    productb: expect.objectContaining({ enabled: 2 }),
  });
  // ADO's test notification after each create reached every destination with a 2xx.
  expect(run.outputs.failedTestDeliveries).toEqual({ receiver: [], producta: [], productb: [] });
  expect(run.outputs.warnings).toEqual([]);

  const push = await emulator.emit("git.push", { org: "contoso", project: "Alpha" });
  const pr = await emulator.emit("git.pullrequest.created", { org: "contoso", project: "Beta" });
  const workItem = await emulator.emit("workitem.created", { org: "labs", project: "Gamma" });
  const count = (receiver: Receiver) =>
    [push, pr, workItem].map((e) => deliveriesOf(receiver, e.event.id).length);
  expect(count(ours)).toEqual([1, 0, 0]);
  expect(count(productA)).toEqual([1, 0, 1]);
  expect(count(productB)).toEqual([0, 1, 0]);
  expect(deliveriesOf(productB, pr.event.id)[0].headers.authorization).toBe(basic("ado", "pw-one-0001"));
  expect(deliveriesOf(productA, push.event.id)[0].path).toBe(
    "/api/v1/webhooks/alw_productA000000000000000001",
  );
});

it("product B's password changes in config: one up updates exactly its hooks (seen by hash)", async () => {
  const before = subscriptionShape(allSubscriptions());
  const list = destinations({ tokenA: "productA000000000000000001", passwordB: "pw-two-0002" });
  const preview = await pulumi("preview", list);
  expect(stepsOf(preview, "update").sort()).toEqual(named("productb"));
  expect(preview.changes).toMatchObject({ create: 0, delete: 0, replace: 0 });

  const run = await pulumi("up", list);
  expect(stepsOf(run, "update").sort()).toEqual(named("productb"));
  const after = subscriptionShape(allSubscriptions());
  const changed = after.filter(
    (s) => JSON.stringify(s) !== JSON.stringify(before.find((b) => b.id === s.id)),
  );
  const productBIds = state.filter((r) => r.name.startsWith("productb-")).map((r) => r.id);
  expect(changed.map((s) => s.id).sort()).toEqual(productBIds.sort());
  for (const s of changed) expect(s.consumerInputs.basicAuthPassword).toBe("pw-two-0002");

  const pr = await emulator.emit("git.pullrequest.created", { org: "contoso", project: "Alpha" });
  expect(deliveriesOf(productB, pr.event.id).map((r) => r.headers.authorization)).toEqual([
    basic("ado", "pw-two-0002"),
  ]);
});

it("product A gives a new URL and then fails its test deliveries: reported under its name only", async () => {
  productA.respond = () => 500;
  try {
    const run = await pulumi(
      "up",
      destinations({ tokenA: "productA000000000000000002", passwordB: "pw-two-0002" }),
    );
    expect(stepsOf(run, "update").sort()).toEqual(named("producta"));
    expect(run.outputs.failedTestDeliveries.receiver).toEqual([]);
    expect(run.outputs.failedTestDeliveries.productb).toEqual([]);
    expect(run.outputs.failedTestDeliveries.producta.sort()).toEqual(named("producta"));
    expect(run.outputs.warnings).toHaveLength(6);
    for (const w of run.outputs.warnings) expect(w).toMatch(/^destination "producta": producta-/);
    // Never the URL (it carries the product's token).
    expect(run.outputs.warnings.join("\n")).not.toContain("productA000000000000000002");
  } finally {
    productA.respond = () => 200;
  }
});

it("product B is removed: exactly its hooks are deleted; the others and the hand-made ones stay as they were", async () => {
  const productBIds = state.filter((r) => r.name.startsWith("productb-")).map((r) => r.id);
  const productBNames = named("productb");
  const others = subscriptionShape(allSubscriptions().filter((s) => !productBIds.includes(s.id)));
  const run = await pulumi(
    "up",
    destinations({ tokenA: "productA000000000000000002", passwordB: "", withB: false }),
  );
  expect(stepsOf(run, "delete").sort()).toEqual(productBNames);
  expect(run.changes).toMatchObject({ delete: 2, create: 0, update: 0, replace: 0 });
  expect(productBIds.every((id) => emulator.subscription(id, "contoso") === undefined)).toBe(true);
  expect(named("productb")).toEqual([]);
  expect(subscriptionShape(allSubscriptions())).toEqual(others);
  for (const h of handMade) expect(emulator.subscription(h.id, "contoso")).toBeDefined();
  expect(Object.keys(run.outputs.destinationHookCounts)).toEqual(["receiver", "producta"]);
});
