/**
 * The test support that stands in for the Pulumi engine (devkit/provider-host) against the
 * real dynamic-provider host, with providers written inline as `__provider` text: it shows the
 * host's behaviour the rest of the suite relies on (and that an in-process harness hid).
 */
import { ProviderError, ProviderHost } from "../../devkit/provider-host/host";
import { isSecret, secret, UNKNOWN } from "../../devkit/provider-host/values";

const URN = "urn:pulumi:test::hookfleet::pulumi-nodejs:dynamic/t:Thing::t";
let host: ProviderHost;

beforeAll(async () => {
  host = await ProviderHost.start();
  // Configure: the whole stack config, a secret as a secret.
  const answer = await host.configure({ "hookfleet:adoPat": secret("pat-value"), "hookfleet:plain": "x" });
  expect(answer).toEqual({ acceptSecrets: false, supportsPreview: false });
}, 30_000);
afterAll(async () => {
  await host?.close();
});

/** A provider as stored text: what `__provider` holds. */
const provider = (body: string) => `exports.handler = () => { let config; return { ${body} }; };`;

it("fails the whole operation on an undefined anywhere in a result: Struct cannot carry it", async () => {
  const text = provider(`async check(olds, news) { return { inputs: { ...news, label: undefined } }; }`);
  await expect(
    host.check({ urn: URN, olds: {}, news: { __provider: text }, allowUnknowns: false }),
  ).rejects.toThrow(new ProviderError("Check", URN, "Unexpected struct type."));
});

it("sends secrets as plain values (acceptSecrets: false) and marks same-named outputs secret again", async () => {
  const text = provider(`
    async configure(req) { config = req.config.get("adoPat"); },
    async create(props) { return { id: "1", outs: { token: props.token, seen: typeof props.token, pat: config } }; }`);
  const created = await host.create({ urn: URN, props: { __provider: text, token: secret("s3cret") } });
  expect(created.outputs.seen).toBe("string");
  expect(isSecret(created.outputs.token)).toBe(true);
  // The provider saw the config secret's value through `configure`; nothing marks its output secret.
  expect(created.outputs.pat).toBe("pat-value");
});

it("passes unknowns in previews and refuses them in a real operation's result", async () => {
  const text = provider(`
    async check(olds, news) { return { inputs: news }; },
    async create(props) { return { id: "1", outs: { late: "${UNKNOWN}" } }; }`);
  const checked = await host.check({
    urn: URN,
    olds: {},
    news: { __provider: text, url: UNKNOWN },
    allowUnknowns: true,
  });
  expect(checked.inputs.url).toBe(UNKNOWN);
  await expect(host.create({ urn: URN, props: { __provider: text } })).rejects.toThrow(/unexpected unknown/);
});

it("reads with the provider text of the stored outputs, and an empty id means gone", async () => {
  const text = provider(
    `async read(id, props) { return id === "gone" ? { id: "", props: {} } : { id, props: { ...props, fresh: true } }; }`,
  );
  const read = await host.read({ urn: URN, id: "1", inputs: {}, state: { __provider: text, a: 1 } });
  expect(read).toMatchObject({ id: "1", outputs: { a: 1, fresh: true, __provider: text } });
  expect((await host.read({ urn: URN, id: "gone", inputs: {}, state: { __provider: text } })).id).toBe("");
});
