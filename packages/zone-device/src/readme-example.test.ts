import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "@hugemm/core";
import { expect, it } from "vitest";
import { PROT, installZoneDevice } from "./index";

it("the README example runs and does what it says", () => {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
  const gpu = installZoneDevice(k).addDevice({ name: "gpu0", type: "private", size: 64 << 20 });
  const mm = k.createMm();
  const r = k.mmap(mm, { len: 2 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(r.reason);
  expect(k.touch(mm, r.value, 2 << 20, true, 7).faults).toBe(1);
  const mirror = gpu.mirror(mm);
  expect(gpu.migrateToDevice(mirror, r.value, 512, true)).toMatchObject({ errno: 0, cpages: 512 });
  expect(mirror.snapshot(r.value, 1)[0]).toBe(PROT.DEV_PRIVATE_LOCAL | PROT.WRITE | PROT.PMD);
  expect(k.touch(mm, r.value, 4096, false).faults).toBe(1);
  expect(mirror.snapshot(r.value, 1)[0]).toBe(PROT.WRITE | PROT.PMD);
  expect(gpu.mem.allocated).toBe(0);
});
