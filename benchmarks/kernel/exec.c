/*
 * exec: the batched unlink_file_vma experiment (Mateusz Guzik, May 2024;
 * kernel-facts §6.4, §12.2), the shape of the `exec` workload on one core.
 *
 * Timed: EXECS × { vfork(); the child execve()s PROGRAM (a dynamically
 * linked binary: its own ELF, ld.so and libc, each ~5 same-file VMAs); the
 * program exits; waitpid }. Each exec tears down an address space through
 * free_pgtables (where the i_mmap locks of the shared files are taken, one
 * per VMA before 6.11, one per run of ≤ 8 same-file VMAs since) and the
 * exit tears down the new one. The published experiment ran many execs
 * concurrently on ~20 cores; this runs them one at a time.
 *
 * Usage: exec [EXECS=1000] [SEED=1] [PROGRAM=/bin/true]   (SEED unused)
 * Output: one JSON line.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv) {
  long execs = arg_long(argc, argv, 1, 1000, "EXECS");
  long seed = arg_long(argc, argv, 2, 1, "SEED");
  const char *program = argc > 3 ? argv[3] : "/bin/true";
  char *child_argv[] = {(char *)program, NULL};
  char *child_envp[] = {NULL};
  if (access(program, X_OK)) die("exec", program);

  uint64_t t0 = now_ns();
  for (long i = 0; i < execs; i++) {
    pid_t pid = vfork();
    if (pid < 0) die("exec", "vfork");
    if (pid == 0) {
      execve(program, child_argv, child_envp);
      _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) die("exec", "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
      errno = ENOEXEC;
      die("exec", "child did not run");
    }
  }
  uint64_t elapsed = now_ns() - t0;

  printf("{\"program\":\"exec\",\"unit\":\"exec\",\"iterations\":%ld,\"seed\":%ld,"
         "\"exec_program\":\"%s\",\"elapsed_ns\":%llu,\"ns_per_iteration\":%.1f,"
         "\"execs_per_s\":%.1f}\n",
         execs, seed, program, (unsigned long long)elapsed,
         execs ? (double)elapsed / (double)execs : 0.0,
         elapsed ? (double)execs * 1e9 / (double)elapsed : 0.0);
  return 0;
}
