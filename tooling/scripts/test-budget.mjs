#!/usr/bin/env node
// Reads a vitest JSON report and checks every test against its time budget:
// a third of its timeout (30 s, or its project's testTimeout). A test over
// budget fails the check. A test over half of that is named as a warning: a
// loaded 2-core machine was measured to run tests about twice as slowly, so
// such a test may break the budget there. Prints the slowest tests; exits 1
// when any test is over budget or the report cannot be read.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const DEFAULT_TIMEOUT_MS = 30_000;
const LOAD_FACTOR = 2;
const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: test-budget.mjs <vitest-report.json>\n");
  process.exit(2);
}

/** A project's testTimeout from the vitest.config.ts nearest the test file. */
const timeouts = new Map();
function timeoutOf(testFile) {
  for (let d = dirname(testFile); d !== dirname(d); d = dirname(d)) {
    if (timeouts.has(d)) return timeouts.get(d);
    const cfg = join(d, "vitest.config.ts");
    if (!existsSync(cfg)) continue;
    const m = /testTimeout:\s*([\d_]+)/.exec(readFileSync(cfg, "utf8"));
    const t = m ? Number(m[1].replaceAll("_", "")) : DEFAULT_TIMEOUT_MS;
    timeouts.set(d, t);
    return t;
  }
  return DEFAULT_TIMEOUT_MS;
}
const budgetOf = (testFile) => timeoutOf(testFile) / 3;
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  process.stderr.write(`test-budget: cannot read the vitest JSON report ${file}: ${e.message}\n`);
  process.exit(1);
}
const tests = [];
for (const f of report.testResults ?? []) {
  for (const a of f.assertionResults ?? []) {
    if (a.status !== "passed" && a.status !== "failed") continue;
    tests.push({ ms: a.duration ?? 0, budget: budgetOf(f.name), file: relative(process.cwd(), f.name), title: a.fullName ?? a.title });
  }
}
tests.sort((a, b) => b.ms - a.ms);
const over = tests.filter((t) => t.ms > t.budget);
const wall = (Math.max(...report.testResults.map((f) => f.endTime)) - report.startTime) / 1000;
console.log(`test budget: ${tests.length} tests in ${wall.toFixed(0)} s; each may take a third of its timeout; the slowest:`);
const line = (t) => `  ${(t.ms / 1000).toFixed(2).padStart(6)} s of ${(t.budget / 1000).toFixed(1)} s  ${t.file} > ${t.title}`;
for (const t of tests.slice(0, 8)) console.log(line(t));
const near = tests.filter((t) => t.ms <= t.budget && t.ms > t.budget / LOAD_FACTOR);
if (near.length > 0) {
  console.log(`test budget: warning: ${near.length} test(s) over half their budget, at risk on a loaded machine:`);
  for (const t of near) console.log(line(t));
}
if (over.length > 0) {
  console.log(`test budget: ${over.length} test(s) over budget:`);
  for (const t of over) console.log(line(t));
  process.exit(1);
}
