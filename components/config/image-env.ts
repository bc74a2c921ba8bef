/**
 * The environment variables that stand in for `hookfleet:image` and `hookfleet:acrResourceId` when
 * the stack file leaves them empty. Pure (no Pulumi): the program (program.ts) and the scripts
 * (scripts/lib/deployedImage.ts) share them.
 *
 * CI hands the image it promotes over this way: `pulumi up --config` would "save to the stack config
 * file" (pulumi.com/docs/iac/cli/commands/pulumi_up), i.e. into the runner's throwaway checkout only,
 * so every later run from the committed file (the drift check, a rotation, a preview) would see no
 * image and plan a cloud build in its place.
 */
export const IMAGE_ENV = "HOOKFLEET_IMAGE";
export const ACR_RESOURCE_ID_ENV = "HOOKFLEET_ACR_RESOURCE_ID";
