import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { smaps } from "../stats/smaps";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "./vm-flags";

function vmFlagsOfNewMapping(memSoftDirty: boolean | undefined): string {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "256M", check: true, ...(memSoftDirty === undefined ? {} : { memSoftDirty }) });
  const mm = k.createMm();
  const r = k.mmap(mm, { addr: 0, len: 64 << 10, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, file: null, offset: 0 });
  if (!r.ok) throw new Error(r.errno);
  k.touch(mm, r.value, 64 << 10, true, 1);
  return smaps(k, mm).entries[0]!.vmFlags;
}

// Found by `hugemm kdiff`: a kernel built without CONFIG_MEM_SOFT_DIRTY shows no "sd" on new VMAs.
it("marks new VMAs VM_SOFTDIRTY only when built with CONFIG_MEM_SOFT_DIRTY (on by default)", () => {
  expect(vmFlagsOfNewMapping(undefined).split(" ")).toContain("sd");
  expect(vmFlagsOfNewMapping(true).split(" ")).toContain("sd");
  expect(vmFlagsOfNewMapping(false).split(" ")).not.toContain("sd");
});
