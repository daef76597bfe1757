import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "scenario/index": "src/scenario/index.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  external: ["@hugemm/arch", "@hugemm/core", "@hugemm/scenario", "zod"],
});
