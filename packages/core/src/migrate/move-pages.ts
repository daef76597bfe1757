import { lruAddDrain } from "../folio/lru-batch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { foliosInRange } from "../mm/range";
import { ModelInputError } from "../util/errors";
import { MigrateReason, finishMigration, onNode, startMigration, type MigrationJob } from "./migrate";

/** move_pages(2) / mbind(2) flags (uapi/linux/mempolicy.h). */
export const MPOL_MF_MOVE = 1 << 1;
/** Move folios other processes map too; the kernel asks CAP_SYS_NICE for it. */
export const MPOL_MF_MOVE_ALL = 1 << 2;

/** What a move_pages over a range did. */
export interface MovePagesJob extends MigrationJob {
  /** Folios moved (0 while held). */
  readonly moved: number;
  /** Folios left in place because another process may map them (MPOL_MF_MOVE): their pages' status is -EACCES. */
  readonly shared: readonly number[];
  /** Pages of `shared`, each with status -EACCES. */
  readonly eaccesPages: number;
}

/**
 * move_pages of the folios mapped in [start, start + len) to node `nid`, as
 * add_folio_for_migration sorts them: folios already on `nid` stay (status
 * the node); without MPOL_MF_MOVE_ALL a folio that may be mapped by another
 * process (folio_maybe_mapped_shared) is skipped with -EACCES; the rest are
 * isolated and migrated. With `hold` they stay behind migration entries
 * until finishMigration.
 */
export function movePagesRange(k: Kernel, mm: Mm, start: number, len: number, nid: number, hold: boolean, flags: number): MovePagesJob {
  if (!Number.isInteger(nid) || nid < 0 || nid >= k.phys.nodes.length) throw new ModelInputError("node", nid, `a node id in [0, ${k.phys.nodes.length - 1}]`);
  if (flags !== MPOL_MF_MOVE && flags !== MPOL_MF_MOVE_ALL) throw new ModelInputError("move_pages flags", flags, `MPOL_MF_MOVE (${MPOL_MF_MOVE}) or MPOL_MF_MOVE_ALL (${MPOL_MF_MOVE_ALL})`);
  // do_pages_move: lru_cache_disable drains every CPU's batches.
  lruAddDrain(k);
  const all = (flags & MPOL_MF_MOVE_ALL) !== 0;
  const heads: number[] = [];
  const shared: number[] = [];
  let eaccesPages = 0;
  for (const h of foliosInRange(k, mm, start, len)) {
    if (k.phys.nidOf(h) === nid) continue;
    if (!all && k.rmap.maybeMappedShared(h)) {
      shared.push(h);
      eaccesPages += k.folios.nrPages(h);
      continue;
    }
    heads.push(h);
  }
  const job = startMigration(k, heads, onNode(k, nid), MigrateReason.SYSCALL);
  const moved = hold ? 0 : finishMigration(k, job);
  return Object.assign(job, { moved, shared, eaccesPages });
}
