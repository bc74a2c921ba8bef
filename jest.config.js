/**
 * Tests run TypeScript through ts-jest in transpile-only mode (isolatedModules: fast, no type-check
 * per file); `npm run typecheck` checks types once for the whole tree.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json" }],
  },
  testTimeout: 30000,
  // Servers on loopback and two cores: a few workers keep the suite quick without starving them.
  maxWorkers: 2,
};
