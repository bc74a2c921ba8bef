import { MASKED_SECRET, Subscription } from "../../ado/types";
import {
  BASIC_AUTH_MAX_LENGTH,
  canKeepStoredPassword,
  checkServiceHookInputs,
  carriedFacts,
  diffServiceHook,
  isAdoptable,
  isLoopbackUrl,
  outputsFromSubscription,
  parseHeaders,
  secretHash,
  ServiceHookInputs,
  ServiceHookOutputs,
  toSubscriptionInput,
} from "../../components/hooks/mapping";
import { UNKNOWN_INPUT } from "../../components/dynamic/unknown";
import { normalizeEventTypes, planHooks } from "../../components/hooks/hook-fleet";

const PROJECT = "0f3e5a1c-1111-4c2b-9d7e-000000000001";

function desired(over: Partial<ServiceHookInputs> = {}): ServiceHookInputs {
  const { inputs, failures } = checkServiceHookInputs({
    orgUrl: "https://dev.azure.com/contoso",
    projectId: PROJECT,
    eventType: "git.push",
    url: "https://rx.example.net/api/v1/webhooks/alw_token",
    filters: { branch: "main" },
    httpHeaders: { "X-Env": "prod" },
    basicAuthUsername: "ado",
    basicAuthPassword: "s3cret-password",
  });
  expect(failures).toEqual([]);
  return { ...inputs, ...over };
}

/** What ADO returns for a subscription created from `d`: masked password, its own publisher inputs. */
function liveFrom(d: ServiceHookInputs, over: Partial<Subscription> = {}): Subscription {
  const body = toSubscriptionInput(d);
  return {
    id: "sub-1",
    ...body,
    publisherInputs: { ...body.publisherInputs, hostId: "host-guid", tfsSubscriptionId: "tfs-guid" },
    consumerInputs: { ...body.consumerInputs, basicAuthPassword: MASKED_SECRET },
    status: "enabled",
    ...over,
  };
}

function recorded(d: ServiceHookInputs, sub: Subscription = liveFrom(d)): ServiceHookOutputs {
  return outputsFromSubscription(sub, {
    orgUrl: d.orgUrl,
    passwordHash: secretHash(d.basicAuthPassword),
    testDelivery: d.testDelivery,
    lastTestDelivery: "succeeded",
    adopted: false,
    warnings: [],
  });
}

describe("checkServiceHookInputs", () => {
  it("fills publisher, resource version and all/all/all from the catalogue", () => {
    const d = desired();
    expect(d.publisherId).toBe("tfs");
    expect(d.resourceVersion).toBe("1.0");
    expect([d.resourceDetailsToSend, d.messagesToSend, d.detailedMessagesToSend]).toEqual([
      "all",
      "all",
      "all",
    ]);
    expect(d.enabled).toBe(true);
    const rm = checkServiceHookInputs({
      ...d,
      eventType: "ms.vss-release.deployment-completed-event",
      filters: {},
    });
    expect(rm.inputs.publisherId).toBe("tfs"); // explicit publisherId wins over the catalogue
    const fresh = checkServiceHookInputs({
      ...d,
      publisherId: undefined,
      resourceVersion: undefined,
      eventType: "ms.vss-release.deployment-completed-event",
      filters: {},
    });
    expect(fresh.inputs.publisherId).toBe("rm");
    expect(fresh.inputs.resourceVersion).toBe("3.0-preview.1");
  });

  it("rejects unknown events, foreign filters, the mask as a password, and never quotes secrets", () => {
    const { failures } = checkServiceHookInputs({
      orgUrl: "contoso",
      projectId: "",
      eventType: "git.push",
      url: "not a url",
      filters: { areaPath: "x" },
      basicAuthPassword: MASKED_SECRET,
      messagesToSend: "everything",
    });
    expect(failures.map((f) => f.property).sort()).toEqual(
      ["basicAuthPassword", "filters", "messagesToSend", "orgUrl", "projectId", "url"].sort(),
    );
    expect(checkServiceHookInputs({ eventType: "git.pushed" }).failures.map((f) => f.property)).toContain(
      "eventType",
    );
    const secretUrl = checkServiceHookInputs({ ...desired(), url: "ftp://alw_SECRET" });
    expect(JSON.stringify(secretUrl.failures)).not.toContain("alw_SECRET");
  });
});

describe("toSubscriptionInput", () => {
  it("maps filters, project, headers and Basic credentials to ADO's input maps", () => {
    const body = toSubscriptionInput(desired());
    expect(body).toMatchObject({
      publisherId: "tfs",
      eventType: "git.push",
      consumerId: "webHooks",
      consumerActionId: "httpRequest",
      publisherInputs: { projectId: PROJECT, branch: "main" },
      status: "enabled",
    });
    // "all" is ADO's default ("" in the consumer descriptor): left out rather than spelled.
    expect(body.consumerInputs).toEqual({
      url: "https://rx.example.net/api/v1/webhooks/alw_token",
      httpHeaders: "X-Env:prod",
      basicAuthUsername: "ado",
      basicAuthPassword: "s3cret-password",
    });
    const lean = toSubscriptionInput(
      desired({ resourceDetailsToSend: "minimal", messagesToSend: "text", detailedMessagesToSend: "none" }),
    );
    expect(lean.consumerInputs).toMatchObject({
      resourceDetailsToSend: "minimal",
      messagesToSend: "text",
      detailedMessagesToSend: "none",
    });
  });

  it("sends the mask for an unchanged password and leaves the key out to delete it", () => {
    expect(
      toSubscriptionInput(desired(), { keepStoredPassword: true }).consumerInputs.basicAuthPassword,
    ).toBe(MASKED_SECRET);
    expect(
      "basicAuthPassword" in toSubscriptionInput(desired({ basicAuthPassword: "" })).consumerInputs,
    ).toBe(false);
    expect(toSubscriptionInput(desired({ enabled: false })).status).toBe("disabledByUser");
  });

  it("keeps the stored password only when ADO holds exactly the desired one", () => {
    const outs = recorded(desired());
    expect(canKeepStoredPassword(outs, "s3cret-password")).toBe(true);
    expect(canKeepStoredPassword(outs, "rotated")).toBe(false);
    expect(canKeepStoredPassword({ ...outs, passwordSet: false }, "s3cret-password")).toBe(false);
  });
});

describe("diffServiceHook", () => {
  it("sees no change right after create, ignoring inputs ADO added (hostId, tfsSubscriptionId)", () => {
    const d = desired();
    expect(diffServiceHook(recorded(d), d)).toMatchObject({ changes: false, replaces: [], drift: [] });
  });

  it("reports a hook ADO disabled or put on probation as an update, not a replace", () => {
    const d = desired();
    for (const status of [
      "disabledBySystem",
      "onProbation",
      "disabledByUser",
      "disabledByInactiveIdentity",
    ] as const) {
      const diff = diffServiceHook(recorded(d, liveFrom(d, { status })), d);
      expect(diff).toMatchObject({ changes: true, replaces: [], drift: ["status"] });
    }
  });

  it("detects url, header, filter, what-to-send and username drift", () => {
    const d = desired();
    const base = liveFrom(d);
    const drifted = liveFrom(d, {
      publisherInputs: { ...base.publisherInputs, branch: "dev" },
      consumerInputs: {
        ...base.consumerInputs,
        url: "https://elsewhere.example.net/hook",
        httpHeaders: "X-Env:staging",
        basicAuthUsername: "someone",
        messagesToSend: "none",
      },
    });
    expect(diffServiceHook(recorded(d, drifted), d).drift.sort()).toEqual(
      ["basicAuthUsername", "filters", "httpHeaders", "messagesToSend", "url"].sort(),
    );
  });

  it("detects a rotated password through its hash, and a password removed by hand", () => {
    const d = desired();
    expect(diffServiceHook(recorded(d), { ...d, basicAuthPassword: "rotated" }).drift).toEqual([
      "basicAuthPassword",
    ]);
    const base = liveFrom(d);
    const { basicAuthPassword: _removed, ...withoutPassword } = base.consumerInputs;
    expect(diffServiceHook(recorded(d, { ...base, consumerInputs: withoutPassword }), d).drift).toEqual([
      "basicAuthPassword",
    ]);
  });

  it("replaces on event type or project change", () => {
    const d = desired();
    expect(
      diffServiceHook(recorded(d), { ...d, eventType: "git.pullrequest.created", filters: {} }).replaces,
    ).toEqual(["eventType"]);
    expect(diffServiceHook(recorded(d), { ...d, projectId: "other" }).replaces).toEqual(["projectId"]);
  });

  it("treats an empty filter value as unset", () => {
    const d = desired({ filters: {} });
    const base = liveFrom(d);
    const live = liveFrom(d, { publisherInputs: { ...base.publisherInputs, repository: "", branch: "" } });
    expect(diffServiceHook(recorded(d, live), d).changes).toBe(false);
  });
});

describe("ADO's sparse and alternative spellings are not drift", () => {
  it("no status and no probationRetries (ADO's example for enabled hooks) read as enabled, 0 retries", () => {
    const d = desired();
    const { status: _status, probationRetries: _retries, ...sparse } = liveFrom(d);
    const outs = recorded(d, sparse as Subscription);
    expect(outs).toMatchObject({ status: "enabled", enabled: true, probationRetries: 0 });
    expect(diffServiceHook(outs, d)).toMatchObject({ changes: false, drift: [] });
    // The spec types probationRetries as a string ("byte"): read as a number either way.
    const probation = recorded(d, liveFrom(d, { status: "onProbation", probationRetries: "3" }));
    expect(probation.probationRetries).toBe(3);
  });

  it('"" (the descriptor\'s "All"), an absent key and "all" are the same what-to-send value', () => {
    const d = desired();
    for (const stored of ["", "all", undefined]) {
      const base = liveFrom(d);
      const consumerInputs: Record<string, string> = { ...base.consumerInputs };
      for (const k of ["resourceDetailsToSend", "messagesToSend", "detailedMessagesToSend"]) {
        if (stored === undefined) delete consumerInputs[k];
        else consumerInputs[k] = stored;
      }
      const outs = recorded(d, { ...base, consumerInputs });
      expect(outs.resourceDetailsToSend).toBe("all");
      expect(diffServiceHook(outs, d).drift).toEqual([]);
    }
    const minimal = liveFrom(d, {
      consumerInputs: { ...liveFrom(d).consumerInputs, resourceDetailsToSend: "minimal" },
    });
    expect(diffServiceHook(recorded(d, minimal), d).drift).toEqual(["resourceDetailsToSend"]);
  });

  it("resourceVersion null is ADO's default version: no drift; another version is", () => {
    const d = desired();
    expect(diffServiceHook(recorded(d, liveFrom(d, { resourceVersion: null })), d).drift).toEqual([]);
    expect(recorded(d, liveFrom(d, { resourceVersion: null })).resourceVersion).toBe("");
    expect(diffServiceHook(recorded(d, liveFrom(d, { resourceVersion: "1.0-preview.1" })), d).drift).toEqual([
      "resourceVersion",
    ]);
    const preview = desired({ resourceVersion: "1.0-preview.1" });
    expect(diffServiceHook(recorded(preview, liveFrom(preview)), preview).drift).toEqual([]);
  });
});

describe("Basic authentication rules of ADO's Web Hooks consumer", () => {
  const base = {
    orgUrl: "https://dev.azure.com/contoso",
    projectId: PROJECT,
    eventType: "git.push",
    basicAuthUsername: "ado",
    basicAuthPassword: "s3cret-password",
  };
  const failuresOf = (over: Record<string, unknown>) =>
    checkServiceHookInputs({ ...base, url: "https://rx.example.net/hook", ...over }).failures;

  it("a Basic password needs an https URL (ADO refuses http); loopback is let through for local emulators", () => {
    const plain = failuresOf({ url: "http://rx.example.net/hook" });
    expect(plain).toEqual([{ property: "url", reason: expect.stringMatching(/https.*Basic/) }]);
    expect(failuresOf({ url: "http://rx.example.net/hook", basicAuthPassword: "" })).toEqual([]);
    for (const url of ["http://127.0.0.1:7071/hook", "http://localhost:7071/hook", "http://[::1]:7071/hook"])
      expect(failuresOf({ url })).toEqual([]);
    expect(isLoopbackUrl("http://127.0.0.1.example.net/")).toBe(false);
    // Unknown during a preview: checked on the real run.
    expect(failuresOf({ url: UNKNOWN_INPUT })).toEqual([]);
  });

  it("username and password are 1–256 characters without white space, and the message never quotes them", () => {
    expect(failuresOf({ basicAuthUsername: "a".repeat(256), basicAuthPassword: "b".repeat(256) })).toEqual(
      [],
    );
    const long = failuresOf({ basicAuthPassword: "x".repeat(257) });
    expect(long.map((f) => f.property)).toEqual(["basicAuthPassword"]);
    const spaced = failuresOf({ basicAuthUsername: "two words", basicAuthPassword: "pass word secret" });
    expect(spaced.map((f) => f.property).sort()).toEqual(["basicAuthPassword", "basicAuthUsername"]);
    expect(JSON.stringify(spaced)).not.toContain("secret");
    expect(failuresOf({ basicAuthPassword: "   " }).map((f) => f.property)).toEqual(["basicAuthPassword"]);
    expect(BASIC_AUTH_MAX_LENGTH).toBe(256);
  });
});

describe("isAdoptable", () => {
  it("matches our own subscription (project, event, filters, URL) and nothing else", () => {
    const d = desired();
    expect(isAdoptable(liveFrom(d), d)).toBe(true);
    expect(isAdoptable(liveFrom(d, { status: "disabledBySystem" }), d)).toBe(true);
    expect(isAdoptable(liveFrom({ ...d, url: "https://rx.example.net/other" }), d)).toBe(false);
    expect(isAdoptable(liveFrom({ ...d, filters: { branch: "dev" } }), d)).toBe(false);
    expect(isAdoptable(liveFrom({ ...d, projectId: "p2" }), d)).toBe(false);
    expect(isAdoptable(liveFrom({ ...d, eventType: "git.pullrequest.created", filters: {} }), d)).toBe(false);
  });
});

describe("fleet planning", () => {
  it("names one hook per project id and event type, defaults to the 8 default events", () => {
    const events = normalizeEventTypes(undefined);
    expect(events).toHaveLength(8);
    const plan = planHooks(
      "hf",
      [
        { id: "b", name: "Zeta", state: "wellFormed" },
        { id: "a", name: "Alpha", state: "wellFormed" },
      ],
      events,
    );
    expect(plan).toHaveLength(16);
    expect(plan[0].name).toBe("hf-a-git.push");
    expect(new Set(plan.map((p) => p.name)).size).toBe(16);
  });

  it("keeps per-event filters and rejects unknown or repeated event types", () => {
    expect(
      normalizeEventTypes(["git.push", { eventType: "build.complete", filters: { buildStatus: "failed" } }]),
    ).toEqual([
      { eventType: "git.push", filters: {} },
      { eventType: "build.complete", filters: { buildStatus: "failed" } },
    ]);
    expect(() => normalizeEventTypes(["git.pushed"])).toThrow(/unknown ADO event type/);
    expect(() => normalizeEventTypes(["git.push", "git.push"])).toThrow(/twice/);
  });

  it("parses ADO's header format", () => {
    expect(parseHeaders("A: 1\nB:two:three\n\nbad")).toEqual({ A: "1", B: "two:three" });
  });
});

describe("preview with unknown inputs", () => {
  it("does not fail check on values the engine does not know yet", () => {
    const { failures } = checkServiceHookInputs({
      orgUrl: "https://dev.azure.com/contoso",
      projectId: "p1",
      eventType: "git.push",
      url: UNKNOWN_INPUT,
      basicAuthPassword: UNKNOWN_INPUT,
    });
    expect(failures).toEqual([]);
    expect(
      checkServiceHookInputs({ orgUrl: "x", projectId: "p1", eventType: "git.push", url: UNKNOWN_INPUT })
        .failures,
    ).toEqual([{ property: "orgUrl", reason: expect.stringMatching(/^must be an organization URL/) }]);
  });
});

describe("organization identity", () => {
  it("treats another spelling of the same organization as no change", () => {
    const d = desired();
    for (const spelling of [
      "https://dev.azure.com/Contoso",
      "https://dev.azure.com/contoso/",
      "HTTPS://DEV.AZURE.COM/contoso",
      "https://contoso.visualstudio.com",
      "https://Contoso.visualstudio.com/DefaultCollection/",
    ]) {
      const checked = checkServiceHookInputs({ ...d, orgUrl: spelling });
      expect(checked.failures).toEqual([]);
      expect(checked.inputs.orgUrl).toBe("https://dev.azure.com/contoso");
      // State written with the old spelling, desired with the new one: nothing to do.
      expect(diffServiceHook({ ...recorded(d), orgUrl: spelling }, checked.inputs)).toMatchObject({
        changes: false,
        replaces: [],
      });
    }
  });

  it("replaces on a real change of organization, creating the new subscription first", () => {
    const d = desired();
    const elsewhere = checkServiceHookInputs({ ...d, orgUrl: "https://dev.azure.com/fabrikam" }).inputs;
    expect(diffServiceHook(recorded(d), elsewhere)).toMatchObject({
      changes: true,
      replaces: ["orgUrl"],
      deleteBeforeReplace: false,
    });
    // Every replacement creates first: the old subscription keeps delivering until the new one exists.
    expect(diffServiceHook(recorded(d), { ...d, projectId: "other" }).deleteBeforeReplace).toBe(false);
  });
});

describe("carriedFacts", () => {
  it("gives every fact a default when state from an earlier release lacks it", () => {
    expect(carriedFacts({})).toEqual({
      orgUrl: "",
      passwordHash: "",
      testDelivery: true,
      lastTestDelivery: "unknown",
      adopted: false,
      warnings: [],
    });
    expect(
      carriedFacts({
        orgUrl: "https://dev.azure.com/contoso",
        adopted: true,
        lastTestDelivery: "failed",
        warnings: ["x"],
      }),
    ).toMatchObject({ adopted: true, lastTestDelivery: "failed", warnings: ["x"] });
  });
});
