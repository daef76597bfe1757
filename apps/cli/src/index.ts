export { main, USAGE, COMMANDS, type Io } from "./main";
export { EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, UsageError } from "./cli/errors";
export type { Command, CommandContext } from "./cli/command";
export { compareColumn, formatCompare, type CompareColumn } from "./commands/compare";
export * from "./html";
