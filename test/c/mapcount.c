/* mapcount: vm.max_map_count where Linux enforces it (LTP munmap04). An
 * address space is filled with unmergeable mappings until mmap fails; then
 * at the limit (Linux lets mmap reach one VMA past it): a hole punched by
 * munmap, mprotect or a MAP_FIXED mapping is ENOMEM; after one munmap one
 * mmap succeeds again; at the limit exactly, one split (mprotect of an end
 * page) is ENOMEM, one below it the split works and the restored protection
 * merges back, and a change needing two splits is ENOMEM; mremap moves
 * only with three VMAs to spare below the limit, five for MREMAP_FIXED.
 *
 * Without arguments it runs at the machine's limit (compared with native by
 * c_programs). With "set N" (the sandbox only: natively it would change the
 * host's limit for every process) it first writes N to
 * /proc/sys/vm/max_map_count, checks the write rules (read back, -1 and text
 * refused with EINVAL, a non-root writer refused with EACCES), and after the
 * fill raises the limit by 10 and maps exactly 10 more. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PG 4096UL
#define SLOT (6 * PG) /* a 3-page mapping and a 3-page gap */
#define MAXMAPS 70000

static char *maps[MAXMAPS];
static int nmaps;
static uintptr_t next_addr = 0x10000000UL;

static const char *SYSCTL = "/proc/sys/vm/max_map_count";

/* map_one adds one 3-page PROT_READ mapping that merges with nothing; 0 or errno. */
static int map_one(void) {
  for (;;) {
    void *p = mmap((void *)next_addr, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    next_addr += SLOT;
    if (p != MAP_FAILED) {
      maps[nmaps++] = p;
      return 0;
    }
    if (errno != EEXIST) return errno;
  }
}

static int fill(void) {
  int e = 0;
  int n = 0;
  while (nmaps < MAXMAPS && (e = map_one()) == 0) n++;
  if (nmaps == MAXMAPS) DIE("no limit reached");
  printf("fill stopped by %s\n", ename(e));
  return n;
}

static const char *res(int r) { return r == 0 ? "OK" : ename(errno); }

static int write_sysctl(const char *s) {
  int fd = open(SYSCTL, O_WRONLY);
  if (fd < 0) return -1;
  int r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static long read_sysctl(void) {
  char buf[32] = {0};
  int fd = open(SYSCTL, O_RDONLY);
  if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) DIE("read max_map_count");
  close(fd);
  return atol(buf);
}

int main(int argc, char **argv) {
  line_buffered();
  long set = argc > 2 && !strcmp(argv[1], "set") ? atol(argv[2]) : -1;
  if (set >= 0) {
    char buf[32];
    snprintf(buf, sizeof buf, "%ld\n", set);
    printf("write %ld: %s\n", set, res(write_sysctl(buf)));
    printf("read back equal: %d\n", read_sysctl() == set);
    printf("write -1: %s\n", res(write_sysctl("-1\n")));
    printf("write text: %s\n", res(write_sysctl("lots\n")));
    printf("unchanged: %d\n", read_sysctl() == set);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
      if (setuid(65534)) _exit(2);
      printf("non-root open for writing: %s\n", open(SYSCTL, O_WRONLY) < 0 ? ename(errno) : "OK");
      _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
  }
  fill();
  /* At the limit plus one: every hole is refused. */
  printf("munmap hole at limit+1: %s\n", res(munmap(maps[0] + PG, PG)));
  printf("mprotect hole at limit+1: %s\n", res(mprotect(maps[0] + PG, PG, PROT_NONE)));
  void *p = mmap(maps[0] + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("MAP_FIXED hole at limit+1: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  /* One fewer: the limit itself. mmap may still add one. */
  printf("munmap whole: %s\n", res(munmap(maps[1], 3 * PG)));
  p = mmap(maps[1], 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("mmap at limit: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  printf("munmap whole again: %s\n", res(munmap(maps[1], 3 * PG)));
  printf("mprotect one split at limit: %s\n", res(mprotect(maps[0], PG, PROT_NONE)));
  p = mmap(maps[0] + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("MAP_FIXED hole at limit: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  /* One below the limit. */
  printf("munmap another: %s\n", res(munmap(maps[2], 3 * PG)));
  printf("mprotect one split below limit: %s\n", res(mprotect(maps[0], PG, PROT_NONE)));
  printf("mprotect back (merges): %s\n", res(mprotect(maps[0], PG, PROT_READ)));
  printf("mprotect two splits below limit: %s\n", res(mprotect(maps[3] + PG, PG, PROT_NONE)));
  /* The two-split mprotect may have left one split (Linux splits before it fails): unmap maps[3] whole (limit - 2). */
  munmap(maps[3], 3 * PG);
  /* mremap moving a mapping keeps three VMAs in reserve (a mapping followed by another cannot grow in place). */
  printf("munmap a third: %s\n", res(munmap(maps[6], 3 * PG)));
  p = mremap(maps[8], 3 * PG, 9 * PG, MREMAP_MAYMOVE);
  printf("mremap move at limit-3: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  p = mremap(maps[8], 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)next_addr);
  printf("mremap to a fixed place at limit-3: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  printf("munmap a fourth: %s\n", res(munmap(maps[10], 3 * PG)));
  p = mremap(maps[8], 3 * PG, 9 * PG, MREMAP_MAYMOVE);
  printf("mremap move at limit-4: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  if (p != MAP_FAILED) maps[8] = p;
  p = mremap(maps[12], 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)next_addr);
  printf("mremap to a fixed place at limit-4: %s\n", p == MAP_FAILED ? ename(errno) : "OK");
  if (set >= 0) {
    char buf[32];
    snprintf(buf, sizeof buf, "%ld\n", set + 10);
    printf("raise by 10: %s\n", res(write_sysctl(buf)));
    munmap(maps[4], 3 * PG);
    printf("mapped after raising: %d\n", fill());
  }
  printf("done\n");
  return 0;
}
