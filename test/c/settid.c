/* settid: clone3's set_tid (LTP clone304) checked in Linux's order without
 * the privilege to choose a pid (test/c/settidpriv.c: with it): the sizes (EINVAL), the array's address
 * (EFAULT), new namespaces without CAP_SYS_ADMIN (EPERM), the pid's range
 * (EINVAL), then CAP_CHECKPOINT_RESTORE/CAP_SYS_ADMIN over the PID
 * namespace (EPERM). Only refusals are compared: a privileged caller would
 * get its pid natively. Runs as root and drops the capabilities. */
#define _GNU_SOURCE
#include "common.h"
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

static long clone3_tid(uint64_t flags, pid_t *tids, size_t n) {
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = flags;
  a.exit_signal = SIGCHLD;
  a.set_tid = (uint64_t)(uintptr_t)tids;
  a.set_tid_size = n;
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r == 0) _exit(0); /* a child made after all: the comparison shows the success */
  if (r > 0) waitpid((pid_t)r, NULL, 0);
  return r;
}

static void cases(const char *who) {
  printf("%s:\n", who);
  pid_t one[1] = {0}, two[2] = {1, 1};
  SHOW("  set_tid_size 33", clone3_tid(0, one, 33));
  SHOW("  set_tid NULL, size 1", clone3_tid(0, NULL, 1));
  SHOW("  set_tid at a bad address", clone3_tid(0, (pid_t *)8, 1));
  SHOW("  two pids, one level", clone3_tid(0, two, 2));
  SHOW("  pid 0", clone3_tid(0, one, 1));
  one[0] = -1;
  SHOW("  pid -1", clone3_tid(0, one, 1));
  one[0] = 0x7fffffff;
  SHOW("  pid beyond pid_max", clone3_tid(0, one, 1));
}

int main(void) {
  line_buffered();
  cases("root");
  pid_t pid = xfork();
  if (pid == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) DIE("capget");
    d[0].effective &= ~(1u << CAP_SYS_ADMIN);
    d[1].effective &= ~(1u << (CAP_CHECKPOINT_RESTORE - 32));
    if (syscall(SYS_capset, &h, d) < 0) DIE("capset");
    cases("without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE");
    /* Any pid below every pid_max (32768 at least): the capability is checked before whether it is free.
     * (getpid() + 1000 could pass a host's pid_max of 32768: EINVAL there.) */
    pid_t mine[1] = {1000};
    SHOW("  a free pid", clone3_tid(0, mine, 1));
    SHOW("  a free pid, CLONE_NEWUTS", clone3_tid(CLONE_NEWUTS, mine, 1));
    SHOW("  a free pid, CLONE_NEWPID", clone3_tid(CLONE_NEWPID, mine, 1));
    SHOW("  a free pid, CLONE_NEWNET", clone3_tid(CLONE_NEWNET, mine, 1));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("done\n");
  return 0;
}
