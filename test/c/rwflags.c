/* rwflags: preadv2/pwritev2 flags do what they say or are refused as Linux
 * refuses them (RWF_NOWAIT never blocks; RWF_APPEND writes at the end), and
 * a vector over 2 GiB is cut to MAX_RW_COUNT rather than refused. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <signal.h>

static void t(const char *w, long r) {
  if (r < 0) printf("%s: %s\n", w, ename(errno));
  else printf("%s: %ld\n", w, r);
}

static int sigpending_pipe(void) {
  sigset_t s;
  sigpending(&s);
  return sigismember(&s, SIGPIPE);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (chdir(argv[1]) < 0) return 3;
  /* SIGPIPE blocked: a write that raises it leaves it pending. */
  sigset_t pipeset;
  sigemptyset(&pipeset);
  sigaddset(&pipeset, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipeset, NULL);
  char b[16];
  struct iovec v = {b, 16}, wv = {"abc", 3};
  int p[2];
  if (pipe(p) < 0) return 4;
  t("pipe read empty NOWAIT", preadv2(p[0], &v, 1, -1, RWF_NOWAIT));
  t("pipe write NOWAIT", pwritev2(p[1], &wv, 1, -1, RWF_NOWAIT));
  t("pipe read NOWAIT", preadv2(p[0], &v, 1, -1, RWF_NOWAIT));
  t("pipe read @0 NOWAIT", preadv2(p[0], &v, 1, 0, RWF_NOWAIT));
  t("pipe write APPEND", pwritev2(p[1], &wv, 1, -1, RWF_APPEND));
  t("pipe write @0 APPEND", pwritev2(p[1], &wv, 1, 0, RWF_APPEND));
  t("pipe read NOWAIT", preadv2(p[0], &v, 1, -1, RWF_NOWAIT));
  /* Fill the pipe: a NOWAIT write then moves what fits, then EAGAIN. */
  static char big[1 << 17];
  struct iovec bv = {big, sizeof big};
  t("pipe write 128K NOWAIT", pwritev2(p[1], &bv, 1, -1, RWF_NOWAIT));
  t("pipe write full NOWAIT", pwritev2(p[1], &wv, 1, -1, RWF_NOWAIT));

  int f = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
  t("file write NOWAIT", pwritev2(f, &wv, 1, 0, RWF_NOWAIT));
  t("file write", pwritev2(f, &wv, 1, 0, RWF_DSYNC | RWF_HIPRI | RWF_SYNC));
  t("file read NOWAIT", preadv2(f, &v, 1, 0, RWF_NOWAIT));
  t("file read APPEND (ignored)", preadv2(f, &v, 1, 0, RWF_APPEND));
  t("file write @0 APPEND", pwritev2(f, &wv, 1, 0, RWF_APPEND));
  t("offset", lseek(f, 0, SEEK_CUR));
  t("file write @-1 APPEND", pwritev2(f, &wv, 1, -1, RWF_APPEND));
  t("offset", lseek(f, 0, SEEK_CUR));
  memset(b, 0, sizeof b);
  t("file pread", pread(f, b, sizeof b, 0));
  printf("  data %s\n", b);
  t("file unknown flag", pwritev2(f, &wv, 1, 0, 0x10000));

  int g = open("/dev/shm/rwflags", O_RDWR | O_CREAT | O_TRUNC, 0644);
  t("tmpfs write NOWAIT", pwritev2(g, &wv, 1, 0, RWF_NOWAIT));
  t("tmpfs read NOWAIT", preadv2(g, &v, 1, 0, RWF_NOWAIT));
  unlink("/dev/shm/rwflags");
  int n = open("/dev/null", O_RDWR);
  t("null write NOWAIT", pwritev2(n, &wv, 1, 0, RWF_NOWAIT));
  t("null read NOWAIT", preadv2(n, &v, 1, -1, RWF_NOWAIT));
  int z = open("/dev/zero", O_RDONLY);
  t("zero read NOWAIT", preadv2(z, &v, 1, -1, RWF_NOWAIT));
  int pr = open("/proc/self/stat", O_RDONLY);
  t("proc read NOWAIT", preadv2(pr, &v, 1, -1, RWF_NOWAIT));

  /* Two vectors of 1.5 GiB: Linux moves at most MAX_RW_COUNT, no EINVAL. */
  size_t half = (size_t)3 << 29;
  char *m = mmap(NULL, 2 * half, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return 5;
  struct iovec hv[2] = {{m, half}, {m + half, half}};
  long r = writev(n, hv, 2);
  printf("writev 3 GiB to /dev/null: %s\n", r < 0 ? ename(errno) : r > 0 && r <= 0x7ffff000 ? "moved at most MAX_RW_COUNT" : "wrong count");
  struct iovec neg[2] = {{m, 1}, {m, (size_t)-1}};
  t("writev negative length", writev(n, neg, 2));
  /* Empty vectors anywhere are skipped, not an end. */
  struct iovec gaps[3] = {{NULL, 0}, {"xy", 2}, {"z", 1}};
  int q[2];
  if (pipe(q) < 0) return 6;
  t("writev with an empty first vector", writev(q[1], gaps, 3));
  char got[8] = {0};
  struct iovec rv[3] = {{NULL, 0}, {got, 1}, {got + 1, 7}};
  t("readv with an empty first vector", readv(q[0], rv, 3));
  printf("  data %s\n", got);

  /* The flags of later kernels: NOAPPEND writes where asked on an O_APPEND
   * file, DONTCACHE is a hint where the file system takes it, NOSIGNAL is
   * EPIPE without SIGPIPE. Unknown bits are EOPNOTSUPP. */
  int a = open("appendfile", O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0644);
  t("append file write", pwritev2(a, &wv, 1, -1, 0));
  t("append file write @0 NOAPPEND", pwritev2(a, &wv, 1, 0, 0x20));
  t("  size", lseek(a, 0, SEEK_END));
  if (lseek(a, 1, SEEK_SET) != 1) return 7;
  t("append file write @-1 NOAPPEND", pwritev2(a, &wv, 1, -1, 0x20));
  t("  offset", lseek(a, 0, SEEK_CUR));
  t("append file write APPEND|NOAPPEND", pwritev2(a, &wv, 1, 0, 0x30));
  t("append file read NOAPPEND", preadv2(a, &v, 1, 0, 0x20));
  t("file write DONTCACHE", pwritev2(f, &wv, 1, 0, 0x80));
  t("file read DONTCACHE", preadv2(f, &v, 1, 0, 0x80));
  t("file write NOSIGNAL", pwritev2(f, &wv, 1, 0, 0x100));
  t("file read NOSIGNAL", preadv2(f, &v, 1, 0, 0x100));
  t("file write ATOMIC", pwritev2(f, &wv, 1, 0, 0x40));
  t("file write 0x200", pwritev2(f, &wv, 1, 0, 0x200));
  int s2 = open("/dev/shm/rwflags2", O_RDWR | O_CREAT | O_TRUNC, 0644);
  t("tmpfs write DONTCACHE", pwritev2(s2, &wv, 1, 0, 0x80));
  t("tmpfs read DONTCACHE", preadv2(s2, &v, 1, 0, 0x80));
  unlink("/dev/shm/rwflags2");
  int e[2];
  if (pipe(e) < 0) return 8;
  t("pipe write DONTCACHE", pwritev2(e[1], &wv, 1, -1, 0x80));
  t("pipe write NOSIGNAL", pwritev2(e[1], &wv, 1, -1, 0x100));
  t("pipe read NOSIGNAL", preadv2(e[0], &v, 1, -1, 0x100));
  close(e[0]);
  t("pipe write NOSIGNAL, no reader", pwritev2(e[1], &wv, 1, -1, 0x100));
  printf("  SIGPIPE pending %d\n", sigpending_pipe());
  printf("done\n");
  return 0;
}
