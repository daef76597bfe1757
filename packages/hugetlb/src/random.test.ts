import { MADV, MREMAP_FIXED, MREMAP_MAYMOVE, MAP_ANONYMOUS, MAP_HUGETLB, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAP_HUGE_SHIFT } from "./feature";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from "./hugetlbfs";
import { hugetlbKernel } from "./test-helpers";

type Arch = Parameters<typeof hugetlbKernel>[0];
const ARCHES: [Arch, string][] = [
  ["x86-64", "64M"],
  ["arm64", "64M"],
  ["ppc8xx", "64M"],
];

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const op = fc.oneof(
  w(5, fc.record({ kind: fc.constant("map" as const), n: fc.integer({ min: 1, max: 2 }), shared: fc.boolean(), noreserve: fc.boolean(), file: fc.boolean(), size: fc.nat(2) })),
  w(8, fc.record({ kind: fc.constant("touch" as const), m: fc.nat(7), page: fc.nat(2), write: fc.boolean(), p: fc.nat(2) })),
  w(2, fc.record({ kind: fc.constant("fork" as const), p: fc.nat(2) })),
  w(1, fc.record({ kind: fc.constant("exit" as const), p: fc.nat(2) })),
  w(2, fc.record({ kind: fc.constant("munmap" as const), m: fc.nat(7), page: fc.nat(2), p: fc.nat(2) })),
  w(1, fc.record({ kind: fc.constant("mprotect" as const), m: fc.nat(7), write: fc.boolean(), p: fc.nat(2) })),
  w(2, fc.record({ kind: fc.constant("dontneed" as const), m: fc.nat(7), p: fc.nat(2) })),
  w(2, fc.record({ kind: fc.constant("resize" as const), c: fc.nat(6), overcommit: fc.nat(3), size: fc.nat(2) })),
  w(1, fc.record({ kind: fc.constant("truncate" as const), pages: fc.nat(3) })),
  w(1, fc.record({ kind: fc.constant("fallocate" as const), punch: fc.boolean(), page: fc.nat(3) })),
  w(1, fc.record({ kind: fc.constant("mremap" as const), m: fc.nat(7), shrink: fc.boolean() })),
);

describe("random hugetlb workloads", () => {
  it("keep every pool, reservation, mapcount and table invariant on every arch", () => {
    fc.assert(
      fc.property(fc.nat(ARCHES.length - 1), fc.boolean(), fc.array(op, { minLength: 8, maxLength: 24 }), (ai, exactRestore, ops) => {
        const [arch, memory] = ARCHES[ai]!;
        const { k, ht } = hugetlbKernel(arch, memory);
        if (exactRestore) ht.config.zapRestore = "last-mapping";
        const sizes = ht.hstates.filter((h) => h.size <= 8 << 20);
        for (const h of sizes) ht.setNrHugepages(h, 4);
        const file = ht.createFile("data", 3 * ht.defaultHstate.size);
        const procs: Mm[] = [k.createMm()];
        const maps: { mm: Mm; addr: number; len: number; unit: number }[] = [];
        for (const o of ops) {
          const mm = procs[("p" in o ? o.p : 0) % Math.max(1, procs.length)];
          switch (o.kind) {
            case "map": {
              if (mm === undefined) break;
              const h = o.file ? ht.defaultHstate : sizes[o.size % sizes.length]!;
              const flags = (o.shared ? MAP_SHARED : MAP_PRIVATE) | (o.noreserve ? MAP_NORESERVE : 0);
              const r = o.file
                ? k.mmap(mm, { len: Math.min(o.n, 3) * h.size, prot: PROT_READ | PROT_WRITE, flags, file })
                : k.mmap(mm, { len: o.n * h.size, prot: PROT_READ | PROT_WRITE, flags: flags | MAP_ANONYMOUS | MAP_HUGETLB | (h.entry.shift << MAP_HUGE_SHIFT) });
              if (r.ok) maps.push({ mm, addr: r.value, len: (o.file ? Math.min(o.n, 3) : o.n) * h.size, unit: h.size });
              else expect(r.errno).toBe("ENOMEM");
              break;
            }
            case "touch": {
              const m = maps[o.m % Math.max(1, maps.length)];
              if (m === undefined || !procs.includes(m.mm)) break;
              const a = m.addr + (o.page % (m.len / m.unit)) * m.unit;
              k.touch(m.mm, a, m.unit, o.write, o.m);
              break;
            }
            case "fork":
              if (mm !== undefined && procs.length < 3) {
                const c = k.fork(mm);
                if (c !== null) {
                  procs.push(c);
                  for (const m of maps.filter((x) => x.mm === mm)) maps.push({ ...m, mm: c });
                }
              }
              break;
            case "exit":
              if (mm !== undefined && procs.length > 1) {
                k.exit(mm);
                procs.splice(procs.indexOf(mm), 1);
              }
              break;
            case "munmap": {
              const m = maps[o.m % Math.max(1, maps.length)];
              if (m === undefined || !procs.includes(m.mm)) break;
              k.munmap(m.mm, m.addr + (o.page % (m.len / m.unit)) * m.unit, m.unit);
              break;
            }
            case "mprotect": {
              const m = maps[o.m % Math.max(1, maps.length)];
              if (m === undefined || !procs.includes(m.mm)) break;
              k.mprotect(m.mm, m.addr, m.len, PROT_READ | (o.write ? PROT_WRITE : 0));
              break;
            }
            case "dontneed": {
              const m = maps[o.m % Math.max(1, maps.length)];
              if (m === undefined || !procs.includes(m.mm)) break;
              k.madvise(m.mm, m.addr, m.len, MADV.DONTNEED);
              break;
            }
            case "resize": {
              const h = sizes[o.size % sizes.length]!;
              ht.setOvercommit(h, o.overcommit);
              ht.setNrHugepages(h, o.c);
              break;
            }
            case "mremap": {
              const m = maps[o.m % Math.max(1, maps.length)];
              if (m === undefined || !procs.includes(m.mm)) break;
              const len = o.shrink && m.len > m.unit ? m.len - m.unit : m.len;
              const r = k.mremap(m.mm, m.addr, m.len, len, MREMAP_MAYMOVE | (o.shrink ? 0 : MREMAP_FIXED), m.addr + 64 * m.unit);
              if (r.ok) {
                m.addr = r.value;
                m.len = len;
              }
              break;
            }
            case "truncate":
              ht.truncate(file, o.pages * ht.defaultHstate.size);
              break;
            case "fallocate":
              ht.fallocate(file, o.punch ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : 0, o.page * ht.defaultHstate.size, ht.defaultHstate.size);
              break;
          }
        }
        for (const p of procs) k.exit(p);
        ht.truncate(file, 0);
        // With every process gone and the file empty, the pools hold only free persistent pages.
        for (const h of ht.hstates) expect([h.resv, h.surplus, h.nr - h.free]).toEqual([0, 0, 0]);
      }),
      { numRuns: propertyRuns(30), seed: 4412 },
    );
  });
});
