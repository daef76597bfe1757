import { PMD, PTE, PUD, SoftleafType, entryRegs, softleafIsDevicePrivate, softleafIsMigration, softleafPfn, softleafTypeOf, type EntryReg, type HugeSize, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { PG_anon, PG_anon_exclusive, PG_locked, PG_swapbacked } from "../phys/page-flags";
import { depositKey } from "../huge/deposit";
import type { Violation } from "./invariants";

/** How a check reports one broken invariant. */
export type Report = (check: string, message: string, extra?: Partial<Violation>) => void;

/**
 * What one leaf entry contributes to the counts the checker compares with
 * the kernel's: the full check sums into maps over the whole machine, the
 * incremental one into the summary of the table holding the entry.
 */
export interface EntrySeen {
  /** A PTE-level mapping (present or device-private) of page `pfn`. */
  pte(pfn: number): void;
  /** A PMD/PUD-level mapping of the folio at `head`. */
  entire(head: number): void;
  /** A swap entry referencing slot `off`. */
  swap(off: number): void;
  /** A mapping of the large folio at `head` by this table's mm (CONFIG_MM_ID). */
  perMm(head: number): void;
  /** An anonymous huge PMD entry wanting one table on the stack at `key`. */
  depositPmd(key: number): void;
  /** An anonymous huge PUD entry, which holds tables at `key` when its deposit policy gave it some. */
  depositPud(key: number): void;
  /** `pages` counted in rss counter `counter`. */
  rss(counter: number, pages: number): void;
  /** A mapping of the huge zero folio. */
  hugeZero(): void;
  /** The entry's checks read the state of the folio holding page `pfn`. */
  uses(pfn: number): void;
}

/** MM_ANONPAGES, MM_SHMEMPAGES or MM_FILEPAGES: the rss counter a mapping of the folio at `head` counts in. */
export function counterOf(k: Kernel, head: number): number {
  const f = k.folios;
  if (f.test(head, PG_anon)) return MM_ANONPAGES;
  return f.test(head, PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/**
 * Check one non-none, non-table entry at `level` (already read into `R`
 * slot 0), the `index`th of the table at `tablePa`, mapping `addr` in `mm`:
 * what it may map, and what it adds to the counts.
 */
export function visitEntry(k: Kernel, mm: Mm, R: EntryReg, level: Level, tablePa: number, index: number, addr: number, seen: EntrySeen, v: Report): void {
  const b = k.backend;
  const f = k.folios;
  const vma = mm.vmas.lookup(addr);
  if (vma === undefined) v("pgtable", `entry at 0x${addr.toString(16)} lies outside every VMA`, { mm: mm.id, addr });
  const huge = level !== PTE;
  // Anonymous huge entries (leaves, the huge zero folio, PMD softleaves) keep tables for their split.
  if (huge && vma?.isAnonymous) {
    const key = depositKey(k, level, tablePa, index);
    if (level === PUD) seen.depositPud(key);
    else seen.depositPmd(key);
  }
  if (b.present(R, 0, level) || (huge && b.leaf(R, 0, level))) {
    const pfn = b.pfn(R, 0, level);
    seen.uses(pfn);
    if (k.hugeZero.is(pfn)) {
      if (b.write(R, 0, level)) v("zero-page", `the huge zero folio is mapped writable at 0x${addr.toString(16)}`, { mm: mm.id, addr });
      if (level !== PMD) v("zero-page", `the huge zero folio is mapped at level ${level} at 0x${addr.toString(16)}`, { mm: mm.id, addr });
      seen.hugeZero();
      return;
    }
    if (b.special(R, 0, level) || pfn === k.zeroPfn) {
      if (pfn === k.zeroPfn && b.write(R, 0, level)) v("zero-page", `the zero page is mapped writable at 0x${addr.toString(16)}`, { mm: mm.id, addr });
      return;
    }
    const head = f.head(pfn);
    if (!f.isAllocated(pfn)) {
      v("mapping", `0x${addr.toString(16)} maps free page ${pfn}`, { mm: mm.id, addr, pfn });
      return;
    }
    const pages = huge ? k.pagesAt(level) : 1;
    if (huge) {
      if (head !== pfn || f.nrPages(head) !== pages) v("mapping", `a level-${level} entry at 0x${addr.toString(16)} maps pfn ${pfn}, not a whole folio of ${pages} pages`, { mm: mm.id, addr, pfn });
      seen.entire(head);
    } else {
      seen.pte(pfn);
    }
    if (vma !== undefined && !rmapReaches(k, head, pfn, vma, addr)) v("rmap", `0x${addr.toString(16)} maps page ${pfn} of folio ${head}, which its rmap (anon_vma or i_mmap, and index) does not reach there`, { mm: mm.id, addr, pfn });
    if (f.order(head) > 0) seen.perMm(head);
    // A writable anonymous mapping is always of an exclusive page (the head page for a huge one).
    if (f.test(head, PG_anon) && b.write(R, 0, level) && !f.pageTest(pfn, PG_anon_exclusive)) {
      v("anon-exclusive", `0x${addr.toString(16)} maps page ${pfn} writable but it is not PageAnonExclusive`, { mm: mm.id, addr, pfn });
    }
    seen.rss(counterOf(k, head), pages);
    return;
  }
  if (!b.isSoftleaf(R, 0, level)) return;
  const type = softleafTypeOf(b.swpType(R, 0, level));
  const off = b.swpOffset(R, 0, level);
  const pages = level === PTE ? 1 : k.pagesAt(level);
  if (type === SoftleafType.SWAP) {
    for (let j = 0; j < pages; j++) seen.swap(off + j);
    seen.rss(MM_SWAPENTS, pages);
  } else if (softleafIsMigration(type)) {
    const pfn = softleafPfn(b.softleaf, off);
    seen.uses(pfn);
    const head = f.head(pfn);
    if (!f.test(head, PG_locked)) v("migration", `migration entry at 0x${addr.toString(16)} for unlocked folio ${head}`, { mm: mm.id, addr, pfn });
    if (level !== PTE && (pfn !== head || f.nrPages(head) !== pages)) v("migration", `a level-${level} migration entry at 0x${addr.toString(16)} names pfn ${pfn}, not the head of a folio of ${pages} pages`, { mm: mm.id, addr, pfn });
    seen.rss(counterOf(k, head), pages);
  } else if (softleafIsDevicePrivate(type) || type === SoftleafType.DEVICE_EXCLUSIVE) {
    // Device-private and device-exclusive entries map their folio (rmap, mapcount, reference) while the device holds it.
    const pfn = softleafPfn(b.softleaf, off);
    seen.uses(pfn);
    const head = f.head(pfn);
    if (level === PTE) seen.pte(pfn);
    else seen.entire(head);
    if (vma !== undefined && !rmapReaches(k, head, level === PTE ? pfn : head, vma, addr)) v("rmap", `a device-private entry at 0x${addr.toString(16)} names page ${pfn} of folio ${head}, which its rmap does not reach there`, { mm: mm.id, addr, pfn });
    if (f.order(head) > 0) seen.perMm(head);
    seen.rss(counterOf(k, head), pages);
  }
}

/** The VMA mapping `addr` and its kind's logical entry size, when its kind maps with logical entries (hugetlb). */
export function logicalEntrySize(mm: Mm, addr: number): { vma: Vma; size: HugeSize } | undefined {
  const vma = mm.vmas.lookup(addr);
  const size = vma?.kind?.entrySize?.(vma);
  return vma === undefined || size === undefined ? undefined : { vma, size };
}

const RL = entryRegs(1);

/**
 * One logical entry of a kind's VMA (a hugetlb page: one slot, a cont run,
 * an 8xx 8M pair), the `index`th slot of `table`, read at its first slot
 * with the arch's huge_ptep_get: it maps a whole folio once, through the
 * folio-level mapcount, outside rss.
 */
export function visitLogicalEntry(k: Kernel, mm: Mm, vma: Vma, es: HugeSize, table: Uint32Array, index: number, addr: number, seen: EntrySeen, v: Report): void {
  if (index % es.ncontig !== 0) return;
  const b = k.backend;
  const f = k.folios;
  b.getHugeEntry(k.tables, table, index, addr, RL, 0, es);
  // The value huge_ptep_get gives is in the format of the slots it was read from.
  const level = es.viaPteTables ? PTE : es.level;
  if (b.none(RL, 0, level) || !b.present(RL, 0, level)) return;
  const pfn = b.pfn(RL, 0, level);
  seen.uses(pfn);
  const pages = 2 ** (es.shift - k.pageShift);
  if (!f.isAllocated(pfn)) {
    v("mapping", `0x${addr.toString(16)} maps free page ${pfn}`, { mm: mm.id, addr, pfn });
    return;
  }
  const head = f.head(pfn);
  if (head !== pfn || f.nrPages(head) !== pages) v("mapping", `a ${pages}-page logical entry at 0x${addr.toString(16)} maps pfn ${pfn}, not a whole folio of ${pages} pages`, { mm: mm.id, addr, pfn });
  seen.entire(head);
  if (!rmapReaches(k, head, head, vma, addr)) v("rmap", `0x${addr.toString(16)} maps folio ${head}, which its rmap (anon_vma or i_mmap, and index) does not reach there`, { mm: mm.id, addr, pfn });
  seen.perMm(head);
  if (f.test(head, PG_anon) && b.write(RL, 0, level) && !f.pageTest(head, PG_anon_exclusive)) {
    v("anon-exclusive", `0x${addr.toString(16)} maps folio ${head} writable but it is not PageAnonExclusive`, { mm: mm.id, addr, pfn });
  }
}

/**
 * Whether an rmap walk of the folio at `head` (rmap_walk: its anon_vma's
 * chains or its file's i_mmap, then page_vma_mapped_walk at the address its
 * index gives in each VMA) finds the entry at `addr` in `vma` that maps
 * `page`. Checking each mapping the tables hold this way is equivalent to
 * walking the rmap of every folio and counting, in time linear in the
 * mappings.
 */
function rmapReaches(k: Kernel, head: number, page: number, vma: Vma, addr: number): boolean {
  const f = k.folios;
  const mapping = f.mapping(head);
  if (mapping === 0) return false;
  const anon = f.test(head, PG_anon);
  // Neighbouring entries mostly share their VMA and mapping: remember the last answer.
  if (vma !== linkMemo.vma || mapping !== linkMemo.mapping || anon !== linkMemo.anon || k !== linkMemo.k) {
    linkMemo.k = k;
    linkMemo.vma = vma;
    linkMemo.mapping = mapping;
    linkMemo.anon = anon;
    linkMemo.linked = linked(k, vma, mapping, anon);
  }
  if (!linkMemo.linked) return false;
  return vma.addressOf((f.index(head) + (page - head)) >>> 0, k.pageSize) === addr;
}

/** The last VMA and mapping rmapReaches looked at; forgotten at the start of each check. */
const linkMemo: { k: Kernel | null; vma: Vma | null; mapping: number; anon: boolean; linked: boolean } = { k: null, vma: null, mapping: 0, anon: false, linked: false };

/** Forget what rmapReaches remembered: the VMAs and anon_vmas may have changed since the last check. */
export function forgetRmapMemo(): void {
  linkMemo.k = null;
  linkMemo.vma = null;
}

/** Whether rmap_walk of `mapping` visits `vma`: the anon_vma's chains, or the file's i_mmap. */
function linked(k: Kernel, vma: Vma, mapping: number, anon: boolean): boolean {
  if (anon) {
    const av = k.anonVmas.byId.get(mapping);
    if (av === undefined) return false;
    for (const c of vma.chains) if (c.anonVma === av && c.vma === vma && av.chains.has(c)) return true;
    return false;
  }
  const as = k.files.get(mapping);
  return as !== undefined && as.iMmap.has(vma);
}
