/* uffdevents: userfaultfd's non-cooperative side and UFFDIO_MOVE. The
 * events (UFFD_FEATURE_EVENT_REMOVE for MADV_DONTNEED, EVENT_UNMAP for
 * munmap, EVENT_REMAP for mremap, the range registered still at its new
 * place, EVENT_FORK with a new descriptor for the child's context), the
 * acting task waiting until the monitor read its event, a task waiting on
 * a monitor that never reads killed by SIGKILL, a fork event read with a
 * full descriptor table; UFFDIO_MOVE of private anonymous pages with its
 * errors (EEXIST, ENOENT, ALLOW_SRC_HOLES, EBUSY for a page shared with a
 * fork child, EINVAL for misalignment, overlap, a shared or unregistered
 * destination), a partial move (EAGAIN), and a fault served by a move.
 * Write protection of shared memory (shared anonymous, memfd). Hostile: a
 * task whose call causes several events has one queued at a time; moves
 * racing an munmap of their source. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef UFFDIO_MOVE /* Linux 6.8; older headers lack it */
struct uffdio_move {
  __u64 dst;
  __u64 src;
  __u64 len;
  __u64 mode;
  __s64 move;
};
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
#define _UFFDIO_MOVE 0x05
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

#define PG 4096

/* Non-blocking, so that poll(2) tells whether a message waits (a blocking userfaultfd always polls as an error). */
static int newuffd(uint64_t features) {
  int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    printf("userfaultfd: %s\n", ename(errno));
    exit(1);
  }
  struct uffdio_api a = {.api = UFFD_API, .features = features};
  if (ioctl(fd, UFFDIO_API, &a) < 0) {
    printf("UFFDIO_API: %s\n", ename(errno));
    exit(1);
  }
  return fd;
}

/* read(2) of a non-blocking userfaultfd, waiting in poll(2) first. */
static long rd(int fd, void *buf, size_t len) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  poll(&p, 1, -1);
  return read(fd, buf, len);
}

static int reg(int fd, void *start, uint64_t len) {
  struct uffdio_register r = {.range = {.start = (uintptr_t)start, .len = len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  return ioctl(fd, UFFDIO_REGISTER, &r);
}

static char *anon(size_t len) {
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(2);
  return p;
}

/* The monitor: a thread that reads mon_want messages, saying first that it is about to. */
static int mon_fd, mon_want, mon_got;
static volatile int mon_reading;
static struct uffd_msg mon_msgs[4];
static struct uffd_msg mon_msg;
static long mon_ret;

/* Set: whether the fork child ran before its event was read (it writes here first thing). */
static int mon_check_fd = -1;
static int mon_child_ran;
/* Set: a byte the monitor reads before it reads the event (the removal has not dropped it yet). */
static volatile char *mon_peek;
static char mon_peeked;

static void *monitor(void *arg) {
  (void)arg;
  usleep(100000);
  if (mon_check_fd >= 0) {
    struct pollfd p = {.fd = mon_check_fd, .events = POLLIN};
    mon_child_ran = poll(&p, 1, 0) == 1;
  }
  if (mon_peek != NULL) mon_peeked = *mon_peek;
  mon_reading = 1;
  for (mon_got = 0; mon_got < mon_want; mon_got++) {
    mon_ret = rd(mon_fd, &mon_msgs[mon_got], sizeof mon_msg);
    if (mon_ret < 0) {
      mon_ret = -errno;
      break;
    }
  }
  mon_msg = mon_msgs[0];
  return NULL;
}

static pthread_t start_monitor_n(int fd, int n) {
  pthread_t th;
  mon_fd = fd;
  mon_want = n;
  mon_reading = 0;
  memset(mon_msgs, 0, sizeof mon_msgs);
  pthread_create(&th, NULL, monitor, NULL);
  return th;
}

static pthread_t start_monitor(int fd) { return start_monitor_n(fd, 1); }

static const char *evname(int e) {
  switch (e) {
  case UFFD_EVENT_PAGEFAULT: return "PAGEFAULT";
  case UFFD_EVENT_FORK: return "FORK";
  case UFFD_EVENT_REMAP: return "REMAP";
  case UFFD_EVENT_REMOVE: return "REMOVE";
  case UFFD_EVENT_UNMAP: return "UNMAP";
  }
  return "?";
}

/* Join the monitor and print its messages, addresses relative to base. */
static void end_monitor(pthread_t th, const char *what, char *base, int waited) {
  pthread_join(th, NULL);
  for (int i = 0; i < mon_got; i++) {
    struct uffd_msg *m = &mon_msgs[i];
    printf("%s: event %s", what, evname(m->event));
    switch (m->event) {
    case UFFD_EVENT_REMOVE:
    case UFFD_EVENT_UNMAP:
      printf(" start +%ld end +%ld", (long)((char *)(uintptr_t)m->arg.remove.start - base), (long)((char *)(uintptr_t)m->arg.remove.end - base));
      break;
    case UFFD_EVENT_REMAP:
      printf(" from +%ld len %llu", (long)((char *)(uintptr_t)m->arg.remap.from - base), (unsigned long long)m->arg.remap.len);
      break;
    case UFFD_EVENT_PAGEFAULT:
      printf(" at +%ld", (long)((char *)(uintptr_t)m->arg.pagefault.address - base));
      break;
    }
    printf("\n");
  }
  if (mon_got < mon_want) printf("%s: read %s\n", what, ename(-mon_ret));
  printf("%s: acting task waited: %s\n", what, waited ? "yes" : "no");
}

/* Whether a message is ready without blocking. */
static int ready(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_api(void) {
  int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
  struct uffdio_api a = {.api = UFFD_API, .features = 0};
  ioctl(fd, UFFDIO_API, &a);
  uint64_t ev = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_MOVE;
  printf("api: event and move features offered: %s\n", (a.features & ev) == ev ? "yes" : "no");
  printf("api: MOVE ioctl offered: %s\n", a.ioctls & (1ULL << _UFFDIO_MOVE) ? "yes" : "no");
  close(fd);
}

static void test_remove(void) {
  int fd = newuffd(UFFD_FEATURE_EVENT_REMOVE);
  char *a = anon(8 * PG);
  a[2 * PG] = 'D';
  printf("remove: register %s\n", ename(reg(fd, a, 8 * PG) ? errno : 0));
  mon_peek = a + 2 * PG;
  pthread_t th = start_monitor(fd);
  int r = madvise(a + 2 * PG, 3 * PG, MADV_DONTNEED);
  int waited = mon_reading;
  printf("remove: madvise %s\n", ename(r ? errno : 0));
  end_monitor(th, "remove", a, waited);
  mon_peek = NULL;
  printf("remove: the page before the event was read: '%c'\n", mon_peeked);
  unsigned char vec = 9;
  mincore(a + 2 * PG, PG, &vec);
  printf("remove: resident once madvise returned: %d\n", vec & 1);
  /* Across two VMAs (mprotect splits the range): one event each. */
  mprotect(a + 4 * PG, PG, PROT_READ);
  th = start_monitor_n(fd, 3);
  r = madvise(a + 3 * PG, 3 * PG, MADV_DONTNEED);
  waited = mon_reading;
  end_monitor(th, "remove split", a, waited);
  printf("remove: more ready: %d\n", ready(fd));
  /* Outside the registered range: no event. */
  char *b = anon(PG);
  madvise(b, PG, MADV_DONTNEED);
  printf("remove: unregistered ready: %d\n", ready(fd));
  close(fd);
  munmap(a, 8 * PG);
  munmap(b, PG);
}

static void test_unmap(void) {
  int fd = newuffd(UFFD_FEATURE_EVENT_UNMAP);
  char *a = anon(8 * PG);
  reg(fd, a, 4 * PG);
  pthread_t th = start_monitor(fd);
  /* The range spans a registered and an unregistered part: one event, the whole range. */
  int r = munmap(a + 2 * PG, 4 * PG);
  int waited = mon_reading;
  printf("unmap: munmap %s\n", ename(r ? errno : 0));
  end_monitor(th, "unmap", a, waited);
  printf("unmap: more ready: %d\n", ready(fd));
  /* A MAP_FIXED mapping over a registered range unmaps it. */
  th = start_monitor(fd);
  mmap(a, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  waited = mon_reading;
  end_monitor(th, "unmap by MAP_FIXED", a, waited);
  /* Without the feature, nothing. */
  int fd2 = newuffd(0);
  char *c = anon(2 * PG);
  reg(fd2, c, 2 * PG);
  munmap(c, 2 * PG);
  printf("unmap: without feature ready: %d\n", ready(fd2));
  close(fd);
  close(fd2);
  munmap(a, 8 * PG);
}

static void test_remap(void) {
  int fd = newuffd(UFFD_FEATURE_EVENT_REMAP);
  char *a = anon(4 * PG);
  char *dst = anon(8 * PG);
  reg(fd, a, 4 * PG);
  pthread_t th = start_monitor(fd);
  char *n = mremap(a, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 2 * PG);
  int waited = mon_reading;
  printf("remap: mremap %s\n", n == MAP_FAILED ? ename(errno) : "OK");
  end_monitor(th, "remap", a, waited);
  printf("remap: to is the new place: %s\n", (char *)(uintptr_t)mon_msg.arg.remap.to == dst + 2 * PG ? "yes" : "no");
  printf("remap: more ready: %d\n", ready(fd));
  /* The moved range is still registered: a touch there is a fault message. */
  th = start_monitor(fd);
  pthread_t toucher;
  /* A zero-filled page from the monitor side: read the fault, then ZEROPAGE. */
  pthread_create(&toucher, NULL, (void *(*)(void *))(void *)strlen, n + PG);
  end_monitor(th, "remap touch", n, 1);
  struct uffdio_zeropage z = {.range = {.start = (uintptr_t)(n + PG), .len = PG}};
  printf("remap: zeropage %s\n", ename(ioctl(fd, UFFDIO_ZEROPAGE, &z) ? errno : 0));
  pthread_join(toucher, NULL);
  /* Without the feature the moved range loses its registration. */
  int fd2 = newuffd(0);
  char *b = anon(2 * PG);
  reg(fd2, b, 2 * PG);
  char *m = mremap(b, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
  printf("remap: without feature ready: %d, new range registered: %s\n", ready(fd2), reg(fd2, m, 2 * PG) == 0 ? "no (registers again)" : ename(errno));
  /* Both REMAP and UNMAP: the move's order of events. */
  int fd3 = newuffd(UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_UNMAP);
  char *c = anon(4 * PG);
  reg(fd3, c, 4 * PG);
  th = start_monitor_n(fd3, 2);
  char *k = mremap(c, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  end_monitor(th, "remap+unmap", c, 1);
  printf("remap+unmap: to is the new place: %s\n", (char *)(uintptr_t)mon_msgs[0].arg.remap.to == dst ? "yes" : "no");
  printf("remap+unmap: more ready: %d\n", ready(fd3));
  /* A shrink is an unmap of the tail. */
  th = start_monitor(fd3);
  mremap(k, 2 * PG, PG, 0);
  end_monitor(th, "remap shrink", k, 1);
  close(fd);
  close(fd2);
  close(fd3);
  munmap(n, 4 * PG);
  munmap(m, 4 * PG);
  munmap(c, 4 * PG);
  munmap(dst, 8 * PG);
}

static void test_fork(void) {
  int fd = newuffd(UFFD_FEATURE_EVENT_FORK);
  char *a = anon(4 * PG);
  a[0] = 'P';
  reg(fd, a, 4 * PG);
  int ran[2];
  pipe(ran);
  mon_check_fd = ran[0];
  pthread_t th = start_monitor(fd);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    write(ran[1], "r", 1);
    /* The child touches a missing page: its own context's message. */
    char c = a[PG];
    printf("fork child: read '%c'\n", c);
    fflush(stdout);
    _exit(0);
  }
  int waited = mon_reading;
  pthread_join(th, NULL);
  printf("fork: event %s, acting task waited: %s, child ran before the event was read: %s\n", evname(mon_msg.event), waited ? "yes" : "no", mon_child_ran ? "yes" : "no");
  mon_check_fd = -1;
  close(ran[0]);
  close(ran[1]);
  int cfd = mon_msg.arg.fork.ufd;
  printf("fork: new descriptor is a new one: %s, cloexec: %d\n", cfd > fd ? "yes" : "no", fcntl(cfd, F_GETFD) & FD_CLOEXEC);
  struct uffd_msg m;
  long n = rd(cfd, &m, sizeof m);
  printf("fork: child fault read %ld, event %s at +%ld\n", n, evname(m.event), (long)((char *)(uintptr_t)m.arg.pagefault.address - a));
  char src[PG];
  memset(src, 'C', PG);
  struct uffdio_copy cp = {.dst = (uintptr_t)(a + PG), .src = (uintptr_t)src, .len = PG};
  int cr = ioctl(cfd, UFFDIO_COPY, &cp) ? errno : 0;
  int st;
  waitpid(pid, &st, 0);
  printf("fork: copy on the child's context %s\n", ename(cr));
  printf("fork: child status %d\n", WEXITSTATUS(st));
  printf("fork: parent's page still missing: %d\n", ready(fd));
  close(cfd);
  close(fd);
  munmap(a, 4 * PG);
}

/* A monitor that reads with a full table first, then with room. */
static void *fulltable_monitor(void *arg) {
  int fd = (int)(intptr_t)arg;
  usleep(100000);
  struct rlimit old, lim;
  getrlimit(RLIMIT_NOFILE, &old);
  int top = dup(0);
  close(top);
  lim.rlim_cur = top;
  lim.rlim_max = old.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  struct uffd_msg m;
  long r = rd(fd, &m, sizeof m);
  printf("fork full table: first read %s\n", r < 0 ? ename(errno) : evname(m.event));
  setrlimit(RLIMIT_NOFILE, &old);
  r = rd(fd, &m, sizeof m);
  printf("fork full table: second read %s\n", r < 0 ? ename(errno) : evname(m.event));
  if (r > 0) close(m.arg.fork.ufd);
  return NULL;
}

static void test_fork_full(void) {
  int fd = newuffd(UFFD_FEATURE_EVENT_FORK);
  char *a = anon(2 * PG);
  reg(fd, a, 2 * PG);
  pthread_t th;
  pthread_create(&th, NULL, fulltable_monitor, (void *)(intptr_t)fd);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  pthread_join(th, NULL);
  waitpid(pid, NULL, 0);
  close(fd);
  munmap(a, 2 * PG);
}

/* A task waiting on a monitor that never reads: SIGKILL ends it, and so does a signal whose default action kills. */
static void test_kill_with(int sig) {
  int p[2];
  pipe(p);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = newuffd(UFFD_FEATURE_EVENT_UNMAP);
    char *a = anon(2 * PG);
    reg(fd, a, 2 * PG);
    write(p[1], "x", 1);
    munmap(a, 2 * PG);
    write(p[1], "y", 1);
    _exit(0);
  }
  char c;
  read(p[0], &c, 1);
  usleep(100000);
  kill(pid, sig);
  int st;
  waitpid(pid, &st, 0);
  close(p[1]);
  long n = read(p[0], &c, 1);
  printf("kill: child %s by %s, returned from munmap: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == sig ? "killed" : "not killed", sig == SIGKILL ? "SIGKILL" : "SIGTERM", n == 1 ? "yes" : "no");
  close(p[0]);
}

/* A signal with a handler does not end the wait: the monitor still reads the event, the handler runs after. */
static volatile int usr1_seen;
static void on_usr1(int sig) {
  (void)sig;
  usr1_seen = 1;
}
static int go_pipe[2], sig_fd;
static char sig_event[16];
static void *sig_monitor(void *arg) {
  (void)arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  char c;
  read(go_pipe[0], &c, 1);
  struct pollfd p = {.fd = sig_fd, .events = POLLIN};
  struct uffd_msg m;
  if (poll(&p, 1, 5000) == 1 && read(sig_fd, &m, sizeof m) == sizeof m) snprintf(sig_event, sizeof sig_event, "%s", evname(m.event));
  else snprintf(sig_event, sizeof sig_event, "none");
  return NULL;
}

static void test_signal_waits(void) {
  int ready[2];
  pipe(ready);
  pipe(go_pipe);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGUSR1, on_usr1);
    sig_fd = newuffd(UFFD_FEATURE_EVENT_UNMAP);
    char *a = anon(2 * PG);
    reg(sig_fd, a, 2 * PG);
    pthread_t th;
    pthread_create(&th, NULL, sig_monitor, NULL);
    write(ready[1], "x", 1);
    int r = munmap(a, 2 * PG);
    pthread_join(th, NULL);
    printf("signal: monitor read %s, munmap %s, handler ran %d\n", sig_event, ename(r ? errno : 0), usr1_seen);
    fflush(stdout);
    _exit(0);
  }
  char c;
  read(ready[0], &c, 1);
  usleep(100000);
  kill(pid, SIGUSR1);
  usleep(100000);
  write(go_pipe[1], "g", 1);
  waitpid(pid, NULL, 0);
  close(ready[0]);
  close(ready[1]);
  close(go_pipe[0]);
  close(go_pipe[1]);
}

static void test_kill(void) {
  test_kill_with(SIGKILL);
  test_kill_with(SIGTERM);
  test_signal_waits();
}

/* Closing the context ends the acting task's wait. */
static void *closer(void *arg) {
  usleep(100000);
  close((int)(intptr_t)arg);
  return NULL;
}

static void test_close(void) {
  int fd = newuffd(UFFD_FEATURE_EVENT_UNMAP);
  char *a = anon(2 * PG);
  reg(fd, a, 2 * PG);
  pthread_t th;
  pthread_create(&th, NULL, closer, (void *)(intptr_t)fd);
  printf("close: munmap %s\n", ename(munmap(a, 2 * PG) ? errno : 0));
  pthread_join(th, NULL);
}

static long do_move(int fd, void *dst, void *src, uint64_t len, uint64_t mode, long long *moved) {
  struct uffdio_move mv = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len, .mode = mode, .move = 12345};
  long r = ioctl(fd, UFFDIO_MOVE, &mv);
  if (moved) *moved = mv.move;
  return r < 0 ? -errno : 0;
}

static void show_move(const char *what, int fd, void *dst, void *src, uint64_t len, uint64_t mode) {
  long long moved;
  long r = do_move(fd, dst, src, len, mode, &moved);
  printf("move %s: %s, move %lld\n", what, ename(-r), moved);
}

static void test_move(void) {
  int fd = newuffd(UFFD_FEATURE_MOVE);
  char *src = anon(8 * PG);
  char *dst = anon(8 * PG);
  for (int i = 0; i < 4; i++) memset(src + i * PG, 'a' + i, PG);
  struct uffdio_register rg = {.range = {.start = (uintptr_t)dst, .len = 8 * PG}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  int rr = ioctl(fd, UFFDIO_REGISTER, &rg) ? errno : 0;
  printf("move: register %s, MOVE in its ioctls: %d\n", ename(rr), (int)!!(rg.ioctls & (1ULL << _UFFDIO_MOVE)));
  show_move("two pages", fd, dst, src, 2 * PG, 0);
  printf("move: dst '%c%c', src now '%d%d'\n", dst[0], dst[PG], src[0], src[PG]);
  show_move("onto present", fd, dst, src + 2 * PG, PG, 0);
  show_move("from a hole", fd, dst + 4 * PG, src + 5 * PG, PG, 0);
  show_move("from a hole allowed", fd, dst + 4 * PG, src + 5 * PG, PG, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES);
  show_move("partial", fd, dst + 2 * PG, src + 2 * PG, 4 * PG, 0);
  printf("move: dst '%c%c'\n", dst[2 * PG], dst[3 * PG]);
  show_move("misaligned", fd, dst + 6 * PG, src + 1, PG, 0);
  show_move("len 0", fd, dst + 6 * PG, src, 0, 0);
  show_move("bad mode", fd, dst + 6 * PG, src, PG, 4);
  show_move("unmapped src", fd, dst + 6 * PG, (char *)0x10000, PG, 0);
  /* The destination must be registered with this context. */
  char *plain = anon(2 * PG);
  src[6 * PG] = 'x';
  show_move("unregistered dst", fd, plain, src + 6 * PG, PG, 0);
  /* Overlapping ranges in one registered VMA. */
  char *o = anon(4 * PG);
  o[0] = 'o';
  reg(fd, o, 4 * PG);
  show_move("overlap", fd, o + PG, o, 2 * PG, 0);
  printf("move: overlap moved page by page: '%c'\n", o[2 * PG]);
  /* A shared source. */
  char *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sh[0] = 's';
  show_move("shared src", fd, dst + 6 * PG, sh, PG, 0);
  /* A page shared copy-on-write with a fork child: EBUSY (many pages, so that nothing copies them eagerly). */
  size_t big = 96 * PG;
  char *cow = anon(big);
  for (size_t i = 0; i < big; i += PG) cow[i] = 'w';
  int p[2];
  pipe(p);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    read(p[0], &c, 1);
    _exit(cow[0] == 'w' ? 0 : 1);
  }
  show_move("cow shared", fd, dst + 6 * PG, cow, PG, 0);
  write(p[1], "x", 1);
  int st;
  waitpid(pid, &st, 0);
  printf("move: child saw its own page: %d\n", WEXITSTATUS(st) == 0);
  /* Written once the child is gone, the page is the parent's alone again (unwritten, Linux still says EBUSY: not tested). */
  cow[0] = 'W';
  show_move("cow written after child exit", fd, dst + 6 * PG, cow, PG, 0);
  printf("move: dst '%c'\n", dst[6 * PG]);
  /* Without a writable source: EINVAL. */
  char *ro = anon(PG);
  ro[0] = 'r';
  mprotect(ro, PG, PROT_READ);
  show_move("read-only src", fd, dst + 7 * PG, ro, PG, 0);
  close(p[0]);
  close(p[1]);
  munmap(src, 8 * PG);
  munmap(dst, 8 * PG);
  munmap(plain, 2 * PG);
  munmap(o, 4 * PG);
  munmap(sh, PG);
  munmap(cow, big);
  munmap(ro, PG);
  close(fd);
}

/* The classic use: a thread faults, the handler moves a page in. */
static char *mv_area;
static void *mv_toucher(void *arg) {
  (void)arg;
  return (void *)(intptr_t)mv_area[3 * PG + 5];
}

static void test_move_fault(void) {
  int fd = newuffd(UFFD_FEATURE_MOVE);
  mv_area = anon(4 * PG);
  reg(fd, mv_area, 4 * PG);
  char *src = anon(PG);
  memset(src, 'm', PG);
  pthread_t th;
  pthread_create(&th, NULL, mv_toucher, NULL);
  struct uffd_msg m;
  long n = rd(fd, &m, sizeof m);
  printf("move fault: read %ld at +%ld\n", n, (long)((char *)(uintptr_t)m.arg.pagefault.address - mv_area));
  long long moved;
  long r = do_move(fd, (void *)(uintptr_t)m.arg.pagefault.address, src, PG, 0, &moved);
  void *ret;
  pthread_join(th, &ret);
  printf("move fault: move %s %lld, thread read '%c'\n", ename(-r), moved, (char)(intptr_t)ret);
  /* Without UFFD_FEATURE_MOVE asked for. */
  int fd2 = newuffd(0);
  char *d2 = anon(PG);
  reg(fd2, d2, PG);
  char *s2 = anon(PG);
  s2[0] = 'q';
  r = do_move(fd2, d2, s2, PG, 0, &moved);
  printf("move without feature: %s\n", ename(-r));
  close(fd);
  close(fd2);
}

/* While an event is unread the context's fills are EAGAIN (Linux's mmap_changing), whichever event it is. */
static char *chg_a, *chg_b;
static int chg_mode;
static void *chg_act(void *arg) {
  (void)arg;
  if (chg_mode == 0) munmap(chg_a + 3 * PG, PG);
  if (chg_mode == 1) madvise(chg_a + 3 * PG, PG, MADV_DONTNEED);
  if (chg_mode == 2) mremap(chg_a + 3 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, chg_b);
  if (chg_mode == 3) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
  }
  return NULL;
}

static void test_changing(void) {
  static const char *names[] = {"unmap", "remove", "remap", "fork"};
  uint64_t feats[] = {UFFD_FEATURE_EVENT_UNMAP, UFFD_FEATURE_EVENT_REMOVE, UFFD_FEATURE_EVENT_REMAP, UFFD_FEATURE_EVENT_FORK};
  for (chg_mode = 0; chg_mode < 4; chg_mode++) {
    int fd = newuffd(feats[chg_mode]);
    chg_a = anon(4 * PG);
    chg_b = anon(PG);
    reg(fd, chg_a, 4 * PG);
    pthread_t th;
    fflush(stdout);
    pthread_create(&th, NULL, chg_act, NULL);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, -1);
    char src[PG];
    memset(src, 'e', PG);
    struct uffdio_copy cp = {.dst = (uintptr_t)chg_a, .src = (uintptr_t)src, .len = PG};
    int r = ioctl(fd, UFFDIO_COPY, &cp);
    printf("changing (%s): copy with the event unread %s, copy %lld\n", names[chg_mode], ename(r ? errno : 0), (long long)cp.copy);
    struct uffdio_zeropage z = {.range = {.start = (uintptr_t)chg_a, .len = PG}};
    r = ioctl(fd, UFFDIO_ZEROPAGE, &z);
    printf("changing (%s): zeropage %s\n", names[chg_mode], ename(r ? errno : 0));
    struct uffd_msg m;
    rd(fd, &m, sizeof m);
    pthread_join(th, NULL);
    if (chg_mode == 3) close(m.arg.fork.ufd);
    r = ioctl(fd, UFFDIO_COPY, &cp);
    printf("changing (%s): copy once read %s, copy %lld, page '%c'\n", names[chg_mode], ename(r ? errno : 0), (long long)cp.copy, chg_a[0]);
    close(fd);
    munmap(chg_a, 4 * PG);
    munmap(chg_b, PG);
  }
}

/* A madvise over three registered VMAs: its events come one at a time (the next once the last was read). */
static void *dontneed3(void *arg) {
  madvise(arg, 3 * PG, MADV_DONTNEED);
  return NULL;
}

static void test_one_at_a_time(void) {
  int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE};
  ioctl(fd, UFFDIO_API, &api);
  char *a = anon(3 * PG);
  reg(fd, a, 3 * PG);
  mprotect(a + PG, PG, PROT_READ);
  pthread_t th;
  pthread_create(&th, NULL, dontneed3, a);
  int got = 0;
  for (int round = 0; round < 3; round++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, -1);
    struct uffd_msg m[8];
    long n = read(fd, m, sizeof m);
    got += n > 0 ? n / (long)sizeof m[0] : 0;
    printf("one at a time: round %d read %ld message(s)\n", round, n > 0 ? n / (long)sizeof m[0] : -1);
  }
  pthread_join(th, NULL);
  printf("one at a time: %d events\n", got);
  close(fd);
  munmap(a, 3 * PG);
}

/* A madvise over 2000 registered VMAs whose monitor reads 6 events and then no more: the task waits on the seventh (one note kept, not 2000 events) until SIGKILL. */
static int many_fd, many_pipe[2];
static void *many_monitor(void *arg) {
  (void)arg;
  struct uffd_msg m;
  int n = 0;
  for (int i = 0; i < 5; i++) n += rd(many_fd, &m, sizeof m) == sizeof m && m.event == UFFD_EVENT_REMOVE;
  /* The sixth comes once the fifth was read; then nothing reads the seventh. */
  n += rd(many_fd, &m, sizeof m) == sizeof m;
  char c = (char)n;
  write(many_pipe[1], &c, 1);
  return NULL;
}

static void test_many_vmas(void) {
  pipe(many_pipe);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    many_fd = newuffd(UFFD_FEATURE_EVENT_REMOVE);
    size_t len = 2000 * (size_t)PG;
    char *a = anon(len);
    reg(many_fd, a, len);
    for (size_t i = 1; i < 2000; i += 2) mprotect(a + i * PG, PG, PROT_READ);
    pthread_t th;
    pthread_create(&th, NULL, many_monitor, NULL);
    madvise(a, len, MADV_DONTNEED);
    _exit(0);
  }
  char c = 0;
  read(many_pipe[0], &c, 1);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  printf("many vmas: monitor read %d events, then the task waited on the next, child %s\n", c, WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed by SIGKILL" : "not killed");
  close(many_pipe[0]);
  close(many_pipe[1]);
}

/* Moves back and forth while another thread unmaps the source: each ends OK or ENOENT/EINVAL, nothing else. */
static char *race_a, *race_b;
static int race_fd;
static volatile int race_bad;
static void *mover(void *arg) {
  (void)arg;
  for (int i = 0; i < 400; i++) {
    long long moved;
    long r1 = do_move(race_fd, race_b, race_a, PG, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, &moved);
    long r2 = do_move(race_fd, race_a, race_b, PG, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, &moved);
    for (int k = 0; k < 2; k++) {
      long r = k ? r2 : r1;
      if (r != 0 && r != -ENOENT && r != -EEXIST && r != -EINVAL) race_bad = 1;
    }
  }
  return NULL;
}

static void test_move_race(void) {
  race_fd = newuffd(UFFD_FEATURE_MOVE);
  race_a = anon(PG);
  race_b = anon(PG);
  race_a[0] = 'r';
  reg(race_fd, race_a, PG);
  reg(race_fd, race_b, PG);
  pthread_t th;
  pthread_create(&th, NULL, mover, NULL);
  usleep(1000);
  munmap(race_a, PG);
  pthread_join(th, NULL);
  printf("move race: only OK, ENOENT, EEXIST or EINVAL: %s\n", race_bad ? "no" : "yes");
  close(race_fd);
  munmap(race_b, PG);
}

/* Write protection of shmem: a write waits with WRITE|WP, releasing the page wakes it; a read(2) into a protected page waits too. */
static char *wps_area;
static void *wps_writer(void *arg) {
  (void)arg;
  wps_area[PG] = 'W';
  return NULL;
}
static int wps_pipe[2];
static void *wps_reader(void *arg) {
  (void)arg;
  return (void *)(intptr_t)read(wps_pipe[0], wps_area + 2 * PG, 1);
}

static void test_wp_shmem_on(const char *what, char *area) {
  int fd = newuffd(0);
  wps_area = area;
  area[0] = 'x';
  area[PG] = 'y';
  area[2 * PG] = 'z';
  struct uffdio_register r = {.range = {.start = (uintptr_t)area, .len = 4 * PG}, .mode = UFFDIO_REGISTER_MODE_WP};
  int rr = ioctl(fd, UFFDIO_REGISTER, &r) ? errno : 0;
  printf("wp %s: register %s, WRITEPROTECT in its ioctls %d\n", what, ename(rr), (int)!!(r.ioctls & (1ULL << _UFFDIO_WRITEPROTECT)));
  struct uffdio_writeprotect w = {.range = {.start = (uintptr_t)area, .len = 3 * PG}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
  printf("wp %s: protect %s\n", what, ename(ioctl(fd, UFFDIO_WRITEPROTECT, &w) ? errno : 0));
  printf("wp %s: a read passes: '%c'\n", what, area[0]);
  pthread_t th;
  pthread_create(&th, NULL, wps_writer, NULL);
  struct uffd_msg m;
  long n = rd(fd, &m, sizeof m);
  printf("wp %s: message %ld %s flags %llu at +%ld\n", what, n, evname(m.event), (unsigned long long)m.arg.pagefault.flags, (long)((char *)(uintptr_t)m.arg.pagefault.address - area));
  w.mode = 0;
  w.range.start = (uintptr_t)(area + PG);
  w.range.len = PG;
  printf("wp %s: release %s\n", what, ename(ioctl(fd, UFFDIO_WRITEPROTECT, &w) ? errno : 0));
  pthread_join(th, NULL);
  printf("wp %s: page '%c'\n", what, area[PG]);
  pipe(wps_pipe);
  write(wps_pipe[1], "p", 1);
  pthread_create(&th, NULL, wps_reader, NULL);
  n = rd(fd, &m, sizeof m);
  printf("wp %s: read(2) into a protected page: message %s flags %llu at +%ld\n", what, evname(m.event), (unsigned long long)m.arg.pagefault.flags, (long)((char *)(uintptr_t)m.arg.pagefault.address - area));
  w.range.start = (uintptr_t)(area + 2 * PG);
  ioctl(fd, UFFDIO_WRITEPROTECT, &w);
  void *ret;
  pthread_join(th, &ret);
  printf("wp %s: read returned %ld, page '%c'\n", what, (long)(intptr_t)ret, area[2 * PG]);
  close(wps_pipe[0]);
  close(wps_pipe[1]);
  close(fd);
}

static void test_wp_shmem(void) {
  char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  test_wp_shmem_on("shared anon", s);
  munmap(s, 4 * PG);
  int mfd = memfd_create("wp", 0);
  ftruncate(mfd, 4 * PG);
  char *f = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  test_wp_shmem_on("memfd", f);
  munmap(f, 4 * PG);
  close(mfd);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_api();
  test_remove();
  test_unmap();
  test_remap();
  test_fork();
  test_fork_full();
  test_kill();
  test_close();
  test_move();
  test_move_fault();
  test_changing();
  test_wp_shmem();
  test_one_at_a_time();
  test_many_vmas();
  test_move_race();
  printf("done\n");
  return 0;
}
