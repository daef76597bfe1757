import { lruAddDrain } from "../folio/lru-batch";
import { PTE, SoftleafType, entryRegs, softleafIsMigration, softleafIsDevicePrivate, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_lru, PG_referenced, PG_reserved, PG_swapbacked, PG_swapcache, PG_tail } from "../phys/page-flags";
import { NS } from "../stats/counters";
import { WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS } from "./counters";
import type { Mm } from "./mm";
import { tryToFreePte } from "./pt-reclaim";
import type { Vma } from "./vma";
import { VM_SEQ_READ } from "./vm-flags";

const R = entryRegs(4);

/** What a zap should leave alone (zap_details). */
export interface ZapDetails {
  /** Only zap pages of this address space (truncation); anon COW copies stay. */
  readonly mapping?: number;
  /** MADV_DONTNEED's reclaim_pt: free a PTE table the zap covered whole and left empty (with KernelConfig.ptReclaim). */
  readonly reclaimPt?: boolean;
}

/** A zap of a huge entry (zap_huge_pmd / zap_huge_pud), provided by the huge-page layer. */
export type HugeZap = (k: Kernel, mm: Mm, vma: Vma, level: Level, table: Uint32Array, tablePa: number, index: number, addr: number, start: number, end: number) => void;

/** mm_counter: which rss counter a folio is charged to. */
export function mmCounter(k: Kernel, head: number): number {
  const f = k.folios;
  if (f.test(head, PG_anon)) return MM_ANONPAGES;
  return f.test(head, PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/**
 * unmap_page_range over [start, end) of `vma`: clear every entry, drop the
 * mappings and references of mapped folios, release swap entries, and record
 * the TLB flush. Page tables stay (free_pgtables frees them on munmap).
 */
export function zapPageRange(k: Kernel, mm: Mm, vma: Vma, start: number, end: number, hugeZap: HugeZap, details: ZapDetails = {}): void {
  // unmap_region, exit_mmap and zap_page_range_single drain this CPU's batches first.
  lruAddDrain(k);
  const kindZap = vma.kind?.zap;
  if (kindZap !== undefined) {
    kindZap(k, mm, vma, start, end, details);
    k.flushTlb(start, end, "munmap");
    return;
  }
  const w = mm.walker;
  const slot = mm.slot;
  const pteTable = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pteTable.shift * pteTable.entries;
  let addr = start;
  while (addr < end) {
    const tableEnd = Math.min(end, addr - (addr % span) + span);
    const st = w.find(addr, PTE, false, slot);
    if (st === WALK_OK) {
      const { tablePa, parentPa, parentIndex } = slot;
      zapPteRange(k, mm, vma, slot.table, tablePa, slot.index, addr, tableEnd, details);
      // reclaim_pt_is_enabled: the zap covered this table's whole span.
      if (details.reclaimPt === true && k.config.ptReclaim && tableEnd - addr === span) tryToFreePte(k, mm, tablePa, parentPa, parentIndex);
      addr = tableEnd;
    } else if (st === WALK_LEAF || st === WALK_SOFTLEAF) {
      const size = w.levelSize(slot.level);
      const leafStart = addr - (addr % size);
      hugeZap(k, mm, vma, slot.level, slot.table, slot.tablePa, slot.index, leafStart, addr, Math.min(end, leafStart + size));
      addr = Math.min(end, leafStart + size);
    } else {
      // The entry at slot.level is none: nothing is mapped in the span it covers.
      const skip = w.levelSize(slot.level);
      addr = Math.min(end, addr - (addr % skip) + skip);
    }
  }
  k.flushTlb(start, end, "munmap");
}

/** zap_pte_range over the entries of one PTE table. */
function zapPteRange(k: Kernel, mm: Mm, vma: Vma, table: Uint32Array, tablePa: number, index: number, start: number, end: number, details: ZapDetails): void {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  const ptl = k.tables.ptl(tablePa);
  k.locks.acquire(ptl);
  let anonFreed = 0;
  const batch = zapBatch(k);
  try {
    for (let addr = start, i = index; addr < end; ) {
      b.getEntry(table, i, PTE, R, 0);
      if (b.none(R, 0, PTE)) {
        addr += ps;
        i++;
        continue;
      }
      if (b.present(R, 0, PTE)) {
        const page = normalPage(k, R, 0);
        if (page >= 0 && details.mapping === undefined && zapExclusiveAnonPage(k, table, i, addr, page, batch)) {
          anonFreed++;
          addr += ps;
          i++;
          continue;
        }
        // Everything else goes in order after the pages batched so far.
        if (batch.n > 0) freeZapBatch(k, batch);
        if (page < 0) {
          b.getAndClear(k.ptCtx, table, i, PTE, addr, R, 2);
          addr += ps;
          i++;
          continue;
        }
        const head = f.head(page);
        if (details.mapping !== undefined && f.mapping(head) !== details.mapping) {
          addr += ps;
          i++;
          continue;
        }
        const maxNr = Math.min((end - addr) / ps, head + f.nrPages(head) - page);
        const nr = maxNr > 1 ? pteBatch(k, table, i, page, maxNr) : 1;
        b.getAndClearEntries(k.ptCtx, table, i, PTE, addr, nr, R, 2);
        if (!f.test(head, PG_anon)) {
          if (b.dirty(R, 2, PTE)) k.pagecache.markDirty(head);
          if (b.young(R, 2, PTE) && (vma.flags & VM_SEQ_READ) === 0) f.set(head, PG_referenced);
        }
        mm.addRss(mmCounter(k, head), -nr);
        k.rmap.remove(head, page, nr, PTE, mm.id);
        // free_swap_cache: an unmapped folio nobody's swap entry needs leaves the swap cache with the TLB batch.
        if (f.test(head, PG_swapcache) && !f.mapped(head)) k.swap.folioFreeSwap(head);
        folioPut(k, head, nr);
        addr += nr * ps;
        i += nr;
        continue;
      }
      if (batch.n > 0) freeZapBatch(k, batch);
      zapSoftleaf(k, mm, R, 0, PTE);
      b.getAndClear(k.ptCtx, table, i, PTE, addr, R, 2);
      addr += ps;
      i++;
    }
  } finally {
    if (batch.n > 0) freeZapBatch(k, batch);
    mm.addRss(MM_ANONPAGES, -anonFreed);
    k.locks.release(ptl);
  }
}

/** Order-0 anonymous folios unmapped by a zap and not yet freed, in the order their PTEs were cleared. */
interface ZapBatch {
  readonly pfns: Int32Array;
  n: number;
}

const batches = new WeakMap<Kernel, ZapBatch>();

function zapBatch(k: Kernel): ZapBatch {
  let b = batches.get(k);
  if (b === undefined) {
    const pte = k.geometry.tables[k.geometry.tables.length - 1]!;
    batches.set(k, (b = { pfns: new Int32Array(pte.entries), n: 0 }));
  }
  b.n = 0;
  return b;
}

/**
 * The common case of zap_present_ptes: an order-0 anonymous folio that
 * this PTE alone maps and references (not in the swap cache, on the LRU).
 * Its entry is cleared through the arch and its mapcount and refcount
 * dropped now; it joins `batch`, freed by freeZapBatch as the general path
 * frees it — nr_anon_pages, off the LRU, back to the allocator — without
 * the rmap and folio_put for each page. The caller uncharges the rss. False
 * when the page is not such a folio.
 */
function zapExclusiveAnonPage(k: Kernel, table: Uint32Array, i: number, addr: number, page: number, batch: ZapBatch): boolean {
  const f = k.folios;
  if (!k.config.fastPaths || f.lid(page) !== 0) return false;
  const s = f.section(page);
  const j = page & f.memmap.pbMask;
  const flags = s.flags[j]!;
  if ((flags & (PG_anon | PG_lru | PG_swapcache | PG_reserved | PG_tail)) !== (PG_anon | PG_lru) || s.mapcount[j] !== 1 || s.refcount[j] !== 1) return false;
  k.backend.getAndClearEntries(k.ptCtx, table, i, PTE, addr, 1, R, 2);
  s.mapcount[j] = 0;
  s.refcount[j] = 0;
  batch.pfns[batch.n++] = page;
  return true;
}

/**
 * Free the zapped pages of `batch` (free_pages_and_swap_cache at the end of
 * a TLB batch): one LRU splice when they sit together on their list, one
 * hand-over to the pcp lists, whose bulk frees merge aligned runs at once.
 * The same state as freeing them one by one.
 */
function freeZapBatch(k: Kernel, batch: ZapBatch): void {
  const f = k.folios;
  const mask = f.memmap.pbMask;
  const n = batch.n;
  const pfns = batch.pfns;
  for (let j = 0; j < n; j++) k.phys.nodeStats(k.phys.nidOf(pfns[j]!))[NS.nr_anon_pages]!--;
  k.lru.delOrder0Run(pfns, n);
  for (let j = 0; j < n; j++) {
    const s = f.section(pfns[j]!);
    const i = pfns[j]! & mask;
    s.flags[i] = 0;
    s.mapping[i] = 0;
  }
  k.phys.freeOrder0Pages(pfns, n);
  batch.n = 0;
}

/**
 * zap_nonpresent_ptes for one softleaf: a swap entry drops its slot (and
 * maybe the cached folio); a migration entry only uncharges the rss (the
 * migration owns the folio); a device-private entry drops its mapping;
 * markers and hwpoison entries just go.
 */
export function zapSoftleaf(k: Kernel, mm: Mm, v: Uint32Array, o: number, level: Level): void {
  const b = k.backend;
  const type = softleafTypeOf(b.swpType(v, o, level));
  const off = b.swpOffset(v, o, level);
  if (type === SoftleafType.SWAP) {
    const nr = level === PTE ? 1 : k.pagesAt(level);
    mm.addRss(MM_SWAPENTS, -nr);
    k.swap.freeSwapAndCache(off, nr);
    return;
  }
  if (softleafIsMigration(type)) {
    const head = k.folios.head(softleafPfn(b.softleaf, off));
    mm.addRss(mmCounter(k, head), level === PTE ? -1 : -k.pagesAt(level));
    return;
  }
  if (softleafIsDevicePrivate(type) || type === SoftleafType.DEVICE_EXCLUSIVE) {
    const pfn = softleafPfn(b.softleaf, off);
    const head = k.folios.head(pfn);
    const nr = level === PTE ? 1 : k.pagesAt(level);
    mm.addRss(mmCounter(k, head), -nr);
    k.rmap.remove(head, pfn, 1, level, mm.id);
    folioPut(k, head, 1);
    return;
  }
  if (type === SoftleafType.MARKER || type === SoftleafType.HWPOISON) return;
  throw new ModelBug(`zap: unexpected softleaf type ${type}`);
}

/**
 * folio_pte_batch: how many of the next `max` PTEs map consecutive pages of
 * the folio starting at `page` with the same bits apart from young and dirty.
 */
export function pteBatch(k: Kernel, table: Uint32Array, index: number, page: number, max: number): number {
  const b = k.backend;
  b.readEntry(table, index, PTE, R, 0);
  const write = b.write(R, 0, PTE);
  let n = 1;
  while (n < max) {
    b.readEntry(table, index + n, PTE, R, 0);
    if (!b.present(R, 0, PTE) || b.pfn(R, 0, PTE) !== page + n || b.write(R, 0, PTE) !== write || b.special(R, 0, PTE)) break;
    n++;
  }
  return n;
}
