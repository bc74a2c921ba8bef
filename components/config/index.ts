/** The program's stack config: read once, checked, typed (keys and defaults: Pulumi.yaml). */
export * from "./program";
export * from "./organizations";
export * from "./destinations";
export * from "./plain-text";
export { stackFileValue } from "./stack-file";
