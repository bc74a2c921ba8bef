/**
 * The providers behind dynamic-providers.cjs, by the name their stub passes. A name, once written
 * into state, must stay here forever (it may point at new code).
 *
 * Loaded only inside the dynamic-provider host (through the loader), never by the program.
 */
import type * as pulumi from "@pulumi/pulumi";
import { adoPatProvider } from "../credentials/ado-pat-provider";
import { rotatingSecretProvider } from "../credentials/rotating-secret-provider";
import { serviceHookProvider } from "../hooks/provider";
import { imageBuildProvider } from "../receiver/image/build-provider";
import { localReceiverRevisionProvider } from "../receiver/local-revision-provider";
import { propagationWaitProvider } from "../receiver/propagation-provider";

const PROVIDERS: Record<string, () => pulumi.dynamic.ResourceProvider> = {
  ServiceHook: () => serviceHookProvider,
  RotatingSecret: rotatingSecretProvider,
  AdoPat: adoPatProvider,
  CloudImageBuild: imageBuildProvider,
  PropagationWait: propagationWaitProvider,
  LocalReceiverRevision: localReceiverRevisionProvider,
};

/** The provider for a stub's name; each is made once per host process (the loader caches it). */
export function provider(name: string): pulumi.dynamic.ResourceProvider {
  const make = PROVIDERS[name];
  if (!make)
    throw new Error(
      `dynamic-providers.cjs: no provider named "${name}" (known: ${Object.keys(PROVIDERS).join(", ")})`,
    );
  return make();
}
