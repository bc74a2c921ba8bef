/**
 * What every part of ReceiverInfra (monitoring, store, vault, registry, app, jobs) is built with:
 * the component as parent, where resources go, their physical names and how names are pinned.
 * Each part is a function creating children of the one component, so logical names and URNs stay
 * those of release 0.1 (test/receiver-infra/upgrade.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { NameKind } from "./names";

export interface ReceiverScope {
  /** The component's name: every child's logical name starts with it. */
  name: string;
  /** The ReceiverInfra component. */
  component: pulumi.ComponentResource;
  /** Resource group, region and tags every resource gets. */
  placed: {
    resourceGroupName: pulumi.Output<string>;
    location: pulumi.Output<string>;
    tags: Record<string, string>;
  };
  /** Physical name of each kind of resource. */
  names: pulumi.Output<Record<NameKind, string>>;
  /** The name suffix in use (hashed, or the user's nameSuffix). */
  suffix: pulumi.Output<string>;
  /** Subscription and tenant the deployer works in. */
  subscriptionId: pulumi.Output<string>;
  tenantId: pulumi.Output<string>;
  /**
   * True unless the user set nameSuffix: physical names are then pinned to what state holds
   * (ignoreChanges), so a stack created by an older release keeps its names.
   */
  pinNames: boolean;
}

/**
 * Options for a child carrying a physical name in `nameInput`. With pinned names, Pulumi "will
 * only use [the ignored properties] when creating the resource" (Pulumi docs, resource option
 * ignoreChanges): an existing resource keeps its recorded name, a new one gets today's.
 */
export function namedChild(
  scope: ReceiverScope,
  nameInput: string,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return {
    ...extra,
    parent: scope.component,
    ...(scope.pinNames ? { ignoreChanges: [...(extra.ignoreChanges ?? []), nameInput] } : {}),
  };
}

/** One physical name as an Output. */
export const nameOf = (scope: ReceiverScope, kind: NameKind): pulumi.Output<string> =>
  scope.names.apply((n) => n[kind]);
