// bench/fill_cost.c: what it costs the host to put file data and zeros into
// the memory file (a memfd), by the ways the Sentry can: through its own
// shared mapping of the memfd (a page fault per page it touches first), or
// with host writes (pwrite, sendfile), which fill the memfd's pages inside
// the host kernel. Also the first touch of those pages through a new
// mapping (what a stub does when the application reads them).
//
//   gcc -O2 -o /tmp/fill_cost bench/fill_cost.c && /tmp/fill_cost [FILE]
//
// FILE defaults to gcc's cc1 (about 33 MB). Times are medians of 5 rounds.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5
#define BLOCK 65536

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v) {
  qsort(v, ROUNDS, sizeof *v, cmp);
  return v[ROUNDS / 2];
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/usr/lib/gcc/x86_64-linux-gnu/12/cc1";
  int in = open(path, O_RDONLY);
  if (in < 0) {
    perror(path);
    return 1;
  }
  off_t sz = lseek(in, 0, SEEK_END) & ~4095L;
  static char bounce[BLOCK];
  memset(bounce, 1, sizeof bounce);
  double view[ROUNDS], pw[ROUNDS], sf[ROUNDS], touch[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    int m = memfd_create("fill", 0);
    if (m < 0 || ftruncate(m, 4 * sz) < 0) {
      perror("memfd");
      return 1;
    }
    char *v = mmap(0, 4 * sz, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    double t0 = now_ms();
    for (off_t o = 0; o < sz; o += BLOCK) pread(in, v + o, sz - o < BLOCK ? sz - o : BLOCK, o);
    view[r] = now_ms() - t0;
    t0 = now_ms();
    for (off_t o = 0; o < sz; o += BLOCK) {
      ssize_t n = pread(in, bounce, BLOCK, o);
      if (n <= 0 || pwrite(m, bounce, n, sz + o) != n) break;
    }
    pw[r] = now_ms() - t0;
    t0 = now_ms();
    off_t io = 0;
    lseek(m, 2 * sz, SEEK_SET);
    for (ssize_t left = sz; left > 0;) {
      ssize_t n = sendfile(m, in, &io, left);
      if (n <= 0) break;
      left -= n;
    }
    sf[r] = now_ms() - t0;
    char *u = mmap(0, sz, PROT_READ, MAP_SHARED, m, sz);
    volatile char x = 0;
    t0 = now_ms();
    for (off_t o = 0; o < sz; o += 4096) x += u[o];
    touch[r] = now_ms() - t0;
    munmap(u, sz);
    munmap(v, 4 * sz);
    close(m);
  }
  printf("%s, %.1f MB, medians of %d:\n", path, sz / 1e6, ROUNDS);
  printf("  pread into a fresh shared mapping of the memfd   %7.1f ms\n", median(view));
  printf("  pread into a reused buffer, pwrite to the memfd  %7.1f ms\n", median(pw));
  printf("  sendfile from the file to the memfd              %7.1f ms\n", median(sf));
  printf("  first read of each page through a new mapping    %7.1f ms\n", median(touch));
  return 0;
}
