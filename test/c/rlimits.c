/* rlimits: each limit enforced where Linux enforces it. RLIMIT_FSIZE on
 * write/pwrite/writev/truncate/ftruncate/fallocate (SIGXFSZ, EFBIG when it is
 * ignored or caught, short writes up to the limit); RLIMIT_NOFILE on
 * open/dup/dup2/dup3/F_DUPFD; RLIMIT_AS and RLIMIT_DATA on mmap/brk/mremap;
 * RLIMIT_NPROC on fork for a non-root user; raising a hard limit needs
 * CAP_SYS_RESOURCE. Run as root (natively too). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static volatile int xfsz;
static void on_xfsz(int s) { (void)s; xfsz++; }
#define R(label, expr)                                                         \
  do {                                                                         \
    errno = 0;                                                                 \
    long r_ = (long)(expr);                                                    \
    if (r_ < 0) printf("  %s: %s\n", (label), ename(errno));                  \
    else printf("  %s: %ld\n", (label), r_);                                   \
  } while (0)

static long fsize(int fd) { return lseek(fd, 0, SEEK_END); }

static void fsize_tests(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/big", dir);
  static char buf[10000];
  memset(buf, 'a', sizeof buf);
  struct rlimit lim = {4096, RLIM_INFINITY};
  setrlimit(RLIMIT_FSIZE, &lim);
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) DIE("open");
  signal(SIGXFSZ, on_xfsz);
  printf("RLIMIT_FSIZE 4096, SIGXFSZ caught\n");
  R("write 3000", write(fd, buf, 3000));
  R("write 3000 (short)", write(fd, buf, 3000));
  R("write at the limit", write(fd, buf, 1));
  printf("  SIGXFSZ %d\n", xfsz);
  R("write 0 at the limit", write(fd, buf, 0));
  printf("  SIGXFSZ %d\n", xfsz);
  R("pwrite at 4000", pwrite(fd, buf, 500, 4000));
  R("pwrite at 5000", pwrite(fd, buf, 10, 5000));
  struct iovec iov[2] = {{buf, 50}, {buf, 50}};
  R("pwritev at 4050", pwritev(fd, iov, 2, 4050));
  R("ftruncate 4096", ftruncate(fd, 4096));
  R("ftruncate 4097", ftruncate(fd, 4097));
  R("ftruncate 100", ftruncate(fd, 100));
  R("ftruncate 5000 after shrinking", ftruncate(fd, 5000));
  R("truncate 8192", truncate(path, 8192));
  R("fallocate 0..8192", fallocate(fd, 0, 0, 8192));
  R("fallocate KEEP_SIZE 0..8192", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8192));
  R("fallocate 0..4096", fallocate(fd, 0, 0, 4096));
  printf("  size %ld SIGXFSZ %d\n", fsize(fd), xfsz);
  int afd = open(path, O_WRONLY | O_APPEND);
  R("append at the limit", write(afd, buf, 10));
  R("pwrite at 0 with O_APPEND", pwrite(afd, buf, 10, 0));
  close(afd);
  printf("  SIGXFSZ %d\n", xfsz);
  signal(SIGXFSZ, SIG_IGN);
  printf("SIGXFSZ ignored\n");
  R("write at the limit", write(fd, buf, 1));
  R("ftruncate 8192", ftruncate(fd, 8192));
  printf("  SIGXFSZ %d\n", xfsz);
  signal(SIGXFSZ, SIG_DFL);
  pid_t p = xfork();
  if (p == 0) {
    write(fd, buf, 1);
    printf("  not reached\n");
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  printf("default action: %s %d\n", WIFSIGNALED(st) ? "killed by" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  close(fd);
  lim.rlim_cur = RLIM_INFINITY;
  setrlimit(RLIMIT_FSIZE, &lim);
}

static void nofile_tests(const char *dir) {
  struct rlimit lim = {20, 4096};
  setrlimit(RLIMIT_NOFILE, &lim);
  printf("RLIMIT_NOFILE 20\n");
  R("dup2 to 19", dup2(0, 19));
  R("dup2 to 20", dup2(0, 20));
  R("dup3 to 20", dup3(0, 20, O_CLOEXEC));
  R("F_DUPFD 20", fcntl(0, F_DUPFD, 20));
  R("F_DUPFD_CLOEXEC 19", fcntl(0, F_DUPFD_CLOEXEC, 19));
  int last = -1, fd;
  while ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) last = fd;
  printf("  open stopped: %s, last %d\n", ename(errno), last);
  R("dup when full", dup(0));
  R("F_DUPFD when full", fcntl(0, F_DUPFD, 3));
  int pfd[2];
  R("pipe when full", pipe(pfd));
  close(last);
  R("pipe with one slot", pipe(pfd));
  R("dup2 onto an open fd when full", dup2(0, 5));
  for (fd = 3; fd < 20; fd++) close(fd);
  lim.rlim_cur = 1024;
  setrlimit(RLIMIT_NOFILE, &lim);
}

static void mem_tests(void) {
  pid_t p = xfork();
  if (p == 0) {
    struct rlimit lim = {1ul << 30, 1ul << 30};
    printf("RLIMIT_AS 1 GiB\n");
    R("setrlimit", setrlimit(RLIMIT_AS, &lim));
    void *m = mmap(NULL, 2ul << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    printf("  mmap 2 GiB: %s\n", m == MAP_FAILED ? ename(errno) : "OK");
    m = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("  mmap 64 MiB: %s\n", m == MAP_FAILED ? ename(errno) : "OK");
    void *r = mremap(m, 64 << 20, 1500ul << 20, MREMAP_MAYMOVE);
    printf("  mremap to 1.5 GiB: %s\n", r == MAP_FAILED ? ename(errno) : "OK");
    r = mremap(m, 64 << 20, 128 << 20, MREMAP_MAYMOVE);
    printf("  mremap to 128 MiB: %s\n", r == MAP_FAILED ? ename(errno) : "OK");
    void *b = sbrk(0);
    printf("  brk +1.5 GiB: %s\n", brk((char *)b + (1500ul << 20)) < 0 ? ename(errno) : "OK");
    printf("  brk +1 MiB: %s\n", brk((char *)b + (1 << 20)) < 0 ? ename(errno) : "OK");
    _exit(0);
  }
  waitpid(p, NULL, 0);
  p = xfork();
  if (p == 0) {
    struct rlimit lim = {32 << 20, 32 << 20};
    printf("RLIMIT_DATA 32 MiB\n");
    R("setrlimit", setrlimit(RLIMIT_DATA, &lim));
    void *m = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("  mmap 64 MiB private writable: %s\n", m == MAP_FAILED ? ename(errno) : "OK");
    m = mmap(NULL, 64 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("  mmap 64 MiB read-only: %s\n", m == MAP_FAILED ? ename(errno) : "OK");
    void *s = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("  mmap 64 MiB shared: %s\n", s == MAP_FAILED ? ename(errno) : "OK");
    printf("  mprotect the read-only one writable: %s\n", mprotect(m, 64 << 20, PROT_READ | PROT_WRITE) < 0 ? ename(errno) : "OK");
    void *w = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("  mmap 4 MiB private writable: %s\n", w == MAP_FAILED ? ename(errno) : "OK");
    void *r = mremap(w, 4 << 20, 64 << 20, MREMAP_MAYMOVE);
    printf("  mremap it to 64 MiB: %s\n", r == MAP_FAILED ? ename(errno) : "OK");
    void *b = sbrk(0);
    printf("  brk +64 MiB: %s\n", brk((char *)b + (64 << 20)) < 0 ? ename(errno) : "OK");
    printf("  brk +1 MiB: %s\n", brk((char *)b + (1 << 20)) < 0 ? ename(errno) : "OK");
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static void nproc_tests(void) {
  pid_t p = xfork();
  if (p == 0) {
    struct rlimit lim = {2, 2};
    printf("RLIMIT_NPROC 2 as uid 54321\n");
    R("setrlimit", setrlimit(RLIMIT_NPROC, &lim));
    pid_t q = xfork();
    if (q == 0) _exit(0);
    waitpid(q, NULL, 0);
    printf("  root forks past it: %s\n", q < 0 ? ename(errno) : "OK");
    if (setresgid(54321, 54321, 54321) < 0 || setresuid(54321, 54321, 54321) < 0) DIE("setresuid");
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) {
      char c;
      read(pfd[0], &c, 1);
      _exit(0);
    }
    printf("  first fork: %s\n", a < 0 ? ename(errno) : "OK");
    fflush(stdout);
    pid_t b = fork();
    if (b == 0) _exit(0);
    printf("  second fork: %s\n", b < 0 ? ename(errno) : "OK");
    if (b > 0) waitpid(b, NULL, 0);
    write(pfd[1], "x", 1);
    waitpid(a, NULL, 0);
    fflush(stdout);
    b = fork();
    if (b == 0) _exit(0);
    printf("  fork after the first exited: %s\n", b < 0 ? ename(errno) : "OK");
    if (b > 0) waitpid(b, NULL, 0);
    fflush(stdout);
    pid_t z = fork();
    if (z == 0) _exit(0);
    siginfo_t si;
    waitid(P_PID, z, &si, WEXITED | WNOWAIT);
    fflush(stdout);
    b = fork();
    if (b == 0) _exit(0);
    printf("  fork while a zombie is unreaped: %s\n", b < 0 ? ename(errno) : "OK");
    if (b > 0) waitpid(b, NULL, 0);
    waitpid(z, NULL, 0);
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static void hard_tests(void) {
  pid_t p = xfork();
  if (p == 0) {
    struct rlimit lim = {100, 200};
    printf("hard limits\n");
    R("lower NOFILE to 100/200", setrlimit(RLIMIT_NOFILE, &lim));
    lim.rlim_cur = 200;
    R("raise soft to hard", setrlimit(RLIMIT_NOFILE, &lim));
    lim.rlim_cur = 201;
    R("soft above hard", setrlimit(RLIMIT_NOFILE, &lim));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
    R("drop CAP_SYS_RESOURCE", syscall(SYS_capset, &h, d));
    lim.rlim_cur = 100;
    lim.rlim_max = 400;
    R("raise hard without it", setrlimit(RLIMIT_NOFILE, &lim));
    struct rlimit n = {1ul << 20, 1ul << 20};
    R("prlimit raise hard", prlimit(0, RLIMIT_NOFILE, &n, NULL));
    lim.rlim_max = 150;
    R("lower hard", setrlimit(RLIMIT_NOFILE, &lim));
    lim.rlim_max = 200;
    R("raise it back", setrlimit(RLIMIT_NOFILE, &lim));
    struct rlimit got;
    getrlimit(RLIMIT_NOFILE, &got);
    printf("  now %lu/%lu\n", (unsigned long)got.rlim_cur, (unsigned long)got.rlim_max);
    struct rlimit f = {1 << 20, 1 << 20};
    R("lower FSIZE hard", setrlimit(RLIMIT_FSIZE, &f));
    if (setresuid(1000, 1000, 1000) < 0) DIE("setresuid");
    f.rlim_max = 2 << 20;
    R("uid 1000 raises FSIZE hard", setrlimit(RLIMIT_FSIZE, &f));
    f.rlim_max = 1 << 19;
    f.rlim_cur = 1 << 19;
    R("uid 1000 lowers it", setrlimit(RLIMIT_FSIZE, &f));
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc < 2 || geteuid() != 0) return 2;
  line_buffered();
  fsize_tests(argv[1]);
  nofile_tests(argv[1]);
  mem_tests();
  nproc_tests();
  hard_tests();
  printf("done\n");
  return 0;
}
