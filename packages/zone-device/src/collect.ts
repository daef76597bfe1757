import { PMD, PTE, PUD, SoftleafType, entryRegs, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import {
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_PRIVATE,
  PG_locked,
  Slot,
  WALK_LEAF,
  WALK_OK,
  WALK_SOFTLEAF,
  folioPut,
  splitFolio,
  splitHugeEntry,
  type Kernel,
} from "@hugemm/core";
import {
  MIGRATE_PFN_COMPOUND,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migratePfn,
} from "./migrate-pfn";
import type { MigrateVma } from "./migrate-vma";

const R = entryRegs(1);

/*
 * migrate_vma_collect: walk [start, end) and fill src, one entry per page.
 * A PMD-sized, PMD-aligned piece with MIGRATE_VMA_SELECT_COMPOUND is
 * collected as one entry (a THP, a device-private THP, or a hole) with the
 * other 511 left zero; anything smaller splits the huge entry and the large
 * folio and collects page by page. A collected folio is referenced and
 * locked here; its mappings are taken down afterwards (migrate_device_unmap,
 * through try_to_migrate), which leaves the same entries as the kernel's
 * collection installing migration entries on the way.
 */

/** Fill m.src by walking the range. */
export function collect(k: Kernel, m: MigrateVma): void {
  const ps = k.pageSize;
  // One PMD entry's span: a THP where the arch has them.
  const pmdSize = m.mm.walker.levelSize(PMD);
  // Without PMD softleaves a THP cannot be held behind one entry: everything goes page by page.
  const compound = (m.flags & MIGRATE_VMA_SELECT_COMPOUND) !== 0 && k.backend.capabilities.pmdSoftleaf && k.thp.pmdOrder > 0 && pmdSize === ps * 2 ** k.thp.pmdOrder;
  const slot = new Slot();
  for (let addr = m.start; addr < m.end; ) {
    const next = Math.min(m.end, addr - (addr % pmdSize) + pmdSize);
    const whole = compound && addr % pmdSize === 0 && next - addr === pmdSize;
    const st = m.mm.walker.find(addr, PTE, false, slot);
    if (st === WALK_LEAF || st === WALK_SOFTLEAF) {
      const r = hugeEntry(k, m, slot, addr, next, whole, st === WALK_LEAF);
      if (r === "retry") continue;
      addr = next;
      continue;
    }
    if (st !== WALK_OK) {
      hole(m, addr, next, whole);
      addr = next;
      continue;
    }
    addr = ptes(k, m, slot, addr, next);
  }
}

function idx(m: MigrateVma, addr: number): number {
  return (addr - m.start) / m.k.pageSize;
}

/** migrate_vma_collect_hole: anonymous holes may be populated, others are skipped. */
function hole(m: MigrateVma, addr: number, end: number, whole: boolean): void {
  if (!m.vma.isAnonymous) return;
  if (whole) {
    m.src[idx(m, addr)] = MIGRATE_PFN_MIGRATE + MIGRATE_PFN_COMPOUND;
    m.cpages++;
    return;
  }
  for (let a = addr; a < end; a += m.k.pageSize) {
    m.src[idx(m, a)] = MIGRATE_PFN_MIGRATE;
    m.cpages++;
  }
}

/** Split the huge entry at `slot` in place (split_huge_pmd / the page walk's split_huge_pud). */
function splitAt(k: Kernel, m: MigrateVma, slot: Slot, level: Level, addr: number): boolean {
  const size = m.mm.walker.levelSize(level);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    return splitHugeEntry(k, m.mm, m.vma, level, slot.table, slot.tablePa, slot.index, addr - (addr % size), false);
  } finally {
    k.locks.release(ptl);
  }
}

/** Reference and lock a folio for migration (folio_get + folio_trylock); the faulting page is locked already. */
function take(k: Kernel, m: MigrateVma, head: number): boolean {
  const f = k.folios;
  f.ref(head);
  if (m.faultPage >= 0 && f.head(m.faultPage) === head) return true;
  if (f.test(head, PG_locked)) {
    folioPut(k, head, 1);
    return false;
  }
  f.set(head, PG_locked);
  return true;
}

/** Whether a device folio of `pfn` is selected: its type's selector and the caller's owner. */
function deviceSelected(k: Kernel, m: MigrateVma, pfn: number): boolean {
  const p = k.phys.pgmapOf(pfn);
  if (p === undefined) return (m.flags & MIGRATE_VMA_SELECT_SYSTEM) !== 0;
  if (p.owner !== m.owner) return false;
  if (p.type === MEMORY_DEVICE_PRIVATE) return (m.flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) !== 0;
  if (p.type === MEMORY_DEVICE_COHERENT) return (m.flags & MIGRATE_VMA_SELECT_DEVICE_COHERENT) !== 0;
  return false;
}

/**
 * migrate_vma_collect_huge_pmd: a THP, the huge zero folio, or a
 * device-private THP at PMD level. Collected whole when `whole`; otherwise
 * the entry is split and the piece walked again ("retry"). A PUD leaf is
 * split (the page walk splits PUDs for walkers without a PUD handler).
 */
function hugeEntry(k: Kernel, m: MigrateVma, slot: Slot, addr: number, next: number, whole: boolean, present: boolean): "retry" | "done" {
  const b = k.backend;
  const f = k.folios;
  const level = slot.level;
  if (level !== PMD) {
    if (level === PUD && present && splitAt(k, m, slot, PUD, addr)) return "retry";
    return "done";
  }
  b.readEntry(slot.table, slot.index, PMD, R, 0);
  let pfn: number;
  let write: boolean;
  if (present) {
    pfn = b.pfn(R, 0, PMD);
    if (k.hugeZero.is(pfn)) {
      if (whole && (m.flags & MIGRATE_VMA_SELECT_SYSTEM) !== 0) {
        hole(m, addr, next, true);
        return "done";
      }
      return splitAt(k, m, slot, PMD, addr) ? "retry" : "done";
    }
    write = b.write(R, 0, PMD);
  } else {
    const type = softleafTypeOf(b.swpType(R, 0, PMD));
    if (type !== SoftleafType.DEVICE_PRIVATE_READ && type !== SoftleafType.DEVICE_PRIVATE_WRITE) return "done";
    pfn = softleafPfn(b.softleaf, b.swpOffset(R, 0, PMD));
    write = type === SoftleafType.DEVICE_PRIVATE_WRITE;
  }
  if (!deviceSelected(k, m, pfn)) return "done";
  if (!whole) return splitAt(k, m, slot, PMD, addr) ? "retry" : "done";
  const head = f.head(pfn);
  if (!take(k, m, head)) return "done";
  m.src[idx(m, addr)] = migratePfn(head) + MIGRATE_PFN_MIGRATE + MIGRATE_PFN_COMPOUND + (write ? MIGRATE_PFN_WRITE : 0);
  m.cpages++;
  return "done";
}

/**
 * The PTEs of [addr, end): holes, the zero page, system pages, coherent
 * pages and device-private entries as the selectors allow. A page of a large
 * folio splits the folio first (migrate_vma_split_folio) and is looked at
 * again; a folio that will not split ends the piece. Returns where the walk
 * continues.
 */
function ptes(k: Kernel, m: MigrateVma, slot: Slot, addr: number, end: number): number {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  for (let a = addr, i = slot.index; a < end; ) {
    b.getEntry(slot.table, i, PTE, R, 0);
    const j = idx(m, a);
    if (b.none(R, 0, PTE)) {
      if (m.vma.isAnonymous) {
        m.src[j] = MIGRATE_PFN_MIGRATE;
        m.cpages++;
      }
      a += ps;
      i++;
      continue;
    }
    let pfn: number;
    let write: boolean;
    if (!b.present(R, 0, PTE)) {
      const type = softleafTypeOf(b.swpType(R, 0, PTE));
      if (type !== SoftleafType.DEVICE_PRIVATE_READ && type !== SoftleafType.DEVICE_PRIVATE_WRITE) {
        a += ps;
        i++;
        continue;
      }
      pfn = softleafPfn(b.softleaf, b.swpOffset(R, 0, PTE));
      write = type === SoftleafType.DEVICE_PRIVATE_WRITE;
    } else {
      pfn = b.pfn(R, 0, PTE);
      write = b.write(R, 0, PTE);
      if (pfn === k.zeroPfn) {
        if (m.flags & MIGRATE_VMA_SELECT_SYSTEM) {
          m.src[j] = MIGRATE_PFN_MIGRATE;
          m.cpages++;
        }
        a += ps;
        i++;
        continue;
      }
      if (b.special(R, 0, PTE)) {
        a += ps;
        i++;
        continue;
      }
    }
    const head = f.head(pfn);
    if (!deviceSelected(k, m, pfn) || f.mapping(head) === 0) {
      a += ps;
      i++;
      continue;
    }
    if (f.order(head) > 0) {
      if (!splitLarge(k, m, head)) return end;
      // The split may have changed the tables: walk to this address again.
      const st = m.mm.walker.find(a, PTE, false, slot);
      if (st !== WALK_OK) return a;
      i = slot.index;
      continue;
    }
    if (take(k, m, head)) {
      m.src[j] = migratePfn(pfn) + MIGRATE_PFN_MIGRATE + (write ? MIGRATE_PFN_WRITE : 0);
      m.cpages++;
    }
    a += ps;
    i++;
  }
  return end;
}

/** migrate_vma_split_folio: split a PTE-mapped large folio to pages (not the one a CPU is faulting on). */
function splitLarge(k: Kernel, m: MigrateVma, head: number): boolean {
  const f = k.folios;
  if (m.faultPage >= 0 && f.head(m.faultPage) === head) return false;
  if (f.test(head, PG_locked)) return false;
  f.ref(head);
  const r = splitFolio(k, head, 0);
  folioPut(k, f.head(head), 1);
  return r === 0;
}
