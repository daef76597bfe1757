import { existsSync, readFileSync, readdirSync } from "node:fs";

/** What the machine offers the oracle: asked once per run, replaced by a fixed object in tests. */
export interface MachineProbe {
  readonly linux: boolean;
  readonly root: boolean;
  /** A swap device is active (/proc/swaps lists one). */
  readonly swap: boolean;
  /** Online NUMA nodes. */
  readonly nodes: number;
  exists(path: string): boolean;
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
    exists: (p) => existsSync(p),
  };
}
