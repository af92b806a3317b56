/* maptrunc: file mappings when the file shrinks and grows back, on the
 * directory given (a host directory in the sandbox) and on /tmp: a shared
 * mapping past the new end is SIGBUS (BUS_ADRERR at the exact address), the
 * tail of the last page reads as zeros, and after the file grows back the
 * mapping sees the file's new data; a private page copied on write before the
 * truncate is gone too (it reads the file again). Then MAP_SHARED anonymous
 * memory across fork, small and large (filled as touched), touched first by
 * the child or by the parent. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PG 4096L

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile uintptr_t got_addr;

static void on_fault(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  got_sig = sig;
  got_code = si->si_code;
  got_addr = (uintptr_t)si->si_addr;
  siglongjmp(jb, 1);
}

/* Read one byte at p, or name the signal and its offset from base. */
static void probe(const char *label, volatile char *p, char *base) {
  if (sigsetjmp(jb, 1)) {
    printf("%s: signal %d code %d at +%ld\n", label, got_sig, got_code, (long)(got_addr - (uintptr_t)base));
    return;
  }
  char c = *p;
  printf("%s: reads %d\n", label, c);
}

static void poke(const char *label, volatile char *p, char v, char *base) {
  if (sigsetjmp(jb, 1)) {
    printf("%s: signal %d code %d at +%ld\n", label, got_sig, got_code, (long)(got_addr - (uintptr_t)base));
    return;
  }
  *p = v;
  printf("%s: wrote\n", label);
}

static void fill(int fd, char c, long off, long len) {
  char buf[PG];
  memset(buf, c, sizeof buf);
  for (long d = 0; d < len; d += PG)
    if (pwrite(fd, buf, PG, off + d) != PG) DIE("pwrite");
}

static void truncate_in(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/maptrunc.file", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) DIE("open");
  fill(fd, 'a', 0, 4 * PG);
  char *s = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *p = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (s == MAP_FAILED || p == MAP_FAILED) DIE("mmap");
  probe(" shared page 3", s + 3 * PG + 5, s);
  p[0] = 'P';
  p[3 * PG] = 'Q';
  s[2 * PG + 10] = 'S';
  if (ftruncate(fd, PG + 100) < 0) DIE("ftruncate");
  probe(" shared in the last page", s + PG + 50, s);
  probe(" shared past the end, same page", s + PG + 200, s);
  probe(" shared next page", s + 2 * PG + 10, s);
  poke(" write next page", s + 2 * PG + 7, 'x', s);
  probe(" shared last page", s + 3 * PG + 4095, s);
  probe(" private copied page 0", p, p);
  probe(" private copied page 3", p + 3 * PG, p);
  probe(" private page 2", p + 2 * PG, p);
  fill(fd, 'b', 2 * PG, PG);
  printf(" file grown to %ld\n", (long)lseek(fd, 0, SEEK_END));
  probe(" shared page 2 after growing", s + 2 * PG + 10, s);
  probe(" shared page 1 tail", s + PG + 200, s);
  probe(" shared page 3 still past", s + 3 * PG, s);
  probe(" private page 2 after growing", p + 2 * PG + 10, p);
  if (ftruncate(fd, 4 * PG) < 0) DIE("ftruncate");
  probe(" shared page 3 after growing", s + 3 * PG, s);
  probe(" private page 3 after growing", p + 3 * PG, p);
  s[3 * PG + 1] = 'W';
  char c;
  if (pread(fd, &c, 1, 3 * PG + 1) != 1) DIE("pread");
  printf(" the file sees the write: %c\n", c);
  int fd2 = open(path, O_RDWR | O_TRUNC);
  if (fd2 < 0) DIE("open O_TRUNC");
  probe(" shared page 0 after O_TRUNC", s + 1, s);
  close(fd2);
  munmap(s, 4 * PG);
  munmap(p, 4 * PG);
  close(fd);
  unlink(path);
}

static void shared_anon_fork(size_t len) {
  char *m = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) DIE("mmap");
  m[0] = 1;
  pid_t c = xfork();
  if (c == 0) {
    m[len / 2] = 42; /* first touch, in the child */
    m[0]++;
    _exit(0);
  }
  waitpid(c, NULL, 0);
  m[len - 1] = 7; /* first touch, in the parent */
  c = xfork();
  if (c == 0) {
    printf(" %zu MiB: child sees the parent's %d\n", len >> 20, m[len - 1]);
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf(" %zu MiB: parent sees the child's %d %d\n", len >> 20, m[len / 2], m[0]);
  munmap(m, len);
}

/* A shared anonymous mapping is one object of the size it was made: grown by mremap, the new pages are past its end. */
static void shared_anon_grown(void) {
  char *m = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  m[0] = 5;
  char *g = mremap(m, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
  if (g == MAP_FAILED) DIE("mremap");
  probe(" grown: first page", g, g);
  probe(" grown: page 2", g + 2 * PG, g);
  char *d = mremap(g, 0, 4 * PG, MREMAP_MAYMOVE);
  if (d == MAP_FAILED) DIE("mremap dup");
  g[PG] = 9;
  probe(" duplicate: page 1", d + PG, d);
  probe(" duplicate: page 3", d + 3 * PG, d);
  munmap(g, 4 * PG);
  munmap(d, 4 * PG);
}

int main(int argc, char **argv) {
  line_buffered();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  printf("in the directory:\n");
  truncate_in(argc > 1 ? argv[1] : "/tmp");
  printf("in /tmp:\n");
  truncate_in("/tmp");
  printf("shared anonymous across fork:\n");
  shared_anon_fork((size_t)1 << 20);
  shared_anon_fork((size_t)64 << 20);
  printf("shared anonymous grown:\n");
  shared_anon_grown();
  printf("done\n");
  return 0;
}
