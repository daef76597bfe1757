import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { smaps } from "../stats/smaps";
import { walkAddress } from "../stats/walk";
import { MADV, MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "./vm-flags";

function kernel(): Kernel {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "256M", check: true });
  k.thp.set("enabled", "never");
  return k;
}

// Found by `hugemm kdiff`: populated pages read as Referenced in a forked child, whose PTEs are old.
it("marks each populated page's folio accessed (FOLL_TOUCH), so a forked child sees it referenced", () => {
  const k = kernel();
  const mm = k.createMm();
  const r = k.mmap(mm, { addr: 0, len: 64 << 10, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, file: null, offset: 0 });
  if (!r.ok) throw new Error(r.errno);
  expect(walkAddress(k, mm, r.value).folio!.flags).toContain("referenced");
  const child = k.fork(mm)!;
  expect(smaps(k, child).entries[0]!.stats.referenced).toBe(64 << 10);
  // Faulted by a plain write instead, the child's old PTEs show nothing referenced.
  const m2 = k.createMm();
  const r2 = k.mmap(m2, { addr: 0, len: 64 << 10, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, file: null, offset: 0 });
  if (!r2.ok) throw new Error(r2.errno);
  k.touch(m2, r2.value, 64 << 10, true, 1);
  expect(smaps(k, k.fork(m2)!).entries[0]!.stats.referenced).toBe(0);
});

it("activates a large folio on the second page MADV_POPULATE touches, and marks it referenced again on the third", () => {
  const k = kernel();
  k.thp.set("hugepages-64kB/enabled", "always");
  const mm = k.createMm();
  const r = k.mmap(mm, { addr: 0, len: 128 << 10, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, file: null, offset: 0 });
  if (!r.ok) throw new Error(r.errno);
  const at = r.value + ((64 << 10) - (r.value % (64 << 10))) % (64 << 10);
  expect(k.madvise(mm, at, 64 << 10, MADV.POPULATE_WRITE).ok).toBe(true);
  const f = walkAddress(k, mm, at).folio!;
  expect(f.order).toBe(4);
  expect(f.flags).toEqual(expect.arrayContaining(["active", "referenced"]));
  expect(f.lru).toMatch(/active_anon/);
});
