import { existsSync, readFileSync, readdirSync } from "node:fs";

/** What the machine offers the oracle: asked once per run, replaced by a fixed object in tests. */
export interface MachineProbe {
  readonly linux: boolean;
  readonly root: boolean;
  /** A swap device is active (/proc/swaps lists one). */
  readonly swap: boolean;
  /** Online NUMA nodes. */
  readonly nodes: number;
  /**
   * A DAMON monitor of physical memory is running (a kdamond with paddr
   * operations): it samples access bits behind every process's back,
   * clearing young PTEs and marking folios young.
   */
  readonly damon: boolean;
  exists(path: string): boolean;
}

const KDAMONDS = "/sys/kernel/mm/damon/admin/kdamonds";

/** Whether some kdamond is on and monitors physical addresses. */
function damonRunning(): boolean {
  try {
    return readdirSync(KDAMONDS)
      .filter((d) => /^\d+$/.test(d))
      .some((d) => {
        const state = readFileSync(`${KDAMONDS}/${d}/state`, "utf8").trim();
        const ops = readdirSync(`${KDAMONDS}/${d}/contexts`)
          .filter((c) => /^\d+$/.test(c))
          .map((c) => readFileSync(`${KDAMONDS}/${d}/contexts/${c}/operations`, "utf8").trim());
        return state === "on" && ops.includes("paddr");
      });
  } catch {
    return false;
  }
}

function countNodes(): number {
  try {
    return readdirSync("/sys/devices/system/node").filter((n) => /^node\d+$/.test(n)).length || 1;
  } catch {
    return 1;
  }
}

/** This machine. */
export function probeMachine(): MachineProbe {
  const linux = process.platform === "linux";
  let swap = false;
  try {
    swap = readFileSync("/proc/swaps", "utf8").trim().split("\n").length > 1;
  } catch {
    swap = false;
  }
  return {
    linux,
    root: typeof process.getuid === "function" && process.getuid() === 0,
    swap,
    nodes: linux ? countNodes() : 0,
    damon: linux && damonRunning(),
    exists: (p) => existsSync(p),
  };
}
