import { VM_FAULT_HWPOISON, VM_FAULT_MIGRATION_WAIT, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, hex, type SysResult, type TouchResult } from "@hugemm/core";
import type { StepOutcome } from "../registry";

export function done(detail?: string): StepOutcome {
  return detail === undefined ? { ok: true } : { ok: true, detail };
}

export function failed(error: string, detail?: string): StepOutcome {
  return detail === undefined ? { ok: false, error } : { ok: false, error, detail };
}

/** A system call's result as an outcome: success with `detail`, or its errno and the kernel's reason. */
export function sysOutcome<T>(r: SysResult<T>, detail: (v: T) => string | undefined = () => undefined): StepOutcome {
  return r.ok ? done(detail(r.value)) : failed(r.errno, r.reason);
}

/** The signal or condition a fault error stands for, as expectError names it. */
export function faultError(code: number): string {
  if (code & VM_FAULT_SIGSEGV) return "SIGSEGV";
  if (code & VM_FAULT_SIGBUS) return "SIGBUS";
  if (code & VM_FAULT_HWPOISON) return "HWPOISON";
  if (code & VM_FAULT_OOM) return "OOM";
  if (code & VM_FAULT_MIGRATION_WAIT) return "MIGRATION_WAIT";
  return `VM_FAULT_${hex(code)}`;
}

/** The fault names expectError accepts. */
export const FAULT_ERRORS = ["SIGSEGV", "SIGBUS", "HWPOISON", "OOM", "MIGRATION_WAIT"] as const;

/** A run of loads or stores: pages and faults, or where it stopped and why. */
export function touchOutcome(r: TouchResult): StepOutcome {
  const faults = `${r.faults} fault${r.faults === 1 ? "" : "s"}${r.majorFaults > 0 ? ` (${r.majorFaults} major)` : ""}`;
  if (r.error !== 0) return failed(faultError(r.error), `stopped at ${hex(r.errorAddr)} after ${plural(r.pages, "page")}, ${faults}`);
  return done(`${plural(r.pages, "page")}, ${faults}`);
}

/** "2 pages" / "1 page". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
