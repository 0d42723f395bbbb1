/**
 * errno values (Linux x86-64). System calls in vmalab return kernel style:
 * a non-negative result, or `-errno`. User addresses are below 2^47 and the
 * `[vsyscall]` page is never returned, so a negative number is always an error.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const EFBIG = 27;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;

export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EINTR]: 'EINTR',
  [EBADF]: 'EBADF',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL',
  [EFBIG]: 'EFBIG',
  [EOVERFLOW]: 'EOVERFLOW',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
};

const byName = new Map(Object.entries(ERRNO_NAMES).map(([k, v]) => [v, Number(k)]));

/** True when a kernel-style result is an error (`-errno`). */
export function isErr(result: number): boolean {
  return result < 0;
}

/** `-12` → `'ENOMEM'`; a non-error result → `'OK'`. */
export function errnoName(result: number): string {
  if (result >= 0) return 'OK';
  return ERRNO_NAMES[-result] ?? `E${-result}`;
}

/** `'ENOMEM'` → 12, or undefined. */
export function errnoFromName(name: string): number | undefined {
  return byName.get(name);
}
