/* schedattr: sched_setattr/sched_getattr (sizes, E2BIG with the size written
 * back, policies, nice, reset-on-fork, what needs CAP_SYS_NICE) and
 * ioprio_get/ioprio_set. Realtime and deadline policies are only tried
 * where they must fail: the native run must not change the host's scheduling. */
#define _GNU_SOURCE
#include "common.h"
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct attr {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t prio;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
  char extra[64];
};

static void res(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
  else printf("%s: %ld\n", what, r);
}

static long setattr(int pid, struct attr *a, unsigned flags) { return syscall(SYS_sched_setattr, pid, a, flags); }
static long getattr(int pid, struct attr *a, unsigned size, unsigned flags) { return syscall(SYS_sched_getattr, pid, a, size, flags); }

static void show(const char *when) {
  struct attr a;
  memset(&a, 0xff, sizeof a);
  long r = getattr(0, &a, 56, 0);
  if (r < 0) { printf("%s: getattr %s\n", when, ename(errno)); return; }
  printf("%s: size %u policy %u flags %llu nice %d prio %u | getscheduler %d getpriority %d\n", when, a.size, a.policy,
         (unsigned long long)a.flags, a.nice, a.prio, sched_getscheduler(0), getpriority(PRIO_PROCESS, 0));
}

static long try(const char *what, uint32_t size, uint32_t policy, uint64_t flags, int nice, uint32_t prio) {
  struct attr a = {0};
  a.size = size; a.policy = policy; a.flags = flags; a.nice = nice; a.prio = prio;
  long r = setattr(0, &a, 0);
  if (r < 0) printf("%s: -1 %s (size now %u)\n", what, ename(errno), a.size);
  else printf("%s: %ld\n", what, r);
  return r;
}

static int ioget(int which, int who) { return syscall(SYS_ioprio_get, which, who); }
static int ioset(int which, int who, int prio) { return syscall(SYS_ioprio_set, which, who, prio); }
#define IOPRIO(c, l) (((c) << 13) | (l))

static void dropcaps(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};
  if (syscall(SYS_capset, &h, d) < 0) printf("capset: %s\n", ename(errno));
  struct rlimit z = {0, 0};
  setrlimit(RLIMIT_RTPRIO, &z);
  setrlimit(RLIMIT_NICE, &z);
}

int main(void) {
  struct attr a;
  show("start");
  memset(&a, 0, sizeof a);
  res("getattr size 100", getattr(0, &a, 100, 0));
  printf("  size written %u\n", a.size);
  res("getattr size 47", getattr(0, &a, 47, 0));
  res("getattr size 4097", getattr(0, &a, 4097, 0));
  res("getattr flags", getattr(0, &a, 56, 1));
  res("getattr pid -1", getattr(-1, &a, 56, 0));
  res("getattr NULL", getattr(0, NULL, 56, 0));
  res("getattr no such pid", getattr(0x3fffffff, &a, 56, 0));
  res("getattr bad pointer", getattr(0, (struct attr *)8, 56, 0));

  try("setattr size 0 (VER0)", 0, SCHED_OTHER, 0, 1, 0);
  show("after");
  try("setattr size 47", 47, SCHED_OTHER, 0, 0, 0);
  try("setattr size 4097", 4097, SCHED_OTHER, 0, 0, 0);
  memset(&a, 0, sizeof a);
  a.size = 72; a.policy = SCHED_OTHER; a.nice = 2; a.extra[5] = 1;
  res("setattr size 72 nonzero tail", setattr(0, &a, 0));
  printf("  size now %u\n", a.size);
  a.size = 72; a.extra[5] = 0;
  res("setattr size 72 zero tail", setattr(0, &a, 0));
  show("after");
  res("setattr flags arg", setattr(0, &a, 1));
  res("setattr NULL", setattr(0, NULL, 0));
  res("setattr pid -1", setattr(-1, &a, 0));
  res("setattr no such pid", setattr(0x3fffffff, &a, 0));
  try("policy 4", 56, 4, 0, 0, 0);
  try("policy 99", 56, 99, 0, 0, 0);
  try("policy -1", 56, (uint32_t)-1, 0, 0, 0);
  try("OTHER prio 1", 56, SCHED_OTHER, 0, 0, 1);
  try("FIFO prio 0", 56, SCHED_FIFO, 0, 0, 0);
  try("RR prio 100", 56, SCHED_RR, 0, 0, 100);
  try("bad sched flags", 56, SCHED_OTHER, 0x80, 0, 0);
  try("util clamp size 48", 48, SCHED_OTHER, 0x20, 0, 0);
  try("deadline bad params", 56, 6, 0, 0, 0);
  try("BATCH nice 5", 56, SCHED_BATCH, 0, 5, 0);
  show("after");
  try("OTHER nice 40 (clamped)", 56, SCHED_OTHER, 0, 40, 0);
  show("after");
  try("keep policy, nice 12", 56, SCHED_IDLE, 0x8, 12, 0);
  show("after");
  try("keep params, policy BATCH", 56, SCHED_BATCH, 0x10, 3, 0);
  show("after");
  try("reset on fork", 56, SCHED_OTHER, 0x1, 10, 0);
  show("after");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    show("child");
    dropcaps();
    try("child without CAP_SYS_NICE: FIFO", 56, SCHED_FIFO, 0, 0, 1);
    struct sched_param sp = {1};
    res("child sched_setscheduler FIFO", sched_setscheduler(0, SCHED_FIFO, &sp));
    struct attr d = {0};
    d.size = 56; d.policy = 6; d.runtime = 10000000; d.deadline = 30000000; d.period = 30000000;
    res("child deadline", setattr(0, &d, 0));
    try("child nice up", 56, SCHED_OTHER, 0, 15, 0);
    try("child nice down", 56, SCHED_OTHER, 0, 14, 0);
    try("child reset on fork", 56, SCHED_OTHER, 0x1, 15, 0);
    try("child clear reset on fork", 56, SCHED_OTHER, 0, 15, 0);
    try("child IDLE", 56, SCHED_IDLE, 0x1, 15, 0);
    try("child leave IDLE", 56, SCHED_OTHER, 0x1, 15, 0);
    show("child");
    res("child ioprio RT", ioset(1, 0, IOPRIO(1, 0)));
    res("child ioprio BE 7", ioset(1, 0, IOPRIO(2, 7)));
    printf("child ioprio 0x%x\n", ioget(1, 0));
    setpgid(0, 0);
    res("child ioprio pgrp set", ioset(2, 0, IOPRIO(3, 0)));
    printf("child ioprio pgrp 0x%x\n", ioget(2, 0));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  try("clear reset on fork", 56, SCHED_OTHER, 0, 10, 0);
  show("after");

  res("ioprio_set BE 3", ioset(1, 0, IOPRIO(2, 3)));
  printf("ioprio 0x%x\n", ioget(1, 0));
  res("ioprio_set IDLE", ioset(1, getpid(), IOPRIO(3, 0)));
  printf("ioprio 0x%x\n", ioget(1, getpid()));
  res("ioprio_set NONE", ioset(1, 0, IOPRIO(0, 0)));
  printf("ioprio 0x%x (follows nice)\n", ioget(1, 0));
  res("ioprio_set NONE level 1", ioset(1, 0, IOPRIO(0, 1)));
  res("ioprio_set class 4", ioset(1, 0, IOPRIO(4, 0)));
  res("ioprio_set class 7", ioset(1, 0, IOPRIO(7, 0)));
  res("ioprio_set which 0", ioset(0, 0, IOPRIO(2, 0)));
  res("ioprio_set which 4", ioset(4, 0, IOPRIO(2, 0)));
  res("ioprio_set bad class, bad which", ioset(4, 0, IOPRIO(5, 0)));
  res("ioprio_set no such pid", ioset(1, 0x3fffffff, IOPRIO(2, 0)));
  res("ioprio_get which 0", ioget(0, 0));
  res("ioprio_get no such pid", ioget(1, 0x3fffffff));
  res("ioprio_get no such pgrp", ioget(2, 0x3fffffff));
  printf("done\n");
  return 0;
}
