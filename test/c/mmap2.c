/* mmap2: MAP_FIXED_NOREPLACE, mincore, /dev/zero mappings shared across fork,
 * mremap grow/move/shrink, msync, MADV_DONTNEED zero-fill. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char *a = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void *r = mmap(a + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("noreplace over existing: %s\n", r == MAP_FAILED ? ename(errno) : "mapped");
  munmap(a + 4096, 4096);
  r = mmap(a + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("noreplace in hole: %s\n", r == a + 4096 ? "at hint" : "elsewhere");
  unsigned char v[3];
  int rc = mincore(a, 3 * 4096, v);
  printf("mincore mapped: %d\n", rc);
  rc = mincore(a + 4096 * 1000, 4096, v);
  printf("mincore unmapped: %d %s\n", rc, ename(errno));
  int fd = open("/dev/zero", O_RDWR);
  int *z = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (z == MAP_FAILED) {
    printf("dev zero: %s\n", ename(errno));
    return 1;
  }
  printf("dev zero reads %d\n", z[10]);
  z[0] = 41;
  fflush(stdout);
  if (fork() == 0) {
    z[0]++;
    _exit(0);
  }
  wait(NULL);
  printf("shared dev zero after child: %d\n", z[0]);
  char *b = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  strcpy(b, "keep me");
  char *c = mremap(b, 4096, 64 * 4096, MREMAP_MAYMOVE);
  printf("mremap grow: %s\n", c == MAP_FAILED ? ename(errno) : c);
  c[63 * 4096] = 1;
  c = mremap(c, 64 * 4096, 4096, 0);
  printf("mremap shrink: %s\n", c == MAP_FAILED ? ename(errno) : c);
  char *d = mremap(c, 4096, 8192, 0);
  printf("mremap grow without MAYMOVE: %s\n", d == MAP_FAILED ? ename(errno) : "in place");
  rc = msync(c, 4096, MS_SYNC);
  printf("msync: %d\n", rc);
  rc = msync(c, 4096, MS_SYNC | MS_ASYNC);
  printf("msync both flags: %d %s\n", rc, ename(errno));
  rc = madvise(c, 4096, MADV_DONTNEED);
  printf("madvise dontneed: %d, then reads %d\n", rc, c[0]);
  printf("done\n");
  return 0;
}
