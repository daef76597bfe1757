import { PTE, entryRegs, type EntryReg, type HugeSize, type Level } from "@hugemm/arch";
import { ModelBug, Slot, WALK_ENOMEM, WALK_OK, type Kernel, type Mm, type Vma } from "@hugemm/core";
import type { Hstate } from "./hstate";

/**
 * The level whose entry format a logical entry's value has: its slots'
 * level, except for the 8xx 8M page, whose "pte" is reached through its PMD
 * slots but read and written as the cells of the PTE tables below them.
 */
export function valueLevel(e: HugeSize): Level {
  return e.viaPteTables ? PTE : e.level;
}

const TMP = new Slot();

/**
 * huge_pte_alloc: the slot of the logical entry for `addr` (the first slot
 * of a cont run, the first PMD of an 8xx 8M pair), allocating the tables on
 * the way — for the 8M page one PTE table under each of its PMDs. False
 * when a table could not be allocated (the fault's VM_FAULT_OOM).
 */
export function hugePteAlloc(k: Kernel, mm: Mm, h: Hstate, addr: number, slot: Slot): boolean {
  const e = h.entry;
  const st = mm.walker.find(addr, e.level, true, slot, mm.nid);
  if (st === WALK_ENOMEM) return false;
  if (st !== WALK_OK) throw new ModelBug(`huge_pte_alloc at 0x${addr.toString(16)}: a level-${slot.level} entry above the ${h.name} slot is not a table`);
  if (e.viaPteTables) {
    const span = 2 ** k.geometry.levels[e.level]!.shift;
    for (let j = 0; j < e.ncontig; j++) {
      if (mm.walker.find(addr + j * span, PTE, true, TMP, mm.nid) === WALK_ENOMEM) return false;
    }
    mm.walker.find(addr, e.level, false, slot);
  }
  return true;
}

/** huge_pte_offset: the logical entry's slot for `addr` if the tables down to it exist. */
export function hugePteOffset(mm: Mm, h: Hstate, addr: number, slot: Slot): boolean {
  return mm.walker.find(addr, h.entry.level, false, slot) === WALK_OK;
}

/** huge_ptep_get: the logical entry at `slot` into `out` (young and dirty gathered over its slots). */
export function hugePtepGet(k: Kernel, h: Hstate, slot: Slot, addr: number, out: EntryReg): void {
  k.backend.getHugeEntry(k.tables, slot.table, slot.index, addr, out, 0, h.entry);
}

/**
 * make_huge_pte: an entry for the folio at `head` with the VMA's
 * protection — writable and dirty only when asked (shared writable
 * mappings), always young — turned into the arch's huge entry of the size.
 */
export function makeHugePte(k: Kernel, vma: Vma, h: Hstate, head: number, writable: boolean, out: EntryReg): void {
  const b = k.backend;
  const lvl = valueLevel(h.entry);
  b.pfnEntry(out, 0, lvl, head, vma.flags & 0xf);
  if (writable) {
    b.mkwrite(out, 0, lvl);
    b.mkdirty(out, 0, lvl);
  } else {
    b.wrprotect(out, 0, lvl);
  }
  b.mkyoung(out, 0, lvl);
  b.makeHugeEntry(out, 0, h.entry);
}

/** set_huge_pte_at. */
export function setHugePteAt(k: Kernel, h: Hstate, slot: Slot, addr: number, v: EntryReg): void {
  k.backend.setHugeEntry(k.ptCtx, k.tables, slot.table, slot.index, addr, v, 0, h.entry);
}

const Z = entryRegs(1);

/**
 * huge_ptep_get_and_clear, then clear any slot of the run the arch left
 * behind. The 8xx's pte_update() sizes its write from the cleared value,
 * which lacks the huge bits, so for a 512K page (4K pages) it clears only
 * the first PTE's cells and the rest still translate (arch-ppc8xx lists
 * this as a kernel deviation); for an 8M page it leaves each cell's 4K
 * increment behind. The model clears the whole run so that no freed page
 * stays mapped and free_pgtables finds the tables empty.
 */
export function hugePtepGetAndClear(k: Kernel, h: Hstate, slot: Slot, addr: number, out: EntryReg): void {
  const b = k.backend;
  const e = h.entry;
  b.getAndClearHugeEntry(k.ptCtx, k.tables, slot.table, slot.index, addr, out, 0, e);
  if (e.viaPteTables) {
    // The 8M clear writes each cell's 4K increment into the cleared value (not present, but not none).
    const ptes = k.geometry.tables[k.geometry.tables.length - 1]!.entries;
    for (let j = 0; j < e.ncontig; j++) {
      b.readEntry(slot.table, slot.index + j, e.level, Z, 0);
      const t = k.tables.tableAt(b.tablePa(Z, 0, e.level));
      if (t !== undefined) for (let i = 0; i < ptes; i++) clearSlot(k, t, i, PTE);
    }
    return;
  }
  for (let j = 1; j < e.ncontig; j++) clearSlot(k, slot.table, slot.index + j, e.level);
}

/** Write a none entry into a slot that is not none. */
function clearSlot(k: Kernel, table: Uint32Array, index: number, level: Level): void {
  const b = k.backend;
  b.readEntry(table, index, level, Z, 0);
  if (b.none(Z, 0, level)) return;
  Z[0] = 0;
  Z[1] = 0;
  b.writeEntry(table, index, level, Z, 0);
}
