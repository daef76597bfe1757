import { MADV, MAP_ANONYMOUS, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_NONE, PROT_READ, PROT_WRITE, mixTag, type Kernel, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { PROT } from "./mirror";
import { MiB, PAGE, anon, machine } from "./test-helpers";

/*
 * tools/testing/selftests/mm/hmm-tests.c against the model: each case
 * with the results the selftest asserts. A buffer of 1024 pages unless the
 * case says otherwise; CPU stores of a seed put mixTag(seed, page number)
 * in each page, which is what the device reads back.
 */

const N = 1024;
const SEED = 11;

function fill(k: Kernel, mm: Mm, a: number, npages: number, seed = SEED): void {
  k.touch(mm, a, npages * PAGE, true, seed);
}

function tag(a: number, i: number, seed = SEED): number {
  return mixTag(seed, a / PAGE + i);
}

function cpu(k: Kernel, mm: Mm, a: number, i: number): number {
  k.touch(mm, a + i * PAGE, PAGE, false);
  return k.peek(mm, a + i * PAGE);
}

describe("hmm-tests: device access through hmm_range_fault", () => {
  it("anon_read: the device reads zero pages and data after one fault batch", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    k.touch(mm, a + 2 * PAGE, (N - 2) * PAGE, true, SEED);
    expect(k.mprotect(mm, a, N * PAGE, PROT_READ).ok).toBe(true);
    expect(cpu(k, mm, a, 1)).toBe(0);
    const r = dev.mirror(mm).read(a, N);
    expect(r.errno).toBe(0);
    expect(r.cpages).toBe(N);
    expect(r.faults).toBe(1);
    expect(r.data[0]).toBe(0);
    expect(r.data[1]).toBe(0);
    for (let i = 2; i < N; i += 101) expect(r.data[i]).toBe(tag(a, i));
    k.exit(mm);
  });

  it("anon_read_prot: PROT_NONE is EFAULT and the device maps nothing", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    fill(k, mm, a, N);
    expect(k.mprotect(mm, a, N * PAGE, PROT_NONE).ok).toBe(true);
    const m = dev.mirror(mm);
    expect(m.read(a, N).errno).toBe("EFAULT");
    expect(m.size).toBe(0);
    k.exit(mm);
  });

  it("anon_write and anon_write_prot: a device store faults once; on a read-only mapping it is EPERM until mprotect", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    const m = dev.mirror(mm);
    const w = m.write(a, N, 5);
    expect([w.errno, w.cpages, w.faults]).toEqual([0, N, 1]);
    for (let i = 0; i < N; i += 97) expect(k.peek(mm, a + i * PAGE)).toBe(tag(a, i, 5));
    const b = anon(k, mm, N * PAGE);
    expect(k.mprotect(mm, b, N * PAGE, PROT_READ).ok).toBe(true);
    expect(m.read(b, N).errno).toBe(0);
    expect(m.write(b, N, 5).errno).toBe("EPERM");
    expect(cpu(k, mm, b, 3)).toBe(0);
    expect(k.mprotect(mm, b, N * PAGE, PROT_READ | PROT_WRITE).ok).toBe(true);
    expect(m.write(b, N, 5).errno).toBe(0);
    expect(k.peek(mm, b + 3 * PAGE)).toBe(tag(b, 3, 5));
    k.exit(mm);
  });

  it("anon_write_huge: a device store to a THP region faults once", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    const r = dev.mirror(mm).write(a, 512, 9);
    expect([r.errno, r.cpages, r.faults]).toEqual([0, 512, 1]);
    expect(dev.mirror(mm).snapshot(a, 1)).toEqual([PROT.WRITE | PROT.PMD]);
    k.exit(mm);
  });

  for (const migrate of [false, true]) {
    for (const thp of [false, true]) {
      it(`anon_write_child (migrate ${migrate}, THP ${thp}): the child's device stores stay the child's`, () => {
        const { k, dev, mm } = machine();
        const a = anon(k, mm, thp ? 2 * MiB : N * PAGE, thp);
        const n = thp ? 512 : N;
        fill(k, mm, a, n);
        if (migrate) expect(dev.migrateToDevice(dev.mirror(mm), a, n, true).cpages).toBe(n);
        const child = k.fork(mm)!;
        const w = dev.mirror(child).write(a, n, 99);
        expect([w.errno, w.cpages, w.faults]).toEqual([0, n, 1]);
        for (let i = 0; i < n; i += 61) {
          expect(cpu(k, mm, a, i)).toBe(tag(a, i));
          expect(k.peek(child, a + i * PAGE)).toBe(tag(a, i, 99));
        }
        k.exit(child);
        k.exit(mm);
        expect(dev.mem.allocated).toBe(0);
      });
    }
  }

  it("anon_write_child_shared: with MAP_SHARED the parent sees the child's device stores", () => {
    const { k, dev, mm } = machine();
    const r = k.mmap(mm, { len: N * PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS });
    if (!r.ok) throw new Error(r.errno);
    const a = r.value;
    fill(k, mm, a, N);
    const child = k.fork(mm)!;
    expect(dev.mirror(child).write(a, N, 42).errno).toBe(0);
    expect(cpu(k, mm, a, 17)).toBe(tag(a, 17, 42));
    k.exit(child);
    k.exit(mm);
  });
});

describe("hmm-tests: migration to device-private memory", () => {
  it("migrate, migrate_fault and migrate twice: every page moves, a CPU read brings half back, the rest move again", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    fill(k, mm, a, N);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, N, true)).toMatchObject({ errno: 0, cpages: N });
    for (let i = 0; i < N / 2; i++) expect(cpu(k, mm, a, i)).toBe(tag(a, i));
    expect(dev.mem.allocated).toBe(N / 2);
    const again = dev.migrateToDevice(m, a, N, true);
    expect([again.errno, again.cpages]).toEqual([0, N]);
    for (let i = 0; i < N; i += 37) expect(again.data[i]).toBe(tag(a, i));
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });

  it("migrate_shared: shared anonymous memory does not move (ENOENT)", () => {
    const { k, dev, mm } = machine();
    const r = k.mmap(mm, { len: N * PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS });
    if (!r.ok) throw new Error(r.errno);
    fill(k, mm, r.value, N);
    expect(dev.migrateToDevice(dev.mirror(mm), r.value, N, true).errno).toBe("ENOENT");
    expect(dev.mem.allocated).toBe(0);
    k.exit(mm);
  });

  it("migrate_mixed (two devices): PROT_NONE and holes are EINVAL, zero, read-only and writable pages move, another device's pages do not", () => {
    const { k, dev, dev1, mm } = machine({ devices: 2 });
    const a = anon(k, mm, 6 * PAGE);
    expect(k.mprotect(mm, a, 6 * PAGE, PROT_NONE).ok).toBe(true);
    const m0 = dev.mirror(mm);
    const m1 = dev1!.mirror(mm);
    expect(dev.migrateToDevice(m0, a, 6, true).errno).toBe("EINVAL");
    expect(k.munmap(mm, a + PAGE, PAGE).ok).toBe(true);
    expect(dev.migrateToDevice(m0, a, 3, true).errno).toBe("EINVAL");
    const p = a + 2 * PAGE;
    expect(k.mprotect(mm, p, 4 * PAGE, PROT_READ).ok).toBe(true);
    expect(cpu(k, mm, p, 0)).toBe(0);
    expect(k.mprotect(mm, p + PAGE, 3 * PAGE, PROT_READ | PROT_WRITE).ok).toBe(true);
    fill(k, mm, p + PAGE, 3);
    expect(k.mprotect(mm, p + PAGE, PAGE, PROT_READ).ok).toBe(true);
    const r = dev1!.migrateToDevice(m1, p, 4, true);
    expect([r.errno, r.cpages]).toEqual([0, 4]);
    expect(dev.migrateToDevice(m0, p + 3 * PAGE, 1, true).errno).toBe("ENOENT");
    k.exit(mm);
  });

  it("snapshot (two devices): none, hole, zero, read-only, writable, this device's and the other device's pages", () => {
    const { k, dev, dev1, mm } = machine({ devices: 2 });
    const a = anon(k, mm, 7 * PAGE);
    expect(k.munmap(mm, a + PAGE, PAGE).ok).toBe(true);
    expect(k.mprotect(mm, a, PAGE, PROT_NONE).ok).toBe(true);
    expect(cpu(k, mm, a, 2)).toBe(0);
    fill(k, mm, a + 3 * PAGE, 4);
    expect(k.mprotect(mm, a + 3 * PAGE, PAGE, PROT_READ).ok).toBe(true);
    const m0 = dev.mirror(mm);
    expect(dev.migrateToDevice(m0, a + 5 * PAGE, 1, true).errno).toBe(0);
    expect(dev1!.migrateToDevice(dev1!.mirror(mm), a + 6 * PAGE, 1, true).errno).toBe(0);
    expect(m0.snapshot(a, 7)).toEqual([PROT.ERROR, PROT.ERROR, PROT.ZERO | PROT.READ, PROT.READ, PROT.WRITE, PROT.DEV_PRIVATE_LOCAL | PROT.WRITE, PROT.NONE]);
    k.exit(mm);
  });

  it("double_map (two devices): both read, dev1 takes the pages, dev0 reads them through the CPU", () => {
    const { k, dev, dev1, mm } = machine({ devices: 2 });
    const a = anon(k, mm, N * PAGE);
    fill(k, mm, a, N);
    expect(k.mprotect(mm, a, N * PAGE, PROT_READ).ok).toBe(true);
    const m0 = dev.mirror(mm);
    const m1 = dev1!.mirror(mm);
    expect(m0.read(a, N)).toMatchObject({ errno: 0, faults: 1 });
    expect(m1.read(a, N)).toMatchObject({ errno: 0, faults: 1 });
    expect(dev1!.migrateToDevice(m1, a, N, true)).toMatchObject({ errno: 0, cpages: N });
    const r = m0.read(a, N);
    expect([r.errno, r.cpages, r.faults]).toEqual([0, N, 1]);
    for (let i = 0; i < N; i += 53) expect(r.data[i]).toBe(tag(a, i));
    expect(dev1!.mem.allocated).toBe(0);
    k.exit(mm);
  });

  it("hmm_cow_in_device: after fork a parent store copies the shared device page into system memory", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 4 * PAGE);
    fill(k, mm, a, 4);
    expect(dev.migrateToDevice(dev.mirror(mm), a, 4, true).cpages).toBe(4);
    const child = k.fork(mm)!;
    k.touch(mm, a, 4 * PAGE, true, 77);
    expect(dev.mirror(mm).snapshot(a, 4)).toEqual([PROT.WRITE, PROT.WRITE, PROT.WRITE, PROT.WRITE]);
    expect(cpu(k, child, a, 2)).toBe(tag(a, 2));
    k.exit(child);
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });

  it("migrate_multiple: ten round trips keep the data", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 64 * PAGE);
    fill(k, mm, a, 64);
    for (let n = 0; n < 10; n++) {
      expect(dev.migrateToDevice(dev.mirror(mm), a, 64, true)).toMatchObject({ errno: 0, cpages: 64 });
      for (let i = 0; i < 64; i += 9) expect(cpu(k, mm, a, i)).toBe(tag(a, i));
    }
    k.exit(mm);
  });
});

describe("hmm-tests: device-exclusive access", () => {
  it("exclusive: the device holds every page; CPU stores take them back", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    fill(k, mm, a, N);
    const m = dev.mirror(mm);
    const r = m.exclusive(a, N);
    expect([r.errno, r.cpages]).toEqual([0, N]);
    expect(m.checkExclusive(a, N)).toBe("EPERM");
    k.touch(mm, a, N * PAGE, true, 12);
    for (let i = 0; i < N; i += 71) expect(k.peek(mm, a + i * PAGE)).toBe(tag(a, i, 12));
    expect(m.checkExclusive(a, N)).toBe(0);
    k.exit(mm);
  });

  it("exclusive_mprotect: after mprotect(PROT_READ) a device store is EPERM", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    fill(k, mm, a, N);
    const m = dev.mirror(mm);
    expect(m.exclusive(a, N).errno).toBe(0);
    expect(k.mprotect(mm, a, N * PAGE, PROT_READ).ok).toBe(true);
    expect(m.write(a, N, 1).errno).toBe("EPERM");
    k.exit(mm);
  });

  it("exclusive on a THP: the PMD is split first (FOLL_SPLIT_PMD), the folio stays whole", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    fill(k, mm, a, 512);
    const m = dev.mirror(mm);
    expect(m.snapshot(a, 1)).toEqual([PROT.WRITE | PROT.PMD]);
    expect(m.exclusive(a, 4)).toMatchObject({ errno: 0, cpages: 4 });
    expect(m.snapshot(a, 5)).toEqual([PROT.NONE, PROT.NONE, PROT.NONE, PROT.NONE, PROT.WRITE]);
    expect(m.checkExclusive(a, 4)).toBe("EPERM");
    expect(cpu(k, mm, a, 2)).toBe(tag(a, 2));
    expect(m.checkExclusive(a + 2 * PAGE, 1)).toBe(0);
    k.exit(mm);
  });

  it("exclusive_cow: fork restores the pages; parent and child then store their own", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, N * PAGE);
    fill(k, mm, a, N);
    expect(dev.mirror(mm).exclusive(a, N).errno).toBe(0);
    const child = k.fork(mm)!;
    k.touch(mm, a, N * PAGE, true, 21);
    k.touch(child, a, N * PAGE, true, 22);
    expect(k.peek(mm, a + 5 * PAGE)).toBe(tag(a, 5, 21));
    expect(k.peek(child, a + 5 * PAGE)).toBe(tag(a, 5, 22));
    k.exit(child);
    k.exit(mm);
  });
});

describe("hmm-tests: THP migration", () => {
  it("migrate_anon_huge_empty and _zero: an untouched and a huge-zero THP region move as one device THP each", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, 512, true)).toMatchObject({ errno: 0, cpages: 512 });
    expect(m.snapshot(a, 1)).toEqual([PROT.DEV_PRIVATE_LOCAL | PROT.WRITE | PROT.PMD]);
    const b = anon(k, mm, 2 * MiB, true);
    expect(cpu(k, mm, b, 0)).toBe(0);
    expect(m.snapshot(b, 1)).toEqual([PROT.ZERO | PROT.READ | PROT.PMD]);
    const r = dev.migrateToDevice(m, b, 512, true);
    expect([r.errno, r.cpages, r.data.every((t) => t === 0)]).toEqual([0, 512, true]);
    expect(cpu(k, mm, b, 300)).toBe(0);
    k.exit(mm);
  });

  it("migrate_anon_huge_free and _fault: a THP written, then freed or read back by the CPU", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    fill(k, mm, a, 512);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, 512, true)).toMatchObject({ errno: 0, cpages: 512 });
    for (let i = 0; i < 512; i += 31) expect(cpu(k, mm, a, i)).toBe(tag(a, i));
    expect(m.snapshot(a, 1)).toEqual([PROT.WRITE | PROT.PMD]);
    expect(dev.migrateToDevice(m, a, 512, true).cpages).toBe(512);
    expect(k.madvise(mm, a, 2 * MiB, MADV.FREE).ok).toBe(true);
    expect(dev.mem.allocated).toBe(512);
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });

  it("migrate_anon_huge_err and _zero_err: device allocation failure splits the THP; failure on the way back splits the device THP", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    fill(k, mm, a, 512);
    const m = dev.mirror(mm);
    dev.failNextAlloc();
    expect(dev.migrateToDevice(m, a, 512, true)).toMatchObject({ errno: 0, cpages: 512 });
    expect(m.snapshot(a, 1)).toEqual([PROT.DEV_PRIVATE_LOCAL | PROT.WRITE]);
    for (let i = 0; i < 512; i += 29) expect(cpu(k, mm, a, i)).toBe(tag(a, i));
    const b = anon(k, mm, 2 * MiB, true);
    expect(cpu(k, mm, b, 0)).toBe(0);
    expect(dev.migrateToDevice(m, b, 512, true)).toMatchObject({ errno: 0, cpages: 512 });
    expect(m.snapshot(b, 1)).toEqual([PROT.DEV_PRIVATE_LOCAL | PROT.WRITE | PROT.PMD]);
    dev.failNextAlloc();
    expect(cpu(k, mm, b, 0)).toBe(0);
    // The first page came back alone; the rest stays on the device, now single pages.
    expect(m.snapshot(b, 2)).toEqual([PROT.WRITE, PROT.DEV_PRIVATE_LOCAL | PROT.WRITE]);
    for (let i = 1; i < 512; i += 73) expect(cpu(k, mm, b, i)).toBe(0);
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });

  for (const thp of [false, true]) {
    for (const off of [0, 512 * 1024, MiB]) {
      it(`migrate_partial_unmap_fault (THP ${thp}, unmap 1 MiB at ${off}): the rest of the data survives`, () => {
        const { k, dev, mm } = machine();
        const a = anon(k, mm, 2 * MiB, thp);
        fill(k, mm, a, 512);
        expect(dev.migrateToDevice(dev.mirror(mm), a, 512, true).cpages).toBe(512);
        expect(k.munmap(mm, a + off, MiB).ok).toBe(true);
        for (let i = 0; i < 512; i += 13) {
          const va = a + i * PAGE;
          if (va >= a + off && va < a + off + MiB) continue;
          expect(cpu(k, mm, a, i)).toBe(tag(a, i));
        }
        k.exit(mm);
        expect(dev.mem.allocated).toBe(0);
      });
    }
  }

  for (const thp of [false, true]) {
    for (const dontunmap of [false, true]) {
      it(`migrate_remap_fault (THP ${thp}, DONTUNMAP ${dontunmap}): mremap of migrated memory keeps the data`, () => {
        const { k, dev, mm } = machine();
        const a = anon(k, mm, 2 * MiB, thp);
        fill(k, mm, a, 512);
        expect(dev.migrateToDevice(dev.mirror(mm), a, 512, true).cpages).toBe(512);
        const dst = anon(k, mm, 2 * MiB, true);
        const r = k.mremap(mm, a, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED | (dontunmap ? MREMAP_DONTUNMAP : 0), dst);
        expect(r.ok).toBe(true);
        for (let i = 0; i < 512; i += 17) expect(cpu(k, mm, dst, i)).toBe(tag(a, i));
        // With DONTUNMAP the old range stays mapped, empty.
        if (dontunmap) expect(cpu(k, mm, a, 3)).toBe(0);
        k.exit(mm);
        expect(dev.mem.allocated).toBe(0);
      });
    }
  }

  it("a private device's THP stays whole through fork and comes back to RAM in the child", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    fill(k, mm, a, 512);
    expect(dev.migrateToDevice(dev.mirror(mm), a, 512, true).cpages).toBe(512);
    const child = k.fork(mm)!;
    expect(dev.mirror(child).snapshot(a, 1)).toEqual([PROT.DEV_PRIVATE_LOCAL | PROT.READ | PROT.PMD]);
    expect(cpu(k, child, a, 5)).toBe(tag(a, 5));
    expect(cpu(k, mm, a, 6)).toBe(tag(a, 6));
    k.exit(child);
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });
});

