import { formatSize, parseSize } from "@hugemm/core";
import { z } from "zod";
import { show } from "./errors";
import { parseAddressExpr } from "./address";

/*
 * The schema's building blocks. Each leaf checks one kind of value and says,
 * when it is wrong, what was expected and what was found, so errors read
 * "expected a size such as 4096, "4K" or "2M", got true".
 */

/** "missing: expected X" or "expected X, got Y". */
export function expected(what: string, input: unknown): string {
  return input === undefined ? `missing: expected ${what}` : `expected ${what}, got ${show(input)}`;
}

/** A leaf value checked by `ok`. */
export function leaf<T>(what: string, ok: (v: unknown) => boolean): z.ZodType<T> {
  return z.custom<T>((v) => ok(v), { error: (iss) => expected(what, iss.input) });
}

export function isSize(v: unknown): v is number | string {
  if (typeof v !== "number" && typeof v !== "string") return false;
  try {
    parseSize("size", v);
    return true;
  } catch {
    return false;
  }
}

const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export const SIZE_WHAT = 'a size such as 4096, "4K", "2M" or "1G"';
/** Bytes: a number or a size string ("4K", "2M", "1G"). */
export const size = leaf<number | string>(SIZE_WHAT, isSize);
/**
 * The length of a system call's range, in whole 4 KiB pages. The kernel
 * rounds a ragged length up to its page size, so a scenario that writes one
 * almost always meant something else (a size missing its unit, an off-by-one);
 * the rounded length says what the kernel will do.
 */
export const pageLength = z.custom<number | string>((v) => isSize(v) && parseSize("len", v as number | string) % 4096 === 0, {
  error: (iss) => {
    const v = iss.input;
    if (!isSize(v)) return expected(SIZE_WHAT, v);
    const n = parseSize("len", v);
    const up = Math.ceil(n / 4096) * 4096;
    return `expected a length in whole 4K pages, got ${show(v)}: the kernel rounds a length up to the page size, so write ${up} (${formatSize(up)}) if that is what you mean`;
  },
});
/** A count: a whole number, not negative. */
export const count = leaf<number>("a whole number, not negative", isUint);
/** A process id: a whole number from 1. */
export const pid = leaf<number>("a process id (a whole number from 1)", (v) => isUint(v) && v >= 1);
/** A 32-bit seed of a data pattern. */
export const pattern = leaf<number>("a pattern seed (a whole number in [0, 2^32))", (v) => isUint(v) && v < 2 ** 32);
export const bool = leaf<boolean>("true or false", (v) => typeof v === "boolean");
export const text = leaf<string>("a string", (v) => typeof v === "string");
/** A name bound by `as:` and used in address expressions. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const bindName = leaf<string>("a name of letters, digits and _ (not starting with a digit)", (v) => typeof v === "string" && NAME_RE.test(v));
/** An address: a number, "0x..." or a name with an optional +/- size ("buf+2M"). */
export const address = leaf<number | string>('an address: a number, a hex string such as "0x40000000", a name bound by mmap with an optional +/- size ("buf+2M"), or one aligned up or down to a power of two ("align(buf, 2M)", "align_down(buf+1M, 2M)")', (v) => {
  if (typeof v === "number") return isUint(v);
  return typeof v === "string" && parseAddressExpr(v) !== null;
});

/** One of `choices`. */
export function oneOf<const T extends string>(choices: readonly T[], what?: string): z.ZodType<T> {
  return leaf<T>(what ?? `one of ${choices.join(", ")}`, (v) => typeof v === "string" && (choices as readonly string[]).includes(v));
}

/**
 * A set of flags written "a|b|c" or as a list [a, b, c], each one of `choices`;
 * `none` alone (when allowed) is the empty set.
 */
export function flagSet(choices: readonly string[], what: string): z.ZodType<string | string[]> {
  const all = new Set(choices);
  return leaf<string | string[]>(`${what}: one or more of ${choices.join(", ")}, joined by "|" or as a list`, (v) => {
    const parts = typeof v === "string" ? v.split("|").map((s) => s.trim()) : Array.isArray(v) ? v : null;
    return parts !== null && parts.length > 0 && parts.every((p) => typeof p === "string" && all.has(p));
  });
}

/** The members of a flag set as written. */
export function flagList(v: string | string[]): string[] {
  return typeof v === "string" ? v.split("|").map((s) => s.trim()) : v;
}

/** A strict map: unknown fields are errors listing the known ones. */
export function obj<T extends z.ZodRawShape>(shape: T, what = "a map"): z.ZodObject<T, z.core.$strict> {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === "unrecognized_keys") {
        const keys = iss.keys.map((k) => JSON.stringify(k)).join(", ");
        return `unknown field${iss.keys.length > 1 ? "s" : ""} ${keys}: expected ${known.length === 0 ? "no fields" : `one of ${known.join(", ")}`}`;
      }
      if (iss.code === "invalid_type") return expected(`${what} with fields ${known.join(", ")}`, iss.input);
      return undefined;
    },
  });
}
