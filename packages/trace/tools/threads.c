/* Starts N threads (default 2000) with 256 KiB stacks, holds them all alive at a
 * barrier, then joins them: thousands of thread stacks (mmap + guard mprotect),
 * clone3 calls and glibc's stack cache (munmap beyond 40 MiB) in one log. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t barrier;

static void *run(void *arg) {
  (void)arg;
  pthread_barrier_wait(&barrier);
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  pthread_t *t = calloc((size_t)n, sizeof *t);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
  for (int i = 0; i < n; i++) {
    if (pthread_create(&t[i], &attr, run, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  free(t);
  return 0;
}
