import { PMD } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { VM_FAULT_SIGSEGV } from "../fault/codes";
import { MM_ANONPAGES } from "../mm/counters";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, VM_READ } from "../mm/vm-flags";
import { EV, NS } from "../stats/counters";
import { entryAt } from "../testing/inspect";
import { insertAnonVma, mapOk } from "../testing/vma";
import { Kernel } from "./kernel";

const MiB = 2 ** 20;

describe("anonymous faults", () => {
  it("maps the zero page on read and a fresh page on write, then tears down to nothing", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    const free0 = k.phys.freePagesWithPcp;
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x4000_0000, 4 * MiB);
    const r = k.touch(mm, 0x4000_0000, 2 * MiB, false);
    expect(r).toMatchObject({ pages: 512, faults: 512, error: 0 });
    expect(mm.rss[MM_ANONPAGES]).toBe(0);
    expect(k.peek(mm, 0x4000_0000)).toBe(0);
    const w = k.touch(mm, 0x4000_0000, 4 * MiB, true, 7);
    // 512 zero-page PTEs become private copies (do_wp_page), 512 none PTEs fault fresh pages.
    expect(w).toMatchObject({ pages: 1024, faults: 1024, error: 0 });
    expect(mm.rss[MM_ANONPAGES]).toBe(1024);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(1024);
    expect(k.phys.nodeStats(0)[NS.nr_inactive_anon]).toBe(1024);
    expect(k.events[EV.pgfault]).toBe(1536);
    expect(k.peek(mm, 0x4000_0000)).not.toBe(0);
    // Touching again: the MMU sets bits itself, no faults.
    expect(k.touch(mm, 0x4000_0000, 4 * MiB, true).faults).toBe(0);
    k.exit(mm);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_page_table_pages]).toBe(0);
    expect(k.phys.freePagesWithPcp).toBe(free0);
    expect(k.tables.count).toBe(0);
  });
  it("refuses accesses outside VMAs and writes to read-only VMAs", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
    const mm = k.createMm();
    insertAnonVma(k, mm, 0x10_0000, MiB, VM_READ);
    expect(k.touch(mm, 0x10_0000, 4096, true)).toMatchObject({ error: VM_FAULT_SIGSEGV, errorAddr: 0x10_0000 });
    expect(k.touch(mm, 0x30_0000, 4096, false).error).toBe(VM_FAULT_SIGSEGV);
    expect(k.touch(mm, 0x10_0000, MiB, false).error).toBe(0);
  });
});

describe("TLB flush accounting", () => {
  it("counts the base pages a flush covers, whatever its stride: a PMD flush covers 512", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", nodes: 2, check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, a, 4096, true, 1);
    expect(entryAt(k, mm, a)).toMatchObject({ level: PMD });
    const flushes = k.tlb.flushes;
    const pages = k.tlb.pages;
    // The PMD becomes a migration entry: one flush of the 2M it mapped.
    expect(k.migrateRange(mm, a, 2 * MiB, 1).moved).toBe(1);
    expect(k.tlb.flushes - flushes).toBe(1);
    expect(k.tlb.pages - pages).toBe(512);
    k.exit(mm);
  });
});

describe("createFile", () => {
  it("refuses a seed for a shmem file, whose pages start zero-filled", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    expect(() => k.createFile("shm", "64K", { shmem: true, seed: 3 })).toThrow('invalid file seed 3: expected no seed for a shmem file: a new shmem/memfd file reads as zeroes');
    expect(k.createFile("shm", "64K", { shmem: true }).shmem).toBe(true);
  });
});
