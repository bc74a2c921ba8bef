import * as fs from "node:fs";
import * as path from "node:path";
import { parseDestinations, parseOrganizations, secrecyOfKey } from "../../components/config";
import {
  configRmArgs,
  configSetArgs,
  planDestinationPatRotation,
  planRotation,
  rotationKeys,
  sandboxConfig,
  splitConfigPath,
} from "../../scripts/lib/stackConfig";

const now = new Date("2026-11-22T17:30:12.345Z");

describe("planRotation", () => {
  it("sets only the credential's nonce for a scheduled-style rotation, stamped with time and requester", () => {
    const plan = planRotation({ credential: "url-token", emergency: false, now, requestedBy: "alice" });
    expect(plan.sets).toEqual([
      { key: "hookfleet:urlTokenRotationNonce", value: "rotate-2026-11-22T17:30:12Z-alice" },
    ]);
  });

  it("also sets the overlap to 0 in an emergency and says how to restore it", () => {
    const plan = planRotation({
      credential: "basic-password",
      emergency: true,
      now,
      requestedBy: "bob",
      previousOverlapHours: "24",
    });
    expect(plan.sets).toEqual([
      { key: "hookfleet:basicPasswordRotationNonce", value: "emergency-2026-11-22T17:30:12Z-bob" },
      { key: "hookfleet:basicPasswordOverlapHours", value: "0" },
    ]);
    expect(plan.notes.join("\n")).toContain("pulumi config set hookfleet:basicPasswordOverlapHours 24");
  });

  it("keeps the requester safe to write into YAML and a command line", () => {
    const plan = planRotation({ credential: "pat", emergency: false, now, requestedBy: "a b;rm -rf\n" });
    expect(plan.sets[0].value).toBe("rotate-2026-11-22T17:30:12Z-abrm-rf");
    expect(plan.notes.join("\n")).toMatch(/Entra user token/);
  });

  it("uses the keys Pulumi.yaml declares for each credential", () => {
    const declared = fs.readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8");
    for (const credential of ["url-token", "basic-password", "read-token", "pat"] as const) {
      for (const key of Object.values(rotationKeys(credential))) {
        expect(declared).toContain(`\n  ${key.replace("hookfleet:", "")}:\n`);
      }
    }
  });
});

describe("planDestinationPatRotation", () => {
  const destinations = [
    { name: "receiver", kind: "receiver" },
    {
      name: "productb",
      kind: "webhook",
      url: "https://productb.example/hook",
      events: ["git.pullrequest.created"],
      pat: { scopes: ["vso.code_write", "vso.work"], overlapHours: 72 },
    },
  ];

  it("sets the destination's PAT nonce by path, and says to reconnect the product", () => {
    const plan = planDestinationPatRotation({
      destinations,
      destination: "productb",
      emergency: false,
      now,
      requestedBy: "alice",
    });
    expect(plan.sets).toEqual([
      {
        key: "hookfleet:destinations[1].pat.rotationNonce",
        value: "rotate-2026-11-22T17:30:12Z-alice",
        path: true,
      },
    ]);
    expect(configSetArgs(plan.sets[0], "prod")).toEqual([
      "config",
      "set",
      "--path",
      "hookfleet:destinations[1].pat.rotationNonce",
      "rotate-2026-11-22T17:30:12Z-alice",
      "--stack",
      "prod",
    ]);
    expect(plan.notes.join("\n")).toContain("Reconnect productb with the replacement token");
    // What it sets is what the program reads: the nonce lands in the destination's PAT.
    const orgs = parseOrganizations([{ url: "https://dev.azure.com/contoso" }]);
    const after = structuredClone(destinations);
    (after[1].pat as Record<string, unknown>).rotationNonce = plan.sets[0].value;
    const [, parsed] = parseDestinations(after, { organizations: orgs, secrecy: secrecyOfKey(true) });
    expect(parsed.kind === "webhook" && parsed.pat?.rotationNonce).toBe(plan.sets[0].value);
  });

  it("in an emergency also sets the overlap to 0 and says how to restore it", () => {
    const plan = planDestinationPatRotation({
      destinations,
      destination: "productb",
      emergency: true,
      now,
      requestedBy: "bob",
    });
    expect(plan.sets[1]).toEqual({
      key: "hookfleet:destinations[1].pat.overlapHours",
      value: "0",
      path: true,
    });
    expect(plan.notes.join("\n")).toContain(
      "pulumi config set --path 'hookfleet:destinations[1].pat.overlapHours' 72",
    );
  });

  it("names the destinations there are when the one asked for is missing or has no PAT", () => {
    expect(() =>
      planDestinationPatRotation({ destinations, destination: "producta", emergency: false, now }),
    ).toThrow("--destination producta: no such destination in hookfleet:destinations (receiver, productb)");
    expect(() =>
      planDestinationPatRotation({ destinations, destination: "receiver", emergency: false, now }),
    ).toThrow("--destination receiver has no pat in hookfleet:destinations[0]");
  });
});

describe("configSetArgs, configRmArgs and splitConfigPath", () => {
  it("leaves a secret's value out of argv: pulumi reads it from stdin", () => {
    const url = "http://127.0.0.1:7074/api/v1/webhooks/alw_secret";
    const args = configSetArgs(
      { key: "hookfleet:destinations[1].url", value: url, path: true, secret: true },
      "sandbox",
    );
    expect(args).toEqual([
      "config",
      "set",
      "--path",
      "--secret",
      "hookfleet:destinations[1].url",
      "--stack",
      "sandbox",
    ]);
    expect(args.join(" ")).not.toContain("alw_");
  });

  it("removes a key, with --path inside a structured value", () => {
    expect(configRmArgs("hookfleet:destinations[1].url", "sandbox", { path: true })).toEqual([
      "config",
      "rm",
      "--path",
      "hookfleet:destinations[1].url",
      "--stack",
      "sandbox",
    ]);
    expect(configRmArgs("hookfleet:urlTokenRotationNonce", "sandbox")).toEqual([
      "config",
      "rm",
      "hookfleet:urlTokenRotationNonce",
      "--stack",
      "sandbox",
    ]);
  });

  it("splits a config path into its key and the steps inside it", () => {
    expect(splitConfigPath("hookfleet:destinations[1].url")).toEqual({
      key: "hookfleet:destinations",
      path: [1, "url"],
    });
    expect(splitConfigPath("hookfleet:destinations[2].pat.overlapHours")).toEqual({
      key: "hookfleet:destinations",
      path: [2, "pat", "overlapHours"],
    });
    expect(splitConfigPath("hookfleet:receiverUrl")).toEqual({ key: "hookfleet:receiverUrl", path: [] });
    expect(() => splitConfigPath("hookfleet:destinations[x]")).toThrow("not a config path");
  });
});

describe("configSetArgs and sandboxConfig", () => {
  it("builds `pulumi config set` argv, with --path for structured keys", () => {
    expect(configSetArgs({ key: "hookfleet:urlTokenOverlapHours", value: "0" }, "prod")).toEqual([
      "config",
      "set",
      "hookfleet:urlTokenOverlapHours",
      "0",
      "--stack",
      "prod",
    ]);
    const [, , org, revision] = sandboxConfig({
      receiverUrl: "http://127.0.0.1:5000",
      receiverRevisionUrl: "http://127.0.0.1:5002/receivers/receiver/revision",
      organizationUrl: "http://127.0.0.1:5001/sandbox",
    });
    expect(revision).toEqual({
      key: "hookfleet:receiverRevisionUrl",
      value: "http://127.0.0.1:5002/receivers/receiver/revision",
    });
    expect(configSetArgs(org, "sandbox")).toEqual([
      "config",
      "set",
      "--path",
      "hookfleet:organizations[0].url",
      "http://127.0.0.1:5001/sandbox",
      "--stack",
      "sandbox",
    ]);
  });
});
