import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import type { ArchBackend } from "@hugemm/arch";
import { expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "./vm-flags";

function setup(backend: ArchBackend, ptReclaim?: boolean) {
  const k = new Kernel({ backend, memory: "256M", check: true, ...(ptReclaim === undefined ? {} : { ptReclaim }) });
  k.thp.set("enabled", "never");
  const mm = k.createMm();
  const r = k.mmap(mm, { addr: 0, len: 6 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, file: null, offset: 0 });
  if (!r.ok) throw new Error(r.errno);
  k.touch(mm, r.value, 6 << 20, true, 1);
  return { k, mm, at: r.value };
}

// Found by `hugemm kdiff` (a private file mapping dropped with MADV_DONTNEED): Linux 6.18 frees the emptied PTE table.
it("frees a PTE table MADV_DONTNEED zapped whole (CONFIG_PT_RECLAIM on x86-64), and keeps one it zapped in part", () => {
  const { k, mm, at } = setup(createX86_64Backend());
  const before = mm.pgtablePages;
  expect(k.madvise(mm, at + (2 << 20), 2 << 20, MADV.DONTNEED).ok).toBe(true);
  expect(mm.pgtablePages).toBe(before - 1);
  expect(k.madvise(mm, at + (4 << 20), 1 << 20, MADV.DONTNEED).ok).toBe(true);
  expect(mm.pgtablePages).toBe(before - 1);
  // The range faults back in with a new table.
  k.touch(mm, at + (2 << 20), 4096, true, 2);
  expect(mm.pgtablePages).toBe(before);
  k.exit(mm);
});

it("keeps PTE tables without CONFIG_PT_RECLAIM: off by choice, or on an arch that does not select it", () => {
  for (const [backend, ptReclaim] of [[createX86_64Backend(), false], [createArm64Backend(), undefined]] as const) {
    const { k, mm, at } = setup(backend, ptReclaim);
    const before = mm.pgtablePages;
    expect(k.madvise(mm, at + (2 << 20), 2 << 20, MADV.DONTNEED).ok).toBe(true);
    expect(mm.pgtablePages).toBe(before);
  }
});
