// ZONE_DEVICE memory on the core's extension API.
export { ZoneDevice, installZoneDevice, type DeviceConfig } from "./feature";
export { HmmDevice, devicePrivateFault, type HmmDeviceSpec } from "./device";
export { Mirror, PROT, type MirrorResult } from "./mirror";
export { Pagemap, memremapPages, memunmapPages, idleRefcount, MEMORY_TYPES, type MemoryTypeName, type MemremapArgs, type MemremapResult, type PagemapOps } from "./pgmap";
export { DeviceMemory } from "./devmem";
export { MigrateVma, migrateVmaSetup, migrateVmaPages, migrateVmaFinalize, type MigrateVmaArgs } from "./migrate-vma";
export * from "./migrate-pfn";
export { hmmRangeFault, type HmmPfn, type HmmError } from "./hmm";
export { makeDeviceExclusive, type ExclusiveError } from "./exclusive";
