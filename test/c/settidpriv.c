/* settidpriv: clone3's set_tid with the privilege to choose (pid 1 of its
 * own PID namespace, natively under unshare): the child gets the pid asked
 * for, in its namespace and, with CLONE_NEWPID, in each ancestor the array
 * names (set_tid[0] the innermost); a pid in use is EEXIST, one out of
 * range EINVAL; a chosen pid does not move where the next fork's search
 * starts. */
#define _GNU_SOURCE
#include "common.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int pipefd[2];

/* clone3 with set_tid; the child writes its own getpid() to the pipe and waits for SIGKILL (or exits at once when quick). */
static long spawn(uint64_t flags, const int32_t *tids, int n, int quick) {
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = flags;
  a.exit_signal = SIGCHLD;
  a.set_tid = (uintptr_t)tids;
  a.set_tid_size = n;
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r == 0) {
    int me = getpid();
    write(pipefd[1], &me, sizeof me);
    if (quick) _exit(0);
    for (;;) pause();
  }
  if (r < 0) return -errno;
  int seen = 0;
  read(pipefd[0], &seen, sizeof seen);
  printf("  the child sees itself as %d\n", seen);
  return r;
}

static void show(const char *label, long r) {
  if (r < 0) printf("%s: %s\n", label, ename(-r));
  else printf("%s: pid %ld\n", label, r);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pipe(pipefd);
  printf("I am pid %d\n", getpid());
  int32_t t500[] = {500};
  long a = spawn(0, t500, 1, 0);
  show("set_tid 500", a);
  show("set_tid 500 again", spawn(0, t500, 1, 0));
  int32_t bad[] = {0}, neg[] = {-1}, big[] = {4194304};
  show("set_tid 0", spawn(0, bad, 1, 0));
  show("set_tid -1", spawn(0, neg, 1, 0));
  show("set_tid pid_max", spawn(0, big, 1, 0));
  int32_t nested[] = {1, 600};
  long b = spawn(CLONE_NEWPID, nested, 2, 0);
  show("CLONE_NEWPID set_tid 1, 600", b);
  show("CLONE_NEWPID set_tid 1, 600 again", spawn(CLONE_NEWPID, nested, 2, 0));
  int32_t nested2[] = {2, 601};
  show("CLONE_NEWPID set_tid 2, 601", spawn(CLONE_NEWPID, nested2, 2, 1));
  int32_t inner[] = {1};
  long c = spawn(CLONE_NEWPID, inner, 1, 0);
  printf("CLONE_NEWPID set_tid 1: %s\n", c < 0 ? ename(-c) : "OK");
  /* The search for a free pid goes on after the last one it gave, not after a chosen one. */
  pid_t before = fork();
  if (before == 0) _exit(0);
  waitpid(before, NULL, 0);
  int32_t t900[] = {900};
  long d = spawn(0, t900, 1, 1);
  show("set_tid 900", d);
  waitpid(d, NULL, 0);
  pid_t after = fork();
  if (after == 0) _exit(0);
  waitpid(after, NULL, 0);
  printf("the next fork follows the one before: %d\n", after == before + 1);
  long pids[] = {a, b, c};
  for (int i = 0; i < 3; i++)
    if (pids[i] > 0) {
      kill(pids[i], SIGKILL);
      waitpid(pids[i], NULL, 0);
    }
  printf("done\n");
  return 0;
}
