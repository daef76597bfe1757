import { describeArchConformance, skippedChecks } from "@hugemm/arch/conformance";
import { describe, expect, it } from "vitest";
import { createX86_64Backend } from "./backend";
import { X86_64_VARIANTS } from "./options";

// The shared conformance kit, for every variant.
for (const variant of X86_64_VARIANTS) describeArchConformance(() => createX86_64Backend(variant));

describe("x86-64 conformance skips", () => {
  it("skip only the contiguous-PTE checks: x86 has no contiguous bit", () => {
    for (const variant of X86_64_VARIANTS) {
      const skipped = skippedChecks(createX86_64Backend(variant));
      expect(skipped.length).toBeGreaterThan(0);
      for (const name of skipped) expect(name).toMatch(/\[no contPte\]$/);
    }
  });
});
