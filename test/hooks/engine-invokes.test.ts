/**
 * The engine stand-in answers a program's invokes from `invokes` (bench:program needs the receiver's
 * getClientConfig: its resource names carry the subscription id), and `{}` for any other.
 */
import type * as pulumiType from "@pulumi/pulumi";
import { isolatedCommand } from "../../devkit/provider-host/isolated";

const CLIENT_CONFIG = "azure-native:authorization:getClientConfig";

it("answers the invokes it is given and {} for the rest, in a preview", async () => {
  const result = await isolatedCommand<{ clientConfig: unknown; other: unknown }>(
    "preview",
    { stack: "test", invokes: { [CLIENT_CONFIG]: { subscriptionId: "sub-1", tenantId: "tenant-1" } } },
    () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program's own @pulumi/pulumi, in the isolated registry
      const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
      return {
        clientConfig: pulumi.runtime.invoke(CLIENT_CONFIG, {}),
        other: pulumi.runtime.invoke("azure-native:resources:getResourceGroup", { resourceGroupName: "rg" }),
      };
    },
  );
  expect(result.run.outputs.clientConfig).toEqual({ subscriptionId: "sub-1", tenantId: "tenant-1" });
  expect(result.run.outputs.other).toEqual({});
});
