/* cpulimit: RLIMIT_CPU counts the process's CPU time: SIGXCPU at the soft
 * limit (which then moves up by one second), SIGKILL at the hard limit; a
 * child inherits the limit and counts its own time (LTP setrlimit06).
 * About 3 s of CPU time. */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static volatile int *shared;

static void onxcpu(int sig) {
  (void)sig;
  shared[0]++;
  struct rlimit r;
  getrlimit(RLIMIT_CPU, &r);
  shared[1] = (int)r.rlim_cur;
}

static void burn(int wall_limit) {
  alarm(wall_limit);
  volatile unsigned long x = 0;
  for (;;) x++;
}

int main(void) {
  shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  signal(SIGXCPU, onxcpu);

  /* soft 1 s, hard 2 s, set before fork: the child inherits it and counts
   * its own CPU time: SIGXCPU, then SIGKILL. */
  struct rlimit r = {1, 2};
  setrlimit(RLIMIT_CPU, &r);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) burn(30);
  int st;
  waitpid(pid, &st, 0);
  struct rlimit now;
  getrlimit(RLIMIT_CPU, &now);
  printf("soft 1 hard 2: killed by %s, SIGXCPU seen %d, its soft limit after it %d, the parent's still %d\n",
         WIFSIGNALED(st) ? (WTERMSIG(st) == SIGKILL ? "SIGKILL" : "another signal") : "nothing", shared[0] >= 1,
         shared[1], (int)now.rlim_cur);

  /* Without a handler SIGXCPU's default action ends the process. */
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    signal(SIGXCPU, SIG_DFL);
    burn(30);
  }
  waitpid(pid, &st, 0);
  printf("no handler: killed by SIGXCPU %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU);
  printf("done\n");
  return 0;
}
