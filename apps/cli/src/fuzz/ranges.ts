import type { Dice } from "./dice";
import type { Mapping } from "./model";
import type { ArchProfile } from "./profile";
import { addrText } from "./text";

/** A range picked on a mapping: where it starts (relative to the name) and how long it is, in bytes. */
export interface Range {
  readonly m: Mapping;
  readonly offset: number;
  readonly len: number;
  /** The start as a scenario writes it ("m2+2M-4K"). */
  readonly at: string;
}

const KiB4 = 4096;

/**
 * An offset into a mapping of `len` bytes. Huge-page bugs live at PMD
 * boundaries and inside large folios, so those are favoured: the start,
 * a PMD boundary, a few pages below one (a range from there straddles it),
 * an mTHP-aligned page, or any page.
 */
export function pickOffset(d: Dice, p: ArchProfile, len: number): number {
  const u = p.pageSize;
  const P = p.pmdSize;
  const pages = Math.max(1, Math.ceil(len / u));
  const kind = d.weighted([
    ["start", 30],
    ["boundary", len > P ? 15 : 0],
    ["straddle", 20],
    ["any", 25],
    ["mthp", p.mthpSizes.length > 0 ? 10 : 0],
  ] as const);
  let off = 0;
  if (kind === "boundary") off = d.int(1, Math.floor((len - 1) / P)) * P;
  else if (kind === "straddle") off = d.int(1, Math.max(1, Math.ceil(len / P))) * P - d.int(1, 4) * u;
  else if (kind === "any") off = d.below(pages) * u;
  else if (kind === "mthp") {
    const s = d.pick(p.mthpSizes);
    off = d.below(Math.max(1, Math.ceil(len / s))) * s;
  }
  if (off < 0 || off >= len) off = d.below(pages) * u;
  return off;
}

/**
 * A length from `offset`: the rest of the mapping, one PMD, a few pages
 * across a boundary, an mTHP size, any length up to two PMDs, one page, or
 * a little past the end; mostly cut at the mapping's end. Whole 4K pages
 * always.
 */
export function pickLength(d: Dice, p: ArchProfile, mapLen: number, offset: number): number {
  const u = p.pageSize;
  const P = p.pmdSize;
  const rest = Math.max(u, mapLen - offset);
  const kind = d.weighted([
    ["rest", 20],
    ["pmd", 10],
    ["across", 15],
    ["any", 30],
    ["page", 10],
    ["mthp", p.mthpSizes.length > 0 ? 10 : 0],
    ["beyond", 5],
  ] as const);
  let len: number;
  if (kind === "rest") len = rest;
  else if (kind === "pmd") len = P;
  else if (kind === "across") len = 2 * d.int(1, 4) * u;
  else if (kind === "any") len = d.int(1, Math.max(1, Math.floor(Math.min(rest, 2 * P) / u))) * u;
  else if (kind === "page") len = u;
  else if (kind === "mthp") len = d.pick(p.mthpSizes);
  else len = rest + d.int(1, 8) * u;
  // Mostly within the mapping: a range past its end is refused before anything happens.
  if (kind !== "beyond" && d.chance(0.8)) len = Math.min(len, rest);
  return Math.max(KiB4, len - (len % KiB4));
}

/**
 * A range on mapping `m`, at most `maxLen` bytes long (rounded down to
 * pages, at least one page). On arches with pages larger than 4K, a few
 * ranges start 4K off a page boundary: the kernel's EINVAL.
 */
export function pickRange(d: Dice, p: ArchProfile, m: Mapping, maxLen = Infinity): Range {
  const u = p.pageSize;
  let offset = pickOffset(d, p, m.len);
  let len = pickLength(d, p, m.len, offset);
  if (len > maxLen) len = Math.max(u, maxLen - (maxLen % u));
  if (u > KiB4 && d.chance(0.02)) offset += KiB4;
  return { m, offset, len, at: addrText(m.name, offset, p.pmdSize) };
}

/**
 * The length of a new mapping: a few pages, a few mTHPs, one to three
 * PMDs (a little over or under now and then), or anything up to two PMDs.
 * Mappings of PMD size or more get THP-aligned addresses, so their PMD
 * boundaries fall at whole multiples of the PMD size from the name.
 */
export function mapLength(d: Dice, p: ArchProfile): number {
  const u = p.pageSize;
  const P = p.pmdSize;
  const kind = d.weighted([
    ["small", 30],
    ["mthp", p.mthpSizes.length > 0 ? 20 : 0],
    ["pmd", 35],
    ["medium", 15],
  ] as const);
  if (kind === "small") return d.int(1, 16) * u;
  if (kind === "mthp") return d.pick(p.mthpSizes) * d.int(1, 4);
  if (kind === "pmd") {
    // Very large PMDs (the 64K granule's 512M) come one at a time.
    const n = d.int(1, P > 32 * 2 ** 20 ? 1 : 3) * P;
    if (!d.chance(0.4)) return n;
    const delta = d.int(1, 8) * u;
    return d.chance(0.5) ? n + delta : n - delta;
  }
  return d.int(1, Math.max(1, Math.floor(Math.min(2 * P, 64 * 2 ** 20) / u))) * u;
}
