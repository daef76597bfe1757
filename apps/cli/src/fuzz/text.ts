import { formatSize, parseSize } from "@hugemm/core";
import { parseAddressExpr } from "@hugemm/scenario";

/** A byte count as a scenario writes it: "4K", "2M", "2044K". */
export function sizeText(bytes: number): string {
  return formatSize(bytes);
}

/** Bytes of a size as written (a number or "64K"). */
export function sizeOf(v: unknown): number | null {
  if (typeof v !== "number" && typeof v !== "string") return null;
  try {
    return parseSize("size", v);
  } catch {
    return null;
  }
}

/**
 * An address relative to a name: "m2", "m2+2M", and just below a PMD
 * boundary "m2+2M-4K", so that a reader sees which boundary a range
 * straddles.
 */
export function addrText(name: string, offset: number, pmdSize: number): string {
  if (offset === 0) return name;
  const below = (pmdSize - (offset % pmdSize)) % pmdSize;
  if (below !== 0 && below <= pmdSize / 8) return `${name}+${sizeText(offset + below)}-${sizeText(below)}`;
  return `${name}+${sizeText(offset)}`;
}

/** The name and byte offset of an address written relative to a name, or null (a number, or not an address). */
export function nameOffset(v: unknown): { name: string; offset: number } | null {
  if (typeof v !== "string") return null;
  const e = parseAddressExpr(v);
  if (e === null || typeof e.base !== "string" || e.align !== undefined) return null;
  return { name: e.base, offset: e.offset };
}
