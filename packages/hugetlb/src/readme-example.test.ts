import { readFileSync } from "node:fs";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, PROT_READ, PROT_WRITE, formatMeminfo, meminfo } from "@hugemm/core";
import { expect, it } from "vitest";
import { installHugetlb } from "./index";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

it("the README example runs and prints what the README says", () => {
  const code = /```ts\n([\s\S]*?)```/.exec(README)![1]!;
  const printed = /prints\n\n```\n([\s\S]*?)```/.exec(README)![1]!;
  // The example as the README has it, step for step.
  const k = new Kernel({ backend: createX86_64Backend(), memory: "256M", check: true });
  const ht = installHugetlb(k);
  ht.applySetting("hugepages/hugepages-2048kB/nr_hugepages", "2");
  const mm = k.createMm();
  const r = k.mmap(mm, { len: 2 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB });
  if (!r.ok) throw new Error(r.reason);
  expect(ht.defaultHstate.resv).toBe(1);
  k.touch(mm, r.value, 2 << 20, true, 7);
  const child = k.fork(mm)!;
  k.touch(mm, r.value, 2 << 20, true, 8);
  let out = formatMeminfo(meminfo(k)).split("\n").filter((l) => l.startsWith("HugePages_")).join("\n") + "\n";
  out += ht.formatStatus(child);
  expect(out).toBe(printed);
  for (const call of ["installHugetlb(k)", 'ht.applySetting("hugepages/hugepages-2048kB/nr_hugepages", "2")', "k.fork(mm)!", "ht.formatStatus(child)"]) expect(code).toContain(call);
});
