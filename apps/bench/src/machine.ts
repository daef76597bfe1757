import { readFileSync, readdirSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";

const THP_DIR = "/sys/kernel/mm/transparent_hugepage";

/** What the numbers were measured on. */
export interface MachineDescription {
  readonly cpuModel: string;
  readonly cpuArch: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  /** OS kernel release (uname -r). */
  readonly kernel: string;
  /** /sys/kernel/mm/transparent_hugepage settings by file name ("hugepages-64kB/enabled": ...), or null when unreadable. */
  readonly thp: Readonly<Record<string, string>> | null;
  /** The C compiler's --version line, or null when there is none. */
  readonly cc: string | null;
  /** What the model ran as. */
  readonly model: string;
}

function readTrim(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The THP knobs, top level and per size, as the files read. */
export function readThpSettings(dir = THP_DIR): Record<string, string> | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const out: Record<string, string> = {};
  for (const n of ["enabled", "defrag", "shmem_enabled", "use_zero_page", "hpage_pmd_size"]) {
    const v = readTrim(`${dir}/${n}`);
    if (v !== undefined) out[n] = v;
  }
  for (const n of names.filter((x) => x.startsWith("hugepages-")).sort((a, b) => parseInt(a.slice(10)) - parseInt(b.slice(10)))) {
    const v = readTrim(`${dir}/${n}/enabled`);
    if (v !== undefined) out[`${n}/enabled`] = v;
  }
  return out;
}

export function describeMachine(cc: string | null): MachineDescription {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? "unknown",
    cpuArch: arch(),
    cpus: c.length,
    memoryBytes: totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    kernel: release(),
    thp: readThpSettings(),
    cc,
    model: "x86-64 4-level, invariant checker off, one thread",
  };
}

/** The selected value of a sysfs choice file: "always [madvise] never" is "madvise". */
export function selected(choice: string | undefined): string | undefined {
  if (choice === undefined) return undefined;
  return /\[([^\]]+)\]/.exec(choice)?.[1] ?? choice;
}
