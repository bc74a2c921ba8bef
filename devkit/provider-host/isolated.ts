/**
 * Runs one engine command (engine.ts) in a fresh jest module registry, as a new `pulumi` process
 * would: a Pulumi program registers its resources when its module is loaded, and @pulumi/pulumi
 * keeps the mocks and config of a run in module state, so each command needs its own copies of
 * both, and the engine must use the same @pulumi/pulumi as the program. State passes from one
 * command to the next as plain data.
 *
 *   let state: ResourceState[] = [];
 *   const first = await isolatedCommand("up", { stack: "dev", config, state }, () => require("../../index"));
 *   state = first.state;
 *
 * `program` must `require` the program module itself (inside the callback), so that the require
 * goes through the fresh registry.
 */
import type * as engineModule from "./engine";

export interface IsolatedResult<T> {
  run: engineModule.Deployment<T>;
  /** State after the command (the input state for a preview). */
  state: engineModule.ResourceState[];
}

/**
 * Runs `work` and then removes the process "exit" listeners it added. Each fresh @pulumi/pulumi
 * adds one (its promise-leak report, runtime/debuggable.js); a run in a fresh registry is over when
 * `work` settles, so its listener goes with it rather than piling up past Node's warning limit.
 */
export async function withoutAddedExitListeners<T>(work: () => Promise<T>): Promise<T> {
  const before = new Set(process.listeners("exit"));
  try {
    return await work();
  } finally {
    for (const l of process.listeners("exit")) if (!before.has(l)) process.off("exit", l);
  }
}

export async function isolatedCommand<T = Record<string, unknown>>(
  command: "up" | "preview" | "refresh" | "destroy",
  options: engineModule.EngineOptions & { refresh?: boolean },
  program: () => unknown = () => ({}),
): Promise<IsolatedResult<T>> {
  let result!: IsolatedResult<T>;
  await withoutAddedExitListeners(runIn);
  return result;

  async function runIn(): Promise<void> {
    await jest.isolateModulesAsync(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in the fresh registry, with the program's @pulumi/pulumi
      const { Engine } = require("./engine") as typeof engineModule;
      const engine = new Engine(options);
      let run: engineModule.Deployment<unknown>;
      if (command === "refresh") run = await engine.refresh();
      else if (command === "destroy") run = await engine.destroy();
      else if (command === "preview") run = await engine.preview(program, { refresh: options.refresh });
      else run = await engine.up(program, { refresh: options.refresh });
      result = { run: run as engineModule.Deployment<T>, state: engine.resources() };
    });
  }
}
