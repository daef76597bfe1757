/**
 * Bad input to an arch backend: the error names the input, the value given
 * and the range that would have been accepted.
 */
export class ArchInputError extends RangeError {
  readonly input: string;
  readonly value: unknown;
  readonly expected: string;

  constructor(input: string, value: unknown, expected: string) {
    super(`invalid ${input} ${formatValue(value)}: expected ${expected}`);
    this.name = "ArchInputError";
    this.input = input;
    this.value = value;
    this.expected = expected;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) > 0xffff) {
    return `${value} (0x${value.toString(16)})`;
  }
  if (typeof value === "bigint") return `0x${value.toString(16)}`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** Throws unless `value` is an integer in [min, max]. Cheap enough for hot paths. */
export function checkRange(input: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max) || value !== Math.floor(value)) {
    throw new ArchInputError(input, value, rangeText(min, max));
  }
}

export function rangeText(min: number, max: number): string {
  const hex = (n: number) => (n > 0xffff ? `0x${n.toString(16)}` : String(n));
  return `an integer in [${hex(min)}, ${hex(max)}]`;
}
