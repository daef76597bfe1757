import { defineConfig } from "vitest/config";

// One vitest run over every package: each package is a project with its own
// vitest.config.ts built from @hugemm/vitest-config.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "tooling/generator"],
  },
});
