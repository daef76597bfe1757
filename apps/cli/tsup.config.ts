import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: { bin: "src/bin.ts" },
    format: ["esm"],
    target: "node20",
    clean: true,
    sourcemap: true,
    noExternal: [/^@hugemm\//],
    banner: { js: "#!/usr/bin/env node" },
  },
  {
    entry: { index: "src/index.ts" },
    format: ["esm"],
    target: "node20",
    dts: true,
    sourcemap: true,
    external: [/^@hugemm\//],
  },
]);
