import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../check/invariants";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { mapOk } from "../testing/vma";
import type { KernelFeature } from "./feature";
import { Kernel } from "./kernel";

describe("kernel features", () => {
  it("are found by name, see fork and exit, and add their invariants to the checker", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const seen: string[] = [];
    let broken = false;
    const f: KernelFeature = {
      name: "probe",
      onFork: (_k, parent, child) => void seen.push(`fork ${parent.id}->${child.id} ${child.vmas.all().length}`),
      onExit: (_k, mm) => void seen.push(`exit ${mm.id} ${mm.vmas.all().length}`),
      check: (_k, _op, report) => {
        if (broken) report("probe", "planted", { mm: 1 });
      },
    };
    expect(k.use(f)).toBe(f);
    expect(k.feature("probe")).toBe(f);
    expect(k.feature("other")).toBeUndefined();
    expect(() => k.use({ name: "probe" })).toThrow(/already installed/);
    const mm = k.createMm();
    mapOk(k, mm, { len: 8192, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    const child = k.fork(mm)!;
    k.exit(child);
    // The exit hook runs while the address space still holds its VMAs.
    expect(seen).toEqual([`fork ${mm.id}->${child.id} 1`, `exit ${child.id} 1`]);
    broken = true;
    let err: unknown;
    try {
      k.touch(mm, mm.vmas.all()[0]!.start, 4096, true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvariantViolation);
    expect((err as InvariantViolation).violations).toEqual([{ op: "touch", check: "probe:probe", message: "planted", mm: 1 }]);
  });
});
