export { ReferenceBackend, createReferenceBackend } from "./backend";
export { referenceGeometry } from "./geometry";
