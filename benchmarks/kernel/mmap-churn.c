/*
 * mmap-churn: the maple-tree regression report (Nov 2023, kernel-facts §12.1),
 * the shape of the `mmap-churn` workload.
 *
 * Setup (untimed): MAPS anonymous private RW mappings of 1024 × (MIN_KIB…MAX_KIB)
 * bytes, 1024 × (1…32) as published
 * (the kernel rounds each up to pages). Timed: ITERATIONS × { pick k at
 * random; munmap mapping k; mmap a new one of a new random size; keep it at k }.
 * Adjacent anonymous mappings merge, so most munmaps split a merged VMA.
 *
 * CYCLES > 1 repeats setup, the timed iterations and cleanup that many times,
 * each cycle from the same seed (as `vmalab bench` times cycles of a case's
 * steps, each from a fresh address space): the early iterations after setup
 * can then be timed over a long run. `iterations` and `elapsed_ns` in the
 * output are totals over the cycles.
 *
 * Usage: mmap-churn [ITERATIONS=1000000] [SEED=1] [MAPS=1024] [MIN_KIB=1] [MAX_KIB=32] [CYCLES=1]
 * Output: one JSON line.
 */
#include <sys/mman.h>

#include "common.h"

int main(int argc, char **argv) {
  long iterations = arg_long(argc, argv, 1, 1000000, "ITERATIONS");
  long seed = arg_long(argc, argv, 2, 1, "SEED");
  long maps = arg_long(argc, argv, 3, 1024, "MAPS");
  long min_kib = arg_long(argc, argv, 4, 1, "MIN_KIB");
  long max_kib = arg_long(argc, argv, 5, 32, "MAX_KIB");
  long cycles = arg_long(argc, argv, 6, 1, "CYCLES");
  if (maps < 1 || min_kib < 1 || max_kib < min_kib || cycles < 1) {
    fprintf(stderr, "%s: need MAPS ≥ 1, 1 ≤ MIN_KIB ≤ MAX_KIB and CYCLES ≥ 1\n", argv[0]);
    return 2;
  }
  char **addr = calloc((size_t)maps, sizeof *addr);
  size_t *len = calloc((size_t)maps, sizeof *len);
  if (!addr || !len) die("mmap-churn", "calloc");

  uint64_t elapsed = 0;
  long vmas_before = 0, vmas_after = 0;
  for (long c = 0; c < cycles; c++) {
    prng_seed((uint64_t)seed);
    for (long i = 0; i < maps; i++) {
      len[i] = 1024 * (min_kib + prng_below((uint64_t)(max_kib - min_kib + 1)));
      addr[i] = mmap(NULL, len[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (addr[i] == MAP_FAILED) die("mmap-churn", "setup mmap");
    }
    if (c == 0) vmas_before = count_vmas();

    uint64_t t0 = now_ns();
    for (long it = 0; it < iterations; it++) {
      uint64_t k = prng_below((uint64_t)maps);
      if (munmap(addr[k], len[k])) die("mmap-churn", "munmap");
      len[k] = 1024 * (min_kib + prng_below((uint64_t)(max_kib - min_kib + 1)));
      addr[k] = mmap(NULL, len[k], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (addr[k] == MAP_FAILED) die("mmap-churn", "mmap");
    }
    elapsed += now_ns() - t0;

    if (c == 0) vmas_after = count_vmas();
    for (long i = 0; i < maps; i++)
      if (munmap(addr[i], len[i])) die("mmap-churn", "cleanup munmap");
  }
  long total = iterations * cycles;
  printf("{\"program\":\"mmap-churn\",\"unit\":\"iteration\",\"iterations\":%ld,\"cycles\":%ld,"
         "\"seed\":%ld,\"maps\":%ld,\"elapsed_ns\":%llu,\"ns_per_iteration\":%.1f,"
         "\"vmas_before\":%ld,\"vmas_after\":%ld}\n",
         total, cycles, seed, maps, (unsigned long long)elapsed,
         total ? (double)elapsed / (double)total : 0.0, vmas_before, vmas_after);
  return 0;
}
