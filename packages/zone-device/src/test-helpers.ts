import type { ArchBackend } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { installZoneDevice, type ZoneDevice } from "./feature";
import type { HmmDevice } from "./device";

export const MiB = 2 ** 20;
export const PAGE = 4096;

/** A checked kernel with 1 GiB of RAM and one private device of 64 MiB (or as asked). */
export function machine(opts: { type?: "private" | "coherent"; size?: number; devices?: number; backend?: ArchBackend } = {}): { k: Kernel; zd: ZoneDevice; dev: HmmDevice; dev1: HmmDevice | undefined; mm: Mm } {
  const k = new Kernel({ backend: opts.backend ?? createX86_64Backend(), memory: "1G", check: true });
  const zd = installZoneDevice(k);
  const dev = zd.addDevice({ name: "dev0", type: opts.type ?? "private", size: opts.size ?? 64 * MiB });
  const dev1 = (opts.devices ?? 1) > 1 ? zd.addDevice({ name: "dev1", type: opts.type ?? "private", size: opts.size ?? 64 * MiB }) : undefined;
  return { k, zd, dev, dev1, mm: k.createMm() };
}

/** An anonymous private mapping of `len` bytes, THP-aligned, with MADV_HUGEPAGE when `thp`. */
export function anon(k: Kernel, mm: Mm, len: number, thp = false): number {
  const r = k.mmap(mm, { len: len + (thp ? 2 * MiB : 0), prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(`mmap: ${r.errno}`);
  let a = r.value;
  if (thp) {
    const pmd = k.pageSize * 2 ** k.thp.pmdOrder;
    const aligned = Math.ceil(a / pmd) * pmd;
    if (aligned > a) k.munmap(mm, a, aligned - a);
    if (aligned + len < a + len + 2 * MiB) k.munmap(mm, aligned + len, a + len + 2 * MiB - aligned - len);
    a = aligned;
    if (!k.madvise(mm, a, len, MADV.HUGEPAGE).ok) throw new Error("madvise");
  }
  return a;
}
