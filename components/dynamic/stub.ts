/**
 * The serialized part of every HookFleet dynamic provider: a fixed, one-line module that finds the
 * project's permanent loader (dynamic-providers.cjs at the project root) and asks it for a provider
 * by name. This text is what Pulumi stores as `__provider` in the inputs and outputs of each
 * resource, and what it runs for refresh and delete of that resource, possibly years later.
 *
 * Why a literal instead of Pulumi's function serializer (what `pulumi.dynamic.Resource` does): the
 * serializer wraps every method in ~200 bytes of scaffolding and copies whatever the closure
 * touches; its output depends on the transpiler (the CLI's ts-node keeps comments, tsx strips them)
 * and on the SDK version. HookFleet 0.1.0 stored 9.2–9.4 KB this way, twice per resource. The
 * literal is under 100 bytes, byte-identical under any transpiler and SDK, holds no code that could
 * go stale, and names nothing that can move except the loader, whose path is permanent.
 *
 * How the loader is found: the engine starts the dynamic-provider host with the project directory
 * as its working directory (pulumi/pulumi plugin.go newPlugin, `ctx.Pwd`; the host launcher
 * `node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs` also resolves @pulumi/pulumi from
 * there), so the stub resolves the loader against `process.cwd()`. (A test with a throw-away
 * project root starts the host there.)
 */
import * as pulumi from "@pulumi/pulumi";

/** The loader every stub loads, relative to the project root. Permanent: never move it. */
export const LOADER_FILE = "dynamic-providers.cjs";

/**
 * The `__provider` text of provider `name`. Permanent: resources store it, and this exact text is
 * what later releases must keep loading (test/hooks/stub.test.ts pins it). `process.cwd()` + "/…"
 * also works on Windows: Node's require accepts either separator there.
 */
export function providerStub(name: string): string {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`providerStub: bad provider name "${name}"`);
  return `exports.handler = () => require(process.cwd() + "/${LOADER_FILE}").provider("${name}");`;
}

/**
 * A dynamic resource whose provider is the stub of `providerName`: the same type token and engine
 * behaviour as `pulumi.dynamic.Resource` (type `pulumi-nodejs:dynamic/<module>:<type>`, served by
 * the dynamic-provider host, `__provider` in its properties), with the stub as `__provider`.
 */
export abstract class StubbedDynamicResource extends pulumi.CustomResource {
  constructor(
    providerName: string,
    module: string,
    type: string,
    name: string,
    props: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      `pulumi-nodejs:dynamic/${module}:${type}`,
      name,
      { ...props, __provider: providerStub(providerName) },
      opts,
    );
  }
}
