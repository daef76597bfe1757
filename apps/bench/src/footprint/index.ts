import { cpus } from "node:os";
import type { FootprintKind, FootprintPoint } from "./measure";
import { measureInChild, runLimited } from "./run";
import { scalingSizes } from "./sizes";

export type { FootprintKind, FootprintPoint } from "./measure";

/**
 * The scaling table: every size of every selected kind, each measured in its
 * own process. Memory figures do not depend on timing, so two run at once.
 */
export function runFootprint(kinds: readonly FootprintKind[], quick: boolean, measure = measureInChild): Promise<FootprintPoint[]> {
  const jobs = kinds.flatMap((kind) => scalingSizes(kind, quick).map((bytes) => () => measure(kind, bytes)));
  return runLimited(jobs, Math.min(2, cpus().length));
}
