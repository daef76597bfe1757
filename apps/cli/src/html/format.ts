/** Display helpers shared by the report's pictures and tables. */

const UNITS = [
  ["T", 2 ** 40],
  ["G", 2 ** 30],
  ["M", 2 ** 20],
  ["K", 2 ** 10],
] as const;

/**
 * "4K", "2M", "252K", "4132K", "255.98M": exact in the largest unit that
 * divides the size while that stays under five digits, else the largest
 * unit with two decimals.
 */
export function shortSize(bytes: number): string {
  for (const [u, f] of UNITS) if (bytes >= f && bytes % f === 0 && bytes / f < 10000) return `${bytes / f}${u}`;
  for (const [u, f] of UNITS) if (bytes >= f) return `${Number((bytes / f).toFixed(2))}${u}`;
  return `${bytes}B`;
}

/** Kilobytes as meminfo prints them: "4096 kB". */
export function kB(bytes: number): string {
  return `${Math.floor(bytes / 1024)} kB`;
}

/** An address or pfn in hex, as the kernel prints them. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A VMA range as /proc/pid/maps prints it (zero-padded to the address width). */
export function mapsRange(start: number, end: number, width: number): string {
  return `${start.toString(16).padStart(width, "0")}-${end.toString(16).padStart(width, "0")}`;
}
