import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { expect, it } from "vitest";
import { Kernel, MAP_ANONYMOUS, MAP_PRIVATE, MM_ANONPAGES, PROT_READ, PROT_WRITE, formatMeminfo, meminfo } from "./index";

it("the README example runs and does what it says", () => {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", swap: "256M", check: true });
  const mm = k.createMm();
  const r = k.mmap(mm, { len: 8 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(`${r.errno}: ${r.reason}`);
  expect(k.touch(mm, r.value, 8 << 20, true, 42).faults).toBe(2048);
  const child = k.fork(mm)!;
  expect(k.peek(child, r.value)).toBe(k.peek(mm, r.value));
  k.touch(child, r.value, 4096, true, 7);
  expect(k.peek(child, r.value)).not.toBe(k.peek(mm, r.value));
  expect(child.rss[MM_ANONPAGES]).toBe(2048);
  expect(formatMeminfo(meminfo(k))).toMatch(/^MemTotal: +1048576 kB\n/);
  k.exit(child);
  k.exit(mm);
});
