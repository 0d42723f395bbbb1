/*
 * thread-stacks: the free_area_cache experiment (NPTL test_str02, Molnar
 * 2.5/2.6, Wander 2005; kernel-facts §3.4, §12.4), the shape of the
 * `thread-stacks` workload.
 *
 * Timed: STACKS × { mmap 8 MiB MAP_STACK RW; mprotect its lowest page
 * PROT_NONE (the guard page) } — 2 VMAs per stack, as glibc creates thread
 * stacks. No thread is started: only the address-space work is measured.
 * The time of each block of 1024 stacks is reported too, to show whether
 * the per-stack cost grows with the number of VMAs.
 *
 * Usage: thread-stacks [STACKS=10000] [SEED=1]   (SEED is accepted and unused)
 * Output: one JSON line. Stops early (with "stopped_by") at ENOMEM, e.g. at
 * vm.max_map_count.
 */
#include <sys/mman.h>

#include "common.h"

#define STACK_SIZE (8UL << 20)
#define BLOCK 1024

int main(int argc, char **argv) {
  long stacks = arg_long(argc, argv, 1, 10000, "STACKS");
  long seed = arg_long(argc, argv, 2, 1, "SEED");
  char **addr = calloc((size_t)stacks + 1, sizeof *addr);
  long nblocks = stacks / BLOCK + 1;
  uint64_t *block_ns = calloc((size_t)nblocks, sizeof *block_ns);
  if (!addr || !block_ns) die("thread-stacks", "calloc");
  long vmas_before = count_vmas();
  const char *stopped_by = NULL;
  int stop_errno = 0;

  long made = 0;
  uint64_t t0 = now_ns(), tb = t0;
  for (; made < stacks; made++) {
    char *a = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (a == MAP_FAILED) {
      stopped_by = "mmap";
      stop_errno = errno;
      break;
    }
    addr[made] = a;
    if (mprotect(a, 4096, PROT_NONE)) {
      stopped_by = "mprotect";
      stop_errno = errno;
      made++;
      break;
    }
    if ((made + 1) % BLOCK == 0) {
      uint64_t t = now_ns();
      block_ns[made / BLOCK] = t - tb;
      tb = t;
    }
  }
  uint64_t elapsed = now_ns() - t0;
  long vmas_after = count_vmas();
  for (long i = 0; i < made; i++) munmap(addr[i], STACK_SIZE);

  printf("{\"program\":\"thread-stacks\",\"unit\":\"stack\",\"iterations\":%ld,\"seed\":%ld,"
         "\"elapsed_ns\":%llu,\"ns_per_iteration\":%.1f,\"vmas_before\":%ld,\"vmas_after\":%ld,",
         made, seed, (unsigned long long)elapsed, made ? (double)elapsed / (double)made : 0.0,
         vmas_before, vmas_after);
  if (stopped_by)
    printf("\"stopped_by\":\"%s: %s\",", stopped_by, strerror(stop_errno));
  printf("\"ns_per_stack_by_1024\":[");
  for (long b = 0; b < made / BLOCK; b++)
    printf("%s%.1f", b ? "," : "", (double)block_ns[b] / BLOCK);
  printf("]}\n");
  return 0;
}
