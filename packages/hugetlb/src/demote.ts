import type { Hstate } from "./hstate";
import { enqueue } from "./pool";
import type { HugetlbState } from "./state";

/**
 * demote_order as hugetlb_init_hstates sets it: the largest other hstate
 * below `h` of at least HUGETLB_PAGE_ORDER (the default hstate's order);
 * undefined when there is none (no demote files then).
 */
export function defaultDemoteTarget(st: HugetlbState, h: Hstate): Hstate | undefined {
  const min = st.hstates[st.defaultIndex]?.order ?? Number.POSITIVE_INFINITY;
  let best: Hstate | undefined;
  for (const x of st.hstates) if (x.order < h.order && x.order >= min && (best === undefined || x.order > best.order)) best = x;
  return best;
}

/**
 * demote_store: split up to `count` free pages of `h` not promised to a
 * reservation into pages of `dst`, one free folio at a time from the nodes
 * in next_nid_to_free order (demote_pool_huge_page, then
 * demote_free_hugetlb_folios: the folio leaves the source pool, is split
 * into folios of the target order, which join the target pool free).
 * max_huge_pages moves with them. Returns the pages demoted.
 */
export function demotePages(st: HugetlbState, h: Hstate, dst: Hstate, count: number): number {
  const k = st.k;
  const nodes = k.phys.nodes.length;
  const ratio = 2 ** (h.order - dst.order);
  let done = 0;
  while (done < count && h.free - h.resv > 0) {
    let head = -1;
    for (let i = 0; i < nodes && head < 0; i++) {
      const nid = h.nextNidToFree;
      h.nextNidToFree = (nid + 1) % nodes;
      const list = h.freelists[nid]!;
      if (list.length === 0) continue;
      head = list.pop()!;
      h.free--;
      h.freeNode[nid]!--;
      h.nr--;
      h.nrNode[nid]!--;
    }
    if (head < 0) break;
    st.folios.delete(head);
    const pieces: [number, number][] = [];
    for (let i = 0; i < ratio; i++) pieces.push([head + i * dst.pages, dst.order]);
    k.folios.splitInto(head, pieces);
    for (const [p] of pieces) {
      st.folios.set(p, dst);
      const nid = k.phys.nidOf(p);
      dst.nr++;
      dst.nrNode[nid]!++;
      enqueue(st, dst, p);
    }
    done++;
  }
  h.maxHugePages -= done;
  dst.maxHugePages += done * ratio;
  return done;
}
