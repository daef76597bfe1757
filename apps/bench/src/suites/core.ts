import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import type { Workload } from "../harness";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** A fresh x86-64 machine (checker off) and one process with an anonymous mapping of `len` bytes. */
interface Arena {
  k: Kernel;
  mm: Mm;
  addr: number;
}

function arena(len: number, memory: string, thp: Record<string, string>): Arena {
  const k = new Kernel({ backend: createX86_64Backend(), memory, check: false });
  for (const [knob, value] of Object.entries(thp)) k.thp.set(knob, value);
  const mm = k.createMm();
  const r = k.mmap(mm, { len, prot: RW, flags: ANON });
  if (!r.ok) throw new Error(`benchmark mmap failed: ${r.errno} ${r.reason}`);
  return { k, mm, addr: r.value };
}

/** Write faults over a fresh mapping: one operation per fault the kernel takes. */
function faults(name: string, len: number, memory: string, thp: Record<string, string>, pagesPerFault: number): Workload {
  let a: Arena | undefined;
  return {
    name,
    unit: "faults",
    ops: len / 4096 / pagesPerFault,
    setup: () => {
      a = arena(len, memory, thp);
    },
    run: () => {
      const r = a!.k.touch(a!.mm, a!.addr, len, true);
      if (r.faults !== len / 4096 / pagesPerFault) throw new Error(`${name}: ${r.faults} faults, expected ${len / 4096 / pagesPerFault}`);
      return r.faults;
    },
  };
}

/** munmap of a populated mapping: one operation per base page unmapped. */
function munmap(name: string, len: number, memory: string, thp: Record<string, string>): Workload {
  let a: Arena | undefined;
  return {
    name,
    unit: "pages",
    ops: len / 4096,
    setup: () => {
      a = arena(len, memory, thp);
      a.k.touch(a.mm, a.addr, len, true);
    },
    run: () => {
      const r = a!.k.munmap(a!.mm, a!.addr, len);
      if (!r.ok) throw new Error(`${name}: ${r.errno}`);
      return a!.mm.rss[1]!;
    },
  };
}

/** The core's workloads on x86-64 (4-level): faults and munmap at each mapping size. */
export function coreWorkloads(quick: boolean): Workload[] {
  const small = quick ? 64 * MiB : GiB;
  const never = { enabled: "never" };
  const m64k = { enabled: "never", "hugepages-64kB/enabled": "always" };
  const always = { enabled: "always" };
  const pud = { enabled: "always", "hugepages-1048576kB/enabled": "always", pud_deposit: "pre-deposit" };
  return [
    faults("fault.anon.4k", small, "4G", never, 1),
    faults("fault.anon.64k", small, "4G", m64k, 16),
    faults("fault.anon.pmd", quick ? 256 * MiB : 4 * GiB, "8G", always, 512),
    faults("fault.anon.pud", quick ? GiB : 4 * GiB, "8G", pud, 262144),
    munmap("munmap.4k", small, "4G", never),
    munmap("munmap.pmd", quick ? 256 * MiB : 4 * GiB, "8G", always),
  ];
}
