/**
 * LocalReceiverRevision: its provider against the sandbox's receiver host with a real receiver
 * (scripts/lib/sandbox-receivers.ts), and the resource through the real dynamic-provider host.
 */
import type { CredentialSettings } from "../../app/config";
import { mintToken, sha256Hex } from "../../app/tokens";
import {
  createLocalReceiverRevisionProvider,
  settingsRevision,
  type LocalReceiverRevisionOutputs,
} from "../../components/receiver/local-revision-provider";
import { startReceiverHost, type ReceiverHost } from "../../scripts/lib/sandbox-receivers";
import { sampleEvent } from "../../devkit/ado-events";
import { isSecret, type PropertyMap } from "../../devkit/provider-host";
import { isolatedCommand } from "../../devkit/provider-host/isolated";

type RevisionModule = typeof import("../../components/receiver/local-revision");

let host: ReceiverHost;
const revisions: string[] = [];

beforeAll(async () => {
  host = await startReceiverHost([{ name: "receiver", revisions: true }], {
    onRevision: (_name, revision) => revisions.push(revision),
  });
});
afterAll(() => host?.close());

const settingsFor = (token: string): CredentialSettings => ({
  systems: [{ id: "devops", storageMode: "full", retentionDays: 7 }],
  urlTokens: [{ sha256: sha256Hex(token), systemId: "devops" }],
  readTokens: [],
});
const provider = (token = () => host.token) => createLocalReceiverRevisionProvider({ token });
const post = async (token: string) =>
  (
    await fetch(host.get("receiver").receiver.webhookUrl(token), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sampleEvent("git.push")),
    })
  ).status;

it("hands the receiver its settings and returns once it runs with them; refresh sees a receiver that runs others", async () => {
  const local = host.get("receiver");
  const first = mintToken();
  expect(await post(first)).toBe(404);
  const inputs = {
    receiverUrl: local.receiver.url,
    revisionUrl: local.revisionUrl!,
    settings: settingsFor(first),
  };
  const created = await provider().create(inputs);
  expect(created.outs).toEqual({ ...inputs, revision: settingsRevision(inputs.settings) });
  expect(await post(first)).toBe(201);
  expect(revisions.at(-1)).toBe(created.outs.revision);

  const olds = created.outs as LocalReceiverRevisionOutputs;
  expect((await provider().diff!("receiver-revision", olds, inputs)).changes).toBe(false);
  // A rotation: new settings are a new revision, applied before anything uses the new token.
  const second = mintToken();
  const rotated = { ...inputs, settings: settingsFor(second) };
  expect((await provider().diff!("receiver-revision", olds, rotated)).changes).toBe(true);
  const updated = await provider().update!("receiver-revision", olds, rotated);
  expect(await post(second)).toBe(201);
  expect(await post(first)).toBe(404);

  // Someone else rolled the receiver back: refresh reads the live revision, and it is drift.
  await provider().update!("receiver-revision", updated.outs, inputs);
  const read = await provider().read!("receiver-revision", updated.outs);
  expect(read.props!.revision).toBe(settingsRevision(inputs.settings));
  expect(
    (await provider().diff!("receiver-revision", read.props as LocalReceiverRevisionOutputs, rotated))
      .changes,
  ).toBe(true);
});

it("fingerprints settings whatever the order of their keys (the engine reorders them)", () => {
  const s = settingsFor("t");
  const reordered = {
    readTokens: [],
    urlTokens: [{ systemId: "devops", sha256: sha256Hex("t") }],
    systems: s.systems,
  };
  expect(settingsRevision(reordered)).toBe(settingsRevision(s));
  expect(settingsRevision(settingsFor("u"))).not.toBe(settingsRevision(s));
});

it("fails with a message that says what to do: wrong token, refused settings, host not running", async () => {
  const local = host.get("receiver");
  const inputs = {
    receiverUrl: local.receiver.url,
    revisionUrl: local.revisionUrl!,
    settings: settingsFor(mintToken()),
  };
  await expect(provider(() => "wrong").create(inputs)).rejects.toThrow(
    /refused the token: HOOKFLEET_RECEIVER_REVISION_TOKEN must be the one its host printed/,
  );
  const before = local.revision();
  const bad = {
    ...inputs,
    settings: { ...inputs.settings, urlTokens: [{ sha256: "nothex", systemId: "devops" }] },
  };
  await expect(provider().create(bad)).rejects.toThrow(/answered 400: .*sha256/);
  expect(local.revision()).toBe(before);
  await expect(
    provider().create({ ...inputs, revisionUrl: "http://127.0.0.1:9/receivers/receiver/revision" }),
  ).rejects.toThrow(
    /cannot be reached .*is the host that runs the receiver \(npm run sandbox\) still running\?/,
  );
});

it("runs in the real dynamic-provider host: created through its stub, settings secret in state", async () => {
  const local = host.get("receiver");
  const token = mintToken();
  const result = await isolatedCommand(
    "up",
    { stack: "dev", hostEnv: { HOOKFLEET_RECEIVER_REVISION_TOKEN: host.token } },
    () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the command's fresh registry
      const { LocalReceiverRevision } = require("../../components/receiver/local-revision") as RevisionModule;
      const r = new LocalReceiverRevision("receiver", {
        receiverUrl: local.receiver.url,
        revisionUrl: local.revisionUrl!,
        settings: settingsFor(token),
      });
      return { receiverUrl: r.receiverUrl, revision: r.revision };
    },
  );
  expect(result.run.outputs).toEqual({
    receiverUrl: local.receiver.url,
    revision: settingsRevision(settingsFor(token)),
  });
  const [state] = result.state;
  expect(state.type).toBe("pulumi-nodejs:dynamic/hookfleet:LocalReceiverRevision");
  expect(isSecret((state.outputs as PropertyMap).settings)).toBe(true);
  expect(await post(token)).toBe(201);
}, 60_000);
