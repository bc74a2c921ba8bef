/**
 * `PropagationWait`: a bounded pause in the deployment graph where Azure needs time before a new
 * thing is usable, although ARM already reported it created. Put it between the thing and its first
 * use (`dependsOn`); it waits on create, and again only when its `triggers` change (a new identity, a
 * new role assignment), never on an unchanged stack. In preview it does nothing.
 *
 * A wait rather than a retry because the failing calls are made by azure-native, whose resources
 * cannot be told to retry a 400; each use names the Azure behaviour it covers.
 */
import * as pulumi from "@pulumi/pulumi";
import { StubbedDynamicResource } from "../dynamic";

/** Type token of PropagationWait resources in state and in mocks. */
export const PROPAGATION_WAIT_TYPE = "pulumi-nodejs:dynamic/hookfleet:PropagationWait";

/** Longest wait a PropagationWait accepts (seconds): keeps a deploy bounded. */
export const MAX_PROPAGATION_WAIT_SECONDS = 600;

export interface PropagationWaitArgs {
  /** Seconds to wait on create and whenever `triggers` change; 1 to MAX_PROPAGATION_WAIT_SECONDS. */
  seconds: number;
  /** What must propagate (ids of the identity or role assignments): a change waits again. */
  triggers: pulumi.Input<pulumi.Input<string>[]>;
  /** The Azure behaviour waited for, stored for whoever reads the state. */
  reason: string;
}

export class PropagationWait extends StubbedDynamicResource {
  /** When the wait last ended (ISO time). */
  declare readonly waitedAt: pulumi.Output<string>;

  constructor(name: string, args: PropagationWaitArgs, opts?: pulumi.CustomResourceOptions) {
    if (!Number.isInteger(args.seconds) || args.seconds < 1 || args.seconds > MAX_PROPAGATION_WAIT_SECONDS) {
      throw new Error(
        `PropagationWait ${name}: seconds must be a whole number from 1 to ${MAX_PROPAGATION_WAIT_SECONDS}, got ${args.seconds}`,
      );
    }
    // Served by the provider named PropagationWait behind dynamic-providers.cjs (components/dynamic/registry.ts).
    super(
      "PropagationWait",
      "hookfleet",
      "PropagationWait",
      name,
      { seconds: args.seconds, triggers: args.triggers, reason: args.reason, waitedAt: undefined },
      opts,
    );
  }
}
