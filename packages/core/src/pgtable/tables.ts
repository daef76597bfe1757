import type { ArchBackend, Level, TableStore } from "@hugemm/arch";
import type { Folios } from "../folio/folios";
import { GFP_PGTABLE_USER } from "../phys/gfp";
import { PG_allocated, PGTY_table } from "../phys/page-flags";
import type { PhysMem } from "../phys/phys";
import { NS } from "../stats/counters";
import { ModelBug } from "../util/errors";
import { Lock } from "../util/locks";
import { TableMap } from "./table-map";

/** What the model knows about one page-table (or fragment) in use. */
export interface TableInfo {
  readonly level: Level;
  /** The mm the table belongs to (0: none, e.g. a kernel or test table). */
  readonly mm: number;
  /** The page holding it. */
  readonly pfn: number;
  /** Deposited under a huge mapping rather than linked into the tree. */
  deposited: boolean;
  /** The split page-table lock of this table (pte_lockptr / pmd_lockptr), made on first use. */
  ptl?: Lock;
}

/**
 * Page-table pages: allocated from the page allocator (unmovable, zeroed),
 * accounted as NR_PAGETABLE per page, and resolvable by physical address for
 * hardware walks. A table smaller than a page (8xx 16K mode) is a fragment:
 * fragments of one mm share a page, as pte_fragment_alloc does.
 * Storage is created on first use, so a deposited table costs nothing until
 * it is withdrawn.
 */
export class PageTables implements TableStore {
  /** Entries of the tables written to so far (a table in `info` without storage reads as all none). */
  private readonly storage: TableMap<Uint32Array>;
  readonly info: TableMap<TableInfo>;
  /** Deposit stacks (pgtable_trans_huge_deposit) keyed by the physical address of the table holding the huge entry. */
  private readonly deposits = new Map<number, number[]>();
  /**
   * Per mm and fragment size, the fragment page being handed out
   * (mm->context.pte_frag): its pfn and the next offset.
   */
  private readonly fragPages = new Map<string, { mm: number; pfn: number; next: number; bytes: number }>();
  /** Fragments of a page not yet freed, counting those not yet handed out (pt_frag_refcount). */
  private readonly fragRefs = new Map<number, number>();
  readonly pageSize: number;
  /**
   * While the incremental checker records an operation: the tables whose
   * storage was handed out, or that were allocated, freed, deposited under
   * or withdrawn from (every write to an entry starts from tableAt or the
   * walker's cache, which reports its hits here).
   */
  touched: Set<number> | null = null;

  constructor(
    readonly backend: ArchBackend,
    private readonly phys: PhysMem,
    private readonly folios: Folios,
  ) {
    this.pageSize = phys.pageSize;
    const unit = Math.min(...backend.geometry.tables.map((t) => t.tableBytes));
    this.info = new TableMap(unit);
    this.storage = new TableMap(unit);
  }

  private tableBytes(level: Level): number {
    const t = this.backend.geometry.tables.find((x) => x.level === level);
    if (t === undefined) throw new ModelBug(`${this.backend.id} has no table at level ${level}`);
    return t.tableBytes;
  }

  /** pte_alloc_one / pmd_alloc_one / ...: a zeroed table for `level`, or -1 when memory is exhausted. */
  alloc(level: Level, mm: number, nid = 0, gfp = GFP_PGTABLE_USER): number {
    const bytes = this.tableBytes(level);
    if (bytes >= this.pageSize) {
      const order = Math.log2(bytes / this.pageSize);
      const pfn = this.phys.allocPages(order, gfp, nid);
      if (pfn < 0) return -1;
      this.markTablePages(pfn, 2 ** order, mm);
      const pa = pfn * this.pageSize;
      this.info.set(pa, { level, mm, pfn, deposited: false });
      this.touched?.add(pa);
      return pa;
    }
    const key = `${mm}:${bytes}`;
    let frag = this.fragPages.get(key);
    if (frag === undefined) {
      const pfn = this.phys.allocPages(0, gfp, nid);
      if (pfn < 0) return -1;
      this.markTablePages(pfn, 1, mm);
      frag = { mm, pfn, next: 0, bytes };
      this.fragPages.set(key, frag);
      this.fragRefs.set(pfn, this.pageSize / bytes);
    }
    const pa = frag.pfn * this.pageSize + frag.next;
    frag.next += bytes;
    if (frag.next >= this.pageSize) this.fragPages.delete(key);
    this.info.set(pa, { level, mm, pfn: frag.pfn, deposited: false });
    this.touched?.add(pa);
    return pa;
  }

  /**
   * `n` tables for `level` into `out` (as `n` calls of alloc would give),
   * all or nothing: false, with nothing kept, when memory runs out.
   */
  allocMany(level: Level, mm: number, n: number, nid: number, gfp: number, out: number[]): boolean {
    const start = out.length;
    if (this.tableBytes(level) !== this.pageSize) {
      for (let i = 0; i < n; i++) {
        const pa = this.alloc(level, mm, nid, gfp);
        if (pa < 0) {
          for (const got of out.splice(start)) this.free(got);
          return false;
        }
        out.push(pa);
      }
      return true;
    }
    const got = this.phys.allocPagesBulk(n, gfp, nid, out);
    for (let i = start; i < out.length; i++) {
      const pfn = out[i]!;
      this.markTablePages(pfn, 1, mm);
      const pa = pfn * this.pageSize;
      this.info.set(pa, { level, mm, pfn, deposited: false });
      this.touched?.add(pa);
      out[i] = pa;
    }
    if (got === n) return true;
    for (const pa of out.splice(start)) this.free(pa);
    return false;
  }

  private markTablePages(pfn: number, n: number, mm: number): void {
    for (let i = 0; i < n; i++) {
      const s = this.folios.section(pfn + i);
      const j = (pfn + i) & this.phys.memmap.pbMask;
      s.flags[j] = PG_allocated | PGTY_table;
      s.refcount[j] = 1;
      s.mapping[j] = mm;
    }
    this.phys.nodeStats(this.phys.nidOf(pfn))[NS.nr_page_table_pages]! += n;
  }

  /** pte_free / pmd_free: the table must be empty (or deposited and never used). */
  free(pa: number): void {
    const info = this.info.get(pa);
    if (info === undefined) throw new ModelBug(`freeing unknown page table at 0x${pa.toString(16)}`);
    if ((this.deposits.get(pa)?.length ?? 0) > 0) throw new ModelBug(`freeing page table 0x${pa.toString(16)} that still holds deposited tables`);
    this.info.delete(pa);
    this.storage.delete(pa);
    this.touched?.add(pa);
    const bytes = this.tableBytes(info.level);
    if (bytes >= this.pageSize) {
      this.releasePages(info.pfn, bytes / this.pageSize);
      return;
    }
    this.dropFragments(info.pfn, 1);
  }

  private dropFragments(pfn: number, n: number): void {
    const left = this.fragRefs.get(pfn)! - n;
    if (left > 0) {
      this.fragRefs.set(pfn, left);
      return;
    }
    this.fragRefs.delete(pfn);
    this.releasePages(pfn, 1);
  }

  /**
   * Every page holding page tables: those with tables in use, and each mm's
   * current fragment page, which stays allocated for the fragments not yet
   * handed out even when none of its handed-out ones is left.
   */
  pages(): Set<number> {
    const pfns = new Set<number>();
    for (const info of this.info.values()) pfns.add(info.pfn);
    for (const frag of this.fragPages.values()) pfns.add(frag.pfn);
    return pfns;
  }

  /** Fragment pages whose count (pt_frag_refcount) is not their live fragments plus those never handed out. */
  fragmentMiscounts(): { pfn: number; refs: number; expected: number }[] {
    const live = new Map<number, number>();
    for (const info of this.info.values()) if (this.fragRefs.has(info.pfn)) live.set(info.pfn, (live.get(info.pfn) ?? 0) + 1);
    for (const frag of this.fragPages.values()) live.set(frag.pfn, (live.get(frag.pfn) ?? 0) + (this.pageSize - frag.next) / frag.bytes);
    const bad: { pfn: number; refs: number; expected: number }[] = [];
    for (const [pfn, refs] of this.fragRefs) if (live.get(pfn) !== refs) bad.push({ pfn, refs, expected: live.get(pfn) ?? 0 });
    return bad;
  }

  /** destroy_pagetable_cache: drop the fragments of `mm`'s current page that were never handed out. */
  dropFragCache(mm: number): void {
    for (const [key, frag] of this.fragPages) {
      if (frag.mm !== mm) continue;
      this.fragPages.delete(key);
      this.dropFragments(frag.pfn, (this.pageSize - frag.next) / frag.bytes);
    }
  }

  private releasePages(pfn: number, n: number): void {
    for (let i = 0; i < n; i++) {
      const s = this.folios.section(pfn + i);
      const j = (pfn + i) & this.phys.memmap.pbMask;
      s.flags[j] = PG_allocated;
      s.refcount[j] = 0;
      s.mapping[j] = 0;
    }
    this.phys.nodeStats(this.phys.nidOf(pfn))[NS.nr_page_table_pages]! -= n;
    for (let i = 0; i < n; i++) this.folios.section(pfn + i).flags[(pfn + i) & this.phys.memmap.pbMask] = 0;
    this.phys.freePages(pfn, Math.log2(n));
  }

  /** The table's storage, created on first use. */
  tableAt(pa: number): Uint32Array | undefined {
    this.touched?.add(pa);
    const s = this.storage.get(pa);
    if (s !== undefined) return s;
    const info = this.info.get(pa);
    if (info === undefined) return undefined;
    const t = new Uint32Array(this.tableBytes(info.level) / 4);
    this.storage.set(pa, t);
    return t;
  }

  /** The storage of a table that must exist. */
  get(pa: number): Uint32Array {
    const t = this.tableAt(pa);
    if (t === undefined) throw new ModelBug(`no page table at 0x${pa.toString(16)}`);
    return t;
  }

  /** The page-table lock protecting entries of the table at `pa`. */
  ptl(pa: number): Lock {
    const info = this.info.get(pa);
    if (info === undefined) throw new ModelBug(`no page table at 0x${pa.toString(16)} to lock`);
    if (info.ptl === undefined) info.ptl = new Lock(info.level === 0 ? "pte" : "pmd", `ptl:0x${pa.toString(16)}`);
    return info.ptl;
  }

  has(pa: number): boolean {
    return this.info.has(pa);
  }

  /** pgtable_trans_huge_deposit: push `tablePa` on the deposit stack of the table at `holderPa`. */
  deposit(holderPa: number, tablePa: number): void {
    const info = this.info.get(tablePa);
    if (info === undefined) throw new ModelBug(`depositing unknown table 0x${tablePa.toString(16)}`);
    info.deposited = true;
    this.touched?.add(holderPa).add(tablePa);
    let stack = this.deposits.get(holderPa);
    if (stack === undefined) {
      stack = [];
      this.deposits.set(holderPa, stack);
    }
    stack.push(tablePa);
  }

  /** `tablePas` deposited under one holder in turn, as that many deposit() calls. */
  depositMany(holderPa: number, tablePas: readonly number[]): void {
    this.touched?.add(holderPa);
    let stack = this.deposits.get(holderPa);
    if (stack === undefined) {
      stack = [];
      this.deposits.set(holderPa, stack);
    }
    for (const pa of tablePas) {
      const info = this.info.get(pa);
      if (info === undefined) throw new ModelBug(`depositing unknown table 0x${pa.toString(16)}`);
      info.deposited = true;
      this.touched?.add(pa);
      stack.push(pa);
    }
  }

  /** pgtable_trans_huge_withdraw: pop the most recent deposit, or -1 if there is none. */
  withdraw(holderPa: number): number {
    const stack = this.deposits.get(holderPa);
    if (stack === undefined || stack.length === 0) return -1;
    const pa = stack.pop()!;
    this.touched?.add(holderPa).add(pa);
    if (stack.length === 0) this.deposits.delete(holderPa);
    this.info.get(pa)!.deposited = false;
    return pa;
  }

  /** Number of tables deposited under a holder. */
  depositCount(holderPa: number): number {
    return this.deposits.get(holderPa)?.length ?? 0;
  }

  /** All deposit stacks (for checks). */
  allDeposits(): ReadonlyMap<number, readonly number[]> {
    return this.deposits;
  }

  /** Tables in use by `mm`, for exit checks. */
  countFor(mm: number): number {
    let n = 0;
    for (const i of this.info.values()) if (i.mm === mm) n++;
    return n;
  }

  get count(): number {
    return this.info.size;
  }
}
