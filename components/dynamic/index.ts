/** Thin, run-time-loading shims for Pulumi dynamic providers (see runtime-provider.ts). */
export * from "./runtime-provider";
export * from "./unknown";
