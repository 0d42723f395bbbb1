import { exec } from './exec.js';
import { fork } from './fork.js';
import { madvise } from './madvise.js';
import { mmapChurn } from './mmap-churn.js';
import { threadStacks } from './thread-stacks.js';
import type { Workload } from './workload.js';

export { PYTHON3_IMAGE } from '@vmalab/mm';
export { EXEC_IMAGES, exec } from './exec.js';
export { FORK_VMA_COUNTS, fork, forkFileVmas, forkVmaIsFile } from './fork.js';
export { MADVISE_VECTORS, madvise } from './madvise.js';
export { mmapChurn } from './mmap-churn.js';
export { resolveParams, WorkloadSyscallError } from './params.js';
export {
  MAX_THREAD_STACKS,
  THREAD_STACK_COUNTS,
  THREAD_STACK_SIZE,
  threadStacks,
} from './thread-stacks.js';
export * from './workload.js';

/** Every workload, in the order of DESIGN.md §4. */
export const WORKLOADS: readonly Workload[] = [mmapChurn, threadStacks, fork, exec, madvise];

/** The workload called `name`, or undefined. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
