import type { UserWorkspaceConfig } from "vitest/config";

export declare function hugemmProject(name: string, extra?: UserWorkspaceConfig["test"]): UserWorkspaceConfig;
