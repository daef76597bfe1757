import { describe, it } from "vitest";
import type { ArchBackend } from "../backend";
import { algebraChecks } from "./algebra";
import { describeChecks } from "./describe-check";
import { geometryChecks } from "./geometry-check";
import { hwAccessChecks } from "./hw-access";
import { inputChecks } from "./input";
import { Kit, type ConformanceCheck, type ConformanceOptions } from "./kit";
import { pfnChecks } from "./pfn";
import { softleafChecks } from "./softleaves";
import { tableOpChecks } from "./table-ops";
import { translateChecks, walkChecks } from "./walks";

export type { ConformanceCheck, ConformanceOptions } from "./kit";

/** Every conformance check for `backend`, in a stable order, each with the capabilities it needs. */
export function conformanceChecks(backend: ArchBackend, options: ConformanceOptions = {}): ConformanceCheck[] {
  const k = new Kit(backend, options);
  geometryChecks(k);
  algebraChecks(k);
  softleafChecks(k);
  pfnChecks(k);
  tableOpChecks(k);
  walkChecks(k);
  hwAccessChecks(k);
  translateChecks(k);
  describeChecks(k);
  inputChecks(k);
  return k.checks;
}

/** The capabilities a check needs that `backend` does not declare (empty: the check runs). */
export function missingCapabilities(backend: ArchBackend, check: ConformanceCheck): string[] {
  return check.requires.filter((c) => !backend.capabilities[c]);
}

/** Names of the checks the kit skips for `backend`, each with the capability it lacks. */
export function skippedChecks(backend: ArchBackend, options: ConformanceOptions = {}): string[] {
  return conformanceChecks(backend, options)
    .map((c) => ({ c, missing: missingCapabilities(backend, c) }))
    .filter(({ missing }) => missing.length > 0)
    .map(({ c, missing }) => `${c.name} [no ${missing.join(", no ")}]`);
}

/**
 * Register the conformance suite with vitest for the backend `factory` makes.
 * Call it from a backend's own test file; checks whose capability the backend
 * lacks are reported as skipped, naming that capability.
 */
export function describeArchConformance(factory: () => ArchBackend, options: ConformanceOptions = {}): void {
  const backend = factory();
  const expected = options.expectedFailures ?? {};
  const checks = conformanceChecks(backend, options);
  const names = new Set(checks.map((c) => c.name));
  describe(`arch conformance: ${backend.id}`, () => {
    for (const check of checks) {
      const missing = missingCapabilities(backend, check);
      const why = expected[check.name];
      if (missing.length > 0) it.skip(`${check.name} [skipped: ${backend.id} declares no ${missing.join(", no ")}]`, check.run);
      else if (why !== undefined) it.fails(`${check.name} [expected failure: ${why}]`, check.run);
      else it(check.name, check.run);
    }
    it("every expected failure names a current check", () => {
      const stale = Object.keys(expected).filter((n) => !names.has(n));
      if (stale.length > 0) throw new Error(`expectedFailures names no current check: ${stale.join("; ")}`);
    });
  });
}
