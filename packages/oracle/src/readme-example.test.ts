import { readFileSync } from "node:fs";
import { parseScenario } from "@hugemm/scenario";
import { expect, it } from "vitest";
import { formatKdiff, kdiff, OracleUnavailable, unavailableReason } from "./index";
import { probeMachine } from "./machine";
import { findCompiler } from "./native/compile";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const why = unavailableReason(probeMachine(), findCompiler());

function readmeScenario(): string {
  const m = /parseScenario\(\n {2}`\n([\s\S]*?)`,\n/.exec(README);
  if (m === null) throw new Error("the README example has moved");
  return m[1]!;
}

it.skipIf(why !== null)(`the README example finds no difference on this machine's kernel${why === null ? "" : ` (skipped: ${why})`}`, () => {
  const r = kdiff(parseScenario(readmeScenario(), "mprotect-thp.yaml"));
  const text = formatKdiff(r);
  expect(r.rows.filter((x) => x.judged && !x.equal && x.view !== "global"), text).toEqual([]);
  expect(text).toMatch(/^\d+ fields compared: \d+ equal, \d+ different; \d+ shown, not judged$/m);
});

it.skipIf(why === null)("the README example says why the oracle cannot run here", () => {
  expect(() => kdiff(parseScenario(readmeScenario(), "mprotect-thp.yaml"))).toThrow(OracleUnavailable);
});
