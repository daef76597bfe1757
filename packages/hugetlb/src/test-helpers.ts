import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { installHugetlb, type Hugetlb } from "./feature";

/** A checked kernel with hugetlb installed. */
export function hugetlbKernel(arch: "x86-64" | "arm64" | "arm64-16k" | "arm64-64k" | "ppc8xx" | "ppc8xx-16k" = "x86-64", memory = "512M", nodes = 1): { k: Kernel; ht: Hugetlb } {
  const backend =
    arch === "x86-64"
      ? createX86_64Backend()
      : arch === "arm64"
        ? createArm64Backend()
        : arch === "arm64-16k"
          ? createArm64Backend("16k-47")
          : arch === "arm64-64k"
            ? createArm64Backend("64k-48")
            : arch === "ppc8xx"
              ? createPpc8xxBackend()
              : createPpc8xxBackend("16k");
  const k = new Kernel({ backend, memory, nodes, check: true, seed: 1 });
  return { k, ht: installHugetlb(k) };
}

/** [Total, Free, Rsvd, Surp] of an hstate. */
export function counters(ht: Hugetlb, size?: number | string): [number, number, number, number] {
  const h = size === undefined ? ht.defaultHstate : ht.hstate(size);
  return [h.nr, h.free, h.resv, h.surplus];
}

/** mmap of `pages` huge pages of anonymous MAP_HUGETLB memory (private unless `shared`): the address. */
export function mapHuge(k: Kernel, mm: Mm, len: number, shared = false, extra = 0): number {
  const r = k.mmap(mm, { len, prot: PROT_READ | PROT_WRITE, flags: (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_HUGETLB | extra });
  if (!r.ok) throw new Error(`mmap failed: ${r.errno} ${r.reason}`);
  return r.value;
}
