import { cpus, totalmem, platform, release, arch } from "node:os";

/** What the numbers were measured on. */
export interface MachineDescription {
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly kernel: string;
  readonly cpuArch: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryBytes: number;
}

export function describeMachine(): MachineDescription {
  const c = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    kernel: release(),
    cpuArch: arch(),
    cpuModel: c[0]?.model ?? "unknown",
    cpus: c.length,
    memoryBytes: totalmem(),
  };
}
