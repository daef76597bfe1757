import type { Style } from "../style";
import { archTour } from "./arch-tour";

/** `hugemm demo`: a built-in tour of the model. */
export function demo(s: Style, out: (line: string) => void): number {
  out(s.bold("hugemm demo: page tables in each arch's real bit format"));
  out("");
  archTour(s, out);
  return 0;
}
