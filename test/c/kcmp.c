/* kcmp: which kernel objects two processes share (open files across dup and
 * fork, the address space, fd table, fs context and signal handlers after
 * clone with and without the sharing flags, the I/O context, the System V
 * undo list, a file in an epoll set), that the order is antisymmetric, and
 * the errors: an unknown type (EINVAL), no such pid (ESRCH), a closed fd
 * (EBADF), a bad epoll slot (EFAULT, EINVAL, ENOENT), another user's process
 * (EPERM). Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define KCMP_FILE 0
#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4
#define KCMP_IO 5
#define KCMP_SYSVSEM 6
#define KCMP_EPOLL_TFD 7

struct slot {
  uint32_t efd, tfd, toff;
};

static long kcmp(pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2) {
  long r = syscall(SYS_kcmp, a, b, type, i1, i2);
  return r < 0 ? -errno : r;
}

/* "same", "differ" (and whether the reverse order says the opposite), or the error. */
static void show(const char *label, pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2) {
  long r = kcmp(a, b, type, i1, i2);
  if (r < 0) {
    printf("%s: %s\n", label, ename(-r));
  } else if (r == 0) {
    printf("%s: same\n", label);
  } else {
    long back = type == KCMP_EPOLL_TFD ? 3 - r : kcmp(b, a, type, i2, i1);
    printf("%s: differ, %s\n", label, r + back == 3 ? "antisymmetric" : "not antisymmetric");
  }
}

static const char *names[] = {"FILE", "VM", "FILES", "FS", "SIGHAND", "IO", "SYSVSEM"};
static pid_t parent;
static int go[2];

/* A child made by clone(flags) that compares itself with its parent, then waits to be told to exit. */
static int child(void *arg) {
  int flags = *(int *)arg;
  char label[64];
  for (int type = KCMP_VM; type <= KCMP_SYSVSEM; type++) {
    snprintf(label, sizeof label, "flags %#x: %s", flags, names[type]);
    show(label, parent, getpid(), type, 0, 0);
  }
  return 0;
}

static void cloned(int flags) {
  static char stack[256 * 1024];
  fflush(stdout);
  pid_t c = clone(child, stack + sizeof stack, flags | SIGCHLD, &flags);
  if (c < 0) {
    printf("clone %#x: %s\n", flags, ename(errno));
    return;
  }
  waitpid(c, NULL, __WALL);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  parent = getpid();
  pid_t me = getpid();
  int fd = open("/proc/self/stat", O_RDONLY);
  int again = open("/proc/self/stat", O_RDONLY);
  int dupd = dup(fd);
  int path = open("/", O_PATH);
  show("file with itself", me, me, KCMP_FILE, fd, fd);
  show("file with its dup", me, me, KCMP_FILE, fd, dupd);
  show("file opened twice", me, me, KCMP_FILE, fd, again);
  show("O_PATH file", me, me, KCMP_FILE, path, path);
  show("closed fd", me, me, KCMP_FILE, fd, 999);
  show("negative fd", me, me, KCMP_FILE, (unsigned long)-1, fd);
  show("type -1", me, me, -1, 0, 0);
  show("type 8", me, me, 8, 0, 0);
  show("type INT_MAX", me, me, 0x7fffffff, 0, 0);
  show("no such pid", me, 0x3ffff0, KCMP_VM, 0, 0);
  show("pid 0", 0, me, KCMP_VM, 0, 0);
  for (int type = KCMP_VM; type <= KCMP_SYSVSEM; type++) show(names[type], me, me, type, 0, 0);

  /* A forked child: the inherited description is the same, its own open is not. */
  int ready[2];
  char rb;
  pipe(go);
  pipe(ready);
  pid_t c = fork();
  if (c == 0) {
    char b;
    int mine = open("/proc/self/stat", O_RDONLY);
    dup2(mine, 100);
    write(ready[1], "x", 1);
    read(go[0], &b, 1);
    _exit(0);
  }
  /* Once the child has its own file at 100. */
  read(ready[0], &rb, 1);
  show("inherited file", me, c, KCMP_FILE, fd, fd);
  show("child's own file", me, c, KCMP_FILE, fd, 100);
  for (int type = KCMP_VM; type <= KCMP_SYSVSEM; type++) {
    char label[64];
    snprintf(label, sizeof label, "fork: %s", names[type]);
    show(label, me, c, type, 0, 0);
  }
  write(go[1], "x", 1);
  waitpid(c, NULL, 0);

  cloned(CLONE_VM);
  cloned(CLONE_FILES);
  cloned(CLONE_FS);
  cloned(CLONE_VM | CLONE_SIGHAND);
  cloned(CLONE_IO);
  cloned(CLONE_SYSVSEM);

  /* epoll: the registered file against fd, by (efd, tfd, toff). */
  int ep = epoll_create1(0);
  struct epoll_event ev = {EPOLLIN, {0}};
  int pp[2];
  pipe(pp);
  epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev);
  struct slot s = {ep, pp[0], 0};
  show("epoll target", me, me, KCMP_EPOLL_TFD, pp[0], (unsigned long)&s);
  show("epoll target against another file", me, me, KCMP_EPOLL_TFD, fd, (unsigned long)&s);
  s.toff = 1;
  show("epoll second entry", me, me, KCMP_EPOLL_TFD, pp[0], (unsigned long)&s);
  s.toff = 0;
  s.tfd = pp[1];
  show("epoll fd not registered", me, me, KCMP_EPOLL_TFD, pp[0], (unsigned long)&s);
  s.efd = fd;
  show("epoll slot names no epoll", me, me, KCMP_EPOLL_TFD, pp[0], (unsigned long)&s);
  s.efd = 999;
  show("epoll slot names a closed fd", me, me, KCMP_EPOLL_TFD, pp[0], (unsigned long)&s);
  show("epoll slot unmapped", me, me, KCMP_EPOLL_TFD, pp[0], 8);
  show("epoll slot NULL", me, me, KCMP_EPOLL_TFD, pp[0], 0);

  /* Another user may not compare root's process (nor root compare across... it may). */
  c = fork();
  if (c == 0) {
    if (setresuid(1000, 1000, 1000) < 0) _exit(1);
    show("unprivileged child about root parent", parent, getpid(), KCMP_VM, 0, 0);
    show("unprivileged child about itself", getpid(), getpid(), KCMP_VM, 0, 0);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf("done\n");
  return 0;
}
