/**
 * Bad input to the model (a misaligned length, an impossible setting, an
 * unknown name): the message names the input, the value and what was expected.
 * Kernel-visible failures (ENOMEM, EFAULT, SIGBUS, ...) are results, not these.
 */
export class ModelInputError extends RangeError {
  readonly input: string;
  readonly value: unknown;
  readonly expected: string;

  constructor(input: string, value: unknown, expected: string) {
    super(`invalid ${input} ${show(value)}: expected ${expected}`);
    this.name = "ModelInputError";
    this.input = input;
    this.value = value;
    this.expected = expected;
  }
}

function show(v: unknown): string {
  if (typeof v === "number" && Number.isInteger(v) && Math.abs(v) > 0xffff) return `${v} (0x${v.toString(16)})`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** An internal consistency failure: a bug in the model, never the user's input. */
export class ModelBug extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelBug";
  }
}

export function assertModel(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new ModelBug(message());
}
