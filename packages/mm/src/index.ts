export type { AddressSpaceOptions, FaultResult, MmapFile } from './address-space.js';
export {
  AddressSpace,
  adviceChangesFlags,
  calcVmFlagBits,
  calcVmProtBits,
} from './address-space.js';
export type { LoadMapsOptions, SnapshotLine } from './maps.js';
export { formatMaps, loadMaps, mapsEntryOf, SnapshotError } from './maps.js';
export { getUnmappedArea } from './placement.js';
