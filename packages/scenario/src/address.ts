import { parseSize } from "@hugemm/core";

/**
 * An address as written: a base (a number, or a name bound by mmap) plus a
 * byte offset; optionally aligned (the kernel's ALIGN / ALIGN_DOWN to a power
 * of two) and then offset again.
 */
export interface AddressExpr {
  readonly base: number | string;
  readonly offset: number;
  readonly align?: { readonly up: boolean; readonly size: number; readonly offset: number };
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^(0x[0-9a-f]+|\d+)$/i;
const ALIGNED = /^(align|align_down)\((.*),([^,()]+)\)((?:[+-][^+-]+)*)$/;

/** The sum of signed sizes "+2M-4K" (empty: 0), or null. */
function offsets(text: string): number | null {
  if (text === "") return 0;
  let offset = 0;
  for (const t of text.split(/(?=[+-])/)) {
    const sign = t[0] === "-" ? -1 : 1;
    if (t[0] !== "+" && t[0] !== "-") return null;
    try {
      offset += sign * parseSize("offset", t.slice(1));
    } catch {
      return null;
    }
  }
  return offset;
}

/** A base then any number of signed sizes, or null. */
function plain(text: string): AddressExpr | null {
  const m = /^([^+-]*)(.*)$/.exec(text)!;
  const first = m[1]!;
  let base: number | string;
  if (NUMBER.test(first)) base = first.toLowerCase().startsWith("0x") ? parseInt(first, 16) : Number(first);
  else if (NAME.test(first)) base = first;
  else return null;
  if (typeof base === "number" && !Number.isSafeInteger(base)) return null;
  const offset = offsets(m[2]!);
  return offset === null ? null : { base, offset };
}

/**
 * Parse "0x40000000", "4096", "buf", "buf+2M", "buf-4K", "buf+2M+4K" (a base
 * then any number of signed sizes), "align(buf, 2M)" (round up to a power of
 * two), "align_down(buf+1M, 2M)" and either followed by signed sizes
 * ("align(buf, 2M)+4K"). Returns null when it is none of these.
 */
export function parseAddressExpr(text: string): AddressExpr | null {
  const t = text.replace(/\s+/g, "");
  const a = ALIGNED.exec(t);
  if (a === null) return plain(t);
  const inner = plain(a[2]!);
  const after = offsets(a[4]!);
  let size: number;
  try {
    size = parseSize("alignment", a[3]!);
  } catch {
    return null;
  }
  if (inner === null || after === null || size <= 0 || !Number.isInteger(Math.log2(size))) return null;
  return { ...inner, align: { up: a[1] === "align", size, offset: after } };
}

/** The address expression of a field value (a number is its own base). */
export function addressExpr(v: number | string): AddressExpr {
  if (typeof v === "number") return { base: v, offset: 0 };
  const e = parseAddressExpr(v);
  if (e === null) throw new RangeError(`not an address expression: ${v}`);
  return e;
}

/** The address `e` names once its base is known. */
export function resolveAddressExpr(e: AddressExpr, base: number): number {
  const a = base + e.offset;
  if (e.align === undefined) return a;
  const { up, size, offset } = e.align;
  const down = a - (((a % size) + size) % size);
  return (up && down !== a ? down + size : down) + offset;
}
