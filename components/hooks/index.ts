/** Service hooks: the HookFleet component, the ServiceHook resource, and their pure helpers. */
export * from "./hook-fleet";
export * from "./service-hook";
export * from "./mapping";
export * from "./org-url";
export * from "./fleet-summary";
