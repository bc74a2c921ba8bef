/**
 * Where the receiver image comes from, and the identity's right to pull it. Three cases:
 * - `image` given: that image (a prebuilt one, e.g. promoted by CI); AcrPull on `acrResourceId` if set.
 * - no `image`, `acrResourceId` given: built from app/ in Azure into that registry (ACR Tasks).
 * - neither (the default): a registry owned by the stack (admin user off), and the build into it.
 * The app then runs `<loginServer>/<repository>@<manifest digest>` of the build: pinned to exactly
 * what was built, and unchanged while the context digest (the tag) is.
 */
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import { Provider as AzureNativeProvider } from "@pulumi/azure-native/provider";
import type * as managedidentity from "@pulumi/azure-native/managedidentity";
import { acrServerOf, type ImageBuildArgs } from "./args";
import { parseRegistryId } from "./arm";
import { CloudImageBuild } from "./image";
import { azureRoleIds, roleDefinitionId } from "./roles";
import { nameOf, namedChild, type ReceiverScope } from "./scope";

export interface ReceiverImage {
  /** Image reference the app and the jobs run. */
  image: pulumi.Output<string>;
  /** Container Apps `registries` entries: pull from the ACR as the identity (none for a public image). */
  registries: pulumi.Output<{ server: string; identity: pulumi.Output<string> | string }[]>;
  /** AcrPull of the identity, when the component grants it. */
  pullRole?: authorization.RoleAssignment;
  /** The cloud build, when the component builds. */
  build?: CloudImageBuild;
  /** The registry the component owns, when it owns one. */
  registry?: containerregistry.Registry;
}

export function createReceiverImage(
  scope: ReceiverScope,
  args: {
    image?: pulumi.Input<string>;
    acrResourceId?: pulumi.Input<string>;
    imageBuild?: ImageBuildArgs;
    identity: managedidentity.UserAssignedIdentity;
  },
): ReceiverImage {
  const { name, placed } = scope;
  const child = { parent: scope.component };
  const identityId = args.identity.id;

  // AcrPull on a registry, so the app pulls with its identity (no admin user, no password).
  const grantPull = (registryId: pulumi.Input<string>) =>
    new authorization.RoleAssignment(
      `${name}-acr-pull`,
      {
        principalId: args.identity.principalId,
        principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId: pulumi
          .all([registryId, scope.subscriptionId])
          .apply(([id, sub]) =>
            roleDefinitionId(parseRegistryId(id)?.subscriptionId ?? sub, azureRoleIds.acrPull),
          ),
        scope: registryId,
      },
      child,
    );

  if (args.image !== undefined) {
    const pullRole = args.acrResourceId ? grantPull(args.acrResourceId) : undefined;
    const registries = pulumi.output(args.image).apply((image) => {
      const server = acrServerOf(image);
      if (server && !args.acrResourceId) {
        void pulumi.log.warn(
          `ReceiverInfra: ${server} is an ACR but acrResourceId is not set: grant AcrPull to the identity yourself`,
          scope.component,
        );
      }
      return server ? [{ server, identity: identityId }] : [];
    });
    return { image: pulumi.output(args.image), registries, pullRole };
  }

  let registryId: pulumi.Output<string>;
  let loginServer: pulumi.Output<string>;
  let registry: containerregistry.Registry | undefined;
  if (args.acrResourceId) {
    registryId = pulumi.output(args.acrResourceId);
    const found = registryId.apply((id) => {
      const parsed = parseRegistryId(id);
      if (!parsed) throw new Error(`ReceiverInfra: acrResourceId is not a registry id: ${id}`);
      return parsed;
    });
    // getRegistry takes no subscription (GetRegistryArgs: resourceGroupName, registryName): it asks
    // in its provider's subscription. A shared registry often lives in another one than the stack
    // (stacks/Pulumi.staging.yaml), so the lookup goes through a provider set to the registry's own
    // subscription ("azure-native.Provider", Pulumi Registry: subscriptionId "The Subscription ID
    // which should be used"; invoke option `provider`, Pulumi docs "Provider functions"). Always,
    // not only when the subscriptions differ: the deployer's subscription is an Output of
    // getClientConfig, and a provider created inside an apply would come and go between runs. An
    // explicit provider does not read the stack's `azure-native:*` config (Pulumi docs, "Providers":
    // only default providers do): it authenticates from the environment (az login, ARM_* variables,
    // OIDC), as the deploy's credentials are documented to come (README); the cloud's name is passed on.
    const registrySubscription = new AzureNativeProvider(
      `${name}-acr-subscription`,
      {
        subscriptionId: found.subscriptionId,
        environment: new pulumi.Config("azure-native").get("environment"),
      },
      child,
    );
    loginServer = containerregistry.getRegistryOutput(
      { resourceGroupName: found.resourceGroup, registryName: found.name },
      { parent: scope.component, provider: registrySubscription },
    ).loginServer;
  } else {
    // The stack's own registry: Basic is enough for one image; no admin user, no anonymous pull.
    registry = new containerregistry.Registry(
      `${name}-registry`,
      {
        ...placed,
        registryName: nameOf(scope, "containerRegistry"),
        sku: { name: containerregistry.SkuName.Basic },
        adminUserEnabled: false,
        anonymousPullEnabled: false,
      },
      namedChild(scope, "registryName"),
    );
    registryId = registry.id;
    loginServer = registry.loginServer;
  }
  const pullRole = grantPull(registryId);
  const build = new CloudImageBuild(
    `${name}-image`,
    {
      registryId,
      loginServer,
      repository: args.imageBuild?.repository,
      timeoutSeconds: args.imageBuild?.timeoutSeconds,
      contextDir: args.imageBuild?.contextDir,
      dockerfile: args.imageBuild?.dockerfile,
    },
    child,
  );
  return {
    image: pulumi.interpolate`${loginServer}/${build.repository}@${build.digest}`,
    registries: loginServer.apply((server) => [{ server, identity: identityId }]),
    pullRole,
    build,
    registry,
  };
}
