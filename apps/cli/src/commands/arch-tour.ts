import {
  PMD,
  PTE,
  PUD,
  TableMemory,
  VM_EXEC,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  allocRoot,
  levelName,
  mapHuge,
  mapLeaf,
  mapPtes,
  type ArchBackend,
  type DescribedEntry,
  type HardwareWalk,
} from "@hugemm/arch";
import { parseArchSpec } from "@hugemm/scenario";
import type { Style } from "../style";

const RW = VM_READ | VM_WRITE | VM_SHARED;

/** The backends the tour shows: one of each format family. */
export const TOUR_ARCHES = ["x86-64:4level", "arm64:4k-48", "ppc8xx:4k"];

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function size(bytes: number): string {
  for (const [u, f] of [["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]] as const) if (bytes >= f && bytes % f === 0) return `${bytes / f}${u}`;
  return `${bytes}`;
}

/** "P RW US A D pfn=0x12345" from a described entry. */
export function fieldsLine(d: DescribedEntry): string {
  return d.fields
    .map((f) => {
      if (f.lo === f.hi && f.value === 1) return f.name;
      if (f.lo === f.hi && f.value === 0) return `!${f.name}`;
      return `${f.name}=${typeof f.value === "number" ? hex(f.value) : f.value}`;
    })
    .join(" ");
}

function printWalk(b: ArchBackend, w: HardwareWalk, s: Style, out: (line: string) => void): void {
  for (const step of w.steps) {
    const width = b.geometry.entryBytes * 2;
    const raw = `0x${step.raw.toString(16).padStart(width, "0")}`;
    out(`    ${levelName(step.level).padEnd(3)}[${String(step.index).padStart(4)}] @${hex(step.entryPa).padEnd(10)} ${s.cyan(raw)}  ${s.dim(step.described.kind)}  ${fieldsLine(step.described)}`);
  }
  if (w.ok) {
    const perms = [w.read ? "r" : "-", w.write ? "w" : "-", w.exec ? "x" : "-", w.user ? "u" : "-"].join("");
    const tlb = w.tlbSize !== w.pageSize ? `, one TLB entry covers ${size(w.tlbSize)}` : "";
    out(`    ${s.green("=>")} pa ${hex(w.pa)}  ${size(w.pageSize)} page at ${levelName(w.level)} level, ${perms}${w.young ? " young" : ""}${w.dirty ? " dirty" : ""}${tlb}`);
  } else {
    out(`    ${s.red("=>")} ${w.fault} fault at ${levelName(w.level)}: ${w.reason}`);
  }
}

/**
 * Build a table chain on each arch (a base page, the huge leaves the arch
 * has, a contiguous run) and print the hardware walk with every entry's bits.
 */
export function archTour(s: Style, out: (line: string) => void, arches: readonly string[] = TOUR_ARCHES): void {
  for (const spec of arches) {
    const b = parseArchSpec(spec);
    const g = b.geometry;
    out(s.bold(`== ${b.id}: ${b.description}`));
    out(s.dim(`   ${g.tables.map((t) => `${t.folds.map(levelName).join("/")} ${t.entries}x${g.entryBytes}B`).join(" -> ")}; user VA ${g.userVaBits} bits, PA ${g.physBits} bits`));
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const region = 2 ** (g.userVaBits - 3);
    const pfnBase = 2 ** Math.min(20, Math.floor((g.physBits - g.pageShift) * 0.75));
    const show = (title: string, va: number) => {
      out(`  ${title}, walking ${hex(va)}:`);
      printWalk(b, b.walk(mem, root, va, { write: true }), s, out);
    };
    mapLeaf(b, mem, root, region, PTE, pfnBase + 0x45, RW, { young: true, dirty: true });
    show(`${size(g.pageSize)} page, shared rw, young and dirty`, region + 0x123);
    mapLeaf(b, mem, root, region + g.pageSize, PTE, pfnBase + 0x46, VM_READ | VM_EXEC);
    show(`${size(g.pageSize)} page, read-only exec, old and clean (a write faults)`, region + g.pageSize + 0x10);
    if (b.capabilities.pmdThp) {
      const pmd = 2 ** g.levels[PMD]!.shift;
      mapLeaf(b, mem, root, region + 4 * pmd, PMD, pfnBase * 4, RW, { young: true });
      show(`PMD leaf (${size(pmd)} THP)`, region + 4 * pmd + 0x1234);
    }
    if (b.capabilities.pudLeaf) {
      const pud = 2 ** g.levels[PUD]!.shift;
      mapLeaf(b, mem, root, region + 4 * pud, PUD, 2 ** 18 * 3, RW, { young: true });
      show(`PUD leaf (${size(pud)} ${b.capabilities.pudThp ? "THP" : "hugetlb block"})`, region + 4 * pud + 0x56789);
    }
    if (b.capabilities.contPte) {
      const n = g.tables[g.tables.length - 1]!.contEntries;
      const va = region + 8 * 2 ** g.levels[PMD]!.shift;
      mapPtes(b, mem, root, va, pfnBase + 4 * n, n, RW, { young: true });
      show(`contiguous run: ${n} PTEs set by one set_ptes() and folded (mTHP ${size(n * g.pageSize)})`, va + 3 * g.pageSize);
    }
    for (const hs of b.hugeSizes.filter((h) => h.ncontig > 1 && !b.capabilities.contPte)) {
      const bytes = 2 ** hs.shift;
      const va = region + 16 * bytes;
      mapHuge(b, mem, root, va, (pfnBase * 2) & ~(bytes / g.pageSize - 1), RW, hs, { young: true });
      show(`hugetlb ${size(bytes)} page (${hs.ncontig} ${levelName(hs.level)} slots${hs.viaPteTables ? ", each with its own PTE table" : ""})`, va + bytes - 16);
    }
    out("");
  }
}
