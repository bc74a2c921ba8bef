/** ado/wire.ts: how ADO's sparse answers are read (absent fields, mixed timestamps, rm events). */
import {
  compareInstants,
  eventProjectId,
  instant,
  notificationResult,
  notificationStatus,
  probationRetriesOf,
  subscriptionStatus,
} from "../../ado/wire";
import { sampleEvent } from "../../devkit/ado-events";

test("status: absent is enabled (Microsoft's example), spelled out reads the same, others as sent", () => {
  expect(subscriptionStatus({})).toBe("enabled");
  expect(subscriptionStatus({ status: "enabled" })).toBe("enabled");
  expect(subscriptionStatus({ status: "disabledBySystem" })).toBe("disabledBySystem");
});

test("probationRetries: absent is 0; a number or the spec's string both read as a number", () => {
  expect([undefined, 6, "3", "junk"].map((p) => probationRetriesOf({ probationRetries: p }))).toEqual([
    0, 6, 3, 0,
  ]);
});

test("a notification's absent result and status read as the enums' first values: pending, queued", () => {
  expect(notificationResult({})).toBe("pending");
  expect(notificationStatus({})).toBe("queued");
  expect(notificationResult({ result: "failed" })).toBe("failed");
});

test("timestamps with 2, 3 or 7 fractional digits compare as instants, not as text", () => {
  const twoDigits = "2014-10-27T15:37:26.12Z";
  const sevenDigits = "2014-10-27T15:37:26.1234567Z";
  expect(twoDigits > sevenDigits).toBe(true); // what text comparison says, wrongly
  expect(compareInstants(twoDigits, sevenDigits)).toBeLessThan(0);
  expect(compareInstants("2014-10-27T15:37:24.873Z", "2014-10-27T15:37:26.23Z")).toBeLessThan(0);
  expect(instant("2020-11-02T22:56:52.1033333Z")).toBe(Date.parse("2020-11-02T22:56:52.103Z"));
  expect(Number.isNaN(instant(undefined))).toBe(true);
  expect(compareInstants(undefined, twoDigits)).toBeLessThan(0);
});

test("an event's project: the project container, else resource.project (release events)", () => {
  const push = sampleEvent("git.push");
  expect(eventProjectId(push)).toBe(push.resourceContainers.project?.id);
  const release = sampleEvent("ms.vss-release.deployment-started-event");
  expect(release.resourceContainers.project).toBeUndefined();
  expect(eventProjectId(release)).toBe((release.resource.project as { id: string }).id);
  expect(eventProjectId({ resource: {} })).toBeUndefined();
  expect(eventProjectId("not an event")).toBeUndefined();
});
