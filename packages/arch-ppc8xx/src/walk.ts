import {
  ArchInputError,
  type DescribedEntry,
  type HardwareWalk,
  type Level,
  PMD,
  PTE,
  type TableStore,
  type WalkAccess,
  type WalkStep,
  Translation,
  hardwareWalkOf,
} from "@hugemm/arch";
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_EXEC,
  _PAGE_GUARDED,
  _PAGE_HUGE,
  _PAGE_NA,
  _PAGE_PRESENT,
  _PAGE_SPS,
  _PMD_BAD,
  _PMD_PAGE_8M,
  _PMD_PRESENT,
  _PMD_USER,
  HW_CELLS_PER_TABLE,
  PGDIR_SHIFT,
  PMD_TABLE_MASK,
  PP_MASK,
  SZ_16K,
  SZ_4K,
  SZ_512K,
  SZ_8M,
} from "./bits";
import type { Ppc8xxConfig } from "./config";

/** Describes one word at the PTE (true) or PMD (false) level. */
export type WordDescriber = (w: number, isPte: boolean) => DescribedEntry;

/** __pte_leaf_size(): 8M if the PMD says so, else 512K from _PAGE_HUGE, 16K from _PAGE_SPS, else 4K. */
export function pteLeafSize(pmd: number, pte: number): number {
  if ((pmd & _PMD_PAGE_8M) !== 0) return SZ_8M;
  if ((pte & _PAGE_HUGE) !== 0) return SZ_512K;
  if ((pte & _PAGE_SPS) !== 0) return SZ_16K;
  return SZ_4K;
}

const HANDLER_NOTE =
  "the TLB miss handler loads the L1 word into MD_TWC, inserts _PAGE_GUARDED and _PAGE_ACCESSED (APG bit 1) and " +
  "_PAGE_HUGE (PS 512K) from this cell, and never writes the tables";

/**
 * The MMU's view of `va`: the software tablewalk of the ITLB/DTLB miss
 * handlers (head_8xx.S) plus the checks the TLB entry then enforces.
 * - L1: entry va[31:22] of the table at rootPa; not valid => the loaded TLB
 *   entry is invalid and the TLB error handler calls do_page_fault().
 * - L2: cell va[21:12] of the 4K table (the hardware indexes 4K cells in
 *   both page sizes). The page size is __pte_leaf_size().
 * - Permissions: users need _PMD_USER (APG group 2/3); data access follows
 *   PP (_PAGE_NA: none, _PAGE_RO: read); instruction fetch needs
 *   _PAGE_EXEC and no _PAGE_GUARDED, and the kernel may not fetch from a
 *   user segment (KUEP swaps group 3 in MI_AP). KUAP is not modelled.
 * - ACCESSED clear selects APG group 0/2 ("as user", no access): the
 *   access faults and do_page_fault() sets _PAGE_ACCESSED, reported as
 *   setsYoung. A store with C (_PAGE_DIRTY) clear raises a DTLB error and
 *   do_page_fault() sets _PAGE_DIRTY, reported as setsDirty. The hardware
 *   itself never writes a table.
 * The handlers walk swapper_pg_dir for kernel addresses; here every address
 * is walked from rootPa.
 */
export function walk8xx(cfg: Ppc8xxConfig, store: TableStore, rootPa: number, va: number, access: WalkAccess, describe: WordDescriber): HardwareWalk {
  const t = new Translation();
  const steps: WalkStep[] = [];
  translate8xx(cfg, store, rootPa, va, access, t, steps, describe);
  return hardwareWalkOf(t, steps);
}

/** The walk itself, into `out`; with `steps` (and `describe`) every word read is recorded and every fault explained. */
export function translate8xx(cfg: Ppc8xxConfig, store: TableStore, rootPa: number, va: number, access: WalkAccess, out: Translation, steps: WalkStep[] | null, describe: WordDescriber | null): boolean {
  if (!(va >= 0 && va <= 0xffffffff) || va !== Math.floor(va)) {
    throw new ArchInputError("virtual address", va, "an integer in [0, 0xffffffff]");
  }
  const explain = steps !== null;

  const root = store.tableAt(rootPa);
  if (root === undefined) return out.fail(va, "bad-table", PMD, explain ? `no PGD at physical 0x${rootPa.toString(16)}` : "");
  const i1 = Math.floor(va / 2 ** PGDIR_SHIFT);
  const pmd = root[i1]!;
  if (steps !== null) steps.push({ level: PMD, tablePa: rootPa, index: i1, entryPa: rootPa + 4 * i1, raw: BigInt(pmd), described: describe!(pmd, false) });
  if ((pmd & _PMD_PRESENT) === 0) {
    return out.fail(va, "translation", PMD, !explain ? "" : pmd === 0 ? "L1 entry none: the TLB error reaches do_page_fault()" : "L1 entry not valid");
  }
  if ((pmd & _PMD_BAD) !== 0) return out.fail(va, "bad-table", PMD, explain ? `L1 entry has _PMD_BAD bits 0x${(pmd & _PMD_BAD).toString(16)}` : "");
  const l2Pa = (pmd & PMD_TABLE_MASK) >>> 0;
  const l2 = store.tableAt(l2Pa);
  if (l2 === undefined) return out.fail(va, "bad-table", PMD, explain ? `L1 entry points to 0x${l2Pa.toString(16)}, which holds no PTE table` : "");

  const cell = (va >>> 12) & (HW_CELLS_PER_TABLE - 1);
  const pte = l2[cell]!;
  if ((pte & _PAGE_PRESENT) === 0) {
    if (steps !== null) steps.push(leafStep(cfg, describe!, pte, l2Pa, cell, "V clear: the TLB error reaches do_page_fault()"));
    return out.fail(va, "translation", PTE, !explain ? "" : pte === 0 ? "PTE none" : "PTE not present (softleaf)");
  }

  const pageSize = pteLeafSize(pmd, pte);
  const level: Level = pageSize === SZ_8M ? PMD : PTE;
  const pp = pte & PP_MASK;
  const read = pp !== _PAGE_NA;
  const write = pp === 0;
  const exec = (pte & _PAGE_EXEC) !== 0 && (pte & _PAGE_GUARDED) === 0;
  const userSegment = (pmd & _PMD_USER) !== 0;
  const young = (pte & _PAGE_ACCESSED) !== 0;
  const dirty = (pte & _PAGE_DIRTY) !== 0;
  const asUser = access.user ?? true;
  const wantExec = access.exec ?? false;
  const wantWrite = !wantExec && (access.write ?? false);

  let denied: string | undefined;
  // Which check refuses the access (the reason only when explaining).
  if (asUser && !userSegment) denied = "user access to a segment without _PMD_USER (APG group 0/1: users get no access)";
  else if (wantExec && (pte & _PAGE_EXEC) === 0) denied = "no _PAGE_EXEC: the ITLB miss handler loads PP 001 (no access)";
  else if (wantExec && (pte & _PAGE_GUARDED) !== 0) denied = "instruction fetch from guarded storage";
  else if (wantExec && !asUser && userSegment) denied = "KUEP: MI_AP swaps APG group 3, the kernel may not fetch from user pages";
  else if (!wantExec && !read) denied = "PP _PAGE_NA: no data access (PAGE_NONE)";
  else if (wantWrite && !write) denied = "PP _PAGE_RO: read-only";

  if (steps !== null) {
    const notes: string[] = [`__pte_leaf_size: ${pageSize / 1024}K`, HANDLER_NOTE];
    if (!young) notes.push("ACCESSED clear: APG group 0/2 denies the access, do_page_fault() sets _PAGE_ACCESSED");
    if (wantWrite && !dirty) notes.push("C clear: the store raises a DTLB error, do_page_fault() sets _PAGE_DIRTY");
    steps.push(leafStep(cfg, describe!, pte, l2Pa, cell, notes.join("; ")));
  }
  if (denied !== undefined) return out.fail(va, "permission", level, !explain ? "" : denied);

  const mask = (~(pageSize - 1)) >>> 0;
  const pa = ((pte & mask) >>> 0) + (va & (pageSize - 1));
  out.leaf(va, pa, level, pageSize, pageSize);
  return out.perms(read, write, exec, userSegment, young, dirty, !young, wantWrite && !dirty);
}

/** The explained step of the PTE cell read. */
function leafStep(cfg: Ppc8xxConfig, describe: WordDescriber, pte: number, l2Pa: number, cell: number, note: string): WalkStep {
  const described = describe(pte, true);
  return {
    level: PTE,
    tablePa: l2Pa,
    index: Math.floor(cell / cfg.cellsPerPte),
    entryPa: l2Pa + 4 * cell,
    raw: BigInt(pte),
    described: { ...described, summary: `${described.summary} [cell ${cell}; ${note}]` },
  };
}
