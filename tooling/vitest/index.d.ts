import type { UserWorkspaceConfig } from "vitest/config";

/** Every test's timeout, in milliseconds; a test may use a third of it. */
export declare const TEST_TIMEOUT_MS: number;
export declare function hugemmProject(name: string, extra?: UserWorkspaceConfig["test"]): UserWorkspaceConfig;
