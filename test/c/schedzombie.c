/* schedzombie: the scheduling calls find a child that exited but was not
 * waited for (a zombie), as Linux does until it is reaped (LTP
 * sched_setscheduler04 reads a short-lived child's priority): getters and
 * setters of policy, priority, affinity, nice and I/O priority; ESRCH once
 * it is reaped. */
#define _GNU_SOURCE
#include "common.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
int main(void){
  struct sched_param p = {.sched_priority = 10};
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  siginfo_t si; waitid(P_PID, pid, &si, WEXITED|WNOWAIT);
  errno=0; int r = sched_getscheduler(pid); printf("getscheduler: %d %s\n", r, ename(errno));
  errno=0; r = sched_getparam(pid, &p); printf("getparam: %d %s prio=%d\n", r, ename(errno), p.sched_priority);
  struct timespec ts; errno=0; r = sched_rr_get_interval(pid, &ts); printf("rr: %d %s\n", r, ename(errno));
  cpu_set_t cs; errno=0; r = sched_getaffinity(pid, sizeof cs, &cs); printf("getaffinity: %d %s\n", r > 0 ? 1 : r, ename(errno));
  errno=0; r = getpriority(PRIO_PROCESS, pid); printf("getpriority: %d %s\n", r, ename(errno));
  errno=0; r = setpriority(PRIO_PROCESS, pid, 1); printf("setpriority: %d %s\n", r, ename(errno));
  p.sched_priority=0; errno=0; r = sched_setscheduler(pid, SCHED_BATCH, &p); printf("setscheduler: %d %s\n", r, ename(errno));
  errno=0; r = sched_getscheduler(pid); printf("getscheduler: %d %s\n", r, ename(errno));
  errno=0; r = sched_setaffinity(pid, sizeof cs, &cs); printf("setaffinity: %d %s\n", r, ename(errno));
  errno=0; r = syscall(SYS_ioprio_get, 1, pid); printf("ioprio_get: %d %s\n", r, ename(errno));
  errno=0; r = kill(pid, 0); printf("kill0: %d %s\n", r, ename(errno));
  waitpid(pid, NULL, 0);
  errno=0; r = sched_getscheduler(pid); printf("reaped getscheduler: %d %s\n", r, ename(errno));
  printf("done\n");
  return 0;
}
