/* reparent: run as pid 1 of a PID namespace (natively under `unshare --pid --fork`).
 * An orphan that is already a zombie when its parent exits goes to pid 1,
 * which gets a SIGCHLD for it (whatever exit signal clone asked for), or
 * reaps it at once when it ignores SIGCHLD. */
#include "common.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* A child that leaves a zombie grandchild behind and then exits itself. */
static pid_t orphan_maker(int exit_signal) {
  fflush(stdout);
  pid_t a = (pid_t)syscall(SYS_clone, exit_signal, 0, 0, 0, 0);
  if (a < 0) DIE("clone");
  if (a == 0) {
    pid_t b = fork();
    if (b == 0) _exit(42);
    sleep_ms(100); /* b is a zombie now */
    _exit(0);
  }
  return a;
}

int main(void) {
  line_buffered();
  printf("pid 1: %d\n", getpid() == 1);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);

  /* The child exits silently (no exit signal): the only SIGCHLD is the adopted zombie's. */
  pid_t a = orphan_maker(0);
  struct timespec ts = {5, 0};
  siginfo_t si;
  int s = sigtimedwait(&chld, &si, &ts);
  int st;
  printf("SIGCHLD for the adopted zombie = %d, status %d\n", s, si.si_status);
  printf("silent child reaped: %d\n", waitpid(a, &st, __WCLONE) == a);
  pid_t z = waitpid(-1, &st, WNOHANG);
  printf("adopted zombie reaped: %d, status %d\n", z > 1, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  SHOW("nothing left", waitpid(-1, &st, WNOHANG));

  /* SIGCHLD ignored: the child and the adopted zombie are reaped at once. */
  signal(SIGCHLD, SIG_IGN);
  a = orphan_maker(SIGCHLD);
  sleep_ms(400);
  SHOW("ignored: waitpid", waitpid(-1, &st, 0));
  signal(SIGCHLD, SIG_DFL);
  printf("done\n");
  return 0;
}
