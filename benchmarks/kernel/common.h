/*
 * Shared helpers of the kernel baseline programs: argument parsing, a seeded
 * PRNG (splitmix64: the programs share the workloads' shape, not their random
 * stream), CLOCK_MONOTONIC timing, a VMA count from /proc/self/maps, and the
 * one JSON line every program prints. Header-only so that each program is one
 * `gcc -O2 prog.c` away from running.
 */
#ifndef VMALAB_KERNEL_COMMON_H
#define VMALAB_KERNEL_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t prng_state;

static inline void prng_seed(uint64_t seed) { prng_state = seed; }

static inline uint64_t prng_next(void) {
  uint64_t z = (prng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* A uniform integer in [0, n). The modulo bias is irrelevant for n ≤ 2^16. */
static inline uint64_t prng_below(uint64_t n) { return prng_next() % n; }

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* argv[i] as a non-negative integer, or `def` when absent; exits 2 on garbage. */
static inline long arg_long(int argc, char **argv, int i, long def, const char *name) {
  if (i >= argc) return def;
  char *end;
  errno = 0;
  long v = strtol(argv[i], &end, 10);
  if (errno || *end || v < 0) {
    fprintf(stderr, "%s: %s must be a non-negative integer, got '%s'\n", argv[0], name, argv[i]);
    exit(2);
  }
  return v;
}

/* Lines of /proc/self/maps = VMAs of this process. */
static inline long count_vmas(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  long n = 0;
  int c;
  while ((c = getc(f)) != EOF)
    if (c == '\n') n++;
  fclose(f);
  return n;
}

/* Dies with a one-line JSON error (the runner shows it) and exit code 1. */
static inline void die(const char *program, const char *what) {
  int e = errno;
  printf("{\"program\":\"%s\",\"error\":\"%s: %s\",\"errno\":%d}\n", program, what, strerror(e), e);
  exit(1);
}

#endif
