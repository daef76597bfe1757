// The footprint of one mapping, measured in a process of its own (started by
// footprint/run.ts with --expose-gc): prints one FootprintPoint as JSON.
import { FOOTPRINT_KINDS, measureFootprint, type FootprintKind } from "./measure";

const [kind, bytes] = process.argv.slice(2);
if (!FOOTPRINT_KINDS.includes(kind as FootprintKind) || !(Number(bytes) > 0)) {
  process.stderr.write(`usage: footprint-child <${FOOTPRINT_KINDS.join("|")}> <bytes>\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(measureFootprint(kind as FootprintKind, Number(bytes)))}\n`);
