/* bench/hostrw.c: the file operations bench/hostrw.js times, run in DIR
 * (natively, or in the sandbox on a read-write bind): prints the
 * milliseconds of each phase, timed inside the program (no start-up). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  static char buf[1 << 16];
  memset(buf, 'x', sizeof buf);
  char p[512];
  /* 1: 32 files of 1 MiB, written in 64 KiB writes. */
  double t0 = now();
  for (int i = 0; i < 32; i++) {
    snprintf(p, sizeof p, "%s/big%d", argv[1], i);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) return 3;
    for (int k = 0; k < 16; k++)
      if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return 4;
    close(fd);
  }
  double t1 = now();
  /* 2: 1000 small files created (100 bytes each), then unlinked. */
  for (int i = 0; i < 1000; i++) {
    snprintf(p, sizeof p, "%s/small%d", argv[1], i);
    int fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0644);
    if (fd < 0) return 5;
    if (write(fd, buf, 100) != 100) return 6;
    close(fd);
  }
  double t2 = now();
  for (int i = 0; i < 1000; i++) {
    snprintf(p, sizeof p, "%s/small%d", argv[1], i);
    if (unlink(p) < 0) return 7;
  }
  double t3 = now();
  for (int i = 0; i < 32; i++) {
    snprintf(p, sizeof p, "%s/big%d", argv[1], i);
    unlink(p);
  }
  printf("%.2f %.2f %.2f\n", t1 - t0, t2 - t1, t3 - t2);
  return 0;
}
