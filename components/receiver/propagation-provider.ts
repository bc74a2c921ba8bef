/**
 * PropagationWait's provider (loaded by the shim in ./propagation.ts): sleeps `seconds` on create and
 * on an update whose `triggers` changed. A change of `seconds` or `reason` alone updates state
 * without waiting.
 */
import type * as pulumi from "@pulumi/pulumi";
import { completeProvider } from "../dynamic/complete";

export interface PropagationWaitDeps {
  /** The sleep; default a timer (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
}

const sameTriggers = (a: unknown, b: unknown) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

export function createPropagationWaitProvider(
  deps: PropagationWaitDeps = {},
): pulumi.dynamic.ResourceProvider {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const wait = async (props: Record<string, unknown>) => {
    await sleep(Number(props.seconds) * 1000);
    return { ...props, waitedAt: new Date().toISOString() };
  };
  return {
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      const changes =
        !sameTriggers(olds.triggers, news.triggers) ||
        olds.seconds !== news.seconds ||
        olds.reason !== news.reason;
      return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(props: Record<string, unknown>) {
      return { id: `wait-${Date.now().toString(36)}`, outs: await wait(props) };
    },
    async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      if (sameTriggers(olds.triggers, news.triggers))
        return { outs: { ...news, waitedAt: olds.waitedAt ?? "" } };
      return { outs: await wait(news) };
    },
  } as pulumi.dynamic.ResourceProvider;
}

export const propagationWaitProvider = () => completeProvider(createPropagationWaitProvider());
