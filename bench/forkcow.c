/* forkcow: the cost of fork and copy-on-write of a large heap (not a test).
 * A MIB heap is touched, then ROUNDS times: fork, the child writes one word
 * per page (PATTERN "all": every page in order; "sparse": every other page,
 * top down, the others dropped with MADV_DONTNEED, which leaves one host
 * mapping per page) and exits; the parent waits. Prints the median time of
 * a round in ms.
 *   tsvisor do -- forkcow [MIB] [ROUNDS] [all|sparse] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 512;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  int sparse = argc > 3 && !strcmp(argv[3], "sparse");
  size_t n = mib * 256;
  unsigned char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || rounds < 1 || rounds > 100) return 1;
  for (size_t i = 0; i < n; i++) p[i * PAGE] = 1;
  double t[100];
  for (int r = 0; r < rounds; r++) {
    double t0 = now();
    pid_t c = fork();
    if (c < 0) return 1;
    if (c == 0) {
      if (sparse) {
        for (size_t i = n; i-- > 0;)
          if (i % 2 == 0) p[i * PAGE] = 2;
          else madvise(p + i * PAGE, PAGE, MADV_DONTNEED);
      } else {
        for (size_t i = 0; i < n; i++) p[i * PAGE] = 2;
      }
      _exit(0);
    }
    int st;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) return 1;
    t[r] = now() - t0;
  }
  qsort(t, rounds, sizeof t[0], cmp);
  printf("forkcow %zu MiB %s: median %.0f ms (min %.0f, max %.0f) over %d rounds\n", mib, sparse ? "sparse" : "all", t[rounds / 2], t[0], t[rounds - 1], rounds);
  return 0;
}
