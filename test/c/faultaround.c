/* faultaround.c OP DIR N: file and copy-on-write faults, N pages each, with
 * the data checked. The fault-around test runs it under `tsvisor do --stats`
 * with N=0 and N=256 and compares the fault stops; natively and in the
 * sandbox the output must be the same.
 *
 *   read     a 48 MiB MAP_PRIVATE PROT_READ mapping of a sparse file (too
 *            large to be mapped when created): read N pages
 *   hostread the same on the file DIR/big.dat made by the test on the host
 *   write    a 1 MiB MAP_PRIVATE writable mapping of a file: write N pages;
 *            the file must not change
 *   shared   a 48 MiB MAP_SHARED mapping: write N pages; read() must see them
 *   forkcow  1 MiB of private anonymous memory shared by fork: both sides
 *            write N pages; each must keep its own data
 *   bus      a 48 MiB mapping of a 5000-byte file: pages past EOF are SIGBUS
 */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PG 4096L
#define BIG (48L << 20)
#define SMALL (1L << 20)

static void die(const char *what) {
  printf("%s: %s\n", what, ename(errno));
  exit(1);
}

/* A file with the page index written at the start of pages 0..n-1. */
static int patterned(const char *path, long size, long n) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("open");
  if (ftruncate(fd, size) < 0) die("ftruncate");
  for (long i = 0; i < n; i++) {
    uint64_t v = 0x1000 + i;
    if (pwrite(fd, &v, sizeof v, i * PG) != (ssize_t)sizeof v) die("pwrite");
  }
  return fd;
}

static int check_read(const char *p, long n, const char *what) {
  for (long i = 0; i < n; i++) {
    uint64_t v;
    memcpy(&v, p + i * PG, sizeof v);
    if (v != (uint64_t)(0x1000 + i)) {
      printf("%s: page %ld holds %llx\n", what, i, (unsigned long long)v);
      return 1;
    }
    if (p[i * PG + 100] != 0) {
      printf("%s: page %ld not zero past the pattern\n", what, i);
      return 1;
    }
  }
  return 0;
}

static sigjmp_buf jb;
static void on_bus(int sig) {
  siglongjmp(jb, sig);
}

/* Touch p; return the signal it raised, or 0. */
static int touch(volatile char *p) {
  int sig = sigsetjmp(jb, 1);
  if (sig == 0) {
    (void)*p;
    return 0;
  }
  return sig;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: faultaround OP DIR N\n");
    return 2;
  }
  const char *op = argv[1];
  const char *dir = argv[2];
  long n = atol(argv[3]);
  char path[4096];
  snprintf(path, sizeof path, "%s/faultaround.%s.dat", dir, op);

  if (strcmp(op, "read") == 0 || strcmp(op, "hostread") == 0) {
    int fd;
    if (strcmp(op, "read") == 0) {
      fd = patterned(path, BIG, n);
    } else {
      snprintf(path, sizeof path, "%s/big.dat", dir);
      fd = open(path, O_RDONLY);
      if (fd < 0) die("open");
    }
    char *p = mmap(NULL, BIG, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    if (check_read(p, n, op)) return 1;
  } else if (strcmp(op, "write") == 0) {
    int fd = patterned(path, SMALL, SMALL / PG);
    char *p = mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    for (long i = 0; i < n; i++) p[i * PG + 8] = 'w';
    for (long i = 0; i < SMALL / PG; i++) {
      uint64_t v;
      char c;
      memcpy(&v, p + i * PG, sizeof v);
      if (v != (uint64_t)(0x1000 + i) || p[i * PG + 8] != (i < n ? 'w' : 0)) {
        printf("write: page %ld wrong in the mapping\n", i);
        return 1;
      }
      if (pread(fd, &c, 1, i * PG + 8) != 1 || c != 0) {
        printf("write: a private write reached the file at page %ld\n", i);
        return 1;
      }
    }
  } else if (strcmp(op, "shared") == 0) {
    int fd = patterned(path, BIG, 0);
    char *p = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    for (long i = 0; i < n; i++) p[i * PG + 3] = (char)('a' + i % 26);
    for (long i = 0; i < n + 20 && i < BIG / PG; i++) {
      char c;
      if (pread(fd, &c, 1, i * PG + 3) != 1 || c != (i < n ? (char)('a' + i % 26) : 0)) {
        printf("shared: page %ld: the file does not hold the write\n", i);
        return 1;
      }
    }
  } else if (strcmp(op, "forkcow") == 0) {
    char *p = mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    for (long i = 0; i < SMALL / PG; i++) p[i * PG] = 'P';
    int a[2], b[2];
    if (pipe(a) < 0 || pipe(b) < 0) die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    char t;
    if (pid == 0) {
      for (long i = 0; i < n; i++) p[i * PG] = 'C';
      if (write(a[1], "x", 1) != 1 || read(b[0], &t, 1) != 1) _exit(3);
      for (long i = 0; i < SMALL / PG; i++) {
        if (p[i * PG] != (i < n ? 'C' : 'P')) _exit(4);
      }
      _exit(0);
    }
    if (read(a[0], &t, 1) != 1) die("read");
    for (long i = 0; i < SMALL / PG; i++) {
      if (p[i * PG] != 'P') {
        printf("forkcow: the child's write reached the parent at page %ld\n", i);
        return 1;
      }
    }
    for (long i = 0; i < n; i++) p[i * PG] = 'Q';
    if (write(b[1], "x", 1) != 1) die("write");
    int st;
    if (waitpid(pid, &st, 0) != pid) die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      printf("forkcow: child saw the wrong data (status %d)\n", st);
      return 1;
    }
    for (long i = 0; i < SMALL / PG; i++) {
      if (p[i * PG] != (i < n ? 'Q' : 'P')) {
        printf("forkcow: parent page %ld lost its write\n", i);
        return 1;
      }
    }
  } else if (strcmp(op, "bus") == 0) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) die("open");
    char data[5000];
    memset(data, 'd', sizeof data);
    if (write(fd, data, sizeof data) != (ssize_t)sizeof data) die("write");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_bus;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    for (int w = 0; w < 2; w++) {
      char *p = mmap(NULL, BIG, PROT_READ | (w ? PROT_WRITE : 0), MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) die("mmap");
      long offs[] = {4999, 5000, 8191, 8192, 16 * PG, 17 * PG + 5, BIG - 1};
      for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        int sig = touch(p + offs[i]);
        printf("bus %s: offset %ld: %s", w ? "rw" : "ro", offs[i], sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "ok");
        if (sig == 0) printf(" '%c'", p[offs[i]] ? p[offs[i]] : '0');
        printf("\n");
      }
      if (w) {
        p[10] = 'x';
        char c;
        if (pread(fd, &c, 1, 10) != 1 || c != 'd') printf("bus: a private write reached the file\n");
      }
      munmap(p, BIG);
    }
  } else {
    fprintf(stderr, "unknown op %s\n", op);
    return 2;
  }
  if (strcmp(op, "hostread") != 0) unlink(path);
  printf("ok %s\n", op);
  return 0;
}
