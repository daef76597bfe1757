import { ModelInputError } from "./errors";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };

/** Parse "16G", "512MiB", "4096", 0x1000 or a number of bytes. Binary units throughout, as the kernel's. */
export function parseSize(input: string, value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) throw new ModelInputError(input, value, "a non-negative whole number of bytes");
    return value;
  }
  const m = /^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ModelInputError(input, value, 'a size such as "4096", "64K", "2M", "16G" or "1T"');
  const n = m[1]!.startsWith("0x") ? parseInt(m[1]!, 16) : Number(m[1]);
  const bytes = n * unit;
  if (!Number.isSafeInteger(bytes)) throw new ModelInputError(input, value, "a whole number of bytes");
  return bytes;
}

/** "2M", "1G", "64K", or plain bytes. */
export function formatSize(bytes: number): string {
  for (const [u, f] of [["T", 2 ** 40], ["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]] as const) {
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${u}`;
  }
  return `${bytes}`;
}
