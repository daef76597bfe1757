import { PTE, entryRegs } from "@hugemm/arch";
import { ZERO_FILL, contentTag } from "../folio/contents";
import { FAULT_FLAG_USER, FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_MAJOR, VM_FAULT_MIGRATION_WAIT } from "../fault/codes";
import { anonWriteRun } from "../fault/anon-run";
import { userFault, type FaultHandlers } from "../fault/handle";
import type { Kernel } from "../kernel/kernel";
import { WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import type { Mm } from "./mm";

const R = entryRegs(1);

/** What a run of simulated accesses did. */
export interface TouchResult {
  /** Pages accessed successfully. */
  pages: number;
  /** Faults taken (handle_mm_fault calls). */
  faults: number;
  /** Of those, major faults (swap-in, file read). */
  majorFaults: number;
  /** The fault result that stopped the run (VM_FAULT_SIGSEGV, SIGBUS, OOM, or the model's VM_FAULT_MIGRATION_WAIT), or 0. */
  error: number;
  /** The address the run stopped at, or -1. */
  errorAddr: number;
}

/**
 * Access every page of [start, start + len) as a user load or store: the MMU
 * first (setting young and dirty as the hardware would), a fault when it
 * refuses, then the access again. A store with `seed` writes each page's
 * contents as mixTag(seed, page number), or zeroes for ZERO_FILL.
 */
export function touchRange(k: Kernel, mm: Mm, start: number, len: number, write: boolean, fh: FaultHandlers, seed?: number): TouchResult {
  const ps = k.pageSize;
  const b = k.backend;
  const w = mm.walker;
  const slot = mm.slot;
  const f = k.folios;
  const res: TouchResult = { pages: 0, faults: 0, majorFaults: 0, error: 0, errorAddr: -1 };
  const end = start + len;
  const flags = FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
  for (let va = start - (start % ps); va < end; va += ps) {
    let tries = 0;
    for (;;) {
      const st = w.find(va, PTE, false, slot);
      if ((st === WALK_OK || st === WALK_LEAF) && b.hwAccess(slot.table, slot.index, slot.level, write)) {
        if (st === WALK_LEAF) {
          // One TLB entry covers the whole leaf: the rest of it needs no walk (young/dirty are already set).
          const size = w.levelSize(slot.level);
          const last = Math.min(end, va - (va % size) + size);
          if (write && seed !== undefined) {
            b.readEntry(slot.table, slot.index, slot.level, R, 0);
            const leafStart = va - (va % size);
            const head = b.pfn(R, 0, slot.level);
            // A store over the whole leaf writes its folio's pattern in O(1).
            if (va !== leafStart || last !== leafStart + size || seed === ZERO_FILL || !f.writePattern(head, seed, leafStart / ps)) {
              for (let a = va, p = head + (va - leafStart) / ps; a < last; a += ps, p++) f.writeTag(p, contentTag(seed, a / ps));
            }
          }
          res.pages += Math.ceil((last - va) / ps);
          va = last - ps;
          break;
        }
        if (write && seed !== undefined) {
          b.readEntry(slot.table, slot.index, PTE, R, 0);
          f.writeTag(b.pfn(R, 0, PTE), contentTag(seed, va / ps));
        }
        res.pages++;
        break;
      }
      if (write && tries === 0 && st === WALK_OK) {
        const n = anonWriteRun(k, mm, va, end, slot, seed);
        if (n > 0) {
          res.faults += n;
          res.pages += n;
          va += (n - 1) * ps;
          break;
        }
      }
      if (++tries > 4) throw new ModelBug(`access at 0x${va.toString(16)} still refused after ${tries - 1} faults`);
      const r = userFault(k, mm, va, flags, fh);
      res.faults++;
      if (r & VM_FAULT_MAJOR) res.majorFaults++;
      if (r & (VM_FAULT_ERROR | VM_FAULT_MIGRATION_WAIT)) {
        // A migration entry: the task would sleep until the migration ends; the run stops here and says so.
        res.error = r & (VM_FAULT_ERROR | VM_FAULT_MIGRATION_WAIT);
        res.errorAddr = va;
        return res;
      }
    }
  }
  return res;
}

/** A user load of the page at `va` without faulting it in: its contents, or -1 if the MMU would fault. */
export function peekTag(k: Kernel, mm: Mm, va: number): number {
  const w = mm.walker;
  const slot = mm.slot;
  const st = w.find(va, PTE, false, slot);
  if (st !== WALK_OK && st !== WALK_LEAF) return -1;
  const b = k.backend;
  b.readEntry(slot.table, slot.index, slot.level, R, 0);
  if (!b.present(R, 0, slot.level) || b.protnone(R, 0, slot.level)) return -1;
  const size = w.levelSize(slot.level);
  return k.folios.readTag(b.pfn(R, 0, slot.level) + Math.floor((va % size) / k.pageSize));
}
