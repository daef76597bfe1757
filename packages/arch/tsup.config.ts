import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "conformance/index": "src/conformance/index.ts", "reference/index": "src/reference/index.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  external: ["vitest", "fast-check"],
});
