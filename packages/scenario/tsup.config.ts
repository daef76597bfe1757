import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  external: ["@hugemm/arch", "@hugemm/arch-arm64", "@hugemm/arch-ppc8xx", "@hugemm/arch-x86-64", "@hugemm/core", "@hugemm/hugetlb", "@hugemm/khugepaged", "yaml", "zod"],
});
