/**
 * The spec checker itself (test/ado/spec/swagger.ts): it accepts the requests Microsoft publishes
 * as examples and refuses what the spec does not allow, so that a clean result on our own
 * requests (requests.test.ts) means something.
 */
import { readExample, SpecSet } from "./swagger";

const specs = new SpecSet();
const q = (s = "") => new URLSearchParams(s);
const SUB = "/fabrikam/_apis/hooks/subscriptions";
const PATS = "/fabrikam/_apis/tokens/pats";

describe("finding the operation of a request", () => {
  test.each([
    ["GET", SUB, "api-version=7.1", "Subscriptions_List"],
    ["POST", SUB, "api-version=7.1", "Subscriptions_Create"],
    ["PUT", `${SUB}/fd672255-8b6b-4769-9260-beea83d752ce`, "", "Subscriptions_Replace Subscription"],
    ["GET", `${SUB}/fd672255-8b6b-4769-9260-beea83d752ce/notifications/12`, "", "Notifications_Get"],
    ["POST", "/fabrikam/_apis/hooks/testnotifications", "", "Notifications_Create"],
    ["GET", PATS, "authorizationId=3d3aca0c-9ad3-4b07-8334-08ec8b1ddc32", "Pats_Get"],
    ["GET", PATS, "displayFilterOption=active", "Pats_List"],
    ["GET", "/fabrikam/_apis/projects", "", "Projects_List"],
  ])("%s %s?%s → %s", (method, path, query, operationId) => {
    expect(specs.find(method, path, q(query))?.operationId).toBe(operationId);
  });

  test("there is no GET testnotifications/{id} in the spec", () => {
    expect(specs.find("GET", "/fabrikam/_apis/hooks/testnotifications/12", q())).toBeUndefined();
  });
});

describe("checking a request body against the operation's schema", () => {
  const example = (file: string) => readExample(file).parameters.body;

  test("Microsoft's own request examples conform", () => {
    const create = example("hooks/7.1/httpExamples/subscriptions/POST__hooks_subscriptions.json");
    expect(
      specs.checkRequest({ method: "POST", path: SUB, query: q("api-version=7.1"), body: create }),
    ).toEqual([]);
    const put = example(
      "hooks/7.1/httpExamples/subscriptions/PUT__hooks_subscriptions__newSubscriptionId_.json",
    );
    const putPath = `${SUB}/fd672255-8b6b-4769-9260-beea83d752ce`;
    expect(
      specs.checkRequest({ method: "PUT", path: putPath, query: q("api-version=7.1"), body: put }),
    ).toEqual([]);
    const pat = example("tokens/7.1/httpExamples/Pats/CreatePat.json");
    const patQuery = q("api-version=7.1-preview.1");
    expect(specs.checkRequest({ method: "POST", path: PATS, query: patQuery, body: pat })).toEqual([]);
  });

  test("an unknown field, a value outside an enum, a wrong type or format is named with where it is", () => {
    const body = {
      ...(example("hooks/7.1/httpExamples/subscriptions/POST__hooks_subscriptions.json") as object),
      colour: "blue",
      status: "paused",
      consumerInputs: { url: "https://x.example/", retries: 3 },
      createdDate: "yesterday",
    };
    const problems = specs.checkRequest({ method: "POST", path: SUB, query: q("api-version=7.1"), body });
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/body\.status: "paused" is not one of enabled, onProbation/),
        expect.stringMatching(/body\.consumerInputs\.retries: 3 is not a string/),
        expect.stringMatching(/body\.createdDate: "yesterday" is not a date-time/),
        expect.stringMatching(/body: "colour" is not a field of the spec/),
      ]),
    );
  });

  test("query parameters: required ones, enum values, types, unknown names and the api-version", () => {
    expect(
      specs.checkRequest({ method: "DELETE", path: PATS, query: q("api-version=7.1-preview.1") }),
    ).toEqual([expect.stringMatching(/Pats_Revoke: required query parameter "authorizationId" is missing/)]);
    expect(specs.checkRequest({ method: "PATCH", path: PATS, query: q() })).toEqual([
      expect.stringMatching(/no operation in the spec for PATCH/),
    ]);
    const list = (query: string) => specs.checkRequest({ method: "GET", path: PATS, query: q(query) });
    expect(list("api-version=7.1-preview.1&displayFilterOption=active&$top=100")).toEqual([]);
    expect(list("api-version=7.1-preview.1&displayFilterOption=current")).toEqual([
      expect.stringMatching(/displayFilterOption=current is not one of active, revoked, expired, all/),
    ]);
    expect(list("api-version=7.1&$top=lots&pageSize=5")).toEqual([
      expect.stringMatching(/api-version is 7\.1, the spec documents 7\.1-preview\.1/),
      expect.stringMatching(/\$top=lots is not an integer/),
      expect.stringMatching(/"pageSize" is not in the spec/),
    ]);
    expect(specs.checkRequest({ method: "POST", path: SUB, query: q("api-version=7.1") })).toEqual([
      expect.stringMatching(/the body is required/),
    ]);
    expect(specs.checkRequest({ method: "GET", path: SUB, query: q("api-version=7.1"), body: {} })).toEqual([
      expect.stringMatching(/sends a body the operation does not take/),
    ]);
  });

  test("response schemas: ADO's collection wrapper, and a field the spec does not have", () => {
    const found = specs.find("GET", `${SUB}/x/notifications`, q())!;
    expect(
      specs.checkResponse(found, { count: 1, value: [{ id: 1, subscriptionId: "s", result: "failed" }] }),
    ).toEqual([expect.stringMatching(/subscriptionId: "s" is not a uuid/)]);
    // Our first emulator put eventType on the notification; the spec has it in details.
    expect(
      specs.checkResponse(found, {
        count: 1,
        value: [{ id: 1, eventType: "git.push", details: { eventType: "git.push" } }],
      }),
    ).toEqual([expect.stringMatching(/value\[0\]: "eventType" is not a field of the spec/)]);
  });
});
