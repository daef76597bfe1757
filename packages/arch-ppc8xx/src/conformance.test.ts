import { describeArchConformance, skippedChecks } from "@hugemm/arch/conformance";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";
import { PPC8XX_VARIANTS } from "./options";

/**
 * Where the model reproduces the kernel's own code and that code breaks the
 * rule a kit check holds. Each runs as an expected failure: the suite turns
 * red the day the kernel (and so the model) changes.
 */
const KERNEL_DEVIATIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "4k": {
    "walk: a 512K huge page (PTE x128)":
      "huge_ptep_get_and_clear() sizes its pte_update() from the cleared value, which lacks _PAGE_HUGE: it writes 4 cells and cells 4..127 still translate",
  },
  "16k": {},
};

for (const variant of PPC8XX_VARIANTS) {
  describeArchConformance(() => createPpc8xxBackend(variant), { expectedFailures: KERNEL_DEVIATIONS[variant] ?? {} });
}

describe("conformance skips", () => {
  it("cite only the capabilities 8xx lacks", () => {
    for (const variant of PPC8XX_VARIANTS) {
      const backend = createPpc8xxBackend(variant);
      const cited = new Set(skippedChecks(backend).flatMap((s) => [...s.matchAll(/no (\w+)/g)].map((m) => m[1])));
      expect([...cited].sort()).toEqual(["contPte", "pmdSoftleaf", "pmdThp", "protnone", "pudLeaf", "pudThp", "softDirty", "uffdWp"]);
    }
  });
});
