/* uffdhostile: userfaultfd used against the kernel that serves it. Many
 * ranges registered one by one, a huge registered range (64 GiB, one page
 * served), processes that leave a task blocked in a fault and exit, a task
 * blocked in a fault (its own, or a read(2) into a missing page) killed by
 * SIGKILL and by SIGTERM, and a blocked fault whose userfaultfd is closed
 * by another process sharing it. Every case must end, and the same way as
 * natively. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PG 4096

static int new_uffd(void) {
  int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
  struct uffdio_api a = {.api = UFFD_API};
  if (fd < 0 || ioctl(fd, UFFDIO_API, &a) < 0) {
    printf("uffd: %s\n", ename(errno));
    exit(1);
  }
  return fd;
}

static int reg(int fd, void *start, uint64_t len) {
  struct uffdio_register r = {.range = {.start = (uintptr_t)start, .len = len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  return ioctl(fd, UFFDIO_REGISTER, &r);
}

static void *touch(void *arg) {
  return (void *)(intptr_t) * (volatile char *)arg;
}

static char *page(void) {
  return mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void report(const char *what, int st) {
  if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", what, WTERMSIG(st));
  else printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

/* A child blocks in a fault (mode 0: its own touch, 1: a read(2) into the page) and is sent sig. */
static void blocked_then_signalled(int mode, int sig, const char *what) {
  int ready[2];
  if (pipe(ready) < 0) exit(1);
  pid_t c = fork();
  if (c == 0) {
    int fd = new_uffd();
    char *p = page();
    reg(fd, p, PG);
    int data[2];
    if (pipe(data) < 0 || write(data[1], "x", 1) != 1) _exit(2);
    if (write(ready[1], "r", 1) != 1) _exit(2);
    if (mode == 0) touch(p);
    else if (read(data[0], p, 1) < 0) _exit(3);
    _exit(4);
  }
  char b;
  if (read(ready[0], &b, 1) != 1) exit(1);
  usleep(100000); /* let it reach the fault; killing it earlier ends the same way */
  kill(c, sig);
  int st;
  waitpid(c, &st, 0);
  report(what, st);
  close(ready[0]);
  close(ready[1]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int fd = new_uffd();

  /* Many ranges, one by one (they stay separate: every other page is left out). */
  char *many = mmap(NULL, 4000 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int ok = 0;
  for (int i = 0; i < 2000; i++) ok += reg(fd, many + 2 * i * PG, PG) == 0;
  printf("registered %d ranges\n", ok);
  struct uffdio_range all = {.start = (uintptr_t)many, .len = 4000 * PG};
  printf("unregister them all: %s\n", ioctl(fd, UFFDIO_UNREGISTER, &all) == 0 ? "OK" : ename(errno));
  many[0] = 1;
  printf("a page of them after: %d\n", many[0]);
  munmap(many, 4000 * PG);

  /* A huge range: 64 GiB registered, one page served far into it. */
  size_t huge = 64ULL << 30;
  char *h = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  printf("register 64 GiB: %s\n", reg(fd, h, huge) == 0 ? "OK" : ename(errno));
  pthread_t th;
  char *far = h + (40ULL << 30) + 123 * PG;
  pthread_create(&th, NULL, touch, far);
  struct uffd_msg m;
  if (read(fd, &m, sizeof m) != sizeof m) exit(1);
  printf("fault at page %llu of it\n", (unsigned long long)((m.arg.pagefault.address - (uintptr_t)h) / PG));
  char src[PG];
  memset(src, 'h', PG);
  struct uffdio_copy c = {.dst = (uintptr_t)far, .src = (uintptr_t)src, .len = PG};
  printf("copy: %s\n", ioctl(fd, UFFDIO_COPY, &c) == 0 ? "OK" : ename(errno));
  void *ret;
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);
  struct uffdio_zeropage z = {.range = {.start = (uintptr_t)h, .len = huge}};
  printf("zeropage over 64 GiB: %s\n", ioctl(fd, UFFDIO_ZEROPAGE, &z) == 0 ? "OK" : ename(errno));
  munmap(h, huge);

  /* Processes that exit with a task blocked in a fault nobody serves. */
  for (int i = 0; i < 3; i++) {
    pid_t p = fork();
    if (p == 0) {
      int f = new_uffd();
      char *pg = page();
      reg(f, pg, PG);
      pthread_t t;
      pthread_create(&t, NULL, touch, pg);
      usleep(20000);
      exit(i);
    }
    int st;
    waitpid(p, &st, 0);
    report("exit with a blocked thread", st);
  }

  blocked_then_signalled(0, SIGKILL, "blocked in its own fault, SIGKILL");
  blocked_then_signalled(0, SIGTERM, "blocked in its own fault, SIGTERM");
  blocked_then_signalled(1, SIGKILL, "blocked in read(2), SIGKILL");

  /* A userfaultfd shared with a child: the child's close is not the last; the parent's is. */
  char *sh = page();
  int f2 = new_uffd();
  reg(f2, sh, PG);
  pid_t p = fork();
  if (p == 0) {
    close(f2);
    _exit(0);
  }
  waitpid(p, NULL, 0);
  pthread_create(&th, NULL, touch, sh);
  if (read(f2, &m, sizeof m) != sizeof m) exit(1);
  close(f2);
  pthread_join(th, &ret);
  printf("after the last close the thread read %d\n", (int)(intptr_t)ret);
  printf("done\n");
  return 0;
}
