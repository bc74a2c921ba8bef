/**
 * The real Pulumi dynamic-provider host, driven as the engine drives it, and a model of the engine's
 * step rules on top (docs/hooks.md, "Testing through the real provider host"):
 *
 * - `ProviderHost` (host.ts): start the host of @pulumi/pulumi, call its gRPC methods with engine values.
 * - `Engine` (engine.ts): `up`, `preview`, `refresh`, `destroy` of a program under mocks; state as plain data.
 * - `isolatedCommand` (isolated.ts): one command in a fresh jest module registry.
 * - `runCliCommand` (cli-command.ts): one command in a child process that loads the program as the CLI does.
 * - values.ts (secrets, unknowns, marshalling) and checkpoint.ts (state as the engine stores it).
 */
export * from "./values";
export * from "./checkpoint";
export * from "./host";
export * from "./engine";
export * from "./cli-command";
