/* sigio: fcntl F_SETOWN/F_GETOWN, F_SETSIG/F_GETSIG, F_SETOWN_EX/F_GETOWN_EX
 * are stored and read back, and a pipe with O_ASYNC signals its owner when
 * I/O becomes possible: SIGIO by default, or the F_SETSIG signal with
 * si_code POLL_IN/POLL_OUT, si_fd and si_band. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>

static volatile sig_atomic_t nsigio, nrt, code, fdno;
static volatile long band;

static void on_sigio(int s) { (void)s; nsigio++; }
static void on_rt(int s, siginfo_t *si, void *u) {
  (void)s; (void)u;
  nrt++;
  code = si->si_code;
  fdno = si->si_fd;
  band = si->si_band;
}

static void r(const char *what, int v) {
  if (v < 0) printf("%s: %s\n", what, ename(errno));
  else printf("%s: %d\n", what, v);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int p[2];
  if (pipe(p) < 0) return 1;
  pid_t me = getpid(), pg = getpgrp();
  r("F_GETOWN initially", fcntl(p[0], F_GETOWN));
  r("F_SETOWN self", fcntl(p[0], F_SETOWN, me));
  printf("F_GETOWN is self: %d\n", fcntl(p[0], F_GETOWN) == me);
  r("F_SETOWN -pgrp", fcntl(p[0], F_SETOWN, -pg));
  printf("F_GETOWN is -pgrp: %d\n", fcntl(p[0], F_GETOWN) == -pg);
  r("F_SETOWN no such pid", fcntl(p[0], F_SETOWN, 4000000));
  r("F_GETSIG initially", fcntl(p[0], F_GETSIG));
  r("F_SETSIG 65", fcntl(p[0], F_SETSIG, 65));
  r("F_SETSIG -1", fcntl(p[0], F_SETSIG, -1));
  r("F_SETSIG SIGUSR1", fcntl(p[0], F_SETSIG, SIGUSR1));
  r("F_GETSIG", fcntl(p[0], F_GETSIG));
  r("F_SETSIG 0", fcntl(p[0], F_SETSIG, 0));
  struct f_owner_ex ox = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
  r("F_SETOWN_EX tid", fcntl(p[0], F_SETOWN_EX, &ox));
  struct f_owner_ex got = {0, 0};
  r("F_GETOWN_EX", fcntl(p[0], F_GETOWN_EX, &got));
  printf("  type %d self %d\n", got.type, got.pid == ox.pid);
  r("F_GETOWN after tid owner", fcntl(p[0], F_GETOWN) == me);
  ox.type = 7;
  r("F_SETOWN_EX bad type", fcntl(p[0], F_SETOWN_EX, &ox));
  ox.type = F_OWNER_PGRP;
  ox.pid = pg;
  r("F_SETOWN_EX pgrp", fcntl(p[0], F_SETOWN_EX, &ox));
  printf("F_GETOWN is -pgrp: %d\n", fcntl(p[0], F_GETOWN) == -pg);
  int q[2];
  if (pipe(q) < 0) return 1;
  r("dup shares the owner", fcntl(dup(p[0]), F_GETOWN) == -pg);
  r("other pipe has none", fcntl(q[0], F_GETOWN));

  /* Delivery: SIGIO to the owner when data arrives. */
  signal(SIGIO, on_sigio);
  fcntl(p[0], F_SETOWN, me);
  r("F_SETFL O_ASYNC", fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK));
  printf("O_ASYNC set: %d\n", (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
  if (write(p[1], "x", 1) != 1) return 2;
  printf("SIGIO after write: %d\n", nsigio > 0);
  char c;
  nsigio = 0;
  if (read(p[0], &c, 1) != 1) return 3;
  printf("SIGIO to the reader after its own read: %d\n", nsigio > 0);

  /* A queued signal with details. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGRTMIN, &sa, NULL);
  fcntl(p[0], F_SETSIG, SIGRTMIN);
  if (write(p[1], "y", 1) != 1) return 4;
  printf("rt signal: %d code POLL_IN %d fd ok %d band has POLLIN %d\n", nrt > 0, code == POLL_IN, fdno == p[0], (band & POLLIN) != 0);

  /* The writer's side: room to write again after a read. */
  fcntl(q[1], F_SETOWN, me);
  fcntl(q[1], F_SETSIG, SIGRTMIN);
  fcntl(q[1], F_SETFL, O_ASYNC);
  if (write(q[1], "z", 1) != 1) return 5;
  nrt = 0;
  if (read(q[0], &c, 1) != 1) return 6;
  printf("writer told: %d code POLL_OUT %d fd ok %d band has POLLOUT %d\n", nrt > 0, code == POLL_OUT, fdno == q[1], (band & POLLOUT) != 0);

  /* Without O_ASYNC nothing is sent. */
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  nrt = 0;
  if (write(p[1], "w", 1) != 1) return 7;
  printf("no O_ASYNC, no signal: %d\n", nrt == 0);
  printf("done\n");
  return 0;
}
