import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { expect, it } from "vitest";
import { EV, Kernel, MAP_ANONYMOUS, MAP_PRIVATE, MM_ANONPAGES, PROT_READ, PROT_WRITE, formatMeminfo, meminfo } from "./index";

it("the README example runs and does what it says", () => {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "4G", swap: "256M", check: true });
  const mm = k.createMm();
  const r = k.mmap(mm, { len: 8 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(`${r.errno}: ${r.reason}`);
  // THP is on by default on a machine this size: four PMD faults map the 8 MiB.
  expect(k.touch(mm, r.value, 8 << 20, true, 42).faults).toBe(4);
  const child = k.fork(mm)!;
  expect(k.peek(child, r.value)).toBe(k.peek(mm, r.value));
  k.touch(child, r.value, 4096, true, 7);
  expect(k.peek(child, r.value)).not.toBe(k.peek(mm, r.value));
  expect(child.rss[MM_ANONPAGES]).toBe(2048);
  // AnonHugePages counts folios mapped whole somewhere: the parent still maps all four.
  expect(meminfo(k).fields.find(([n]) => n === "AnonHugePages")?.[1]).toBe(8192);
  expect(formatMeminfo(meminfo(k))).toMatch(/^MemTotal: +4194304 kB\n/);
  k.exit(child);
  k.exit(mm);

  k.thp.set("hugepages-1048576kB/enabled", "always");
  const big = k.createMm();
  const g = k.mmap(big, { len: 1 << 30, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!g.ok) throw new Error(g.reason);
  expect(k.touch(big, g.value, 4096, true, 1).faults).toBe(1);
  expect(big.rss[MM_ANONPAGES]).toBe(262144);
  expect(k.munmap(big, g.value + (2 << 20), 2 << 20).ok).toBe(true);
  expect(k.events[EV.thp_split_pud]).toBe(1);
  const free0 = k.phys.freePagesWithPcp;
  expect(k.dropSlab()).toBe(1);
  // The split maps every page still holding zeroes to the shared zero page: only the written page stays.
  expect(k.phys.freePagesWithPcp - free0).toBe(262143);
  expect(big.rss[MM_ANONPAGES]).toBe(1);
  k.exit(big);
});
