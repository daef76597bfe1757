import { describe, expect, it } from "vitest";
import { formatRunSummary } from "../summary";
import { runText } from "../test-helpers";

/*
 * The anonymous-memory tests of the kernel's tools/testing/selftests/mm/
 * khugepaged.c as scenarios, in both of its collapse contexts, with the
 * selftest's expected outcome. The harness: THP "madvise", defrag always,
 * 10 ms khugepaged sleeps; memory is written page by page with a pattern
 * (fill_memory) and checked afterwards (validate_memory). The khugepaged
 * context sets MADV_HUGEPAGE and waits for two full scans; the madvise
 * context turns THP off (MADV_COLLAPSE ignores it), sets MADV_HUGEPAGE to
 * clear VM_NOHUGEPAGE, and calls MADV_COLLAPSE.
 */

type Context = "khugepaged" | "madvise";
const CONTEXTS: readonly Context[] = ["khugepaged", "madvise"];

const HEAD = `machine: { arch: x86-64, memory: 512M, swap: 64M }
settings:
  transparent_hugepage/enabled: madvise
  transparent_hugepage/defrag: always
  transparent_hugepage/khugepaged/scan_sleep_millisecs: 10
  transparent_hugepage/khugepaged/alloc_sleep_millisecs: 10
steps:
`;

/** The collapse of `n` PMD ranges at `at` in `pid`, expecting each to be PMD-mapped (or mapped at `otherwise`). */
function collapse(c: Context, pid: number, at: string, n: number, expectHuge: boolean, otherwise = "pte"): string {
  const len = `${2 * n}M`;
  let s = "";
  if (c === "khugepaged") {
    s += `  - madvise: { pid: ${pid}, at: ${at}, len: ${len}, advice: hugepage }\n  - khugepaged: { passes: 2 }\n`;
  } else {
    s += `  - set: { transparent_hugepage/enabled: never }\n  - madvise: { pid: ${pid}, at: ${at}, len: ${len}, advice: hugepage }\n`;
    s += `  - madvise: { pid: ${pid}, at: ${at}, len: ${len}, advice: collapse${expectHuge ? "" : ", expectError: EINVAL"} }\n`;
    s += `  - set: { transparent_hugepage/enabled: madvise }\n`;
  }
  s += "  - expect:\n";
  for (let i = 0; i < n; i++) s += `      - mapped: { pid: ${pid}, at: ${at}+${2 * i}M, level: ${expectHuge ? "pmd" : otherwise} }\n`;
  return s;
}

/** fill_memory over [from, to) of `at` (one pattern for the whole test; offsets keep the pages distinct). */
function fill(pid: number, at: string, from: string, len: string): string {
  return `  - write: { pid: ${pid}, at: ${at}+${from}, len: ${len}, pattern: 7 }\n`;
}

/** validate_memory over [from, from + len). */
function validate(pid: number, at: string, from: string, len: string): string {
  return `  - expect:\n      - data: { pid: ${pid}, at: ${at}+${from}, len: ${len}, pattern: 7, writtenAt: ${at}+${from} }\n`;
}

const MMAP = (pid: number, name: string, pmds: number): string => `  - mmap: { pid: ${pid}, as: ${name}, len: ${2 * pmds}M, prot: rw, flags: private|anonymous }\n`;
/** alloc_hpage: a THP faulted in under MADV_HUGEPAGE. */
const ALLOC_HPAGE = (pid: number, name: string): string =>
  MMAP(pid, name, 1) + `  - madvise: { pid: ${pid}, at: ${name}, len: 2M, advice: hugepage }\n` + fill(pid, name, "0", "2M") + `  - expect:\n      - mapped: { pid: ${pid}, at: ${name}, level: pmd }\n`;

function run(name: string, body: string): void {
  const r = runText(`name: ${name.replaceAll("_", "-")}\n${HEAD}${body}  - expect:\n      - invariants: clean\n`);
  expect(r.violation, formatRunSummary(r, { color: false })).toBeUndefined();
  expect(r.passed, formatRunSummary(r, { color: false })).toBe(true);
}

describe("selftests/mm/khugepaged.c, anonymous memory", () => {
  it("alloc_at_fault", () => {
    run(
      "alloc_at_fault",
      `  - set: { transparent_hugepage/enabled: always }\n${MMAP(1, "p", 1)}  - write: { pid: 1, at: p, len: 4K, pattern: 1 }\n  - set: { transparent_hugepage/enabled: madvise }\n  - expect:\n      - mapped: { pid: 1, at: p, level: pmd }\n  - madvise: { pid: 1, at: p, len: 4K, advice: dontneed }\n  - expect:\n      - mapped: { pid: 1, at: p+4K, level: pte }\n      - counter: thp_split_pmd\n        equals: 1\n`,
    );
  });

  for (const c of CONTEXTS) {
    describe(c, () => {
      it("collapse_full", () => {
        run("collapse_full", MMAP(1, "p", 4) + fill(1, "p", "0", "8M") + collapse(c, 1, "p", 4, true) + validate(1, "p", "0", "8M") + `  - expect:\n      - counter: thp_collapse_alloc\n        equals: 4\n`);
      });

      it("collapse_empty", () => {
        run("collapse_empty", MMAP(1, "p", 1) + collapse(c, 1, "p", 1, false, "none"));
      });

      it("collapse_single_pte_entry", () => {
        run("collapse_single_pte_entry", MMAP(1, "p", 1) + fill(1, "p", "0", "4K") + collapse(c, 1, "p", 1, true) + validate(1, "p", "0", "4K") + `  - expect:\n      - counter: pid1.rss_anon\n        equals: 512\n      - data: { pid: 1, at: p+4K, len: 2044K, pattern: zero }\n`);
      });

      it("collapse_max_ptes_none", () => {
        let body = `  - set: { transparent_hugepage/khugepaged/max_ptes_none: 256 }\n` + MMAP(1, "p", 1) + fill(1, "p", "0", "1020K");
        body += collapse(c, 1, "p", 1, c === "madvise") + validate(1, "p", "0", "1020K");
        if (c === "khugepaged") {
          body += `  - expect:\n      - counter: thp_scan_exceed_none_pte\n        atLeast: 1\n      - counter: hugepages-2048kB.collapse_exceed_none_pte\n        atLeast: 1\n      - counter: khugepaged.model.result.exceed_none_pte\n        atLeast: 1\n`;
          body += `  - munmap: { pid: 1, at: p, len: 2M }\n` + MMAP(1, "q", 1) + fill(1, "q", "0", "1M") + collapse(c, 1, "q", 1, true) + validate(1, "q", "0", "1M");
        }
        run("collapse_max_ptes_none", body);
      });

      it("collapse_swapin_single_pte", () => {
        run("collapse_swapin_single_pte", MMAP(1, "p", 1) + fill(1, "p", "0", "2M") + `  - pageout: { pid: 1, at: p, len: 4K }\n  - expect:\n      - mapped: { pid: 1, at: p, level: swap }\n` + collapse(c, 1, "p", 1, true) + validate(1, "p", "0", "2M"));
      });

      it("collapse_max_ptes_swap", () => {
        let body = MMAP(1, "p", 1) + fill(1, "p", "0", "2M") + `  - pageout: { pid: 1, at: p, len: 260K }\n  - expect:\n      - counter: pid1.swapents\n        equals: 65\n`;
        body += collapse(c, 1, "p", 1, c === "madvise", "swap") + validate(1, "p", "0", "2M");
        if (c === "khugepaged") {
          body += `  - expect:\n      - counter: thp_scan_exceed_swap_pte\n        atLeast: 1\n      - counter: khugepaged.model.result.exceed_swap_pte\n        atLeast: 1\n`;
          body += `  - write: { pid: 1, at: p, len: 2M, pattern: 7 }\n  - pageout: { pid: 1, at: p, len: 256K }\n  - expect:\n      - counter: pid1.swapents\n        equals: 64\n`;
          body += collapse(c, 1, "p", 1, true) + validate(1, "p", "0", "2M") + `  - expect:\n      - counter: pid1.swapents\n        equals: 0\n`;
        }
        run("collapse_max_ptes_swap", body);
      });

      it("collapse_single_pte_entry_compound", () => {
        run(
          "collapse_single_pte_entry_compound",
          ALLOC_HPAGE(1, "p") + `  - madvise: { pid: 1, at: p, len: 2M, advice: nohugepage }\n  - madvise: { pid: 1, at: p+4K, len: 2044K, advice: dontneed }\n  - expect:\n      - mapped: { pid: 1, at: p, level: pte }\n` + collapse(c, 1, "p", 1, true) + validate(1, "p", "0", "4K"),
        );
      });

      it("collapse_full_of_compound", () => {
        run(
          "collapse_full_of_compound",
          ALLOC_HPAGE(1, "p") + `  - madvise: { pid: 1, at: p, len: 4K, advice: nohugepage }\n  - madvise: { pid: 1, at: p, len: 2M, advice: nohugepage }\n  - expect:\n      - mapped: { pid: 1, at: p, level: pte }\n` + collapse(c, 1, "p", 1, true) + validate(1, "p", "0", "2M"),
        );
      });

      it("collapse_fork", () => {
        run(
          "collapse_fork",
          MMAP(1, "p", 1) + fill(1, "p", "0", "4K") + `  - fork: { pid: 1, child: 2 }\n` + fill(2, "p", "4K", "4K") + collapse(c, 2, "p", 1, true) + validate(2, "p", "0", "4K") + `  - exit: { pid: 2 }\n  - expect:\n      - mapped: { pid: 1, at: p, level: pte }\n` + validate(1, "p", "0", "4K"),
        );
      });

      it("collapse_fork_compound", () => {
        run(
          "collapse_fork_compound",
          ALLOC_HPAGE(1, "p") +
            `  - fork: { pid: 1, child: 2 }\n  - madvise: { pid: 2, at: p, len: 4K, advice: nohugepage }\n  - madvise: { pid: 2, at: p, len: 2M, advice: nohugepage }\n  - expect:\n      - mapped: { pid: 2, at: p, level: pte }\n` +
            fill(2, "p", "0", "4K") +
            `  - set: { transparent_hugepage/khugepaged/max_ptes_shared: 511 }\n` +
            collapse(c, 2, "p", 1, true) +
            `  - set: { transparent_hugepage/khugepaged/max_ptes_shared: 256 }\n` +
            validate(2, "p", "0", "2M") +
            `  - exit: { pid: 2 }\n  - expect:\n      - mapped: { pid: 1, at: p, level: pmd }\n` +
            validate(1, "p", "0", "2M"),
        );
      });

      it("collapse_max_ptes_shared", () => {
        let body = ALLOC_HPAGE(1, "p") + `  - fork: { pid: 1, child: 2 }\n` + fill(2, "p", "0", "1020K") + `  - expect:\n      - mapped: { pid: 2, at: p, level: pte }\n`;
        body += collapse(c, 2, "p", 1, c === "madvise");
        if (c === "khugepaged") {
          body += `  - expect:\n      - counter: thp_scan_exceed_share_pte\n        atLeast: 1\n      - counter: khugepaged.model.result.exceed_shared_pte\n        atLeast: 1\n`;
          body += fill(2, "p", "0", "1M") + collapse(c, 2, "p", 1, true);
        }
        body += validate(2, "p", "0", "2M") + `  - exit: { pid: 2 }\n  - expect:\n      - mapped: { pid: 1, at: p, level: pmd }\n` + validate(1, "p", "0", "2M");
        run("collapse_max_ptes_shared", body);
      });


      it("collapse_fork_cow_race (the parent's writes before and after the child's collapse, one thread)", () => {
        // 64 shared pages written before fork; the child writes the rest and collapses; the parent rewrites the shared ones.
        let body = MMAP(1, "p", 1) + fill(1, "p", "0", "256K") + `  - fork: { pid: 1, child: 2 }\n` + `  - write: { pid: 2, at: p+256K, len: 1792K, pattern: 8 }\n`;
        body += `  - write: { pid: 1, at: p, len: 128K, pattern: 9 }\n`;
        body += collapse(c, 2, "p", 1, true);
        body += `  - write: { pid: 1, at: p+128K, len: 128K, pattern: 9 }\n`;
        body += validate(2, "p", "0", "256K") + `  - expect:\n      - data: { pid: 2, at: p+256K, len: 1792K, pattern: 8 }\n      - data: { pid: 1, at: p, len: 256K, pattern: 9 }\n      - mapped: { pid: 1, at: p, level: pte }\n`;
        run("collapse_fork_cow_race", body);
      });
    });
  }

  it("madvise_collapse_existing_thps", () => {
    run(
      "madvise_collapse_existing_thps",
      MMAP(1, "p", 1) + fill(1, "p", "0", "2M") + collapse("madvise", 1, "p", 1, true) + validate(1, "p", "0", "2M") + collapse("madvise", 1, "p", 1, true) + validate(1, "p", "0", "2M") + `  - expect:\n      - counter: khugepaged.model.madv_collapse.pmd_mapped\n        equals: 1\n      - counter: thp_collapse_alloc\n        equals: 1\n`,
    );
  });

  /*
   * The mthp_khugepaged context (-c 4: 64K on x86-64): THP "never", only the
   * collapse order's size "madvise"; each test checks the range's folios by size.
   */
  describe("mthp_khugepaged (order 4)", () => {
    const MTHP = `  - set: { transparent_hugepage/enabled: never, transparent_hugepage/hugepages-64kB/enabled: madvise }\n`;
    const mthp = (census: string): string => `  - madvise: { pid: 1, at: p, len: 2M, advice: hugepage }\n  - khugepaged: { passes: 2 }\n  - expect:\n      - folios: { pid: 1, at: p, len: 2M, census: { ${census} } }\n`;

    it("collapse_full", () => {
      // 32 collapses in the first pass; the second allocates again for each window before finding it huge (SCAN_PTE_MAPPED_HUGEPAGE).
      run("collapse_full_mthp", MMAP(1, "p", 1) + fill(1, "p", "0", "2M") + MTHP + mthp("64K: 32") + validate(1, "p", "0", "2M") + `  - expect:\n      - counter: hugepages-64kB.collapse_alloc\n        equals: 64\n      - counter: khugepaged.pages_collapsed\n        equals: 1\n`);
    });

    it("collapse_empty", () => {
      run("collapse_empty_mthp", MMAP(1, "p", 1) + MTHP + `  - madvise: { pid: 1, at: p, len: 2M, advice: hugepage }\n  - khugepaged: { passes: 2 }\n  - expect:\n      - mapped: { pid: 1, at: p, level: none }\n`);
    });

    it("collapse_single_mthp", () => {
      run("collapse_single_mthp", MMAP(1, "p", 1) + fill(1, "p", "0", "64K") + MTHP + mthp("64K: 1") + validate(1, "p", "0", "64K"));
    });

    it("collapse_order_single_window", () => {
      run("collapse_order_single_window", MMAP(1, "p", 1) + fill(1, "p", "64K", "64K") + MTHP + mthp("64K: 1") + `  - expect:\n      - folios: { pid: 1, at: p+64K, len: 64K, census: { 64K: 1 } }\n` + validate(1, "p", "64K", "64K"));
    });

    it("collapse_order_partial_window", () => {
      run("collapse_order_partial_window", MMAP(1, "p", 1) + fill(1, "p", "0", "4K") + MTHP + mthp("64K: 1") + validate(1, "p", "0", "4K") + `  - expect:\n      - counter: pid1.rss_anon\n        equals: 16\n`);
    });

    it("collapse_order_max_ptes_none", () => {
      run(
        "collapse_order_max_ptes_none",
        `  - set: { transparent_hugepage/khugepaged/max_ptes_none: 0 }\n` + MMAP(1, "p", 1) + fill(1, "p", "0", "124K") + MTHP + mthp("64K: 1, 4K: 15") + `  - expect:\n      - folios: { pid: 1, at: p+64K, len: 64K, census: { 4K: 15 } }\n` + validate(1, "p", "0", "124K"),
      );
    });

    it("collapse_order_mixed_sources", () => {
      run(
        "collapse_order_mixed_sources",
        `  - set: { transparent_hugepage/enabled: never, transparent_hugepage/hugepages-16kB/enabled: always }\n` + MMAP(1, "p", 1) + fill(1, "p", "0", "2M") + `  - expect:\n      - folios: { pid: 1, at: p, len: 2M, census: { 16K: 128 } }\n  - set: { transparent_hugepage/hugepages-16kB/enabled: never }\n` + MTHP + mthp("64K: 32") + validate(1, "p", "0", "2M"),
      );
    });
  });
});
