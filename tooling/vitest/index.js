import { defineProject } from "vitest/config";

/**
 * The vitest project every hugemm package uses: tests sit beside the code
 * as `src/**\/*.test.ts`; HUGEMM_CHECK=1 switches the core's invariant
 * checker on after every operation.
 */
export function hugemmProject(name, extra = {}) {
  return defineProject({
    test: {
      name,
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      environment: "node",
      env: { HUGEMM_CHECK: "1" },
      ...extra,
    },
  });
}
