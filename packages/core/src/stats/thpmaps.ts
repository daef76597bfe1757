import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { PG_anon } from "../phys/page-flags";
import { WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { ModelInputError } from "../util/errors";
import { smaps, type SmapsEntry } from "./smaps";

/**
 * tools/mm/thpmaps: how each process maps its THPs, from what the script
 * reads — smaps for the PMD-mapped totals, pagemap for the pfn of every
 * present page, kpageflags for which pages belong to a THP (any large folio,
 * and the huge zero folio), whether they are anonymous, and where folios
 * start. Pages are grouped the way the script groups them: runs of present
 * THP pages contiguous in both virtual and physical address. Within a run a
 * folio is "aligned" when mapped whole at a virtual address aligned to its
 * size (its physical address always is), "unaligned" when mapped whole
 * elsewhere, and "partial" when only part of it is in the run. PMD-mapped
 * memory is taken out of the PTE counts with smaps' AnonHugePages (and
 * ShmemPmdMapped + FilePmdMapped for files) and shown on its own line.
 *
 * The script's quirks are kept: a VMA without permissions or with no Rss is
 * not parsed; the huge zero folio counts as a file THP mapped by PTE (smaps
 * does not count it as PMD-mapped); inode numbers are read back as hex.
 *
 * Beyond the script: anonymous PUD THPs (the model's, not mainline) would
 * overflow its per-order arrays, so orders above the PMD order get lines
 * only when something is mapped at them, and PUD-mapped memory gets its own
 * anon-thp-pud-aligned / anon-cont-pud-aligned lines, again only when not
 * zero, so the output is the script's whenever no PUD THP exists.
 */

/** The script's options that apply to a model. */
export interface ThpmapsOptions {
  /** --rollup: one set of statistics summed over every VMA of every process. */
  readonly rollup?: boolean;
  /** --cont <size>, repeatable: contiguous block sizes ("64K", "2M", or bytes), a power-of-2 number of pages from 2 up to the PMD size. */
  readonly cont?: readonly (string | number)[];
  /** --inc-smaps: the additive smaps fields too. */
  readonly incSmaps?: boolean;
  /** --inc-empty: print statistics whose value is 0 too. */
  readonly incEmpty?: boolean;
  /** The pid each process is known by (a scenario's pids); default the mm's id. */
  readonly pidOf?: (mm: Mm) => number;
}

/** Which total a statistic is a percentage of (smaps fields have none). */
export type ThpmapsType = "anon" | "file" | null;

export interface ThpmapsStat {
  readonly name: string;
  readonly type: ThpmapsType;
  readonly kb: number;
}

/** One VMA as the script prints it, with its statistics in the script's order. */
export interface ThpmapsVma {
  readonly pid: number;
  readonly start: number;
  readonly end: number;
  /** "rw-p". */
  readonly perms: string;
  /** The smaps offset column (bytes). */
  readonly offset: number;
  readonly major: number;
  readonly minor: number;
  /** The inode as the script holds it: smaps' decimal digits read as hex. */
  readonly inode: number;
  /** The smaps name, or "" when it has none or contains spaces. */
  readonly object: string;
  readonly stats: readonly ThpmapsStat[];
  /** Anonymous and Rss - Anonymous of a parsed VMA, in kB: the percentages' bases. */
  readonly anonKb: number;
  readonly fileKb: number;
}

export interface ThpmapsTotals {
  readonly stats: readonly ThpmapsStat[];
  readonly anonKb: number;
  readonly fileKb: number;
}

export interface Thpmaps {
  readonly rollup: boolean;
  readonly incEmpty: boolean;
  /** Every VMA of every process, in pid then address order. */
  readonly vmas: readonly ThpmapsVma[];
  /** The --rollup sums over `vmas`, in first-seen order. */
  readonly total: ThpmapsTotals;
}

/** The script's size2order for --cont. */
export function contOrder(k: Kernel, size: string | number): number {
  const ps = k.pageSize;
  let bytes: number;
  if (typeof size === "number") bytes = size;
  else {
    const m = /^\s*([+-]?\d+)([KMGkmg]?)\s*$/.exec(size);
    if (m === null) throw new ModelInputError("--cont size", size, "an integer size with optional KMG unit");
    bytes = Number(m[1]) * (m[2] === "" ? 1 : 2 ** (10 * ("kmg".indexOf(m[2]!.toLowerCase()) + 1)));
  }
  if (!Number.isSafeInteger(bytes)) throw new ModelInputError("--cont size", size, "an integer size with optional KMG unit");
  const order = bytes > 0 ? Math.trunc(Math.log2(bytes / ps)) : -1;
  if (order < 1) throw new ModelInputError("--cont size", size, `a size of at least 2 pages (${2 * ps} bytes)`);
  if (2 ** order * ps !== bytes) throw new ModelInputError("--cont size", size, `a power-of-2 number of ${ps}-byte pages`);
  if (order > k.thp.pmdOrder) throw new ModelInputError("--cont size", size, `a size less than or equal to the PMD size (${ps * 2 ** k.thp.pmdOrder} bytes)`);
  return order;
}

const ORDERS = 32;
const ANON = 0;
const FILE = 1;
const R = entryRegs(1);

/**
 * The pagemap walk of one VMA: present pages are fed in virtual order and
 * merged into pieces, each the largest part of one THP mapped contiguously
 * (virtually and physically). Every piece of a run after its first starts
 * at a folio head, so a piece alone says how the script classifies it.
 */
class VmaScan {
  readonly partial = new Float64Array(2);
  readonly aligned = new Float64Array(2 * ORDERS);
  readonly unaligned = new Float64Array(2 * ORDERS);
  /** Pages in blocks of each --cont order, anon then file. */
  readonly cont: Float64Array;
  private va = 0;
  private pfn = 0;
  private n = 0;
  private head = -1;
  private order = 0;
  private type = ANON;

  constructor(
    private readonly k: Kernel,
    private readonly contOrders: readonly number[],
  ) {
    this.cont = new Float64Array(2 * contOrders.length);
  }

  /** `n` present pages from `va` mapping consecutive pfns from `pfn`. */
  feed(va: number, pfn: number, n: number): void {
    const f = this.k.folios;
    const mem = this.k.phys.memmap;
    const ps = this.k.pageSize;
    while (n > 0) {
      let step = 1;
      let head = -1;
      if (pfn >= mem.endPfn) step = n;
      else if (pfn < mem.startPfn) step = Math.min(n, mem.startPfn - pfn);
      else if (f.isAllocated(pfn)) {
        head = f.head(pfn);
        const order = f.order(head);
        // kpageflags: only large folios are THPs (order 0 pages, the zero page and page tables are not).
        if (order === 0) head = -1;
        else {
          step = Math.min(n, head + 2 ** order - pfn);
          if (head === this.head && va === this.va + this.n * ps && pfn === this.pfn + this.n) this.n += step;
          else {
            this.flush();
            this.va = va;
            this.pfn = pfn;
            this.n = step;
            this.head = head;
            this.order = order;
            this.type = f.flags(head) & PG_anon ? ANON : FILE;
          }
        }
      }
      if (head < 0) this.flush();
      va += step * ps;
      pfn += step;
      n -= step;
    }
  }

  /** Account the pending piece. */
  flush(): void {
    if (this.head < 0) return;
    const { pfn, n, head, order, type } = this;
    const vfn = this.va / this.k.pageSize;
    const nr = 2 ** order;
    this.head = -1;
    if (pfn !== head || pfn + n !== head + nr) this.partial[type]! += n;
    else if (vfn % nr === 0) this.aligned[type * ORDERS + order]! += nr;
    else this.unaligned[type * ORDERS + order]! += nr;
    // Blocks aligned to the block size virtually and physically, inside one folio.
    for (let i = 0; i < this.contOrders.length; i++) {
      const c = this.contOrders[i]!;
      const nc = 2 ** c;
      if (order < c || (((pfn - vfn) % nc) + nc) % nc !== 0) continue;
      const blocks = Math.floor((vfn + n) / nc) - Math.ceil(vfn / nc);
      if (blocks > 0) this.cont[i * 2 + type]! += blocks * nc;
    }
  }
}

/** pagemap over [vma.start, vma.end): every present entry, huge leaves at once. */
function scanVma(k: Kernel, mm: Mm, start: number, end: number, scan: VmaScan): void {
  const b = k.backend;
  const ps = k.pageSize;
  const w = mm.walker;
  const slot = mm.slot;
  const pte = k.geometry.tables[k.geometry.tables.length - 1]!;
  const span = 2 ** pte.shift * pte.entries;
  for (let addr = start; addr < end; ) {
    const st = w.find(addr, PTE, false, slot);
    if (st === WALK_OK) {
      const tableEnd = Math.min(end, addr - (addr % span) + span);
      for (let va = addr, i = slot.index; va < tableEnd; va += ps, i++) {
        b.getEntry(slot.table, i, PTE, R, 0);
        if (b.present(R, 0, PTE)) scan.feed(va, b.pfn(R, 0, PTE), 1);
      }
      addr = tableEnd;
      continue;
    }
    const size = w.levelSize(slot.level);
    const next = Math.min(end, addr - (addr % size) + size);
    if (st === WALK_LEAF) {
      b.readEntry(slot.table, slot.index, slot.level, R, 0);
      if (b.present(R, 0, slot.level)) scan.feed(addr, b.pfn(R, 0, slot.level) + (addr % size) / ps, (next - addr) / ps);
    }
    addr = next;
  }
  scan.flush();
}

const kb = (bytes: number) => Math.floor(bytes / 1024);

/** The additive smaps fields the script reads with --inc-smaps, in smaps order. */
function smapsStats(e: SmapsEntry): ThpmapsStat[] {
  const s = e.stats;
  const rows: [string, number][] = [
    ["Size", e.size],
    ["Rss", s.resident],
    ["Pss", s.pss],
    ["Pss_Dirty", s.pssDirty],
    ["Shared_Clean", s.sharedClean],
    ["Shared_Dirty", s.sharedDirty],
    ["Private_Clean", s.privateClean],
    ["Private_Dirty", s.privateDirty],
    ["Referenced", s.referenced],
    ["Anonymous", s.anonymous],
    ["KSM", s.ksm],
    ["LazyFree", s.lazyfree],
    ["AnonHugePages", s.anonymousThp],
    ["ShmemPmdMapped", s.shmemThp],
    ["FilePmdMapped", s.fileThp],
    ["Shared_Hugetlb", s.sharedHugetlb],
    ["Private_Hugetlb", s.privateHugetlb],
    ["Swap", s.swap],
    ["SwapPss", s.swapPss],
    ["Locked", s.pssLocked],
  ];
  return rows.map(([name, v]) => ({ name, type: null, kb: kb(v) }));
}

/** thp_parse and cont_parse of one VMA. */
function vmaStats(k: Kernel, mm: Mm, e: SmapsEntry, contOrders: readonly number[]): ThpmapsStat[] {
  const ps = k.pageSize;
  const pmd = k.thp.pmdOrder;
  const pud = k.thp.pudOrder;
  const scan = new VmaScan(k, contOrders);
  scanVma(k, mm, e.start, e.end, scan);
  const odkb = (order: number) => (ps * 2 ** order) / 1024;
  const nrkb = (nr: number) => (nr * ps) / 1024;
  const kbnr = (v: number) => Math.floor((v * 1024) / ps);
  const anonPmd = kb(e.stats.anonymousThp);
  const filePmd = kb(e.stats.shmemThp) + kb(e.stats.fileThp);
  const anonPud = kb(e.stats.anonymousPudThp);
  const al = scan.aligned;
  al[ANON * ORDERS + pmd] = Math.max(0, al[ANON * ORDERS + pmd]! - kbnr(anonPmd));
  al[FILE * ORDERS + pmd] = Math.max(0, al[FILE * ORDERS + pmd]! - kbnr(filePmd));
  if (pud > 0) al[ANON * ORDERS + pud] = Math.max(0, al[ANON * ORDERS + pud]! - kbnr(anonPud));

  const out: ThpmapsStat[] = [];
  const add = (name: string, type: "anon" | "file", v: number) => out.push({ name, type, kb: v });
  add(`anon-thp-pmd-aligned-${odkb(pmd)}kB`, "anon", anonPmd);
  if (anonPud > 0) add(`anon-thp-pud-aligned-${odkb(pud)}kB`, "anon", anonPud);
  add(`file-thp-pmd-aligned-${odkb(pmd)}kB`, "file", filePmd);
  for (const [t, type] of [[ANON, "anon"], [FILE, "file"]] as const) {
    for (const [sub, arr] of [["aligned", scan.aligned], ["unaligned", scan.unaligned]] as const) {
      for (let od = 2; od < ORDERS; od++) {
        const nr = arr[t * ORDERS + od]!;
        if (od <= pmd || nr > 0) add(`${type}-thp-pte-${sub}-${odkb(od)}kB`, type, nrkb(nr));
      }
    }
    add(`${type}-thp-pte-partial`, type, nrkb(scan.partial[t]!));
  }
  contOrders.forEach((c, i) => {
    const size = nrkb(2 ** c);
    add(`anon-cont-pmd-aligned-${size}kB`, "anon", anonPmd);
    if (anonPud > 0) add(`anon-cont-pud-aligned-${size}kB`, "anon", anonPud);
    add(`file-cont-pmd-aligned-${size}kB`, "file", filePmd);
    add(`anon-cont-pte-aligned-${size}kB`, "anon", nrkb(Math.max(0, scan.cont[i * 2 + ANON]! - kbnr(anonPmd) - kbnr(anonPud))));
    add(`file-cont-pte-aligned-${size}kB`, "file", nrkb(Math.max(0, scan.cont[i * 2 + FILE]! - kbnr(filePmd))));
  });
  return out;
}

/** The script's smaps header parsing: the name only when it is one word, the inode's decimal digits read as hex. */
function header(pid: number, e: SmapsEntry, stats: ThpmapsStat[], anonKb: number, fileKb: number): ThpmapsVma {
  const [major, minor] = e.dev.split(":").map((x) => parseInt(x, 16)) as [number, number];
  return {
    pid,
    start: e.start,
    end: e.end,
    perms: e.perms,
    offset: e.offset,
    major,
    minor,
    inode: parseInt(String(e.inode), 16),
    object: /\s/.test(e.name) ? "" : e.name,
    stats,
    anonKb,
    fileKb,
  };
}

/** Run tools/mm/thpmaps --pid for each of `mms` (or --rollup over them). */
export function thpmaps(k: Kernel, mms: Mm | readonly Mm[], opts: ThpmapsOptions = {}): Thpmaps {
  if (k.thp.pmdOrder <= 0) {
    throw new ModelInputError("arch", k.backend.id, "an arch with transparent hugepages (thpmaps reads /sys/kernel/mm/transparent_hugepage/hpage_pmd_size)");
  }
  const list = Array.isArray(mms) ? (mms as readonly Mm[]) : [mms as Mm];
  const contOrders = [...new Set((opts.cont ?? []).map((c) => contOrder(k, c)))];
  const pidOf = opts.pidOf ?? ((mm: Mm) => mm.id);
  const byPid = new Map<number, Mm>();
  for (const mm of list) byPid.set(pidOf(mm), mm);
  const vmas: ThpmapsVma[] = [];
  const total = new Map<string, { type: ThpmapsType; kb: number }>();
  let anonTotal = 0;
  let fileTotal = 0;
  for (const [pid, mm] of [...byPid].sort((a, b) => a[0] - b[0])) {
    for (const e of smaps(k, mm).entries) {
      const parsed = e.perms.slice(0, 3) !== "---" && kb(e.stats.resident) > 0;
      let stats = parsed ? vmaStats(k, mm, e, contOrders) : [];
      const anonKb = parsed ? kb(e.stats.anonymous) : 0;
      const fileKb = parsed ? kb(e.stats.resident) - anonKb : 0;
      if (opts.incSmaps) stats = [...smapsStats(e), ...stats];
      vmas.push(header(pid, e, stats, anonKb, fileKb));
      for (const s of stats) {
        const t = total.get(s.name);
        if (t === undefined) total.set(s.name, { type: s.type, kb: s.kb });
        else t.kb += s.kb;
      }
      anonTotal += anonKb;
      fileTotal += fileKb;
    }
  }
  return {
    rollup: opts.rollup ?? false,
    incEmpty: opts.incEmpty ?? false,
    vmas,
    total: { stats: [...total].map(([name, t]) => ({ name, type: t.type, kb: t.kb })), anonKb: anonTotal, fileKb: fileTotal },
  };
}

/** Python's "{:3.0%}": the ratio times 100, rounded half to even, at least 3 columns. */
function percent(ratio: number): string {
  const x = ratio * 100;
  const fl = Math.floor(x);
  const r = x - fl > 0.5 || (x - fl === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  return `${r}%`.padStart(3);
}

/** stats_print. */
function statsText(stats: readonly ThpmapsStat[], anonKb: number, fileKb: number, incEmpty: boolean): string {
  let t = "";
  for (const s of stats) {
    if (s.kb === 0 && !incEmpty) continue;
    const pad = " ".repeat(Math.max(0, 32 - s.name.length - 1));
    const base = s.type === "anon" ? anonKb : s.type === "file" ? fileKb : 0;
    const pct = base > 0 ? ` (${percent(s.kb / base)})` : "";
    t += `${s.name}:${pad}${String(s.kb).padStart(8)} kB${pct}\n`;
  }
  return t;
}

const hex = (v: number, width: number) => v.toString(16).padStart(width, "0");

/** The text the script prints. */
export function formatThpmaps(t: Thpmaps): string {
  if (t.rollup) return statsText(t.total.stats, t.total.anonKb, t.total.fileKb, t.incEmpty);
  let s = "       PID             START              END PROT   OFFSET   DEV    INODE OBJECT\n";
  for (const v of t.vmas) {
    s += `${String(v.pid).padStart(10, "0")}: ${hex(v.start, 16)}-${hex(v.end, 16)} ${v.perms} ${hex(v.offset, 8)} ${hex(v.major, 2)}:${hex(v.minor, 2)} ${hex(v.inode, 8)} ${v.object}\n`;
    s += statsText(v.stats, v.anonKb, v.fileKb, t.incEmpty);
  }
  return s;
}
