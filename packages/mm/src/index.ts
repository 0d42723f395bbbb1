export type { AddressSpaceOptions, FaultResult, MmapFile } from './address-space.js';
export {
  AddressSpace,
  adviceChangesFlags,
  calcVmFlagBits,
  calcVmProtBits,
} from './address-space.js';
export type { ExecImage, ImageObject, ImageRole, ImageSpec, ImageVma } from './exec.js';
export { checkImage, imageSpecToSnapshot, parseSnapshot } from './exec.js';
export type { ForkAllocation, ForkOptions } from './fork.js';
export { ForkAllocationError, ForkedAnonVma } from './fork.js';
export type { LoadMapsOptions, SnapshotLine } from './maps.js';
export { formatMaps, loadMaps, mapsEntryOf, SnapshotError } from './maps.js';
export { getUnmappedArea } from './placement.js';
export type { Iovec, MadviseLocking, MadviseLockMode } from './process-madvise.js';
export {
  importIovec,
  MAX_RW_COUNT,
  madviseLockMode,
  UIO_MAXIOV,
} from './process-madvise.js';
export { PYTHON3_IMAGE } from './python3-image.js';
export type { FreePgtablesResult } from './teardown.js';
export { freePgtables, pgtableGroups } from './teardown.js';
