/**
 * `LocalReceiverRevision`: for a receiver the program does not deploy but whose host takes
 * revisions (`npm run sandbox`'s local receivers), the step that Azure's Container App revision is
 * for a deployed one: the receiver gets the credential hashes *before* the hooks use a credential.
 *
 * On Azure, the hooks' URL comes from the Container App's outputs, so ADO is given a new URL token
 * or password only once the revision that accepts it runs (components/receiver/index.ts). Here the
 * hooks' base URL comes from this resource's `receiverUrl` output, which resolves once the
 * receiver's host confirmed the new settings: on a first `up` the test deliveries of new hooks
 * reach a receiver that knows their credentials, and a rotation reaches the receiver first. How the
 * settings travel: ./local-revision-provider.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CredentialSettings } from "../../app/config";
import { StubbedDynamicResource } from "../dynamic";

/** Type token of LocalReceiverRevision resources in state and in mocks. */
export const LOCAL_RECEIVER_REVISION_TYPE = "pulumi-nodejs:dynamic/hookfleet:LocalReceiverRevision";

export interface LocalReceiverRevisionArgs {
  /** The receiver's base URL, e.g. http://127.0.0.1:7071 (the hooks deliver under it). */
  receiverUrl: pulumi.Input<string>;
  /** Its host's revision endpoint, e.g. http://127.0.0.1:7073/receivers/receiver/revision. */
  revisionUrl: pulumi.Input<string>;
  /** The settings the receiver must run with (hashes only; kept secret all the same). */
  settings: pulumi.Input<CredentialSettings>;
}

export class LocalReceiverRevision extends StubbedDynamicResource {
  /** The receiver's base URL, once it runs with `settings`: build what depends on that from this. */
  declare readonly receiverUrl: pulumi.Output<string>;
  /** Fingerprint of the settings the receiver runs with. */
  declare readonly revision: pulumi.Output<string>;

  constructor(name: string, args: LocalReceiverRevisionArgs, opts?: pulumi.CustomResourceOptions) {
    // Served by the provider named LocalReceiverRevision behind dynamic-providers.cjs (components/dynamic/registry.ts).
    super(
      "LocalReceiverRevision",
      "hookfleet",
      "LocalReceiverRevision",
      name,
      {
        receiverUrl: args.receiverUrl,
        revisionUrl: args.revisionUrl,
        settings: pulumi.secret(args.settings),
        revision: undefined,
      },
      opts,
    );
  }
}
