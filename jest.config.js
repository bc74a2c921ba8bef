/** Tests run TypeScript through SWC (fast, no type-check); `npm run typecheck` checks types. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } },
    ],
  },
  testTimeout: 30000,
  // Servers on loopback and two cores: a few workers keep the suite quick without starving them.
  maxWorkers: 2,
};
