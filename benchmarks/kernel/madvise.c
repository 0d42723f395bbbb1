/*
 * madvise: the process_madvise experiment (SeongJae Park, Feb 2025;
 * kernel-facts §7.2, §12.5), the shape of the `madvise` workload.
 *
 * Setup of each pass (untimed): a SIZE_MIB anonymous private RW region, every
 * page written. Timed pass: MADV_DONTNEED over the region in 4 KiB pieces —
 * VLEN = 0: one madvise() per piece; VLEN = N: process_madvise() on this
 * process's pidfd (pidfd_open(getpid())) with N iovecs per call. Before 6.15
 * each iovec element took mmap_lock; since 6.15 one acquisition per call.
 *
 * Usage: madvise [PASSES=5] [SEED=1] [VLEN=0] [SIZE_MIB=256]   (SEED unused)
 * Output: one JSON line; if process_madvise is refused (old kernel, seccomp,
 * or MADV_DONTNEED not accepted for self), an "error" line and exit code 3.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#define PAGE 4096UL

int main(int argc, char **argv) {
  long passes = arg_long(argc, argv, 1, 5, "PASSES");
  long seed = arg_long(argc, argv, 2, 1, "SEED");
  long vlen = arg_long(argc, argv, 3, 0, "VLEN");
  long size_mib = arg_long(argc, argv, 4, 256, "SIZE_MIB");
  if (vlen > 1024 || size_mib < 1) {
    fprintf(stderr, "%s: VLEN must be 0…1024 (IOV_MAX) and SIZE_MIB at least 1\n", argv[0]);
    return 2;
  }
  size_t len = (size_t)size_mib << 20;
  size_t pieces = len / PAGE;
  char *region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) die("madvise", "mmap");
  /* No THP: the experiment frees 4 KiB pages, not huge pages split on the way. */
  madvise(region, len, MADV_NOHUGEPAGE);
  int pidfd = -1;
  struct iovec *iov = NULL;
  if (vlen > 0) {
    pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd < 0) {
      printf("{\"program\":\"madvise\",\"error\":\"pidfd_open: %s\",\"errno\":%d}\n",
             strerror(errno), errno);
      return 3;
    }
    iov = calloc((size_t)vlen, sizeof *iov);
    if (!iov) die("madvise", "calloc");
  }

  uint64_t elapsed = 0, calls = 0;
  for (long p = 0; p < passes; p++) {
    for (size_t i = 0; i < len; i += PAGE) region[i] = 1;
    uint64_t t0 = now_ns();
    if (vlen == 0) {
      for (size_t i = 0; i < pieces; i++) {
        if (madvise(region + i * PAGE, PAGE, MADV_DONTNEED)) die("madvise", "madvise");
        calls++;
      }
    } else {
      for (size_t i = 0; i < pieces;) {
        size_t n = 0;
        for (; n < (size_t)vlen && i + n < pieces; n++) {
          iov[n].iov_base = region + (i + n) * PAGE;
          iov[n].iov_len = PAGE;
        }
        long r = syscall(SYS_process_madvise, pidfd, iov, n, MADV_DONTNEED, 0);
        if (r < 0) {
          printf("{\"program\":\"madvise\",\"error\":\"process_madvise(self, MADV_DONTNEED): %s\","
                 "\"errno\":%d}\n",
                 strerror(errno), errno);
          return 3;
        }
        /* A short count means the vector was cut; go on after the bytes done. */
        size_t done = (size_t)r / PAGE;
        if (done == 0) die("madvise", "process_madvise advised nothing");
        i += done;
        calls++;
      }
    }
    elapsed += now_ns() - t0;
  }
  munmap(region, len);
  printf("{\"program\":\"madvise\",\"unit\":\"pass\",\"iterations\":%ld,\"seed\":%ld,"
         "\"vlen\":%ld,\"size_mib\":%ld,\"pieces_per_pass\":%zu,\"calls\":%llu,"
         "\"elapsed_ns\":%llu,\"ns_per_iteration\":%.1f,\"ns_per_piece\":%.2f}\n",
         passes, seed, vlen, size_mib, pieces, (unsigned long long)calls,
         (unsigned long long)elapsed, passes ? (double)elapsed / (double)passes : 0.0,
         passes ? (double)elapsed / (double)passes / (double)pieces : 0.0);
  return 0;
}
