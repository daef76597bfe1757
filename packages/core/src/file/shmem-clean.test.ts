import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { smaps } from "../stats/smaps";

// Found by `hugemm kdiff` (shmem-memfd): Linux 6.18 shows a read-faulted shmem page as Private_Clean.
it("maps a shmem page a read fault allocated clean, and a written one dirty", () => {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "256M", check: true });
  const mm = k.createMm();
  const shm = k.createFile("shm", 1 << 20, { shmem: true });
  const r = k.mmap(mm, { addr: 0, len: 1 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: shm, offset: 0 });
  if (!r.ok) throw new Error(r.errno);
  k.touch(mm, r.value, 256 << 10, false);
  k.touch(mm, r.value + (512 << 10), 128 << 10, true, 1);
  const e = smaps(k, mm).entries.find((x) => x.start === r.value)!;
  expect(e.stats.resident).toBe(384 << 10);
  expect(e.stats.privateClean).toBe(256 << 10);
  expect(e.stats.privateDirty).toBe(128 << 10);
});
