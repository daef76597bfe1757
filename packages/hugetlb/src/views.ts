import { walkLogical, type HstateReport, type HugetlbReport, type Mm, type Vma } from "@hugemm/core";
import { hvOf } from "./fault";
import type { Hstate } from "./hstate";
import type { HugetlbState } from "./state";

/** The pools as the core's meminfo and vmstat read them (hugetlb_report_meminfo). */
export function hugetlbReport(st: HugetlbState): HugetlbReport {
  const hstates: HstateReport[] = st.hstates.map((h) => ({ pageSize: h.size, total: h.nr, free: h.free, reserved: h.resv, surplus: h.surplus }));
  return { hstates, defaultIndex: Math.max(0, st.defaultIndex) };
}

/**
 * The hugetlb files of sysfs and procfs with their values, by path:
 * hugepages/hugepages-<N>kB/{nr_hugepages, free_hugepages, resv_hugepages,
 * surplus_hugepages, nr_overcommit_hugepages, demote_size in kB where the
 * hstate can demote}, the per-node
 * node<N>/hugepages/hugepages-<N>kB/{nr_hugepages, free_hugepages,
 * surplus_hugepages}, and vm/nr_hugepages (max_huge_pages of the default
 * hstate, the persistent pool, unlike sysfs's count with surplus) and
 * vm/nr_overcommit_hugepages.
 */
export function hugetlbSysfs(st: HugetlbState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of st.hstates) {
    const d = `hugepages/${h.name}/`;
    out[`${d}nr_hugepages`] = h.nr;
    out[`${d}free_hugepages`] = h.free;
    out[`${d}resv_hugepages`] = h.resv;
    out[`${d}surplus_hugepages`] = h.surplus;
    out[`${d}nr_overcommit_hugepages`] = h.nrOvercommit;
    // demote_size ("%lukB") only where the hstate can demote.
    const dst = st.demoteTo.get(h);
    if (dst !== undefined) out[`${d}demote_size`] = dst.size / 1024;
  }
  for (let n = 0; n < st.k.phys.nodes.length; n++) {
    for (const h of st.hstates) {
      const d = `node${n}/hugepages/${h.name}/`;
      out[`${d}nr_hugepages`] = h.nrNode[n]!;
      out[`${d}free_hugepages`] = h.freeNode[n]!;
      out[`${d}surplus_hugepages`] = h.surplusNode[n]!;
    }
  }
  const def = st.hstates[st.defaultIndex];
  if (def !== undefined) {
    out["vm/nr_hugepages"] = def.maxHugePages;
    out["vm/nr_overcommit_hugepages"] = def.nrOvercommit;
  }
  return out;
}

/**
 * The hugetlb files as `grep -r . ` prints them: /sys/kernel/mm/hugepages,
 * /sys/devices/system/node/node<N>/hugepages and /proc/sys/vm.
 */
export function formatHugetlbSysfs(st: HugetlbState): string {
  let t = "";
  for (const [path, v] of Object.entries(hugetlbSysfs(st))) {
    const file = path.startsWith("vm/") ? `/proc/sys/${path}` : path.startsWith("node") ? `/sys/devices/system/node/${path}` : `/sys/kernel/mm/${path}`;
    t += `${file}:${path.endsWith("demote_size") ? `${v}kB` : v}\n`;
  }
  return t;
}

/** The per-node meminfo lines of the default hstate (Node N HugePages_Total/Free/Surp). */
export function nodeHugetlbMeminfo(st: HugetlbState, nid: number): string {
  const h: Hstate | undefined = st.hstates[st.defaultIndex];
  if (h === undefined) return "";
  const p = (v: number) => String(v).padStart(5);
  return `Node ${nid} HugePages_Total: ${p(h.nrNode[nid]!)}\nNode ${nid} HugePages_Free:  ${p(h.freeNode[nid]!)}\nNode ${nid} HugePages_Surp:  ${p(h.surplusNode[nid]!)}\n`;
}

/** /proc/<pid>/status HugetlbPages: mm->hugetlb_usage in kB. */
export function hugetlbPagesKb(st: HugetlbState, mm: Mm): number {
  return ((st.usage.get(mm.id) ?? 0) * st.k.pageSize) / 1024;
}

/** The status line as the kernel prints it (hugetlb_report_usage). */
export function formatHugetlbPages(st: HugetlbState, mm: Mm): string {
  return `HugetlbPages:\t${String(hugetlbPagesKb(st, mm)).padStart(8)} kB\n`;
}

/**
 * smaps_hugetlb_range over a hugetlb VMA, as a client of the core's generic
 * walk (one logical entry per huge page): each counts as Shared_Hugetlb when
 * its folio may be mapped by more than one process (or the entry is not
 * present), else as Private_Hugetlb.
 */
export function smapsHugetlb(st: HugetlbState, vma: Vma): { pageSize: number; shared: number; private: number } {
  const k = st.k;
  const b = k.backend;
  const h = hvOf(st, vma).h;
  const mm = k.mm(vma.mmId);
  let shared = 0;
  let priv = 0;
  if (mm !== undefined) {
    walkLogical(k, mm, vma.start, vma.end, (e) => {
      if (!b.present(e.value, 0, e.valueLevel) || k.rmap.maybeMappedShared(b.pfn(e.value, 0, e.valueLevel))) shared += e.size;
      else priv += e.size;
    });
  }
  return { pageSize: h.size, shared, private: priv };
}
