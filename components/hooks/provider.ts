/**
 * The ServiceHook dynamic provider: one ADO Web Hooks subscription per resource.
 *
 * This module is the *implementation*; Pulumi never serializes it. A ServiceHook stores the tiny
 * stub of components/dynamic/stub.ts, which reaches this code through dynamic-providers.cjs in the
 * dynamic-provider host. So this module may import anything (the ADO client, which loads
 * azure-devops-node-api lazily) and reads credentials at run time: the provider's `configure`
 * (`adoPat` in the project config) or the environment (AZURE_DEVOPS_EXT_PAT, else Microsoft Entra
 * through DefaultAzureCredential), never from a closure.
 *
 * PERMANENT: `serviceHookProvider` at this path is what HookFleet 0.1.0 state loads for refresh and
 * delete (its serialized shim names `components/hooks/provider.ts#serviceHookProvider` and loads it
 * with tsx). Keep the export here, and keep reading every shape earlier releases stored
 * (test/hooks/state-upgrade.test.ts).
 *
 * Calls per hook: a refresh reads every hook of a run from one org-wide list per (org, consumer URL
 * origin), cached in this module (the provider process lives for one `pulumi` command); create
 * consults the same list to adopt an identical subscription left by an interrupted run.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoClient } from "../../ado/client";
import { scrubText } from "../../app/scrub";
import { replaceAndVerify } from "../../ado/replace";
import type { AdoApi, Subscription } from "../../ado/types";
import { subscriptionStatus } from "../../ado/wire";
import { completeProvider } from "../dynamic/complete";
import {
  canKeepStoredPassword,
  carriedFacts,
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

import { orgIdentity } from "./org-url";

/** Inputs the provider receives: the checked inputs (0.1.0 also sent `hookName`, now dropped by check). */
export type ServiceHookProviderInputs = ServiceHookInputs;

export interface ServiceHookProviderDeps {
  /** The ADO client for an organization (default: configured PAT, else AdoClient.fromEnvironment). */
  clientFor?: (orgUrl: string) => AdoApi;
  /**
   * Where warnings are echoed besides the resource's `warnings` output (default: pulumi.log.warn,
   * which the host, having no engine to log to, writes to its stderr).
   */
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

/** How messages name a hook (HookFleet puts the resource name in front of its warnings). */
function describe(inputs: { eventType?: string; projectId?: string }, id?: string): string {
  return `service hook for ${inputs.eventType} in project ${inputs.projectId}${id ? ` (subscription ${id})` : ""}`;
}

/** A provider instance with its own client and list caches (one per provider process in real runs). */
export function createServiceHookProvider(deps: ServiceHookProviderDeps = {}): ServiceHookProvider {
  const warn = deps.warn ?? ((message: string) => void pulumi.log.warn(message));
  let configuredPat: string | undefined;
  const clients = new Map<string, AdoApi>();
  const clientFor = (org: string): AdoApi => {
    // One client per organization, whatever the spelling stored by an earlier release.
    const orgUrl = orgIdentity(org);
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
  const listFor = (org: string, url: string): Promise<Map<string, Subscription>> => {
    const orgUrl = orgIdentity(org);
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
  const forget = async (org: string, id: string) => {
    const orgUrl = orgIdentity(org);
    for (const [key, list] of lists) {
      if (key.startsWith(`${orgUrl}|`)) (await list.catch(() => new Map<string, Subscription>())).delete(id);
    }
  };

  // Subscriptions a create of this process adopted. Deleting one of them would delete a live hook
  // another resource now owns (an old resource whose name changed, replaced by an adopting one).
  const adoptedHere = new Set<string>();

  /** ADO's test notification after a create/update: the outcome, and what the user must act on. */
  const testDelivery = async (
    inputs: ServiceHookProviderInputs,
    id: string,
  ): Promise<{ outcome: TestDeliveryOutcome; warnings: string[] }> => {
    if (!inputs.testDelivery) return { outcome: "skipped", warnings: [] };
    let outcome: TestDeliveryOutcome;
    let warning: string;
    // ADO's words go into a plain output (state, `npm run up`) and the host's stderr, and may quote
    // the consumer URL with its URL token: scrubbed (app/scrub.ts), never quoted as they are.
    try {
      const notification = await clientFor(inputs.orgUrl).sendTestNotification(id);
      if (notification.result === "succeeded") return { outcome: "succeeded", warnings: [] };
      const why = scrubText(
        notification.details?.errorMessage ?? `result ${notification.result}, status ${notification.status}`,
      );
      outcome = notification.status === "completed" ? "failed" : "unknown";
      warning = `${describe(inputs, id)}: ADO's test notification did not reach the receiver (${why})`;
    } catch (err) {
      outcome = "unknown";
      warning = `${describe(inputs, id)}: could not send ADO's test notification: ${scrubText((err as Error).message)}`;
    }
    warn(warning);
    return { outcome, warnings: [warning] };
  };

  const provider: ServiceHookProvider = {
    stats,

    async configure(req: pulumi.dynamic.ConfigureRequest) {
      // Optional: a PAT from the stack config (`pulumi config set --secret adoPat …`). Read at run
      // time, never serialized; the environment is used when it is absent. By its full key: the
      // host qualifies a bare one with the project name it was started with (PULUMI_NODEJS_PROJECT,
      // cmd/dynamic-provider/config.js), and an empty one would silently read nothing.
      const pat = req.config.get("hookfleet:adoPat");
      if (typeof pat === "string" && pat) configuredPat = pat;
    },

    async check(_olds: unknown, news: Record<string, unknown>) {
      const { inputs, failures } = checkServiceHookInputs(news);
      return { inputs, failures };
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
      const adoptWarnings: string[] = [];
      if (existing) {
        // Left by an interrupted run (created in ADO, never recorded in state), or owned until now
        // by a resource of another name: take it over and bring every other field (headers,
        // password, status) to the desired values. A re-enable is read back (ado/replace.ts).
        stats.adopted++;
        adoptedHere.add(existing.id);
        const body = toSubscriptionInput(inputs);
        const checked = await replaceAndVerify(client, existing.id, body, {
          readBack: subscriptionStatus(existing) !== subscriptionStatus(body),
        });
        for (const p of checked.problems) adoptWarnings.push(`${describe(inputs, existing.id)}: ${p}`);
        adoptWarnings.forEach(warn);
        sub = checked.subscription;
      } else {
        sub = await client.createSubscription(toSubscriptionInput(inputs));
      }
      await remember(inputs.orgUrl, sub);
      const tested = await testDelivery(inputs, sub.id);
      const outs: ServiceHookOutputs = outputsFromSubscription(sub, {
        orgUrl: inputs.orgUrl,
        passwordHash: secretHash(inputs.basicAuthPassword),
        testDelivery: inputs.testDelivery,
        lastTestDelivery: tested.outcome,
        adopted: Boolean(existing),
        warnings: [...adoptWarnings, ...tested.warnings],
      });
      return { id: sub.id, outs };
    },

    async read(id: string, props: Partial<ServiceHookOutputs>) {
      // `props` is whatever an earlier release stored: every field it may lack has a default.
      const facts = carriedFacts(props);
      // Every release stored the organization; without it there is no ADO to ask.
      if (!facts.orgUrl)
        throw new Error(`${describe(props, id)}: state has no orgUrl, so the hook cannot be refreshed`);
      let sub = props.url ? (await listFor(facts.orgUrl, props.url)).get(id) : undefined;
      if (!sub) {
        // Not in the list of our consumer origin (deleted, or its URL changed by hand): ask once.
        stats.getCalls++;
        sub = await clientFor(facts.orgUrl).getSubscription(id);
      }
      // Gone: no id, so the engine drops it from state and the next `up` creates it again.
      if (!sub) return { id: "", props: {} };
      return { id, props: outputsFromSubscription(sub, facts) };
    },

    async update(id: string, olds: Partial<ServiceHookOutputs>, news: ServiceHookProviderInputs) {
      const client = clientFor(news.orgUrl);
      // Re-enabling is a PUT like any other change. An unchanged password goes back as ADO's mask.
      const body = toSubscriptionInput(news, {
        keepStoredPassword: canKeepStoredPassword(
          { passwordHash: olds.passwordHash ?? "", passwordSet: olds.passwordSet === true },
          news.basicAuthPassword,
        ),
      });
      let sub: Subscription;
      const putWarnings: string[] = [];
      try {
        // Checked PUT (ado/replace.ts): a re-enable is read back, and a password ADO dropped
        // although it was sent as ******** is sent again. Problems left are warnings; the outputs
        // record what ADO holds, so the next `up` sees any remaining drift.
        const checked = await replaceAndVerify(client, id, body, {
          password: news.basicAuthPassword || undefined,
          readBack: subscriptionStatus({ status: olds.status }) !== subscriptionStatus(body),
        });
        for (const p of [...checked.problems, ...checked.repairs])
          putWarnings.push(`${describe(news, id)}: ${p}`);
        putWarnings.forEach(warn);
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
      const tested = await testDelivery(news, id);
      const outs: ServiceHookOutputs = outputsFromSubscription(sub, {
        orgUrl: news.orgUrl,
        passwordHash: secretHash(news.basicAuthPassword),
        testDelivery: news.testDelivery,
        lastTestDelivery: tested.outcome,
        adopted: carriedFacts(olds).adopted,
        warnings: [...putWarnings, ...tested.warnings],
      });
      return { outs };
    },

    async delete(id: string, props: Partial<ServiceHookOutputs>) {
      // Adopted by another resource in this run: it is that resource's hook now.
      if (adoptedHere.has(id)) return;
      const { orgUrl } = carriedFacts(props);
      // false means ADO had no such subscription any more: the goal is met either way.
      await clientFor(orgUrl).deleteSubscription(id);
      await forget(orgUrl, id);
    },
  };
  return provider;
}

/**
 * The provider the host runs (module level: one per host process, shared by every ServiceHook of
 * a deployment, whether its state holds the 0.1.0 shim or the stub). Permanent export: see above.
 */
export const serviceHookProvider = completeProvider(createServiceHookProvider());
