// waitmore: the waiting calls issue 9 names that no other test checks
// directly: EPOLLRDHUP on a Unix stream socket (peer's SHUT_WR, then close),
// epoll_pwait2 (a timeout in ns, a signal mask), signalfd in an epoll set,
// FUTEX_WAIT_BITSET / FUTEX_WAKE_BITSET (a wake reaches only waiters whose
// bits it shares; an absolute CLOCK_REALTIME timeout), and clone with
// CLONE_PARENT (the child's parent is the caller's) and
// CLONE_CHILD_CLEARTID (the tid word is cleared and woken at exit).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long futex(uint32_t *w, int op, uint32_t v, const struct timespec *ts, uint32_t v3) {
  return syscall(SYS_futex, w, op, v, ts, NULL, v3);
}

static void show(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
  else printf("%s: %ld\n", what, r);
}

static uint32_t events(int ep) {
  struct epoll_event e;
  int n = epoll_wait(ep, &e, 1, 0);
  return n == 1 ? e.events : 0;
}

static void rdhup(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return;
  int ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = 1};
  epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &e);
  printf("rdhup: idle %#x\n", events(ep));
  if (write(sv[1], "x", 1) != 1) exit(1);
  printf("rdhup: data %#x\n", events(ep));
  shutdown(sv[1], SHUT_WR);
  printf("rdhup: peer SHUT_WR %#x\n", events(ep));
  close(sv[1]);
  printf("rdhup: peer closed %#x\n", events(ep));
  // Edge-triggered: one report for the hang-up, then none.
  e.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &e);
  uint32_t first = events(ep);
  printf("rdhup: edge %#x, again %#x\n", first, events(ep));
  close(sv[0]);
  close(ep);
}

static int usr1;
static void on_usr1(int sig) {
  (void)sig;
  usr1++;
}

static void pwait2(void) {
  int ep = epoll_create1(0);
  int p[2];
  if (pipe(p)) exit(1);
  struct epoll_event e = {.events = EPOLLIN, .data.u32 = 7};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e);
  struct timespec ts = {0, 20 * 1000 * 1000};
  struct epoll_event out;
  show("epoll_pwait2 timeout", syscall(SYS_epoll_pwait2, ep, &out, 1, &ts, NULL, 8));
  if (write(p[1], "y", 1) != 1) exit(1);
  long n = syscall(SYS_epoll_pwait2, ep, &out, 1, NULL, NULL, 8);
  printf("epoll_pwait2 ready: %ld data %u\n", n, out.data.u32);
  show("epoll_pwait2 maxevents 0", syscall(SYS_epoll_pwait2, ep, &out, 0, &ts, NULL, 8));
  struct timespec bad = {0, 1000000000};
  show("epoll_pwait2 bad timeout", syscall(SYS_epoll_pwait2, ep, &out, 1, &bad, NULL, 8));
  show("epoll_pwait2 bad sigset size", syscall(SYS_epoll_pwait2, ep, &out, 1, &ts, &bad, 4));
  char c;
  if (read(p[0], &c, 1) != 1) exit(1);
  // SIGUSR1 blocked and pending; the wait's mask lets it in: EINTR after the handler.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t block, during;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  raise(SIGUSR1);
  sigemptyset(&during);
  show("epoll_pwait2 with SIGUSR1 let in", syscall(SYS_epoll_pwait2, ep, &out, 1, NULL, &during, 8));
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  printf("handler ran %d, mask restored %d\n", usr1, sigismember(&now, SIGUSR1));

  // A signalfd in the same set: readable once SIGUSR1 is pending.
  int sfd = signalfd(-1, &block, SFD_CLOEXEC | SFD_NONBLOCK);
  e.events = EPOLLIN;
  e.data.u32 = 9;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
  printf("signalfd idle: %d\n", epoll_wait(ep, &out, 1, 0));
  kill(getpid(), SIGUSR1);
  n = epoll_wait(ep, &out, 1, 0);
  printf("signalfd pending: %ld data %u events %#x\n", n, out.data.u32, out.events);
  struct signalfd_siginfo si;
  ssize_t got = read(sfd, &si, sizeof si);
  printf("signalfd read: %zd signo %u\n", got, si.ssi_signo);
  printf("signalfd drained: %d\n", epoll_wait(ep, &out, 1, 0));
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  close(sfd);
  close(p[0]);
  close(p[1]);
  close(ep);
}

static uint32_t word;
static int woken[2];
static pthread_barrier_t started;

static void *bit_waiter(void *arg) {
  int i = (int)(intptr_t)arg;
  pthread_barrier_wait(&started);
  // Waiter 0 waits on bit 0, waiter 1 on bit 1.
  long r = futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, 1u << i);
  if (r == 0) __atomic_store_n(&woken[i], 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void bitset(void) {
  pthread_barrier_init(&started, NULL, 3);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, bit_waiter, (void *)(intptr_t)i);
  pthread_barrier_wait(&started);
  // Wake bit 1 until a waiter is woken (the waiter may not sleep yet).
  long n = 0;
  while (n == 0) {
    n = futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 2, NULL, 1u << 1);
    if (n == 0) usleep(1000);
  }
  pthread_join(t[1], NULL);
  printf("bitset: wake of bit 1 woke %ld; waiter 0 %d, waiter 1 %d\n", n, __atomic_load_n(&woken[0], __ATOMIC_SEQ_CST), woken[1]);
  n = 0;
  while (n == 0) {
    n = futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 2, NULL, FUTEX_BITSET_MATCH_ANY);
    if (n == 0) usleep(1000);
  }
  pthread_join(t[0], NULL);
  printf("bitset: match-any woke %ld; waiter 0 %d\n", n, woken[0]);
  show("bitset: zero mask", futex(&word, FUTEX_WAIT_BITSET, 0, NULL, 0));
  show("bitset: value differs", futex(&word, FUTEX_WAIT_BITSET, 1, NULL, FUTEX_BITSET_MATCH_ANY));
  struct timespec at;
  clock_gettime(CLOCK_REALTIME, &at);
  at.tv_nsec += 20 * 1000 * 1000;
  if (at.tv_nsec >= 1000000000) {
    at.tv_sec++;
    at.tv_nsec -= 1000000000;
  }
  show("bitset: absolute realtime timeout", futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &at, FUTEX_BITSET_MATCH_ANY));
  clock_gettime(CLOCK_MONOTONIC, &at);
  at.tv_nsec += 20 * 1000 * 1000;
  if (at.tv_nsec >= 1000000000) {
    at.tv_sec++;
    at.tv_nsec -= 1000000000;
  }
  show("bitset: absolute monotonic timeout", futex(&word, FUTEX_WAIT_BITSET, 0, &at, FUTEX_BITSET_MATCH_ANY));
}

static char stack[256 * 1024];
static volatile uint32_t ctid = 12345;

static int sibling(void *arg) {
  (void)arg;
  return 5;
}

static int cleared(void *arg) {
  (void)arg;
  usleep(20000);
  syscall(SYS_exit, 0);
  return 0;
}

static void clones(void) {
  // CLONE_PARENT from a child: the new process is its sibling, a child of this process.
  pid_t mid = fork();
  if (mid == 0) {
    pid_t c = clone(sibling, stack + sizeof stack, CLONE_PARENT | SIGCHLD, NULL);
    // Not this process's child: its own wait finds nothing.
    show("CLONE_PARENT: the caller's wait", waitpid(c, NULL, WNOHANG));
    fflush(stdout);
    _exit(c > 0 ? 0 : 1);
  }
  int st;
  waitpid(mid, &st, 0);
  int reaped = 0;
  for (;;) {
    pid_t w = wait(&st);
    if (w < 0) break;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 5) reaped++;
  }
  printf("CLONE_PARENT: the grandparent reaped the sibling %d\n", reaped);

  // CLONE_CHILD_CLEARTID with a thread: the word goes to 0 and the waiter wakes.
  long t = clone(cleared, stack + sizeof stack, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID,
                 NULL, NULL, NULL, &ctid);
  if (t < 0) {
    perror("clone");
    exit(1);
  }
  uint32_t v;
  while ((v = __atomic_load_n(&ctid, __ATOMIC_SEQ_CST)) != 0) futex((uint32_t *)&ctid, FUTEX_WAIT, v, NULL, 0);
  printf("CLONE_CHILD_CLEARTID: word cleared %d\n", ctid == 0);
  show("CLONE_THREAD|CLONE_SIGHAND without CLONE_VM", clone(sibling, stack + sizeof stack, CLONE_PARENT | CLONE_THREAD | CLONE_SIGHAND, NULL));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  rdhup();
  pwait2();
  bitset();
  clones();
  printf("done\n");
  return 0;
}
