import { GiB } from "../workloads/arena";
import type { FootprintKind } from "./measure";

/** Mapping sizes of the scaling table, per kind: doubling from 1 GiB to 64 GiB (to 512 GiB for PUD THPs). */
export function scalingSizes(kind: FootprintKind, quick: boolean): number[] {
  if (quick) return kind === "pud" ? [2 * GiB, 4 * GiB] : [GiB, 2 * GiB];
  const top = kind === "pud" ? 512 : 64;
  const out: number[] = [];
  for (let g = 1; g <= top; g *= 2) out.push(g * GiB);
  return out;
}

/** "1G", "512G": the size part of heap.scaling.<kind>.<size>. */
export function sizeLabel(bytes: number): string {
  return bytes % GiB === 0 ? `${bytes / GiB}G` : `${bytes / 2 ** 20}M`;
}
