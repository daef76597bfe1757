import { MM_ANONPAGES } from "@hugemm/core";
import { installZoneDevice, type HmmDevice } from "@hugemm/zone-device";
import type { Workload } from "../harness";
import { MiB, PAGE, arena, expectCount, populate, type Arena, type ArenaOptions } from "./arena";

/**
 * tools/testing/selftests/mm/hmm-tests.c benchmark_thp_migration: a
 * populated THP mapping migrates to a device-private device and back, as
 * whole THPs (`pmd`) or with the device refusing THPs so that every THP is
 * split on the way (`pmd_split`, the selftest's non-THP case). One operation
 * is one 2 MiB round trip: 1024 pages moved.
 */
export function deviceMigrateWorkload(kind: "pmd" | "pmd_split", len: number, opts: ArenaOptions): Workload {
  const name = `migrate.device.${kind}`;
  const thps = len / (2 * MiB);
  let a: Arena | undefined;
  let dev: HmmDevice | undefined;
  return {
    name,
    unit: "folios",
    ops: thps,
    per: { pages: 1024 },
    setup: () => {
      a = arena(len, "pmd", opts);
      dev = installZoneDevice(a.k).addDevice({ name: "dev0", type: "private", size: len });
      populate(a, name);
    },
    run: () => {
      const { mm, addr } = a!;
      const d = dev!;
      const m = d.mirror(mm);
      const npages = len / PAGE;
      if (kind === "pmd") {
        const r = d.migrateToDevice(m, addr, npages, true, false);
        expectCount(name, "pages on the device", r.cpages, npages);
        expectCount(name, "device THPs", d.mem.allocated, npages);
      } else {
        // The device's THP allocations fail one by one: each THP falls back to single pages.
        let moved = 0;
        for (let a2 = addr; a2 < addr + len; a2 += 2 * MiB) {
          d.failNextAlloc();
          moved += d.migrateToDevice(m, a2, 512, true, false).cpages;
        }
        expectCount(name, "pages on the device", moved, npages);
      }
      const back = d.migrateToSystem(m, addr, npages);
      expectCount(name, "pages collected back", back.cpages, kind === "pmd" ? thps : npages);
      expectCount(name, "device pages left", d.mem.allocated, 0);
      expectCount(name, "anonymous pages mapped", mm.rss[MM_ANONPAGES]!, npages);
      return thps;
    },
  };
}
