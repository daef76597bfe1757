#!/usr/bin/env node
// pnpm new:arch <name> [--out <dir>] [--no-install]
// Creates packages/arch-<name>: a working backend (a copy of @hugemm/arch's
// reference format under the new name) with the conformance kit wired in,
// ready to build and test. Replace the format with your arch's from there.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function parseArgs(argv) {
  const opts = { name: undefined, out: undefined, install: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") opts.out = argv[++i];
    else if (a === "--no-install") opts.install = false;
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}: expected --out <dir> or --no-install`);
    else if (opts.name === undefined) opts.name = a;
    else throw new Error(`unexpected argument "${a}": expected one backend name`);
  }
  if (opts.name === undefined) throw new Error("missing backend name: usage pnpm new:arch <name> (lowercase letters, digits and dashes, e.g. riscv-sv48)");
  if (!/^[a-z][a-z0-9-]*$/.test(opts.name)) {
    throw new Error(`invalid backend name "${opts.name}": expected lowercase letters, digits and dashes, starting with a letter`);
  }
  return opts;
}

const pascal = (name) => name.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
const camel = (name) => pascal(name)[0].toLowerCase() + pascal(name).slice(1);

/** Rewrite a reference-format source file into the new backend's. */
export function rewrite(source, name) {
  return source
    .replace(/from "\.\.\/[a-z-]+"/g, 'from "@hugemm/arch"')
    .replace(/ReferenceBackend/g, `${pascal(name)}Backend`)
    .replace(/createReferenceBackend/g, `create${pascal(name)}Backend`)
    .replace(/describeReference/g, `describe${pascal(name)}`)
    .replace(/walkReference/g, `walk${pascal(name)}`)
    .replace(/referenceGeometry/g, `${camel(name)}Geometry`)
    .replace(/readonly arch = "reference"/, `readonly arch = "${name}"`)
    .replace(/reference format/g, `${name} format`)
    .replace(/The reference MMU/g, `The ${name} MMU`);
}

function files(name, arch) {
  const pkg = `@hugemm/arch-${name}`;
  const archPkg = JSON.parse(readFileSync(join(root, "packages", "arch", "package.json"), "utf8"));
  const out = {};
  out["package.json"] = JSON.stringify(
    {
      name: pkg,
      version: "0.0.0",
      description: `hugemm arch backend: ${name} page tables`,
      license: "MIT",
      type: "module",
      sideEffects: false,
      exports: { ".": { types: "./src/index.ts", default: "./src/index.ts" }, "./package.json": "./package.json" },
      publishConfig: { access: "public", exports: { ".": { types: "./dist/index.d.ts", import: "./dist/index.js" }, "./package.json": "./package.json" } },
      files: ["dist", "README.md", "CHANGELOG.md"],
      scripts: { build: "tsup", typecheck: "tsc --noEmit -p tsconfig.json", lint: "eslint src", test: "vitest run" },
      dependencies: { "@hugemm/arch": "workspace:*" },
      devDependencies: {
        "@hugemm/eslint-config": "workspace:*",
        "@hugemm/tsconfig": "workspace:*",
        "@hugemm/vitest-config": "workspace:*",
        "@types/node": archPkg.devDependencies["@types/node"],
        "fast-check": "catalog:",
        tsup: "catalog:",
        typescript: "catalog:",
        vitest: "catalog:",
      },
    },
    null,
    2,
  ) + "\n";
  out["tsconfig.json"] = readFileSync(join(root, "packages", "arch", "tsconfig.json"), "utf8");
  out["eslint.config.js"] = readFileSync(join(root, "packages", "arch", "eslint.config.js"), "utf8");
  out["vitest.config.ts"] = `import { hugemmProject } from "@hugemm/vitest-config";\n\nexport default hugemmProject("arch-${name}");\n`;
  out["tsup.config.ts"] = `import { defineConfig } from "tsup";\n\nexport default defineConfig({\n  entry: ["src/index.ts"],\n  format: ["esm"],\n  dts: true,\n  sourcemap: true,\n  clean: true,\n  target: "node20",\n  external: ["@hugemm/arch"],\n});\n`;
  const refDir = join(root, "packages", "arch", "src", "reference");
  for (const f of readdirSync(refDir)) {
    if (f.endsWith(".test.ts")) continue;
    out[`src/${f}`] = rewrite(readFileSync(join(refDir, f), "utf8"), name);
  }
  out["src/conformance.test.ts"] = `import { describeArchConformance } from "@hugemm/arch/conformance";\nimport { create${arch}Backend } from "./backend";\n\n// The shared kit: every check the backend's declared capabilities allow.\ndescribeArchConformance(() => create${arch}Backend());\n`;
  out["README.md"] = `# ${pkg}

A [hugemm](../../README.md) arch backend for ${name} page tables.

Generated from the reference format of \`@hugemm/arch\`: it builds and passes the
conformance kit as it stands, and its bits are placeholders. Replace them with
the real format, one file at a time (see [docs/adding-a-backend.md](../../docs/adding-a-backend.md)):

| file | holds |
|---|---|
| \`src/bits.ts\` | the entry bits and the swap (softleaf) layout |
| \`src/geometry.ts\` | levels, shifts, entries per table, folding |
| \`src/prot.ts\` | \`vm_get_page_prot()\` for the 16 protection indices |
| \`src/backend.ts\` | the entry algebra, softleaves, table storage, capabilities, huge sizes |
| \`src/walk.ts\` | the MMU's walk |
| \`src/describe.ts\` | naming every bit of an entry |

## Example

\`\`\`ts
import { PTE, VM_READ, VM_WRITE, VM_SHARED, entryRegs, TableMemory, allocRoot, mapLeaf } from "@hugemm/arch";
import { create${arch}Backend } from "${pkg}";

const b = create${arch}Backend();
const mem = new TableMemory();
const root = allocRoot(b, mem);
mapLeaf(b, mem, root, 0x40_0000, PTE, 0x1234, VM_READ | VM_WRITE | VM_SHARED, { young: true });
const walk = b.walk(mem, root, 0x40_0123);
console.log(walk.ok ? \`pa 0x\${walk.pa.toString(16)}\` : walk.reason);

const e = entryRegs(1);
b.pfnEntry(e, 0, PTE, 0x1234, VM_READ);
console.log(b.describe(e, 0, PTE).summary);
\`\`\`

## Tests

\`pnpm --filter ${pkg} test\` runs the conformance kit (\`src/conformance.test.ts\`).
`;
  return out;
}

export function generate(name, outDir) {
  const arch = pascal(name);
  if (existsSync(outDir)) throw new Error(`${outDir} already exists: choose another name or remove it`);
  for (const [path, content] of Object.entries(files(name, arch))) {
    const full = join(outDir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`new:arch: ${e.message}\n`);
    process.exit(2);
  }
  const out = opts.out ?? join(root, "packages", `arch-${opts.name}`);
  try {
    generate(opts.name, out);
  } catch (e) {
    process.stderr.write(`new:arch: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`created ${relative(process.cwd(), out) || out} (@hugemm/arch-${opts.name})\n`);
  if (opts.install && opts.out === undefined) {
    const r = spawnSync("pnpm", ["install", "--offline"], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) process.stderr.write("new:arch: run `pnpm install` to link the new package\n");
  }
  process.stdout.write(`next: pnpm --filter @hugemm/arch-${opts.name} test   # runs the conformance kit\n`);
}
