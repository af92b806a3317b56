/* cachestat: cachestat(2) (Linux 6.5) on memory-backed files, whose page
 * cache is the file itself, compared with native: pages of a memfd after
 * ftruncate, write, fallocate, a mapping (no page for mapping a hole), a
 * hole punch, sub-ranges and
 * len 0 (to the end), a pipe (none), and the errors in Linux's order (EBADF,
 * an O_PATH descriptor, flags, EFAULT on either pointer). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

struct range { uint64_t off, len; };
struct stat5 { uint64_t cache, dirty, writeback, evicted, recently; };

static void show(const char *what, int fd, uint64_t off, uint64_t len) {
  struct range r = {off, len};
  struct stat5 s;
  memset(&s, 0xff, sizeof s);
  long rc = syscall(SYS_cachestat, fd, &r, &s, 0);
  if (rc < 0) {
    printf("%-28s %s\n", what, ename(errno));
    return;
  }
  printf("%-28s cache %llu dirty %llu writeback %llu evicted %llu recent %llu\n", what, (unsigned long long)s.cache,
         (unsigned long long)s.dirty, (unsigned long long)s.writeback, (unsigned long long)s.evicted, (unsigned long long)s.recently);
}

static void err(const char *what, int fd, void *r, void *s, unsigned flags) {
  long rc = syscall(SYS_cachestat, fd, r, s, flags);
  printf("%-28s %ld %s\n", what, rc, rc < 0 ? ename(errno) : "");
}

int main(void) {
  long pg = 4096;
  int fd = memfd_create("cs", 0);
  if (fd < 0) { perror("memfd_create"); return 1; }
  if (ftruncate(fd, 16 * pg) != 0) { perror("ftruncate"); return 1; }
  show("after ftruncate", fd, 0, 16 * pg);
  char buf[4096];
  memset(buf, 'a', sizeof buf);
  for (int i = 0; i < 4; i++) if (pwrite(fd, buf, sizeof buf, i * pg) != (ssize_t)sizeof buf) { perror("pwrite"); return 1; }
  show("4 pages written", fd, 0, 16 * pg);
  show("pages 2..2", fd, 2 * pg, pg);
  show("pages 3..4 (unaligned)", fd, 3 * pg + 100, pg);
  show("len 0: to the end", fd, pg, 0);
  show("past the end", fd, 64 * pg, pg);
  if (fallocate(fd, 0, 8 * pg, 4 * pg) != 0) { perror("fallocate"); return 1; }
  show("4 pages fallocated", fd, 0, 0);
  /* Mapping allocates nothing. (A first touch of a hole through the mapping is not compared: the sandbox gives the
   * fault's whole 64 KiB window pages, where Linux gives the touched page only; mm/populate.ts.) */
  char *m = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) { perror("mmap"); return 1; }
  show("mapped", fd, 0, 0);
  m[2 * pg] = 1;
  show("a page present stored through mmap", fd, 0, 0);
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * pg) != 0) { perror("punch"); return 1; }
  show("2 pages punched", fd, 0, 0);
  int p[2];
  if (pipe(p) != 0) return 1;
  if (write(p[1], buf, 100) != 100) return 1;
  show("a pipe", p[0], 0, 0);
  struct range r = {0, 0};
  struct stat5 s;
  err("bad fd", 999, &r, &s, 0);
  int op = open("/", O_PATH);
  err("O_PATH fd", op, &r, &s, 0);
  err("flags 1", fd, &r, &s, 1);
  err("bad fd and flags", 999, &r, &s, 1);
  err("range NULL", fd, NULL, &s, 0);
  err("stat NULL", fd, &r, NULL, 0);
  err("flags 1 and range NULL", fd, NULL, &s, 1);
  printf("done\n");
  return 0;
}
