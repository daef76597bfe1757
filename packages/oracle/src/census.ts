/**
 * The per-page census of a range: what /proc/pid/pagemap, /proc/kpageflags
 * and /proc/kpagecount say of each page, reduced to what the model can say
 * too, as one token per page:
 *
 *   n           none (no entry)
 *   s           swapped (a swap entry)
 *   p...        present, followed by
 *     o<k>      the order of a large folio (absent for order 0)
 *     z / Z     the shared zero page / the huge zero folio
 *     f         PM_FILE: the page is not anonymous (shmem and file pages)
 *     m<n>      kpagecount: the page's precise mapcount
 *     x         PM_MMAP_EXCLUSIVE: mapped once
 *
 * Runs of equal tokens are written "<token>*<count>", joined by commas.
 */

// pagemap bits (Documentation/admin-guide/mm/pagemap.rst), counted in the high 32-bit word.
const PM_PRESENT_HI = 1 << 31;
const PM_SWAP_HI = 1 << 30;
const PM_FILE_HI = 1 << 29;
const PM_EXCLUSIVE_HI = 1 << 24;
// kpageflags bits, all below 32.
const KPF_THP = 1 << 22;
const KPF_ZERO_PAGE = 1 << 24;

/** The high 32 bits of a 64-bit value written in hex. */
function hi32(hex: string): number {
  return hex.length <= 8 ? 0 : parseInt(hex.slice(0, hex.length - 8), 16) >>> 0;
}

function lo32(hex: string): number {
  return parseInt(hex.slice(-8), 16) >>> 0;
}

/** One page's token from its pagemap entry and kpageflags (hex text), kpagecount and folio order. */
export function pageToken(pagemapHex: string, kpageflagsHex: string, count: number, order: number): string {
  const pm = hi32(pagemapHex);
  if (!(pm & PM_PRESENT_HI)) return pm & PM_SWAP_HI ? "s" : "n";
  const kpf = lo32(kpageflagsHex);
  let t = "p";
  if (order > 0) t += `o${order}`;
  if (kpf & KPF_ZERO_PAGE) t += kpf & KPF_THP ? "Z" : "z";
  if (pm & PM_FILE_HI) t += "f";
  t += `m${count}`;
  if (pm & PM_EXCLUSIVE_HI) t += "x";
  return t;
}

/** Run-length encode page tokens. */
export function encodeRuns(tokens: readonly string[]): string {
  const out: string[] = [];
  let prev = "";
  let n = 0;
  for (const t of tokens) {
    if (n > 0 && t === prev) {
      n++;
      continue;
    }
    if (n > 0) out.push(`${prev}*${n}`);
    prev = t;
    n = 1;
  }
  if (n > 0) out.push(`${prev}*${n}`);
  return out.join(",");
}

/** The tokens of a run-length encoded census. */
export function decodeRuns(rle: string): string[] {
  const out: string[] = [];
  if (rle === "") return out;
  for (const run of rle.split(",")) {
    const star = run.lastIndexOf("*");
    const n = star < 0 ? 1 : Number(run.slice(star + 1));
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`census: bad run "${run}"`);
    const t = star < 0 ? run : run.slice(0, star);
    for (let i = 0; i < n; i++) out.push(t);
  }
  return out;
}

/** The executor's raw records ("pagemap:kpageflags:count:order*n,...") as a census of page tokens. */
export function censusFromRecords(raw: string): string {
  if (raw === "") return "";
  const tokens: string[] = [];
  for (const run of raw.split(",")) {
    const star = run.lastIndexOf("*");
    const [pm, kpf, count, order] = run.slice(0, star).split(":");
    const n = Number(run.slice(star + 1));
    if (pm === undefined || kpf === undefined || count === undefined || order === undefined || !Number.isSafeInteger(n)) throw new Error(`census: bad record "${run}"`);
    const t = pageToken(pm, kpf, Number(count), Number(order));
    for (let i = 0; i < n; i++) tokens.push(t);
  }
  return encodeRuns(tokens);
}

/** A window of /proc/kpageflags and /proc/kpagecount: one u64 per pfn from `base`, as read (little-endian). */
export interface FrameWindow {
  readonly base: number;
  readonly kpageflags: Uint8Array;
  readonly kpagecount: Uint8Array;
}

/**
 * The census of raw /proc bytes: `pagemap` holds one u64 per page of the
 * range, and each page's frame is looked up in the windows of kpageflags
 * and kpagecount (a frame in none reads as no flags, count 0). The folio
 * order comes from the compound head and tail flags, as the executor finds it.
 */
export function censusFromBytes(pagemap: Uint8Array, windows: readonly FrameWindow[]): string {
  const pm = new DataView(pagemap.buffer, pagemap.byteOffset, pagemap.byteLength);
  const u64lo = (pfn: number, which: "kpageflags" | "kpagecount"): number => {
    for (const w of windows) {
      const off = (pfn - w.base) * 8;
      const bytes = w[which];
      if (pfn >= w.base && off + 8 <= bytes.byteLength) return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(off, true);
    }
    return 0;
  };
  const HEAD = 1 << 15;
  const TAIL = 1 << 16;
  const tokens: string[] = [];
  for (let i = 0; i * 8 < pm.byteLength; i++) {
    const lo = pm.getUint32(i * 8, true);
    const hi = pm.getUint32(i * 8 + 4, true);
    const hex = (hi >>> 0).toString(16).padStart(8, "0") + "00000000";
    if (!(hi & PM_PRESENT_HI)) {
      tokens.push(pageToken(hex, "0", 0, 0));
      continue;
    }
    // PFN: bits 0-54.
    const pfn = (hi & 0x7fffff) * 2 ** 32 + lo;
    const f = u64lo(pfn, "kpageflags");
    let order = 0;
    if (f & (HEAD | TAIL)) {
      let head = pfn;
      while (u64lo(head, "kpageflags") & TAIL) head--;
      let n = 1;
      while (u64lo(head + n, "kpageflags") & TAIL) n++;
      while (2 ** order < n) order++;
    }
    tokens.push(pageToken(hex, f.toString(16), u64lo(pfn, "kpagecount"), order));
  }
  return encodeRuns(tokens);
}

/** Page counts by kind, for a readable summary of two censuses that differ. */
export function censusSummary(rle: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of decodeRuns(rle)) {
    const kind = t === "n" ? "none" : t === "s" ? "swapped" : t.includes("Z") ? "huge-zero" : t.includes("z") ? "zero" : /o(\d+)/.test(t) ? `order-${/o(\d+)/.exec(t)![1]}` : "order-0";
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}
