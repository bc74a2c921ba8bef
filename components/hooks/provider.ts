/**
 * The ServiceHook dynamic provider: one ADO Web Hooks subscription per resource.
 *
 * This module is the *implementation*. Pulumi never serializes it: the ServiceHook resource hands
 * Pulumi a thin shim (components/dynamic) that loads `serviceHookProvider` from this file at run
 * time in the dynamic-provider host. So this module may import anything (the ADO client, which
 * loads azure-devops-node-api lazily) and reads credentials at run time: the provider's
 * `configure` (`adoPat` in the project config) or the environment (AZURE_DEVOPS_EXT_PAT, else
 * Microsoft Entra through DefaultAzureCredential), never from the closure.
 *
 * Calls per hook: a refresh reads every hook of a run from one org-wide list per (org, consumer URL
 * origin), cached in this module (the provider process lives for one `pulumi` command); create
 * consults the same list to adopt an identical subscription left by an interrupted run.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoClient } from "../../ado/client";
import { replaceAndVerify } from "../../ado/replace";
import type { AdoApi, Subscription } from "../../ado/types";
import { subscriptionStatus } from "../../ado/wire";
import {
  canKeepStoredPassword,
  checkServiceHookInputs,
  consumerUrlPrefix,
  diffServiceHook,
  isAdoptable,
  outputsFromSubscription,
  secretHash,
  ServiceHookInputs,
  ServiceHookOutputs,
  TestDeliveryOutcome,
  toSubscriptionInput,
} from "./mapping";

/** Inputs the provider receives: the checked inputs plus a label for messages. */
export type ServiceHookProviderInputs = ServiceHookInputs & { hookName?: string };

export interface ServiceHookProviderDeps {
  /** The ADO client for an organization (default: configured PAT, else AdoClient.fromEnvironment). */
  clientFor?: (orgUrl: string) => AdoApi;
  /** Where warnings go (default: pulumi.log.warn, shown by the engine for the provider host). */
  warn?: (message: string) => void;
}

/** Counters a benchmark or test may read; not part of Pulumi's interface. */
export interface ServiceHookProviderStats {
  listCalls: number;
  getCalls: number;
  adopted: number;
}

export type ServiceHookProvider = Required<
  Pick<
    pulumi.dynamic.ResourceProvider,
    "check" | "diff" | "create" | "read" | "update" | "delete" | "configure"
  >
> & { stats: ServiceHookProviderStats };

function describe(inputs: { hookName?: string; eventType: string; projectId: string }, id?: string): string {
  const name = inputs.hookName ? `${inputs.hookName} ` : "";
  return `service hook ${name}(${inputs.eventType} in project ${inputs.projectId}${id ? `, subscription ${id}` : ""})`;
}

/** A provider instance with its own client and list caches (one per provider process in real runs). */
export function createServiceHookProvider(deps: ServiceHookProviderDeps = {}): ServiceHookProvider {
  const warn = deps.warn ?? ((message: string) => void pulumi.log.warn(message));
  let configuredPat: string | undefined;
  const clients = new Map<string, AdoApi>();
  const clientFor = (orgUrl: string): AdoApi => {
    let client = clients.get(orgUrl);
    if (!client) {
      client =
        deps.clientFor?.(orgUrl) ??
        (configuredPat
          ? new AdoClient({ orgUrl, auth: { kind: "pat", pat: configuredPat } })
          : AdoClient.fromEnvironment(orgUrl));
      clients.set(orgUrl, client);
    }
    return client;
  };

  // One org-wide list per (org, consumer URL origin) per process: a refresh of 2,000 hooks costs one
  // list call instead of 2,000 GETs. Our own writes keep it current during the run.
  const lists = new Map<string, Promise<Map<string, Subscription>>>();
  const stats: ServiceHookProviderStats = { listCalls: 0, getCalls: 0, adopted: 0 };
  const listFor = (orgUrl: string, url: string): Promise<Map<string, Subscription>> => {
    const prefix = consumerUrlPrefix(url);
    const key = `${orgUrl}|${prefix}`;
    let list = lists.get(key);
    if (!list) {
      stats.listCalls++;
      list = clientFor(orgUrl)
        .listSubscriptions({ consumerUrlPrefix: prefix })
        .then((subs) => new Map(subs.map((s) => [s.id, s])));
      list.catch(() => lists.delete(key)); // a failed list is retried by the next caller
      lists.set(key, list);
    }
    return list;
  };
  const remember = async (orgUrl: string, sub: Subscription) => {
    if (sub.consumerInputs?.url) (await listFor(orgUrl, sub.consumerInputs.url)).set(sub.id, sub);
  };
  const forget = async (orgUrl: string, id: string) => {
    for (const [key, list] of lists) {
      if (key.startsWith(`${orgUrl}|`)) (await list.catch(() => new Map<string, Subscription>())).delete(id);
    }
  };

  const testDelivery = async (
    inputs: ServiceHookProviderInputs,
    id: string,
  ): Promise<TestDeliveryOutcome> => {
    if (!inputs.testDelivery) return "skipped";
    try {
      const notification = await clientFor(inputs.orgUrl).sendTestNotification(id);
      if (notification.result === "succeeded") return "succeeded";
      const why =
        notification.details?.errorMessage ?? `result ${notification.result}, status ${notification.status}`;
      warn(`${describe(inputs, id)}: ADO's test notification did not reach the receiver (${why})`);
      return notification.status === "completed" ? "failed" : "unknown";
    } catch (err) {
      warn(`${describe(inputs, id)}: could not send ADO's test notification: ${(err as Error).message}`);
      return "unknown";
    }
  };

  const provider: ServiceHookProvider = {
    stats,

    async configure(req: pulumi.dynamic.ConfigureRequest) {
      // Optional: a PAT from the stack config (`pulumi config set --secret adoPat …`). Read at run
      // time, never serialized; the environment is used when it is absent.
      const pat = req.config.get("adoPat");
      if (typeof pat === "string" && pat) configuredPat = pat;
    },

    async check(_olds: unknown, news: Record<string, unknown>) {
      const { inputs, failures } = checkServiceHookInputs(news);
      const hookName = typeof news.hookName === "string" ? news.hookName : undefined;
      return { inputs: { ...inputs, hookName }, failures };
    },

    async diff(_id: string, olds: ServiceHookOutputs, news: ServiceHookProviderInputs) {
      const { changes, replaces, deleteBeforeReplace } = diffServiceHook(olds, news);
      return { changes, replaces, deleteBeforeReplace };
    },

    async create(inputs: ServiceHookProviderInputs) {
      const client = clientFor(inputs.orgUrl);
      const list = await listFor(inputs.orgUrl, inputs.url);
      const existing = [...list.values()].find((s) => isAdoptable(s, inputs));
      let sub: Subscription;
      if (existing) {
        // Left by an interrupted run (created in ADO, never recorded in state): take it over and
        // bring every other field (headers, password, status) to the desired values.
        stats.adopted++;
        const checked = await replaceAndVerify(client, existing.id, toSubscriptionInput(inputs), {
          readBack: subscriptionStatus(existing) !== subscriptionStatus(toSubscriptionInput(inputs)),
        });
        for (const p of checked.problems) warn(`${describe(inputs, existing.id)}: ${p}`);
        sub = checked.subscription;
      } else {
        sub = await client.createSubscription(toSubscriptionInput(inputs));
      }
      await remember(inputs.orgUrl, sub);
      const lastTestDelivery = await testDelivery(inputs, sub.id);
      const outs = outputsFromSubscription(sub, {
        orgUrl: inputs.orgUrl,
        passwordHash: secretHash(inputs.basicAuthPassword),
        testDelivery: inputs.testDelivery,
        lastTestDelivery,
        adopted: Boolean(existing),
      });
      return { id: sub.id, outs: { ...outs, hookName: inputs.hookName } };
    },

    async read(id: string, props: ServiceHookOutputs & { hookName?: string }) {
      const orgUrl = props.orgUrl;
      let sub = props.url ? (await listFor(orgUrl, props.url)).get(id) : undefined;
      if (!sub) {
        // Not in the list of our consumer origin (deleted, or its URL changed by hand): ask once.
        stats.getCalls++;
        sub = await clientFor(orgUrl).getSubscription(id);
      }
      // Gone: no id, so the engine drops it from state and the next `up` creates it again.
      if (!sub) return {};
      return { id, props: { ...outputsFromSubscription(sub, props), hookName: props.hookName } };
    },

    async update(id: string, olds: ServiceHookOutputs, news: ServiceHookProviderInputs) {
      const client = clientFor(news.orgUrl);
      // Re-enabling is a PUT like any other change. An unchanged password goes back as ADO's mask.
      const body = toSubscriptionInput(news, {
        keepStoredPassword: canKeepStoredPassword(olds, news.basicAuthPassword),
      });
      let sub: Subscription;
      try {
        // Checked PUT (ado/replace.ts): a re-enable is read back, and a password ADO dropped
        // although it was sent as ******** is sent again. Problems left are warnings; the outputs
        // record what ADO holds, so the next `up` sees any remaining drift.
        const checked = await replaceAndVerify(client, id, body, {
          password: news.basicAuthPassword || undefined,
          readBack: subscriptionStatus(olds) !== body.status,
        });
        for (const p of [...checked.problems, ...checked.repairs]) warn(`${describe(news, id)}: ${p}`);
        sub = checked.subscription;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404) {
          throw new Error(
            `${describe(news, id)} no longer exists in ADO: run \`pulumi refresh\`, then \`pulumi up\` creates it again`,
          );
        }
        throw err;
      }
      await remember(news.orgUrl, sub);
      const lastTestDelivery = await testDelivery(news, id);
      const outs = outputsFromSubscription(sub, {
        orgUrl: news.orgUrl,
        passwordHash: secretHash(news.basicAuthPassword),
        testDelivery: news.testDelivery,
        lastTestDelivery,
        adopted: olds.adopted ?? false,
      });
      return { outs: { ...outs, hookName: news.hookName } };
    },

    async delete(id: string, props: ServiceHookOutputs) {
      // false means ADO had no such subscription any more: the goal is met either way.
      await clientFor(props.orgUrl).deleteSubscription(id);
      await forget(props.orgUrl, id);
    },
  };
  return provider;
}

/** The instance the ServiceHook shim loads in the provider host (module level: one per process). */
export const serviceHookProvider = createServiceHookProvider();
