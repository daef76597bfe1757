import {
  MADV,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_STACK,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "@hugemm/core";
import { flagList } from "./fields";

/** prot as written: "none", "r", "rw", "rx", "rwx", ... or a list of read/write/exec. */
export const PROT_WORDS = ["none", "r", "w", "x", "rw", "rx", "wx", "rwx"] as const;
export const PROT_LIST_WORDS = ["none", "read", "write", "exec"] as const;

export function isProt(v: unknown): boolean {
  if (typeof v === "string") return (PROT_WORDS as readonly string[]).includes(v);
  return Array.isArray(v) && v.every((w) => typeof w === "string" && (PROT_LIST_WORDS as readonly string[]).includes(w));
}

/** PROT_* bits of a prot value. */
export function protBits(v: string | string[]): number {
  const words = typeof v === "string" ? [...(v === "none" ? "" : v)].map((c) => ({ r: "read", w: "write", x: "exec" })[c]!) : v;
  let p = 0;
  for (const w of words) p |= w === "read" ? PROT_READ : w === "write" ? PROT_WRITE : w === "exec" ? PROT_EXEC : 0;
  return p;
}

/** mmap flags by their lower-case uapi names. */
export const MAP_FLAGS: Readonly<Record<string, number>> = {
  private: MAP_PRIVATE,
  shared: MAP_SHARED,
  shared_validate: MAP_SHARED_VALIDATE,
  anonymous: MAP_ANONYMOUS,
  fixed: MAP_FIXED,
  fixed_noreplace: MAP_FIXED_NOREPLACE,
  populate: MAP_POPULATE,
  noreserve: MAP_NORESERVE,
  growsdown: MAP_GROWSDOWN,
  stack: MAP_STACK,
  hugetlb: MAP_HUGETLB,
  ...HUGE_SIZE_FLAGS(),
};

/** The uapi MAP_HUGE_* sizes (log2 of the size << MAP_HUGE_SHIFT) as huge_16kb ... huge_16gb. */
function HUGE_SIZE_FLAGS(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, log] of [["16kb", 14], ["64kb", 16], ["512kb", 19], ["1mb", 20], ["2mb", 21], ["8mb", 23], ["16mb", 24], ["32mb", 25], ["256mb", 28], ["512mb", 29], ["1gb", 30], ["2gb", 31], ["16gb", 34]] as const) {
    out[`huge_${name}`] = log * 2 ** 26;
  }
  return out;
}

export const MREMAP_FLAGS: Readonly<Record<string, number>> = { maymove: MREMAP_MAYMOVE, fixed: MREMAP_FIXED, dontunmap: MREMAP_DONTUNMAP };

/** The bits of a flag set written "a|b" or [a, b]. */
export function flagBits(table: Readonly<Record<string, number>>, v: string | string[]): number {
  let bits = 0;
  for (const w of flagList(v)) bits |= table[w]!;
  return bits;
}

/**
 * madvise advice by lower-case MADV name. Left out: the advice the model does
 * not provide (KSM's mergeable/unmergeable, memory-failure and
 * guard-page advice).
 */
export const ADVICE: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(MADV)
    .filter(([n]) => !["MERGEABLE", "UNMERGEABLE"].includes(n))
    .map(([n, v]) => [n.toLowerCase(), v]),
);
