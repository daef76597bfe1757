import { describe, expect, it } from "vitest";
import { SCAN, SCAN_CODES, madviseCollapseErrno, scanName, scanTrace } from "./scan-result";

describe("SCAN_* results", () => {
  it("are the kernel's enum in its order, with its trace strings", () => {
    expect(SCAN_CODES.length).toBe(32);
    expect([SCAN.FAIL, SCAN.SUCCEED, SCAN.NO_PTE_TABLE, SCAN.PAGE_DIRTY_OR_WRITEBACK]).toEqual([0, 1, 2, 31]);
    expect([scanTrace(SCAN.PMD_MAPPED), scanTrace(SCAN.PAGE_COUNT), scanTrace(SCAN.CGROUP_CHARGE_FAIL), scanTrace(SCAN.COPY_MC)]).toEqual(["page_pmd_mapped", "not_suitable_page_count", "ccgroup_charge_failed", "copy_poisoned_page"]);
    expect(scanName(SCAN.EXCEED_SHARED_PTE)).toBe("exceed_shared_pte");
    expect(() => scanName(99)).toThrow("no SCAN_* code 99");
  });

  it("map to MADV_COLLAPSE's errno as madvise_collapse_errno does", () => {
    const by = (e: string) => SCAN_CODES.filter((_, i) => madviseCollapseErrno(i) === e);
    expect(by("ENOMEM")).toEqual(["ALLOC_HUGE_PAGE_FAIL"]);
    expect(by("EBUSY")).toEqual(["EXCEED_NONE_PTE", "CGROUP_CHARGE_FAIL"]);
    expect(by("EAGAIN")).toEqual(["PAGE_COUNT", "PAGE_LRU", "PAGE_LOCK", "DEL_PAGE_LRU", "PAGE_HAS_PRIVATE", "PAGE_FILLED", "PAGE_DIRTY_OR_WRITEBACK"]);
    expect(by("EINVAL").length).toBe(32 - 10);
  });
});
