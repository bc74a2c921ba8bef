/** The tiny stable stub every HookFleet dynamic provider is stored as, and what completes providers. */
export * from "./stub";
export * from "./complete";
export * from "./unknown";
