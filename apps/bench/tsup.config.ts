import { defineConfig } from "tsup";

// The benchmark runs the bundled, minified-free output so that timings are of
// plain JavaScript, the way a published consumer would run the packages. The
// footprint child is a second entry: each heap measurement runs in a process
// of its own.
export default defineConfig({
  entry: { bin: "src/bin.ts", "footprint-child": "src/footprint/child.ts" },
  format: ["esm"],
  target: "node20",
  clean: true,
  sourcemap: true,
  noExternal: [/^@hugemm\//],
  banner: { js: "#!/usr/bin/env node" },
});
