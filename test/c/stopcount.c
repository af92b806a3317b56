/* stopcount.c OP N: set up for OP, then do OP N times. The stop-count test
 * runs it with N=0 and N=1000 under `tsvisor do --stats` and divides the
 * difference of the platform's counters by 1000: the cost of one OP in
 * platform stops and extra host round trips, free of start-up noise.
 * Natively it just runs (and prints "ok OP"). */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void die(const char *what) {
  printf("%s: %s\n", what, ename(errno));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: stopcount OP N\n");
    return 2;
  }
  const char *op = argv[1];
  long n = atol(argv[2]);
  char buf[4096];
  struct timespec ts;
  struct stat st;

  if (strcmp(op, "getpid") == 0) {
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
  } else if (strcmp(op, "clock_gettime") == 0) {
    /* The raw syscall: the vDSO would not trap at all. */
    for (long i = 0; i < n; i++) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  } else if (strcmp(op, "clock_getres") == 0) {
    for (long i = 0; i < n; i++) syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts);
  } else if (strcmp(op, "pread") == 0 || strcmp(op, "pwrite") == 0) {
    int fd = open("/tmp/stopcount.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) die("open");
    memset(buf, 'x', sizeof buf);
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) die("write");
    int rd = strcmp(op, "pread") == 0;
    for (long i = 0; i < n; i++) {
      if ((rd ? pread(fd, buf, 512, 0) : pwrite(fd, buf, 512, 0)) != 512) die(op);
    }
  } else if (strcmp(op, "hostread") == 0) {
    /* A file of the host's root, read through the overlay's lower layer. */
    int fd = open("/etc/passwd", O_RDONLY);
    if (fd < 0) die("open");
    for (long i = 0; i < n; i++) {
      if (pread(fd, buf, 64, 0) < 0) die("pread");
    }
  } else if (strcmp(op, "pipe") == 0) {
    int p[2];
    if (pipe(p) < 0) die("pipe");
    for (long i = 0; i < n; i++) {
      if (write(p[1], buf, 64) != 64 || read(p[0], buf, 64) != 64) die("pipe io");
    }
  } else if (strcmp(op, "stat") == 0) {
    for (long i = 0; i < n; i++) {
      if (stat("/usr/bin", &st) < 0) die("stat");
    }
  } else if (strcmp(op, "fstat") == 0) {
    for (long i = 0; i < n; i++) {
      if (fstat(1, &st) < 0) die("fstat");
    }
  } else if (strcmp(op, "openat_close") == 0) {
    for (long i = 0; i < n; i++) {
      int fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY);
      if (fd < 0) die("openat");
      close(fd);
    }
  } else if (strcmp(op, "getdents64") == 0) {
    int fd = open("/etc", O_RDONLY | O_DIRECTORY);
    if (fd < 0) die("open");
    for (long i = 0; i < n; i++) {
      /* lseek + getdents64: two calls per round. */
      lseek(fd, 0, SEEK_SET);
      if (syscall(SYS_getdents64, fd, buf, sizeof buf) <= 0) die("getdents64");
    }
  } else if (strcmp(op, "mmap_munmap") == 0) {
    for (long i = 0; i < n; i++) {
      void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) die("mmap");
      munmap(p, 65536);
    }
  } else if (strcmp(op, "fault") == 0) {
    /* A mapping too large to be filled eagerly: each touch of a new 1 MiB
     * chunk is a fault. One mmap for all rounds, so only the faults count. */
    long chunk = 1 << 20;
    char *p = mmap(NULL, (n + 1) * chunk + (64L << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    for (long i = 0; i < n; i++) p[i * chunk] = 1;
  } else if (strcmp(op, "pipe_block") == 0) {
    /* Ping-pong with a child: each side blocks in read until the other writes. */
    int a[2], b[2];
    if (pipe(a) < 0 || pipe(b) < 0) die("pipe");
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) die("fork");
    if (c == 0) {
      for (long i = 0; i < n; i++) {
        if (read(a[0], buf, 1) != 1 || write(b[1], buf, 1) != 1) _exit(1);
      }
      _exit(0);
    }
    for (long i = 0; i < n; i++) {
      if (write(a[1], buf, 1) != 1 || read(b[0], buf, 1) != 1) die("ping");
    }
    int status;
    waitpid(c, &status, 0);
  } else if (strcmp(op, "forkexec") == 0 || strcmp(op, "forkexec_dyn") == 0) {
    /* fork, exec, wait, as a shell runs a command: the child execs this
     * (static) program with the op "exit", or the host's dynamic /bin/true
     * (its loader's mmaps, MAP_FIXED segments over a reservation, mprotects). */
    int dyn = strcmp(op, "forkexec_dyn") == 0;
    fflush(stdout);
    for (long i = 0; i < n; i++) {
      pid_t c = fork();
      if (c < 0) die("fork");
      if (c == 0) {
        if (dyn) execl("/bin/true", "true", (char *)NULL);
        else execl(argv[0], argv[0], "exit", "0", (char *)NULL);
        _exit(127);
      }
      int status;
      if (waitpid(c, &status, 0) != c || status != 0) die("child");
    }
  } else if (strcmp(op, "fixed_over") == 0) {
    /* What ld.so does per library: a reservation, then a segment MAP_FIXED
     * over part of it; then the whole is unmapped. */
    for (long i = 0; i < n; i++) {
      char *p = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) die("mmap");
      if (mmap(p + 16384, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p + 16384) die("mmap fixed");
      munmap(p, 65536);
    }
  } else if (strcmp(op, "exit") == 0) {
    return 0;
  } else {
    fprintf(stderr, "unknown op %s\n", op);
    return 2;
  }
  printf("ok %s\n", op);
  return 0;
}
