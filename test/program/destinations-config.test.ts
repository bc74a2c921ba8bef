/**
 * `hookfleet:destinations` as a stack writes it: what a correct list becomes, and a message naming
 * the key for every mistake (components/config). Pure: no Pulumi run. The secrecy of each value is
 * what Pulumi and the stack file say (plain-text.ts); both sources are exercised here.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import YAML from "yaml";
import {
  credentialInUrl,
  parseDestinations,
  parseOrganizations,
  secrecyFromStackFile,
  secrecyOfKey,
  stackFileValue,
  type DestinationConfig,
  type SecrecyOf,
  type WebhookDestinationConfig,
} from "../../components/config";

const organizations = parseOrganizations([
  { url: "https://dev.azure.com/contoso", projects: { exclude: ["*-archive"] } },
  { url: "https://dev.azure.com/contoso-labs", name: "labs", events: ["git.push"] },
]);
const TOKEN_URL = "https://hooks.producta.example/api/v1/webhooks/alw_0123456789abcdefghijABCDEFGHIJ";
const PASSWORD = "Pr0duct-B-Passw0rd!";
const SECRET = secrecyOfKey(true);

/** The two common set-ups (docs/destinations.md), beside the receiver. */
const twoProducts = () => [
  { name: "receiver", kind: "receiver" },
  {
    name: "producta",
    kind: "webhook",
    url: TOKEN_URL,
    events: [
      "git.push",
      "git.pullrequest.created",
      "git.pullrequest.updated",
      "workitem.created",
      "workitem.updated",
      "build.complete",
      "ms.vss-release.deployment-completed-event",
    ],
  },
  {
    name: "productb",
    kind: "webhook",
    url: "https://productb.example/ado/webhook",
    basicPassword: PASSWORD,
    events: ["git.pullrequest.created", "git.pullrequest.updated", "workitem.created", "workitem.updated"],
    organizations: ["contoso"],
    pat: { scopes: ["vso.code_write", "vso.work"], validDays: 90, rotateEveryDays: 60 },
  },
];

const parse = (raw: unknown, secrecy: SecrecyOf = SECRET) =>
  parseDestinations(raw, { organizations, secrecy });
const failure = (raw: unknown, secrecy: SecrecyOf = SECRET): string => {
  try {
    parse(raw, secrecy);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected the destinations to be refused");
};
/** The two-product list with one entry changed. */
const withEntry = (i: number, change: Record<string, unknown>, drop: string[] = []) =>
  twoProducts().map((d, j) => {
    if (j !== i) return d;
    const next: Record<string, unknown> = { ...d, ...change };
    for (const k of drop) delete next[k];
    return next;
  });

describe("what a stack's destinations become", () => {
  it("no destinations (absent or []): the receiver alone, everywhere, as before destinations existed", () => {
    for (const raw of [undefined, []]) {
      expect(parse(raw, secrecyOfKey(false))).toEqual([
        {
          kind: "receiver",
          name: "receiver",
          organizations: ["contoso", "labs"],
          httpHeaders: {},
          implied: true,
        },
      ]);
    }
  });

  it("the receiver and two products: defaults filled in, secrets kept as given, PAT defaults", () => {
    const [receiver, a, b] = parse(twoProducts()) as [
      DestinationConfig,
      WebhookDestinationConfig,
      WebhookDestinationConfig,
    ];
    expect(receiver).toMatchObject({
      kind: "receiver",
      name: "receiver",
      implied: false,
      organizations: ["contoso", "labs"],
    });
    expect(receiver.projects).toBeUndefined(); // each organization's own setting
    expect(a).toMatchObject({
      kind: "webhook",
      url: TOKEN_URL,
      basicPassword: "",
      organizations: ["contoso", "labs"],
      httpHeaders: {},
    });
    expect(a.events.map((e) => e.eventType)).toHaveLength(7);
    expect(a.resourceDetailsToSend).toBeUndefined(); // "all", ADO's default
    expect(a.pat).toBeUndefined();
    expect(b).toMatchObject({ basicPassword: PASSWORD, organizations: ["contoso"] });
    expect(b.pat).toEqual({
      scopes: ["vso.code_write", "vso.work"],
      validDays: 90,
      rotateEveryDays: 60,
      overlapHours: 168,
      rotationNonce: "",
    });
  });

  it("a product's own projects, filters and what-to-send; organization names in any case", () => {
    const [, a] = parse(
      withEntry(1, {
        organizations: ["LABS"],
        projects: { include: ["Team*"] },
        events: [{ type: "git.push", filters: { branch: "main" } }],
        messagesToSend: "text",
        httpHeaders: { "X-Product-Tenant": "contoso" },
      }),
    ) as WebhookDestinationConfig[];
    expect(a).toMatchObject({
      organizations: ["labs"],
      projects: { include: ["Team*"] },
      events: [{ eventType: "git.push", filters: { branch: "main" } }],
      messagesToSend: "text",
      httpHeaders: { "X-Product-Tenant": "contoso" },
    });
  });

  it("only hosted products (no receiver) is a valid list", () => {
    expect(parse(twoProducts().slice(1)).map((d) => d.name)).toEqual(["producta", "productb"]);
  });
});

describe("secrets: a URL token or a password in plain text is refused, naming the key and the command", () => {
  it("a plain-text Basic password (the key not secret at all)", () => {
    const message = failure(twoProducts(), secrecyOfKey(false));
    expect(message).toContain("hookfleet:destinations[2].basicPassword is in plain text");
    expect(message).toContain(
      "pulumi config set --secret --path 'hookfleet:destinations[2].basicPassword' <password>",
    );
    expect(message).not.toContain(PASSWORD);
  });

  it("a plain-text URL carrying an alw_ token; a plain URL without a token is fine", () => {
    const message = failure(twoProducts().slice(0, 2), secrecyOfKey(false));
    expect(message).toMatch(
      /^hookfleet:destinations\[1\]\.url is in plain text but it carries an alw_ URL token/,
    );
    expect(message).toContain("pulumi config set --secret --path 'hookfleet:destinations[1].url' <url>");
    expect(message).not.toContain("alw_0123");
    const plainUrl = withEntry(1, { url: "https://producta.example/hooks/ado" }).slice(0, 2);
    expect(parse(plainUrl, secrecyOfKey(false))).toHaveLength(2);
  });

  it("the stack file decides per value: the url secure and the password plain is refused although the key is secret", () => {
    // What `pulumi config set --secret --path 'hookfleet:destinations[2].url' …` and a plain
    // `pulumi config set --path 'hookfleet:destinations[2].basicPassword' …` leave in the file.
    const file = YAML.parse(`
- {name: receiver, kind: receiver}
- name: producta
  kind: webhook
  url: {secure: v1:AAAA}
  events: [git.push]
- name: productb
  kind: webhook
  url: {secure: v1:BBBB}
  basicPassword: ${PASSWORD}
  events: [git.pullrequest.created]
  organizations: [contoso]
`) as unknown;
    const secrecy = secrecyFromStackFile(file, true);
    expect(secrecy([1, "url"])).toBe("secret");
    expect(secrecy([2, "basicPassword"])).toBe("plain");
    const raw = [
      { name: "receiver", kind: "receiver" },
      { name: "producta", kind: "webhook", url: TOKEN_URL, events: ["git.push"] },
      { ...twoProducts()[2], events: ["git.pullrequest.created"], pat: undefined },
    ];
    expect(failure(raw, secrecy)).toMatch(/^hookfleet:destinations\[2\]\.basicPassword is in plain text/);
    // Both secure: accepted.
    (file as { basicPassword: unknown }[])[2].basicPassword = { secure: "v1:CCCC" };
    expect(parse(raw, secrecyFromStackFile(file, true))).toHaveLength(3);
  });

  it("a credential header in plain text", () => {
    const message = failure(
      withEntry(1, { httpHeaders: { Authorization: "Bearer x" } }),
      secrecyFromStackFile([], false),
    );
    expect(message).toContain(
      "hookfleet:destinations[1].httpHeaders.Authorization carries a credential but is in plain text",
    );
  });
});

describe("every other mistake names its key", () => {
  it.each<[string, unknown, RegExp]>([
    [
      "a Basic password with an http: URL",
      withEntry(2, { url: "http://productb.example/hook" }),
      /\[2\]\.url must be https:\/\/ when hookfleet:destinations\[2\]\.basicPassword is set/,
    ],
    [
      "two destinations with one name",
      withEntry(2, { name: "producta" }),
      /\[2\]\.name: "producta" is already the name of hookfleet:destinations\[1\]/,
    ],
    [
      "an unknown event type",
      withEntry(1, { events: ["git.push", "git.pushed"] }),
      /\[1\]\.events\[1\] is "git\.pushed", which is not an ADO event type/,
    ],
    [
      "a filter the event does not have",
      withEntry(1, { events: [{ type: "git.push", filters: { areaPath: "x" } }] }),
      /\[1\]\.events\[0\]\.filters\.areaPath is not a filter of git\.push/,
    ],
    [
      "an event type twice",
      withEntry(1, { events: ["git.push", "git.push"] }),
      /\[1\]\.events\[1\] lists git\.push again/,
    ],
    ["a webhook without events", withEntry(1, {}, ["events"]), /\[1\]\.events is required for kind webhook/],
    ["a webhook without url", withEntry(1, {}, ["url"]), /\[1\]\.url is required for kind webhook/],
    [
      "a url that is not a URL",
      withEntry(1, { url: "producta.example/hook" }),
      /\[1\]\.url must be an absolute https:\/\/ URL/,
    ],
    [
      "two receivers",
      [...twoProducts(), { name: "again", kind: "receiver" }],
      /at most one destination may be of kind receiver/,
    ],
    [
      "a receiver with a url",
      withEntry(0, { url: "https://x.example" }),
      /\[0\]\.url does not apply to kind receiver/,
    ],
    [
      "a receiver with a PAT",
      withEntry(0, { pat: { scopes: ["vso.work"] } }),
      /\[0\]\.pat does not apply to kind receiver.*managePat/,
    ],
    [
      "an unknown kind",
      withEntry(1, { kind: "slack" }),
      /\[1\]\.kind must be one of receiver, webhook; got "slack"/,
    ],
    ["an unknown key", withEntry(1, { secret: "x" }), /\[1\]\.secret is not a destination setting/],
    [
      "an organization not in hookfleet:organizations",
      withEntry(1, { organizations: ["fabrikam"] }),
      /\[1\]\.organizations\[0\] "fabrikam" is not the name of an organization/,
    ],
    [
      "a PAT on a destination in two organizations",
      withEntry(2, { organizations: ["contoso", "labs"] }),
      /\[2\]\.pat: an ADO PAT is scoped to one organization/,
    ],
    [
      "a full-access PAT scope",
      withEntry(2, { pat: { scopes: ["vso.full"] } }),
      /\[2\]\.pat\.scopes must not grant full access/,
    ],
    [
      "a PAT rotated after it expires",
      withEntry(2, { pat: { scopes: ["vso.work"], validDays: 30, rotateEveryDays: 30 } }),
      /\[2\]\.pat\.rotateEveryDays must be below/,
    ],
    [
      "a PAT overlap as long as its rotation period",
      withEntry(2, { pat: { scopes: ["vso.work"], validDays: 30, rotateEveryDays: 7 } }),
      /\[2\]\.pat\.overlapHours and hookfleet:destinations\[2\]\.pat\.rotateEveryDays: overlapHours \(168\) must be shorter than the rotation period \(168 h\)/,
    ],
    [
      "a PAT valid over a year",
      withEntry(2, { pat: { scopes: ["vso.work"], validDays: 400 } }),
      /\[2\]\.pat\.validDays must be a whole number from 1 to 365/,
    ],
    [
      "a webhook named like an organization",
      withEntry(1, { name: "labs" }),
      /\[1\]\.name "labs" is also an organization's name/,
    ],
    ["an upper-case name", withEntry(1, { name: "ProductA" }), /\[1\]\.name must be lower-case letters/],
    [
      "one URL for two destinations",
      withEntry(2, { url: TOKEN_URL, basicPassword: undefined, pat: undefined }, ["basicPassword", "pat"]),
      /\[2\]\.url is the same URL as hookfleet:destinations\[1\]\.url/,
    ],
    [
      "a user name without a password",
      withEntry(1, { basicUsername: "ado" }),
      /\[1\]\.basicUsername is set but hookfleet:destinations\[1\]\.basicPassword is not/,
    ],
    [
      "a password with a space",
      withEntry(2, { basicPassword: "two words" }),
      /\[2\]\.basicPassword must be 1–256 characters with no spaces/,
    ],
    [
      "a bad what-to-send",
      withEntry(1, { resourceDetailsToSend: "some" }),
      /\[1\]\.resourceDetailsToSend must be one of all, minimal, none/,
    ],
    ["not a list", { name: "x" }, /^hookfleet:destinations must be a list/],
  ])("%s", (_what, raw, message) => {
    expect(failure(raw)).toMatch(message);
  });

  it("several mistakes at once: one error, one line each", () => {
    const message = failure(withEntry(1, { events: ["nope"], name: "labs" }));
    expect(message.split("\n")[0]).toBe("hookfleet:destinations has 2 problems:");
    expect(message).toMatch(/^- hookfleet:destinations\[1\]\.name "labs"/m);
    expect(message).toMatch(/^- hookfleet:destinations\[1\]\.events\[0\] is "nope"/m);
  });

  it("a Basic password to a loopback http URL is let through (only a local stand-in is there)", () => {
    expect(
      parse(withEntry(2, { url: "http://127.0.0.1:7073/api/v1/systems/productb/webhooks" })),
    ).toHaveLength(3);
  });
});

describe("credentialInUrl: what in a plain URL would leak", () => {
  it.each([
    ["https://x.example/api/v1/webhooks/alw_abc", "alw_"],
    ["https://user:pw@x.example/hook", "password"],
    ["https://fn.azurewebsites.net/api/hook?code=abc", 'query parameter "code"'],
    ["https://hooks.example.com/services/T0123ABCD/B0456EFGH/XyZ12aBcD34eFgH56iJkL78m", "path segment"],
  ])("%s", (url, reason) => {
    expect(credentialInUrl(url)).toContain(reason);
  });
  it.each([
    "https://productb.example/ado/webhook",
    "https://x.example/orgs/6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c/hooks",
    "https://x.example/hooks?tenant=contoso",
  ])("%s carries none", (url) => {
    expect(credentialInUrl(url)).toBeUndefined();
  });
});

describe("stackFileValue: the stack file as written", () => {
  it("reads the key from Pulumi.yaml's stackConfigDir; a missing file or key is undefined", () => {
    const root = mkdtempSync(path.join(tmpdir(), "hookfleet-stackfile-"));
    writeFileSync(path.join(root, "Pulumi.yaml"), "name: x\nruntime: nodejs\nstackConfigDir: stacks\n");
    mkdirSync(path.join(root, "stacks"));
    writeFileSync(
      path.join(root, "stacks", "Pulumi.dev.yaml"),
      "config:\n  hookfleet:destinations:\n    - name: a\n      url:\n        secure: v1:AAAA\n",
    );
    expect(stackFileValue(root, "dev", "hookfleet:destinations")).toEqual([
      { name: "a", url: { secure: "v1:AAAA" } },
    ]);
    expect(stackFileValue(root, "dev", "hookfleet:other")).toBeUndefined();
    expect(stackFileValue(root, "prod", "hookfleet:destinations")).toBeUndefined();
    rmSync(root, { recursive: true, force: true });
  });
});
