import { readFileSync } from "node:fs";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import * as core from "@hugemm/core";
import { expect, it } from "vitest";
import * as khugepaged from "./index";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

it("the README example runs and prints what its comments say", () => {
  const code = /```ts\n([\s\S]*?)```/.exec(README)?.[1];
  if (code === undefined) throw new Error("the README example has moved");
  const printed: unknown[][] = [];
  const out = { log: (...a: unknown[]) => void printed.push(a) };
  // The example's body, with its imports bound to this package and the core.
  const body = code.replace(/^import .*$/gm, "");
  const names = ["createX86_64Backend", "Kernel", "MADV", "MAP_ANONYMOUS", "MAP_PRIVATE", "PROT_READ", "PROT_WRITE", "formatRanges", "installKhugepaged", "console"];
  new Function(...names, body)(createX86_64Backend, core.Kernel, core.MADV, core.MAP_ANONYMOUS, core.MAP_PRIVATE, core.PROT_READ, core.PROT_WRITE, khugepaged.formatRanges, khugepaged.installKhugepaged, out);
  const shown = [...code.matchAll(/^\/\/ (.*)$/gm)].map((m) => m[1]!);
  expect(String(printed[0]![0])).toBe(shown.join("\n"));
  expect(printed[1]).toEqual([2, 10000]);
});
