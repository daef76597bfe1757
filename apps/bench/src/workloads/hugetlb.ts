import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { MAP_HUGE_SHIFT, installHugetlb, type Hugetlb } from "@hugemm/hugetlb";
import type { Workload } from "../harness";
import { GiB, PAGE, expectCount, expectNoFaultError, type ArenaOptions } from "./arena";

/** hugetlb page sizes of the workloads on x86-64. */
export type HugetlbKind = "2m" | "1g";

const SHIFT: Readonly<Record<HugetlbKind, number>> = { "2m": 21, "1g": 30 };

interface HugetlbArena {
  readonly k: Kernel;
  readonly ht: Hugetlb;
  readonly mm: Mm;
  readonly addr: number;
}

/** An x86-64 machine with a pool of `len` bytes of `kind` pages and one private MAP_HUGETLB mapping over it. */
function hugetlbArena(kind: HugetlbKind, len: number, opts: ArenaOptions): HugetlbArena {
  const size = 2 ** SHIFT[kind];
  const k = new Kernel({ backend: createX86_64Backend("4level"), memory: Math.ceil((2 * len + GiB) / GiB) * GiB, check: opts.check });
  const ht = installHugetlb(k);
  const h = ht.hstate(size);
  expectCount(`hugetlb ${kind} pool`, "pages", ht.setNrHugepages(h, len / size), len / size);
  const mm = k.createMm();
  const r = k.mmap(mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (SHIFT[kind] << MAP_HUGE_SHIFT) });
  if (!r.ok) throw new Error(`hugetlb mmap of ${len} bytes failed: ${r.errno} ${r.reason}`);
  return { k, ht, mm, addr: r.value };
}

/** Write faults over a fresh private hugetlb mapping: one operation per huge page (hugetlb_no_page, then hugetlb_wp reusing it). */
export function hugetlbFaultWorkload(kind: HugetlbKind, len: number, opts: ArenaOptions): Workload {
  const name = `fault.hugetlb.${kind}`;
  const size = 2 ** SHIFT[kind];
  const faults = len / size;
  let a: HugetlbArena | undefined;
  return {
    name,
    unit: "faults",
    ops: faults,
    per: { pages: size / PAGE },
    setup: () => {
      a = hugetlbArena(kind, len, opts);
    },
    run: () => {
      const h = a!.ht.hstate(size);
      const r = a!.k.touch(a!.mm, a!.addr, len, true);
      expectNoFaultError(name, r);
      expectCount(name, "faults", r.faults, faults);
      expectCount(name, "reservations consumed", h.resv, 0);
      return r.faults;
    },
  };
}

/** Growing the 2M pool by `len` bytes and shrinking it back: one operation per page allocated and freed. */
export function hugetlbResizeWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "resize.hugetlb.2m";
  const pages = len / (2 << 20);
  let k: Kernel | undefined;
  let ht: Hugetlb | undefined;
  return {
    name,
    unit: "pages",
    ops: 2 * pages,
    per: { pages: 512 },
    setup: () => {
      k = new Kernel({ backend: createX86_64Backend("4level"), memory: Math.ceil((len + GiB) / GiB) * GiB, check: opts.check });
      ht = installHugetlb(k);
    },
    run: () => {
      const h = ht!.hstate("2M");
      expectCount(name, "pages after growing", ht!.setNrHugepages(h, pages), pages);
      expectCount(name, "pages after shrinking", ht!.setNrHugepages(h, 0), 0);
      return 2 * pages;
    },
  };
}
