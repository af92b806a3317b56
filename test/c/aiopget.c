/* aiopget: io_pgetevents keeps a signal mask only while it waits: a signal
 * it blocks waits until the call returns (then its handler runs), one it
 * does not block ends the wait (EINTR after a handler without SA_RESTART);
 * a bad mask size is EINVAL; with no mask it is io_getevents. */
#define _GNU_SOURCE
#include "common.h"
#include <linux/aio_abi.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct aio_sigset {
  const sigset_t *sigmask;
  size_t sigsetsize;
};

static volatile sig_atomic_t hits;
static void on_usr1(int sig) {
  (void)sig;
  hits++;
}

/* A child that sends SIGUSR1 to its parent after ms milliseconds. */
static pid_t later(int ms) {
  pid_t parent = getpid(), p = fork();
  if (p == 0) {
    usleep(ms * 1000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  return p;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  aio_context_t ctx = 0;
  syscall(SYS_io_setup, 8, &ctx);
  struct io_event ev[2];
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  struct aio_sigset ss = {&block, 8};
  struct timespec ts = {0, 400000000};
  pid_t c = later(100);
  long r = syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &ts, &ss);
  int during = hits;
  waitpid(c, NULL, 0);
  printf("blocked while waiting: %ld, handler during %d, after %d\n", r, during, hits);
  hits = 0;
  sigset_t empty;
  sigemptyset(&empty);
  struct aio_sigset open_ss = {&empty, 8};
  ts.tv_sec = 5;
  c = later(100);
  r = syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &ts, &open_ss);
  printf("not blocked: %ld %s, handler %d\n", r, r < 0 ? ename(errno) : "", hits);
  waitpid(c, NULL, 0);
  struct aio_sigset bad = {&empty, 4};
  r = syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &ts, &bad);
  printf("bad size: %ld %s\n", r, r < 0 ? ename(errno) : "");
  struct timespec zero = {0, 0};
  r = syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &zero, NULL);
  printf("no mask: %ld\n", r);
  r = syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &zero, (void *)8);
  printf("bad usig: %ld %s\n", r, r < 0 ? ename(errno) : "");
  printf("done\n");
  return 0;
}
