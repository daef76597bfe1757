/** Numbers (decimal and hex) masked, so that one bug seen at other pfns, addresses or counts reads the same. */
export function maskNumbers(text: string): string {
  return text.replace(/0x[0-9a-f]+|\d+/gi, "#");
}

const INVARIANTS = /^\d+ invariant violation\(s\) after ([^:]+): (.*)$/s;

/**
 * What makes two failures "the same bug". For an invariant violation: the
 * operation it broke after and the first broken invariant with its numbers
 * masked (how many others broke with it may change as the sequence
 * shrinks). Otherwise the whole message, masked.
 */
export function signature(message: string): string {
  const m = INVARIANTS.exec(message);
  if (m === null) return maskNumbers(message);
  const first = m[2]!.split("; [")[0]!;
  return `after ${m[1]}: ${maskNumbers(first)}`;
}
