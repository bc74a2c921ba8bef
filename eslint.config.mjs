import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".pulumi-state/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: { ...globals.node },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Imports point one way: ado/ and app/ never import Pulumi or components (architecture.md).
    files: ["ado/**/*.ts", "app/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            "@pulumi/*",
            "**/components/**",
            "**/index",
            "**/test/**",
            "**/scripts/**",
            "**/devkit/**",
          ],
        },
      ],
    },
  },
  {
    // Nothing imports test/; the product never imports the local stand-ins (devkit/) or the scripts.
    files: ["components/**/*.ts", "index.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["**/test/**", "**/scripts/**", "**/devkit/**"] }],
    },
  },
  {
    // The scripts and the stand-ins they run are tooling, but not tests: they never import test/.
    files: ["scripts/**/*.ts", "scripts/**/*.mjs", "devkit/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: ["**/test/**"] }] },
  },
);
