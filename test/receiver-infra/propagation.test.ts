/** PropagationWait's provider: waits on create and when its triggers change, never otherwise. */
import { createPropagationWaitProvider } from "../../components/receiver/propagation-provider";
import { PropagationWait } from "../../components/receiver/propagation";

const recorder = () => {
  const waits: number[] = [];
  const provider = createPropagationWaitProvider({ sleep: async (ms) => void waits.push(ms) });
  return { waits, provider };
};
const props = (triggers: string[], seconds = 60) => ({ seconds, triggers, reason: "test" });

it("waits its seconds on create", async () => {
  const { waits, provider } = recorder();
  const created = await provider.create(props(["role-a"]));
  expect(waits).toEqual([60_000]);
  expect(created.outs.waitedAt).toMatch(/^\d{4}-/);
});

it("plans no change, and so no wait, for an unchanged stack", async () => {
  const { provider } = recorder();
  const diff = await provider.diff!("id", { ...props(["role-a"]), waitedAt: "t" }, props(["role-a"]));
  expect(diff.changes).toBe(false);
});

it("waits again when a trigger changes (a replaced role assignment), not when only its length changes", async () => {
  const { waits, provider } = recorder();
  const olds = { ...props(["role-a"]), waitedAt: "t0" };
  expect((await provider.diff!("id", olds, props(["role-b"]))).changes).toBe(true);
  await provider.update!("id", olds, props(["role-b"]));
  expect(waits).toEqual([60_000]);
  const same = await provider.update!("id", olds, props(["role-a"], 90));
  expect(waits).toEqual([60_000]);
  expect(same.outs!.waitedAt).toBe("t0");
});

it("refuses waits that are not bounded", () => {
  expect(() => new PropagationWait("w", { seconds: 0, triggers: [], reason: "r" })).toThrow(/from 1 to 600/);
  expect(() => new PropagationWait("w", { seconds: 601, triggers: [], reason: "r" })).toThrow(
    /from 1 to 600/,
  );
});
