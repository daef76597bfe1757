import {
  PTE,
  SWP_MIGRATION_WRITE,
  TableMemory,
  Translation,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  allocRoot,
  entryRegs,
  mapPtes,
  simpleContext,
  tableFor,
  type ArchBackend,
} from "@hugemm/arch";
import type { Workload } from "../harness";

const RW = VM_READ | VM_WRITE | VM_SHARED;
const N = 4096;
/** Sweeps over the mapped pages per translate sample. */
const TRANSLATE_SWEEPS = 64;

/** Entry encode/decode and helper throughput for one backend. */
export function archWorkloads(b: ArchBackend): Workload[] {
  const prefix = `arch.${b.id.replace(":", ".")}`;
  const v = entryRegs(N);
  const maxPfn = b.geometry.maxPfn;
  const pfnOf = (i: number) => (i * 7919) % maxPfn;
  const pte = tableFor(b.geometry, PTE)!;
  const table = new Uint32Array(pte.tableWords);
  const ctx = simpleContext();
  const out = entryRegs(1);
  const perTable = Math.min(pte.entries, 512);
  for (let i = 0; i < N; i++) b.pfnEntry(v, 2 * i, PTE, pfnOf(i), RW);

  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  const walkPages = Math.min(pte.entries, 256);
  mapPtes(b, mem, root, 2 ** b.geometry.levels[1]!.shift * 5, 0x1000, walkPages, RW, { young: true });
  const walkBase = 2 ** b.geometry.levels[1]!.shift * 5;
  const translation = new Translation();

  return [
    {
      name: `${prefix}.pte_make`,
      unit: "entries",
      ops: N,
      run: () => {
        for (let i = 0; i < N; i++) {
          b.pfnEntry(v, 2 * i, PTE, pfnOf(i), RW);
          b.mkyoung(v, 2 * i, PTE);
          b.mkdirty(v, 2 * i, PTE);
        }
        return v[0]!;
      },
    },
    {
      name: `${prefix}.pte_test`,
      unit: "entries",
      ops: N,
      run: () => {
        let n = 0;
        for (let i = 0; i < N; i++) {
          if (b.present(v, 2 * i, PTE) && b.write(v, 2 * i, PTE) && b.dirty(v, 2 * i, PTE)) n += b.pfn(v, 2 * i, PTE);
        }
        return n;
      },
    },
    {
      name: `${prefix}.pte_wrprotect_mkwrite`,
      unit: "entries",
      ops: N,
      run: () => {
        for (let i = 0; i < N; i++) {
          b.wrprotect(v, 2 * i, PTE);
          b.mkwrite(v, 2 * i, PTE);
        }
        return v[1]!;
      },
    },
    {
      name: `${prefix}.swap_encode_decode`,
      unit: "entries",
      ops: N,
      run: () => {
        let n = 0;
        for (let i = 0; i < N; i++) {
          b.softleafEntry(out, 0, PTE, SWP_MIGRATION_WRITE, pfnOf(i));
          b.swpMkExclusive(out, 0, PTE);
          n += b.swpOffset(out, 0, PTE) + b.swpType(out, 0, PTE);
        }
        return n;
      },
    },
    {
      name: `${prefix}.set_ptes_get_and_clear`,
      unit: "entries",
      ops: perTable,
      run: () => {
        b.pfnEntry(out, 0, PTE, 0x8000, RW);
        b.setEntries(ctx, table, 0, PTE, 0, out, 0, perTable);
        b.getAndClearEntries(ctx, table, 0, PTE, 0, perTable, out, 0);
        ctx.flushes.length = 0;
        return out[0]!;
      },
    },
    {
      name: `${prefix}.hw_translate`,
      unit: "translations",
      // The same pages many times over: a sample long enough to time the translation, not the call around it.
      ops: walkPages * TRANSLATE_SWEEPS,
      run: () => {
        let n = 0;
        const t = translation;
        for (let r = 0; r < TRANSLATE_SWEEPS; r++) {
          for (let i = 0; i < walkPages; i++) if (b.translate(mem, root, walkBase + i * b.geometry.pageSize + 8, undefined, t)) n += t.pa;
        }
        return n;
      },
    },
    {
      name: `${prefix}.hw_walk`,
      unit: "walks",
      ops: walkPages,
      run: () => {
        let n = 0;
        for (let i = 0; i < walkPages; i++) {
          const w = b.walk(mem, root, walkBase + i * b.geometry.pageSize + 8);
          if (w.ok) n += w.pa;
        }
        return n;
      },
    },
  ];
}
