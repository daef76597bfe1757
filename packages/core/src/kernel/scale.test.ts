import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { NS } from "../stats/counters";
import { folioPut } from "../folio/put";
import { Kernel } from "./kernel";

const GiB = 2 ** 30;

it("builds a 1 TiB machine lazily and uses memory anywhere in it", () => {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "1T", nodes: 4, check: true });
  expect(k.phys.totalPages).toBe(2 ** 40 / 4096);
  const mm = k.createMm();
  const r = k.mmap(mm, { len: 64 * GiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(r.reason);
  // One page in every GiB of a 64 GiB mapping (a PMD THP each): tables and memmap only where touched.
  for (let g = 0; g < 64; g++) expect(k.touch(mm, r.value + g * GiB, 4096, true, g).error).toBe(0);
  expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(64 * 512);
  expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(64 * 512);
  // Allocate from the far end of the machine: the last node.
  const far = k.folios.alloc(0, 0, 3);
  expect(k.phys.nidOf(far)).toBe(3);
  folioPut(k, far);
  k.exit(mm);
  expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(0);
});
