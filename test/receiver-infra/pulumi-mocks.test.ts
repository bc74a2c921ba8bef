/** The shared recording-mocks helper: records type, name, inputs, parent and secret markers. */
import * as pulumi from "@pulumi/pulumi";
import { isSecretOutput, isSecretValue, outputValue, setupPulumiMocks } from "../support/pulumi-mocks";

const mocks = setupPulumiMocks({
  project: "proj",
  stack: "dev",
  outputs: (args) =>
    args.type === "test:index:Thing" ? { endpoint: `https://${args.name}.example` } : undefined,
  call: (args) => (args.token === "test:index:getAnswer" ? { answer: 42 } : {}),
});

class Thing extends pulumi.CustomResource {
  declare readonly endpoint: pulumi.Output<string>;
  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super("test:index:Thing", name, { ...props, endpoint: undefined }, opts);
  }
}

class Parent extends pulumi.ComponentResource {
  readonly child: Thing;
  constructor(name: string) {
    super("test:index:Parent", name, {}, {});
    this.child = new Thing(
      `${name}-child`,
      { password: pulumi.secret("s3cret"), size: 3 },
      { parent: this, additionalSecretOutputs: ["endpoint"], protect: true },
    );
    this.registerOutputs({});
  }
}

describe("setupPulumiMocks", () => {
  beforeEach(() => mocks.reset());

  it("records type, name, unwrapped inputs, parent URN and options of each resource", async () => {
    const parent = new Parent("p");
    await mocks.settled();
    const component = mocks.one("test:index:Parent");
    const child = mocks.byName("p-child");
    expect(child.type).toBe("test:index:Thing");
    expect(child.inputs).toMatchObject({ password: "s3cret", size: 3 });
    expect(child.parent).toBe(component.urn);
    expect(component.parent).toBeUndefined();
    expect(component.custom).toBe(false);
    expect(mocks.childrenOf(component.urn).map((r) => r.name)).toEqual(["p-child"]);
    expect(child.additionalSecretOutputs).toEqual(["endpoint"]);
    expect(child.protect).toBe(true);
    expect(await outputValue(parent.child.endpoint)).toBe("https://p-child.example");
    expect(await isSecretOutput(parent.child.endpoint)).toBe(true);
  });

  it("keeps secret markers in rawInputs so tests can tell secret inputs from plain ones", async () => {
    new Thing("t", { password: pulumi.secret("x"), size: 1 });
    await mocks.settled();
    const thing = mocks.one("test:index:Thing");
    expect(isSecretValue(thing.rawInputs.password)).toBe(true);
    expect(isSecretValue(thing.rawInputs.size)).toBe(false);
  });

  it("records invokes and answers them from the call hook", async () => {
    const result = pulumi.runtime.invokeOutput("test:index:getAnswer", { q: "life" });
    expect(await outputValue(result)).toEqual({ answer: 42 });
    expect(mocks.calls).toEqual([{ token: "test:index:getAnswer", inputs: { q: "life" } }]);
  });

  it("one() throws unless exactly one resource matches", () => {
    expect(() => mocks.one("test:index:Nothing")).toThrow(/found 0/);
  });
});
