import * as fs from "node:fs";
import * as path from "node:path";
import {
  downFor,
  formatDriftTable,
  nameFromUrn,
  parsePulumiJson,
  shortType,
  summariseDrift,
  summariseStackOutputs,
  typeFromUrn,
  urnHasType,
} from "../../scripts/lib/pulumiJson";
import { previewDriftCounts } from "./fixtures/preview-drift";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");

describe("parsePulumiJson", () => {
  it("reads a `pulumi preview --json` digest: steps, states, diffs, diagnostics, change summary", () => {
    const run = parsePulumiJson(fixture("preview-drift.json"));
    expect(run.steps.map((s) => s.op)).toEqual([
      "same",
      "refresh",
      "update",
      "create",
      "update",
      "replace",
      "create-replacement",
      "delete-replaced",
      "delete",
    ]);
    const disabled = run.steps[2];
    expect(disabled.type).toBe("pulumi-nodejs:dynamic/hookfleet:ServiceHook");
    expect(disabled.old?.outputs?.status).toBe("disabledBySystem");
    expect(disabled.diffKeys).toEqual(["status"]);
    expect(disabled.detailedDiff).toEqual({ status: "update" });
    expect(run.diagnostics).toEqual([
      expect.objectContaining({ severity: "warning", message: expect.stringContaining("HTTP 404") }),
    ]);
    expect(run.changeSummary).toEqual({ create: 1, delete: 1, replace: 1, same: 44, update: 2 });
  });

  it("reads engine events one per line (`pulumi up --json`), skipping non-JSON lines and debug diagnostics", () => {
    const run = parsePulumiJson(fixture("up-events.jsonl"));
    expect(run.steps.map((s) => `${s.op} ${nameFromUrn(s.urn)}`)).toEqual([
      "same hookfleet-prod",
      "update contoso-6ce954b1-git.push",
      "create contoso-8a1c2b3d-build.complete",
    ]);
    expect(run.steps[1].detailedDiff).toEqual({ status: "update" });
    expect(run.diagnostics.map((d) => d.severity)).toEqual(["warning"]);
    expect(run.changeSummary).toEqual({ create: 1, same: 45, update: 1 });
  });

  it("rejects output that holds no JSON, quoting what came instead", () => {
    expect(() => parsePulumiJson("error: no stack named 'dev' found\n")).toThrow(/no stack named 'dev'/);
    expect(() => parsePulumiJson("")).toThrow(/expected JSON/);
  });

  it("splits URNs into type, name and parent chain", () => {
    const urn =
      "urn:pulumi:prod::hookfleet::hookfleet:hooks:HookFleet$pulumi-nodejs:dynamic/hookfleet:ServiceHook::contoso-6ce954b1-git.push";
    expect(typeFromUrn(urn)).toBe("pulumi-nodejs:dynamic/hookfleet:ServiceHook");
    expect(shortType(typeFromUrn(urn))).toBe("ServiceHook");
    expect(nameFromUrn(urn)).toBe("contoso-6ce954b1-git.push");
    expect(urnHasType(urn, "hookfleet:hooks:HookFleet")).toBe(true);
    expect(urnHasType(urn, "hookfleet:receiver:ReceiverInfra")).toBe(false);
  });
});

describe("summariseDrift", () => {
  it("classifies every drifted hook once: disabled, deleted, changed, replaced, unwanted", () => {
    const summary = summariseDrift(parsePulumiJson(fixture("preview-drift.json")));
    expect(summary.clean).toBe(false);
    expect(summary.rows.map((r) => [r.kind, r.name])).toEqual([
      ["disabled", "contoso-6ce954b1-git.push"],
      ["deleted", "contoso-8a1c2b3d-build.complete"],
      ["changed", "contoso-5b7e4f7a-git.pullrequest.created"],
      ["replaced", "contoso-5b7e4f7a-workitem.updated"],
      ["unwanted", "contoso-0f3d2c1b-git.push"],
    ]);
    const [disabled, , changed, replaced] = summary.rows;
    expect(disabled.detail).toBe("status: disabledBySystem after 8 failed retries → enabled");
    expect(disabled.status).toBe("disabledBySystem");
    expect(changed.detail).toBe("changed: httpHeaders, url");
    expect(replaced.detail).toBe("replace (eventType)");
    expect(summary.counts).toEqual(previewDriftCounts);
    expect(summary.errors).toEqual([]);
  });

  it("reads the digest as the CLI writes it for `preview --refresh`: every refresh step quiet, findings in the steps after", () => {
    // preview-drift-cli.json: each refresh step's newState is the stored state again, and the
    // deleted hook is only a `create` of a URN that was refreshed (fixtures/README.md).
    const run = parsePulumiJson(fixture("preview-drift-cli.json"));
    const deleted = run.steps.filter((s) => nameFromUrn(s.urn) === "contoso-8a1c2b3d-build.complete");
    expect(deleted.map((s) => s.op)).toEqual(["refresh", "create"]);
    expect(deleted[0].new).toEqual(deleted[0].old);
    const summary = summariseDrift(run);
    expect(summary.rows.map((r) => [r.kind, r.name, r.op])).toEqual([
      ["disabled", "contoso-6ce954b1-git.push", "update"],
      ["deleted", "contoso-8a1c2b3d-build.complete", "create"],
      ["changed", "contoso-5b7e4f7a-git.pullrequest.created", "update"],
      ["replaced", "contoso-5b7e4f7a-workitem.updated", "replace"],
      ["unwanted", "contoso-0f3d2c1b-git.push", "delete"],
    ]);
    const [disabled, gone, changed] = summary.rows;
    expect(disabled.detail).toBe("status: disabledBySystem after 8 failed retries → enabled");
    expect(gone.detail).toBe("gone from the live system; will be created again");
    // The dynamic provider's diff names no keys, and both sides of a secret read "[secret]".
    expect(changed.detail).toBe("changed: (provider reported a difference)");
    expect(summary.counts).toEqual(previewDriftCounts);
  });

  it("tells a hook created for a new project (missing) from one deleted in ADO (deleted)", () => {
    const run = parsePulumiJson(fixture("preview-drift.json"));
    run.steps = run.steps.filter((s) => s.op !== "refresh");
    const created = summariseDrift(run).rows.find((r) => r.op === "create");
    expect(created?.kind).toBe("missing");
  });

  it("is clean when only the stack itself appears, and reports program errors", () => {
    expect(summariseDrift(parsePulumiJson(fixture("preview-clean.json")))).toMatchObject({
      clean: true,
      rows: [],
    });
    const failed = summariseDrift(parsePulumiJson(fixture("preview-error.json")));
    expect(failed.clean).toBe(true);
    expect(failed.errors).toEqual([expect.stringContaining("ADO answered 401")]);
  });

  it("never carries a secret value into the summary", () => {
    const text = JSON.stringify(summariseDrift(parsePulumiJson(fixture("preview-drift.json"))));
    expect(text).not.toContain("[secret]");
    expect(text).not.toContain("webhooks/");
  });
});

describe("formatDriftTable", () => {
  it("prints one line per drifted resource with how long a disabled hook has been down", () => {
    const summary = summariseDrift(parsePulumiJson(fixture("preview-drift.json")));
    // A provider that reports when the status changed gets a "down for" column.
    summary.rows[0].since = "2026-11-20T23:40:00Z";
    const table = formatDriftTable(summary, new Date("2026-11-21T02:10:00Z"));
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^KIND\s+RESOURCE\s+TYPE\s+DETAIL\s+DOWN FOR$/);
    expect(lines[1]).toMatch(
      /^disabled\s+contoso-6ce954b1-git\.push\s+ServiceHook\s+status: disabledBySystem after 8 failed retries → enabled\s+2h 30m$/,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^deleted\s+contoso-8a1c2b3d-build\.complete/));
    expect(lines[lines.length - 1]).toBe(
      "Drift: 5 resource(s) (1 disabled, 1 deleted, 1 changed, 1 replaced, 1 unwanted).",
    );
  });

  it("prints the same rows for the hand-written digest and the one in the CLI's shape", () => {
    const rows = (name: string) =>
      formatDriftTable(summariseDrift(parsePulumiJson(fixture(name))))
        .split("\n")
        .map((line) => line.split(/\s+/).slice(0, 2).join(" "));
    expect(rows("preview-drift-cli.json")).toEqual(rows("preview-drift.json"));
  });

  it("leaves out the downtime column when no provider reported it", () => {
    const table = formatDriftTable(summariseDrift(parsePulumiJson(fixture("preview-drift.json"))));
    expect(table.split("\n")[0]).toMatch(/^KIND\s+RESOURCE\s+TYPE\s+DETAIL$/);
  });

  it("says so when nothing drifted", () => {
    expect(formatDriftTable(summariseDrift({ steps: [], diagnostics: [] }))).toMatch(/^No drift/);
  });

  it("formats downtime in days and hours, and leaves unknown times empty", () => {
    const now = new Date("2026-11-23T05:00:00Z");
    expect(downFor("2026-11-20T23:40:00Z", now)).toBe("2d 5h");
    expect(downFor("not a date", now)).toBe("");
    expect(downFor("2026-11-24T00:00:00Z", now)).toBe("");
  });
});

describe("summariseStackOutputs", () => {
  it("reports hooks per status, the ones not enabled, failed test deliveries and the next credential runs", () => {
    const outputs = JSON.parse(fixture("stack-outputs.json"));
    expect(summariseStackOutputs(outputs)).toEqual([
      "hooks in contoso: 55 enabled, 1 disabledBySystem",
      "hooks in labs: 20 enabled",
      "not enabled in contoso: git.push in Payments (disabledBySystem) — contoso-6ce954b1-git.push",
      "test delivery failed for contoso (1 hook(s), no 2xx): contoso-5b7e4f7a-git.pullrequest.created",
      "next credential runs: urlToken 2027-02-20T09:00:00.000Z, basicPassword 2027-02-20T09:00:00.000Z, readToken 2027-02-20T09:00:00.000Z",
    ]);
    expect(summariseStackOutputs(outputs).join("\n")).not.toContain("[secret]");
  });

  it("prints each warning someone must act on, after the hook lines", () => {
    const outputs = {
      ...JSON.parse(fixture("stack-outputs.json")),
      warnings: [
        'AdoPat "hookfleet-prod-contoso": rotation is due since 2027-02-01T00:00:00.000Z and was not made',
      ],
    };
    const lines = summariseStackOutputs(outputs);
    expect(lines).toContain(
      'warning: AdoPat "hookfleet-prod-contoso": rotation is due since 2027-02-01T00:00:00.000Z and was not made',
    );
    expect(lines.indexOf(lines.find((l) => l.startsWith("warning:"))!)).toBeGreaterThan(
      lines.indexOf(lines.find((l) => l.startsWith("test delivery failed"))!),
    );
  });

  it("prints warnings and reads diagnostics with ADO's words scrubbed: a stack written before the scrubbing may hold a URL token", () => {
    const token = "alw_summaryTokenSecret0123456789abcdef";
    const said = `HTTP 502 Bad Gateway: no backend for /api/v1/webhooks/${token}`;
    const lines = summariseStackOutputs({
      warnings: [`hf-x-git.push: ADO's test notification failed (${said})`],
    });
    expect(lines).toEqual([
      // The segment after /webhooks/ goes whole, whatever it holds (a closing parenthesis too).
      "warning: hf-x-git.push: ADO's test notification failed (HTTP 502 Bad Gateway: no backend for /api/v1/webhooks/[redacted]",
    ]);
    const run = parsePulumiJson(
      JSON.stringify({ steps: [], diagnostics: [{ urn: "", message: `error: ${said}`, severity: "error" }] }),
    );
    expect(run.diagnostics[0].message).toBe(
      "error: HTTP 502 Bad Gateway: no backend for /api/v1/webhooks/[redacted]",
    );
    expect(summariseDrift(run).errors.join("\n")).not.toContain(token);
  });

  it("says nothing about outputs a stack does not have", () => {
    expect(summariseStackOutputs({})).toEqual([]);
  });

  it("with destinations: hooks per destination, failures per destination, the product to reconnect and by when", () => {
    const zero = {
      enabled: 0,
      onProbation: 0,
      disabledByUser: 0,
      disabledBySystem: 0,
      disabledByInactiveIdentity: 0,
    };
    const reconnect =
      'destination "productb": reconnect in productb with the replacement token by 2027-01-13T00:00:00.000Z ' +
      "(its ADO PAT rotated at 2027-01-06T00:00:00.000Z; the previous one is revoked after that; the new one: " +
      "pulumi stack output destinationPats --show-secrets)";
    const lines = summariseStackOutputs({
      hookCounts: { contoso: { ...zero, enabled: 133 }, labs: { ...zero, enabled: 90 } },
      destinationHookCounts: {
        receiver: { ...zero, enabled: 76 },
        producta: { ...zero, enabled: 117, disabledBySystem: 2 },
        productb: { ...zero, enabled: 28 },
      },
      failedTestDeliveries: {
        receiver: [],
        producta: ["producta-6ce954b1-git.push", "producta-0f3d2c1b-git.push"],
        productb: [],
      },
      warnings: [reconnect],
      destinationPats: "[secret]",
      credentialsNextRotation: {
        urlToken: "2027-02-20T09:00:00.000Z",
        "destinationPat-productb": "2027-03-07T00:00:00.000Z",
      },
    });
    expect(lines).toEqual([
      "hooks in contoso: 133 enabled",
      "hooks in labs: 90 enabled",
      "hooks for destination receiver: 76 enabled",
      "hooks for destination producta: 117 enabled, 2 disabledBySystem",
      "hooks for destination productb: 28 enabled",
      "test delivery failed for producta (2 hook(s), no 2xx): producta-6ce954b1-git.push, producta-0f3d2c1b-git.push",
      `warning: ${reconnect}`,
      "next credential runs: urlToken 2027-02-20T09:00:00.000Z, destinationPat-productb 2027-03-07T00:00:00.000Z",
    ]);
    expect(lines.join("\n")).not.toContain("[secret]");
  });

  it("the receiver alone (a stack without destinations): no destination lines", () => {
    const outputs = {
      ...JSON.parse(fixture("stack-outputs.json")),
      destinationHookCounts: { receiver: { enabled: 75 } },
    };
    expect(summariseStackOutputs(outputs).some((l) => l.startsWith("hooks for destination"))).toBe(false);
  });
});
