/*
 * fork: the __mt_dup experiment (Peng Zhang, Oct 2023; kernel-facts §1.12,
 * §12.3: byte-unixbench "spawn" with a varied VMA count), the shape of the
 * `fork` workload.
 *
 * Setup (untimed): extra one-page VMAs until the process has VMAS VMAs in
 * all, in the workload's repeating pattern of four so that no two neighbours
 * merge: anonymous rw-p, anonymous r--p, file r--p, file rw-p (MAP_PRIVATE of
 * a memfd, offset i pages). Timed: FORKS × { fork(); the child _exit(0)s at
 * once; waitpid } — dup_mmap of every VMA (one i_mmap lock per file VMA) plus
 * the child's exit_mmap. Pages are not touched unless TOUCH=1 (then every
 * writable page is written first, so fork also runs anon_vma_fork, copies
 * page tables and write-protects the pages).
 *
 * Usage: fork [FORKS=1000] [SEED=1] [VMAS=21] [TOUCH=0]   (SEED unused)
 * Output: one JSON line.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv) {
  long forks = arg_long(argc, argv, 1, 1000, "FORKS");
  long seed = arg_long(argc, argv, 2, 1, "SEED");
  long target = arg_long(argc, argv, 3, 21, "VMAS");
  long touch = arg_long(argc, argv, 4, 0, "TOUCH");
  long base = count_vmas();
  long extra = target > base ? target - base : 0;
  /* Top up in rounds: a piece may merge with a neighbour outside the region. */
  for (int round = 0; extra > 0 && round < 4; round++) {
    size_t len = (size_t)extra * 4096;
    int fd = (int)syscall(SYS_memfd_create, "vmalab-fork", 0);
    if (fd < 0 || ftruncate(fd, (off_t)len)) die("fork", "memfd");
    char *region = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) die("fork", "mmap region");
    for (long i = 0; i < extra; i++) {
      int kind = (int)((i + round) % 4);
      int prot = kind == 0 || kind == 3 ? PROT_READ | PROT_WRITE : PROT_READ;
      int anon = kind < 2;
      char *p = mmap(region + (size_t)i * 4096, 4096, prot,
                     MAP_PRIVATE | MAP_FIXED | (anon ? MAP_ANONYMOUS : 0), anon ? -1 : fd,
                     anon ? 0 : (off_t)i * 4096);
      if (p == MAP_FAILED) die("fork", "mmap piece");
      if (touch && (prot & PROT_WRITE)) p[0] = 1;
    }
    close(fd); /* the mappings keep the file */
    extra = target - count_vmas();
  }
  long vmas = count_vmas();

  uint64_t t0 = now_ns();
  for (long i = 0; i < forks; i++) {
    pid_t pid = fork();
    if (pid < 0) die("fork", "fork");
    if (pid == 0) _exit(0);
    int status;
    if (waitpid(pid, &status, 0) < 0) die("fork", "waitpid");
  }
  uint64_t elapsed = now_ns() - t0;

  printf("{\"program\":\"fork\",\"unit\":\"fork\",\"iterations\":%ld,\"seed\":%ld,\"vmas\":%ld,"
         "\"touched\":%s,\"elapsed_ns\":%llu,\"ns_per_iteration\":%.1f,\"forks_per_s\":%.1f}\n",
         forks, seed, vmas, touch ? "true" : "false", (unsigned long long)elapsed,
         forks ? (double)elapsed / (double)forks : 0.0,
         elapsed ? (double)forks * 1e9 / (double)elapsed : 0.0);
  return 0;
}
