import { describe, expect, it } from "vitest";
import { closeMatches, didYouMean } from "./suggest";

describe("closeMatches", () => {
  const names = ["thp_split_pmd", "thp_split_pud", "thp_split_page", "pgfault", "pgmajfault", "meminfo.AnonHugePages", "meminfo.AnonPages"];

  it("ranks by edit distance", () => {
    expect(closeMatches("thp_split_pmdd", names)).toEqual(["thp_split_pmd", "thp_split_pud", "thp_split_page"]);
    expect(closeMatches("pgfualt", names)).toEqual(["pgfault"]);
  });

  it("matches case-insensitively and by containment", () => {
    expect(closeMatches("meminfo.anonhugepages", names)).toEqual(["meminfo.AnonHugePages", "meminfo.AnonPages"]);
    expect(closeMatches("AnonHuge", names)).toEqual(["meminfo.AnonHugePages"]);
  });

  it("says nothing when nothing is close", () => {
    expect(didYouMean("zzzzzz", names)).toBe("");
    expect(didYouMean("pgfualt", names)).toBe("; did you mean pgfault?");
  });
});
