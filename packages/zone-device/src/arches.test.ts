import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { mixTag } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { PROT } from "./mirror";
import { anon, machine } from "./test-helpers";

/*
 * The same migrations on other page-table formats: arm64 has PMD
 * softleaves (device-private THPs move whole); ppc 8xx has neither THP
 * nor PMD softleaves, so everything moves page by page there.
 */

const ARCHES: [string, () => ArchBackend, boolean][] = [
  ["arm64 4K", () => createArm64Backend("4k-48"), true],
  ["ppc8xx 4K", () => createPpc8xxBackend(), false],
];

describe.each(ARCHES)("device-private migration on %s", (_name, backend, pmdSoftleaf) => {
  it("moves a range with a THP to the device and back, keeping the data", () => {
    const { k, dev, mm } = machine({ backend: backend() });
    const ps = k.pageSize;
    // ppc 8xx has no THP: the same range in base pages.
    const hasThp = k.thp.pmdOrder > 0;
    const thp = ps * (hasThp ? 2 ** k.thp.pmdOrder : 512);
    const n = thp / ps;
    const a = anon(k, mm, thp, hasThp);
    k.touch(mm, a, thp, true, 6);
    const m = dev.mirror(mm);
    const r = dev.migrateToDevice(m, a, n, true);
    expect([r.errno, r.cpages]).toEqual([0, n]);
    expect(m.snapshot(a, 1)[0]).toBe(PROT.DEV_PRIVATE_LOCAL | PROT.WRITE | (pmdSoftleaf && k.thp.pmdOrder > 0 ? PROT.PMD : 0));
    k.touch(mm, a, thp, false);
    for (let i = 0; i < n; i += Math.max(1, n >> 4)) expect(k.peek(mm, a + i * ps)).toBe(mixTag(6, a / ps + i));
    const child = k.fork(mm)!;
    expect(dev.migrateToDevice(dev.mirror(child), a, n, false).errno).toBe(0);
    k.exit(child);
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });
});
