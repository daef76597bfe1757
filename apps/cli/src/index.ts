export { main, USAGE, EXIT_OK, EXIT_FAILED, EXIT_USAGE, type Io } from "./main";
export { parseArch, ARCHES, ArchSpecError } from "./arch";
