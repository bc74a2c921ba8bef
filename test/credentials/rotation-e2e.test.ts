/**
 * No loss during rotation, end to end: the ADO emulator keeps delivering events to the receiver while
 * the URL token and the Basic password rotate twice, each rotation a `pulumi up` through the real
 * dynamic-provider host (new values → receiver revision with both hashes → hooks updated); the
 * previous values are refused once the overlap ends, and an `up` then changes nothing. Every event
 * is stored exactly once, a delivery still carrying the previous values lands during the overlap,
 * no hook delivery is refused, and afterwards each retired token gets 404 and each retired password
 * 401. (The same drill as `npm run soak:rotation`, smaller.)
 */
import { formatResult, runRotationSoak } from "../../scripts/soak/rotation";

test("URL token and Basic password rotate under load: nothing lost, nothing doubled, retired values refused", async () => {
  const r = await runRotationSoak({ events: 300, rotations: 2, concurrency: 8 });
  expect(r.sent).toBeGreaterThanOrEqual(300);
  expect(r.stored).toBe(r.sent);
  expect(r.lost).toBe(0);
  expect(r.duplicated).toBe(0);
  expect(r.overlapAccepted).toBe(true);
  expect(r.quietAfterOverlap).toBe(true);
  expect(r.failedDeliveries).toBe(0);
  expect(r.hooksNotEnabled).toBe(0);
  expect(r.staleRejected).toBe(true);
  expect(formatResult(r)).toMatch(
    /^rotation: rotations=2 sent=\d+ stored=\d+ lost=0 duplicated=0 stale-credential-rejected=yes$/,
  );
}, 120_000);
