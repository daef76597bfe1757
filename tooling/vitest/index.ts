import { defineProject, type UserWorkspaceConfig } from "vitest/config";

/**
 * The vitest project every hugemm package uses: tests sit beside the code
 * as `src/**\/*.test.ts`; the invariant checker is switched on for tests by
 * the HUGEMM_CHECK environment variable that the core reads.
 */
export function hugemmProject(name: string, extra: UserWorkspaceConfig["test"] = {}): UserWorkspaceConfig {
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
