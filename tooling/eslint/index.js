import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** Flat config shared by every package: `export default hugemm` in eslint.config.js. */
export const hugemm = tseslint.config(
  { ignores: ["dist/**", "coverage/**", ".turbo/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-constant-condition": ["error", { checkLoops: false }],
      eqeqeq: ["error", "always"],
      "prefer-const": "error",
    },
  },
);

export default hugemm;
