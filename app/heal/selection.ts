/**
 * Which of an organization's HookFleet hooks a heal run reads the delivery history of (one ADO call
 * each): every hook not enabled, and the enabled hooks that were changed recently.
 *
 * Why the second group: `pulumi up` (the ServiceHook provider) and people put disabled hooks back to
 * `enabled` without replaying what failed, and ADO does not deliver those events again
 * (../shared/design/azure-devops-facts.md, "How ADO disables a hook"). A hook so re-enabled between
 * two runs is enabled when the next run lists it; it is found by its `modifiedDate`, which a PUT
 * moves past `createdDate` while a hook only created keeps the two equal (Microsoft's examples in
 * ../shared/ado-spec/hooks/7.1/httpExamples/subscriptions/: POST__hooks_subscriptions.json has both
 * equal, PUT__hooks_subscriptions__newSubscriptionId_.json a later modifiedDate, and the enabled
 * hooks of GET__hooks_subscriptions_.json equal ones; live ADO doing otherwise is *unconfirmed*: a
 * re-enabled hook read as unchanged would need --include-enabled, an enabled hook whose date ADO
 * moved on its own costs one read). A fresh `pulumi up` of many hooks thus costs no history reads;
 * a rotation that PUTs every hook costs one read per hook per run for the window.
 *
 * Pure: no I/O.
 */
import type { Subscription } from "../../ado/types";
import { instant, subscriptionStatus } from "../../ado/wire";
export interface SelectionOptions {
  /** Read every enabled hook too (`--include-enabled`). */
  includeEnabled: boolean;
  /** Enabled hooks changed within this many milliseconds before `now` are read; 0: none. */
  recentMs: number;
  /** The run's clock, in epoch milliseconds. */
  now: number;
}

export interface HookSelection {
  /** Hooks not enabled (on probation or disabled), in listing order. */
  notEnabled: Subscription[];
  /** Enabled hooks whose failed deliveries are looked for (replay only, no PUT). */
  enabledToRead: Subscription[];
}

/**
 * True when ADO says the hook was modified after it was created, within `recentMs` before `now`.
 * A hook with no readable `modifiedDate` is not counted as changed. One with no readable
 * `createdDate` but a recent `modifiedDate` is: it may have been re-enabled, and a read is cheap.
 */
export function changedRecently(sub: Subscription, now: number, recentMs: number): boolean {
  if (!(recentMs > 0)) return false;
  const modified = instant(sub.modifiedDate);
  if (Number.isNaN(modified) || now - modified > recentMs) return false;
  const created = instant(sub.createdDate);
  return Number.isNaN(created) || modified > created;
}

export function selectHooks(subs: readonly Subscription[], opts: SelectionOptions): HookSelection {
  const notEnabled: Subscription[] = [];
  const enabledToRead: Subscription[] = [];
  for (const sub of subs) {
    // Enabled subscriptions carry no `status` at all in ADO's own example (ado/wire.ts).
    if (subscriptionStatus(sub) !== "enabled") notEnabled.push(sub);
    else if (opts.includeEnabled || changedRecently(sub, opts.now, opts.recentMs)) enabledToRead.push(sub);
  }
  return { notEnabled, enabledToRead };
}
