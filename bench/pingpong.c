/* pingpong: the blocking-wake microbenchmark.
 *
 * Two processes pass one byte back and forth over two pipes N times
 * (argv[1], default 10000) after a short warm-up; each side blocks in read
 * until the other writes, so every round trip is 4 system calls and 2
 * wake-ups of a blocked reader. The parent times the loop with
 * clock_gettime(CLOCK_MONOTONIC) and prints "iterations=N ns_per_iter=X"
 * (nanoseconds per round trip). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 10000;
  if (iters <= 0) iters = 1;
  const long warm = 100;
  int a[2], b[2];
  char c = 'x';
  if (pipe(a) < 0 || pipe(b) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    for (long i = 0; i < warm + iters; i++) {
      if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  struct timespec t0, t1;
  for (long i = 0; i < warm + iters; i++) {
    if (i == warm) clock_gettime(CLOCK_MONOTONIC, &t0);
    if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) die("ping");
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child");
  double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
  printf("iterations=%ld ns_per_iter=%.1f\n", iters, ns / (double)iters);
  return 0;
}
