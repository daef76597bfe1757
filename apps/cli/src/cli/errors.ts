/** Bad usage: an unknown command or option, a missing or malformed value. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit codes, the same for every command. */
export const EXIT_OK = 0;
/** An expect failed, the invariant checker found a violation, or fuzz found a bug. */
export const EXIT_FAILED = 1;
/** Bad usage or input: options, a scenario file, an arch spec. */
export const EXIT_USAGE = 2;
/** The model itself threw: a bug in hugemm, reported with its stack. */
export const EXIT_INTERNAL = 3;

export const EXIT_CODES_TEXT =
  "exit codes: 0 success; 1 a failed expect, an invariant violation or a fuzz finding; 2 bad usage or input; 3 an internal error in hugemm";
