/**
 * ServiceHook: one Azure DevOps Web Hooks subscription as a Pulumi resource, with drift repair.
 *
 * State holds the provider as the tiny stub of components/dynamic/stub.ts (`provider("ServiceHook")`
 * of dynamic-providers.cjs), which runs components/hooks/provider.ts in the dynamic-provider host:
 * refresh and delete run today's code, and no credential or ADO client ends up in state.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SubscriptionStatus } from "../../ado/types";
import { StubbedDynamicResource } from "../dynamic/stub";
import { SERVICE_HOOK_SECRET_OUTPUTS } from "./mapping";
import type { MessagesToSend, ResourceDetailsToSend, TestDeliveryOutcome } from "./mapping";

/** Name of the ServiceHook provider in dynamic-providers.cjs (stored in state: never change it). */
export const SERVICE_HOOK_PROVIDER = "ServiceHook";

/** Type token of ServiceHook resources in state and in mocks. */
export const SERVICE_HOOK_TYPE = "pulumi-nodejs:dynamic/hookfleet:ServiceHook";

export interface ServiceHookArgs {
  /** Organization URL, e.g. https://dev.azure.com/contoso (any spelling of the same org is the same hook). */
  orgUrl: pulumi.Input<string>;
  /** Project id (GUID) the subscription listens to. */
  projectId: pulumi.Input<string>;
  /** ADO event type, e.g. `git.push` (see ado/events.ts); publisher and resource version follow from it. */
  eventType: pulumi.Input<string>;
  /** Publisher input filters besides the project (e.g. `{ branch: "main" }`); keys from the catalogue. */
  filters?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Receiver URL ADO posts to; stored as a secret (it may carry the URL token). */
  url: pulumi.Input<string>;
  /** Extra HTTP headers ADO sends; stored as a secret. */
  httpHeaders?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** HTTP Basic username. */
  basicAuthUsername?: pulumi.Input<string>;
  /** HTTP Basic password; stored as a secret, compared through its hash (ADO masks it on read). */
  basicAuthPassword?: pulumi.Input<string>;
  /** Resource details in each event: all (default), minimal or none. */
  resourceDetailsToSend?: pulumi.Input<ResourceDetailsToSend>;
  /** Message formats in each event: all (default), text, html, markdown or none. */
  messagesToSend?: pulumi.Input<MessagesToSend>;
  /** Detailed message formats in each event: all (default), text, html, markdown or none. */
  detailedMessagesToSend?: pulumi.Input<MessagesToSend>;
  /** Desired status: true (default) keeps it enabled, and re-enables it when ADO disabled it. */
  enabled?: pulumi.Input<boolean>;
  /** Send ADO's test notification after each create/update and warn when the receiver fails (default true). */
  testDelivery?: pulumi.Input<boolean>;
}

export class ServiceHook extends StubbedDynamicResource {
  /** ADO subscription id (the resource id; state does not store it twice). */
  readonly subscriptionId: pulumi.Output<string>;
  /** Live status at the last refresh or write: enabled, onProbation, disabledBySystem, … */
  declare readonly status: pulumi.Output<SubscriptionStatus>;
  /** Failed deliveries counted by ADO's probation. */
  declare readonly probationRetries: pulumi.Output<number>;
  /** Outcome of the test notification after the last create/update. */
  declare readonly lastTestDelivery: pulumi.Output<TestDeliveryOutcome>;
  /** True when create took over an identical subscription an interrupted run had left behind. */
  declare readonly adopted: pulumi.Output<boolean>;
  /** What the user must act on after the last create/update (a failed test delivery); [] when nothing. */
  declare readonly warnings: pulumi.Output<string[]>;
  declare readonly projectId: pulumi.Output<string>;
  declare readonly eventType: pulumi.Output<string>;

  constructor(name: string, args: ServiceHookArgs, opts?: pulumi.CustomResourceOptions) {
    const secretOrEmpty = <T>(v: pulumi.Input<T> | undefined, empty: T) =>
      v === undefined ? empty : pulumi.secret(v);
    super(
      SERVICE_HOOK_PROVIDER,
      "hookfleet",
      "ServiceHook",
      name,
      {
        orgUrl: args.orgUrl,
        projectId: args.projectId,
        eventType: args.eventType,
        filters: args.filters ?? {},
        url: pulumi.secret(args.url),
        httpHeaders: secretOrEmpty(args.httpHeaders, {}),
        basicAuthUsername: args.basicAuthUsername ?? "",
        basicAuthPassword: secretOrEmpty(args.basicAuthPassword, ""),
        resourceDetailsToSend: args.resourceDetailsToSend ?? "all",
        messagesToSend: args.messagesToSend ?? "all",
        detailedMessagesToSend: args.detailedMessagesToSend ?? "all",
        enabled: args.enabled ?? true,
        testDelivery: args.testDelivery ?? true,
        // Output-only properties: listed so Pulumi exposes them on the resource.
        status: undefined,
        probationRetries: undefined,
        lastTestDelivery: undefined,
        adopted: undefined,
        publisherId: undefined,
        resourceVersion: undefined,
        passwordHash: undefined,
        passwordSet: undefined,
        warnings: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: [...SERVICE_HOOK_SECRET_OUTPUTS] }),
    );
    this.subscriptionId = this.id;
  }
}
