/**
 * What several HookFleets add up to (a destination's fleets, one per organization; or an
 * organization's fleets, one per destination): the figures stack outputs report.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SubscriptionStatus } from "../../ado/types";
import { SUBSCRIPTION_STATUSES } from "../../ado/types";
import type { HookFleet, HookNotEnabled } from "./hook-fleet";

export interface FleetSummary {
  /** Hooks managed. */
  hookCount: number;
  /** Hooks per live status, every status listed (zero included). */
  statusCounts: Record<SubscriptionStatus, number>;
  /** Hooks not enabled after this run. */
  hooksNotEnabled: HookNotEnabled[];
  /** Names of hooks whose test notification failed at their last create/update. */
  failedTestDeliveries: string[];
  /** What someone must act on, one line each. */
  warnings: string[];
}

/** Every status at zero: the start of a count. */
export function zeroStatusCounts(): Record<SubscriptionStatus, number> {
  return Object.fromEntries(SUBSCRIPTION_STATUSES.map((s) => [s, 0])) as Record<SubscriptionStatus, number>;
}

/** The sum of these fleets (in their order). No fleets: zeros and empty lists. */
export function summariseFleets(fleets: HookFleet[]): pulumi.Output<FleetSummary> {
  return pulumi
    .all(
      fleets.map((f) =>
        pulumi.all([f.hookCount, f.statusCounts, f.hooksNotEnabled, f.failedTestDeliveries, f.warnings]),
      ),
    )
    .apply((parts) => {
      const summary: FleetSummary = {
        hookCount: 0,
        statusCounts: zeroStatusCounts(),
        hooksNotEnabled: [],
        failedTestDeliveries: [],
        warnings: [],
      };
      for (const [count, counts, notEnabled, failed, warnings] of parts) {
        summary.hookCount += count;
        for (const [status, n] of Object.entries(counts) as [SubscriptionStatus, number][])
          summary.statusCounts[status] = (summary.statusCounts[status] ?? 0) + n;
        summary.hooksNotEnabled.push(...notEnabled);
        summary.failedTestDeliveries.push(...failed);
        summary.warnings.push(...warnings);
      }
      return summary;
    });
}
