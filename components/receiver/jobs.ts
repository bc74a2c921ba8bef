/**
 * The scheduled heal job(s) beside the receiver (app/heal): no ingress, same image, environment and
 * identity, the receiver's store settings and Key Vault secrets, their own HOOKFLEET_HEAL_* settings.
 * One job per distinct PAT (the heal command takes one PAT; a managed PAT is scoped to one org).
 */
import * as pulumi from "@pulumi/pulumi";
import * as app from "@pulumi/azure-native/app";
import { defaultHealCommand, healJobGroups, type HealJobArgs } from "./args";
import type { EnvEntry } from "./environment";
import { resourceName, secretNameFor, stackSuffix } from "./names";
import type { VaultReference } from "./app";
import { namedChild, type ReceiverScope } from "./scope";

export interface HealJobsArgs {
  job: HealJobArgs;
  environment: app.ManagedEnvironment;
  identityId: pulumi.Output<string>;
  image: pulumi.Input<string>;
  registries: pulumi.Input<pulumi.Input<{ server: string; identity: pulumi.Input<string> }>[]>;
  /** The job's variables, for a group's PAT secret (Container App secret name) if any. */
  envFor: (urls: pulumi.Input<string>[], patSecretName?: string) => EnvEntry<pulumi.Input<string>>[];
  /** Key Vault references by Container App secret name. */
  vaultReferences: ReadonlyMap<string, VaultReference>;
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

export function createHealJobs(scope: ReceiverScope, args: HealJobsArgs): app.Job[] {
  const { name } = scope;
  return healJobGroups(args.job).map((group) => {
    const patSecretName = group.adoPatSecret ? secretNameFor(group.adoPatSecret) : undefined;
    const env = args.envFor(group.urls, patSecretName);
    const referenced = new Set(env.flatMap((e) => (e.secretRef ? [e.secretRef] : [])));
    // One job per PAT: the per-PAT part of its name is a short hash of the PAT's key.
    const jobName = group.adoPatSecret
      ? scope.suffix.apply((suffix) =>
          resourceName("containerAppJob", name, `${suffix}-${stackSuffix(group.adoPatSecret!, "", 4)}`),
        )
      : scope.names.apply((n) => n.containerAppJob);
    return new app.Job(
      group.adoPatSecret ? `${name}-heal-${patSecretName}` : `${name}-heal`,
      {
        resourceGroupName: scope.placed.resourceGroupName,
        location: scope.placed.location,
        tags: scope.placed.tags,
        jobName,
        environmentId: args.environment.id,
        identity: {
          type: app.ManagedServiceIdentityType.UserAssigned,
          userAssignedIdentities: [args.identityId],
        },
        configuration: {
          triggerType: app.TriggerType.Schedule,
          scheduleTriggerConfig: {
            cronExpression: args.job.cronExpression,
            parallelism: 1,
            replicaCompletionCount: 1,
          },
          replicaTimeout: args.job.timeoutSeconds ?? 1800,
          // A failed run is retried by the next schedule, not at once (ADO throttles bursts).
          replicaRetryLimit: 0,
          secrets: [...args.vaultReferences.values()].filter((s) => referenced.has(s.name)),
          registries: args.registries,
        },
        template: {
          containers: [
            {
              name: "heal",
              image: args.image,
              command: args.job.command ?? defaultHealCommand,
              env,
              resources: { cpu: 0.25, memory: "0.5Gi" },
            },
          ],
        },
      },
      namedChild(scope, "jobName", { dependsOn: args.dependsOn }),
    );
  });
}
