import { defineProject } from "vitest/config";

/**
 * The vitest project every hugemm package uses: tests sit beside the code
 * as `src/**\/*.test.ts`; HUGEMM_CHECK=1 switches the core's invariant
 * checker on after every operation. Every test has 30 s and must use at most
 * a third of it on a loaded 2-core machine (tooling/scripts/test-budget.mjs
 * checks a run's report): a slow property test takes fewer runs by default
 * (`propertyRuns` from "@hugemm/vitest-config/runs"), more under HUGEMM_DEEP.
 */
export const TEST_TIMEOUT_MS = 30_000;

export function hugemmProject(name, extra = {}) {
  return defineProject({
    test: {
      name,
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      environment: "node",
      env: { HUGEMM_CHECK: "1" },
      testTimeout: TEST_TIMEOUT_MS,
      ...extra,
    },
  });
}
