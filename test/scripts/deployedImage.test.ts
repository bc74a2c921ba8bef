/** Which image a script hands `pulumi` for a stack that runs the image CI promotes. */
import { chooseImage } from "../../scripts/lib/deployedImage";

const image = "contosoacr.azurecr.io/hookfleet/receiver@sha256:" + "0f".repeat(32);
const acr = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contosoacr";
const outputs = { receiverInfo: { image, acrResourceId: acr } };

it("leaves a stack that builds its own image alone", () => {
  expect(chooseImage({ stack: "sandbox", promoted: false, env: {}, outputs }).kind).toBe("as-is");
});

it("leaves an image named in HOOKFLEET_IMAGE as it is (a deploy of a new one)", () => {
  const choice = chooseImage({ stack: "prod", promoted: true, env: { HOOKFLEET_IMAGE: "x/y:1" }, outputs });
  expect(choice).toEqual({ kind: "as-is", reason: "HOOKFLEET_IMAGE names the image: x/y:1" });
});

it("keeps the deployed image and its registry, without overriding a registry named already", () => {
  expect(chooseImage({ stack: "prod", promoted: true, env: {}, outputs })).toMatchObject({
    kind: "deployed",
    env: { HOOKFLEET_IMAGE: image, HOOKFLEET_ACR_RESOURCE_ID: acr },
  });
  const named = chooseImage({
    stack: "prod",
    promoted: true,
    env: { HOOKFLEET_IMAGE: " ", HOOKFLEET_ACR_RESOURCE_ID: "/other" },
    outputs,
  });
  expect(named).toEqual({ kind: "deployed", env: { HOOKFLEET_IMAGE: image }, note: expect.any(String) });
});

it.each([
  ["no outputs", undefined],
  ["no receiverInfo (deployReceiver false, or never deployed)", { hookTotal: 3 }],
  ["an empty image", { receiverInfo: { image: "" } }],
  ["an image shown as a secret", { receiverInfo: { image: "[secret]" } }],
])("has nothing to keep with %s: says to name one", (_what, out) => {
  const choice = chooseImage({ stack: "dev", promoted: true, env: {}, outputs: out });
  expect(choice.kind).toBe("missing");
  expect(choice.kind === "missing" && choice.problem).toMatch(/set HOOKFLEET_IMAGE to the image to deploy/);
});
