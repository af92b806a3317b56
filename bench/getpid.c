/* getpid: the system call microbenchmark.
 *
 * Calls syscall(SYS_getpid) N times (argv[1], default 1000000) after a short
 * warm-up, timing the loop with clock_gettime(CLOCK_MONOTONIC), and prints
 * "iterations=N ns_per_iter=X". The same binary runs natively, under the C
 * ptrace floor (floor.c) and in the sandbox, so the three numbers compare. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 1000000;
  if (iters <= 0) iters = 1;
  long sink = 0;
  for (int i = 0; i < 100; i++) sink += syscall(SYS_getpid);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < iters; i++) sink += syscall(SYS_getpid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("iterations=%ld ns_per_iter=%.1f pid_nonzero=%d\n", iters, ns / (double)iters, sink != 0);
  return 0;
}
