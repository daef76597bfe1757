import { parseSize } from "@hugemm/core";

/** An address as written: a base (a number, or a name bound by mmap) plus a byte offset. */
export interface AddressExpr {
  readonly base: number | string;
  readonly offset: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^(0x[0-9a-f]+|\d+)$/i;

/**
 * Parse "0x40000000", "4096", "buf", "buf+2M", "buf-4K", "buf+2M+4K" (a base
 * then any number of signed sizes). Returns null when it is none of these.
 */
export function parseAddressExpr(text: string): AddressExpr | null {
  const terms = text.replace(/\s+/g, "").split(/(?=[+-])/);
  const first = terms[0] ?? "";
  let base: number | string;
  if (NUMBER.test(first)) base = first.toLowerCase().startsWith("0x") ? parseInt(first, 16) : Number(first);
  else if (NAME.test(first)) base = first;
  else return null;
  if (typeof base === "number" && !Number.isSafeInteger(base)) return null;
  let offset = 0;
  for (const t of terms.slice(1)) {
    const sign = t[0] === "-" ? -1 : 1;
    try {
      offset += sign * parseSize("offset", t.slice(1));
    } catch {
      return null;
    }
  }
  return { base, offset };
}

/** The address expression of a field value (a number is its own base). */
export function addressExpr(v: number | string): AddressExpr {
  if (typeof v === "number") return { base: v, offset: 0 };
  const e = parseAddressExpr(v);
  if (e === null) throw new RangeError(`not an address expression: ${v}`);
  return e;
}
