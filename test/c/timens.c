/* timens: time namespaces (man 7 time_namespaces) compared with Linux:
 * unshare(CLONE_NEWTIME) moves only the caller's children, /proc/PID/
 * timens_offsets and its rules (which clocks, ranges, frozen once a process
 * is inside), the offsets on CLOCK_MONOTONIC (and _RAW, _COARSE) and
 * CLOCK_BOOTTIME read by the system call, absolute sleeps and timers on the
 * namespace's clocks, sysinfo and /proc/uptime, setns back and forth, exec
 * entering time_for_children.
 * Clocks are read with the system call (reads through the vDSO are
 * timensvdso.c's), except after an exec inside the namespace, where libc's
 * own reads are checked.
 * Times are printed only as whole-day offsets. Runs as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <signal.h>
#include <linux/sched.h>
#include <stdint.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
#define DAY 86400LL

static long long sys_now(clockid_t c) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, c, &ts) != 0) DIE("clock_gettime");
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long libc_now(clockid_t c) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) DIE("clock_gettime");
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Whole days between a and b (rounded to the nearest). */
static long long days(long long a, long long b) {
  long long d = a - b;
  return (d + (d < 0 ? -1 : 1) * DAY * 500000000LL) / (DAY * 1000000000LL);
}

static int write_str(const char *path, const char *s) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t n = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  errno = e;
  return n < 0 ? -1 : 0;
}

static void offsets(const char *label) {
  char buf[256];
  int fd = open("/proc/self/timens_offsets", O_RDONLY);
  if (fd < 0) {
    printf("%s: open %s\n", label, ename(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  printf("%s:\n%s", label, buf);
}

static void try_offsets(const char *what, const char *s) {
  int r = write_str("/proc/self/timens_offsets", s);
  printf("write %s: %s\n", what, r == 0 ? "OK" : ename(errno));
}

static ino_t ino_of(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) DIE("stat");
  return st.st_ino;
}

static void wait_child(pid_t p, const char *what) {
  int st;
  if (waitpid(p, &st, 0) != p) DIE("waitpid");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child status %d\n", what, st);
}

/* In the namespace with offsets +2 days monotonic, +3 days boottime; mono0 and boot0 read just before in the initial one. */
static void inside(int initial_time_fd, long long mono0, long long boot0) {
  printf("child: in the new namespace %s\n", ino_of("/proc/self/ns/time") == ino_of("/proc/self/ns/time_for_children") ? "yes" : "no");
  long long mono = sys_now(CLOCK_MONOTONIC), boot = sys_now(CLOCK_BOOTTIME);
  printf("child: monotonic %lld days, boottime %lld days\n", days(mono, mono0), days(boot, boot0));
  printf("child: raw %lld days, coarse %lld days, realtime moved %s\n",
         days(sys_now(CLOCK_MONOTONIC_RAW), mono0), days(sys_now(CLOCK_MONOTONIC_COARSE), mono0),
         days(sys_now(CLOCK_REALTIME), libc_now(CLOCK_REALTIME)) ? "yes" : "no");
  struct sysinfo si;
  if (sysinfo(&si) != 0) DIE("sysinfo");
  printf("child: sysinfo uptime at least 3 days %s\n", si.uptime >= 3 * DAY ? "yes" : "no");
  char buf[128];
  int fd = open("/proc/uptime", O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  printf("child: /proc/uptime at least 3 days %s\n", atoll(buf) >= 3 * DAY ? "yes" : "no");
  offsets("child offsets");
  try_offsets("in a namespace with a process", "1 5 0");

  /* An absolute sleep on the namespace's clock: 50 ms from its now, not days. */
  struct timespec to = {0};
  long long target = sys_now(CLOCK_MONOTONIC) + 50000000LL;
  to.tv_sec = target / 1000000000LL;
  to.tv_nsec = target % 1000000000LL;
  long long before = sys_now(CLOCK_REALTIME);
  int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &to, NULL);
  long long slept = sys_now(CLOCK_REALTIME) - before;
  printf("child: absolute sleep %s, short %s\n", ename(r), slept < 5000000000LL ? "yes" : "no");
  /* The same on a timerfd and a POSIX timer. */
  int tfd = timerfd_create(CLOCK_BOOTTIME, 0);
  struct itimerspec its = {0};
  target = sys_now(CLOCK_BOOTTIME) + 50000000LL;
  its.it_value.tv_sec = target / 1000000000LL;
  its.it_value.tv_nsec = target % 1000000000LL;
  if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) DIE("timerfd_settime");
  struct itimerspec cur;
  timerfd_gettime(tfd, &cur);
  printf("child: timerfd left under a second %s\n", cur.it_value.tv_sec == 0 ? "yes" : "no");
  uint64_t ticks = 0;
  before = sys_now(CLOCK_REALTIME);
  if (read(tfd, &ticks, sizeof ticks) != sizeof ticks) DIE("read timerfd");
  printf("child: timerfd fired %llu, short %s\n", (unsigned long long)ticks, sys_now(CLOCK_REALTIME) - before < 5000000000LL ? "yes" : "no");
  close(tfd);

  /* Back to the initial namespace. */
  if (setns(initial_time_fd, CLONE_NEWTIME) != 0) DIE("setns");
  printf("child: after setns monotonic %lld days from the namespace's\n", days(sys_now(CLOCK_MONOTONIC), mono));
  printf("child: after setns time is time_for_children %s\n", ino_of("/proc/self/ns/time") == ino_of("/proc/self/ns/time_for_children") ? "yes" : "no");
}

/* After exec in the namespace: libc's clock (vDSO or not) shows the offsets. */
static int exec_check(long long mono0, long long boot0) {
  printf("exec: monotonic %lld days, boottime %lld days (libc)\n", days(libc_now(CLOCK_MONOTONIC), mono0),
         days(libc_now(CLOCK_BOOTTIME), boot0));
  printf("exec: in time_for_children %s\n", ino_of("/proc/self/ns/time") == ino_of("/proc/self/ns/time_for_children") ? "yes" : "no");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 4 && strcmp(argv[1], "exec") == 0) return exec_check(atoll(argv[2]), atoll(argv[3]));

  offsets("initial offsets");
  try_offsets("in the initial namespace", "1 1 0");
  int initial = open("/proc/self/ns/time", O_RDONLY);
  if (initial < 0) DIE("open ns/time");

  pid_t p = fork();
  if (p == 0) {
    ino_t before = ino_of("/proc/self/ns/time");
    if (unshare(CLONE_NEWTIME) != 0) DIE("unshare");
    printf("unshare: own namespace unchanged %s, children's new %s\n",
           ino_of("/proc/self/ns/time") == before ? "yes" : "no",
           ino_of("/proc/self/ns/time") != ino_of("/proc/self/ns/time_for_children") ? "yes" : "no");
    offsets("before any write");
    try_offsets("realtime", "0 10 0");
    try_offsets("nsec too big", "1 10 1000000000");
    try_offsets("negative nsec", "1 10 -1");
    try_offsets("huge seconds", "1 9223372036854775807 0");
    try_offsets("below zero", "1 -999999999999 0");
    try_offsets("garbage", "monotonic x y");
    try_offsets("unknown clock", "3 1 0");
    try_offsets("by name", "monotonic 1 0");
    /* A long write: the first two lines are taken, the rest ignored (Linux's count); a long garbage line is EINVAL. */
    static char big[65536];
    memset(big, ' ', sizeof big - 1);
    memcpy(big, "1 3 0\n7 4 0\n", 12);
    try_offsets("long, two lines first", big);
    memset(big, 'x', sizeof big - 1);
    try_offsets("long garbage", big);
    pid_t u = fork();
    if (u == 0) {
      if (setuid(65534) != 0) DIE("setuid");
      try_offsets("unprivileged", "1 1 0");
      exit(0);
    }
    wait_child(u, "unprivileged");
    try_offsets("two lines", "1 172800 0\n7 259200 0\n");
    offsets("after writes");
    long long mono0 = sys_now(CLOCK_MONOTONIC), boot0 = sys_now(CLOCK_BOOTTIME);
    printf("unshare: caller's clock unchanged %s\n", days(libc_now(CLOCK_MONOTONIC), mono0) == 0 ? "yes" : "no");
    pid_t c = fork();
    if (c == 0) {
      inside(initial, mono0, boot0);
      exit(0);
    }
    wait_child(c, "inside");
    try_offsets("after a child entered", "1 5 0");
    c = fork();
    if (c == 0) {
      char m0[32], b0[32];
      snprintf(m0, sizeof m0, "%lld", mono0);
      snprintf(b0, sizeof b0, "%lld", boot0);
      execl("/proc/self/exe", argv[0], "exec", m0, b0, (char *)NULL);
      DIE("execl");
    }
    wait_child(c, "exec");
    /* The unsharing process itself enters time_for_children when it execs. */
    exit(0);
  }
  wait_child(p, "unshare");

  /* clone3(CLONE_NEWTIME) without CLONE_VM: the child is in the new namespace at once, its offsets frozen (still 0).
   * (clone(2) cannot ask: the bit is part of its exit signal byte.) */
  ino_t mine = ino_of("/proc/self/ns/time");
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_NEWTIME;
  ca.exit_signal = SIGCHLD;
  p = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (p == 0) {
    printf("clone3: child in a new namespace %s, time_for_children the same %s\n", ino_of("/proc/self/ns/time") != mine ? "yes" : "no",
           ino_of("/proc/self/ns/time") == ino_of("/proc/self/ns/time_for_children") ? "yes" : "no");
    offsets("clone3 child");
    try_offsets("in the cloned namespace", "1 5 0");
    exit(0);
  }
  if (p < 0) DIE("clone3");
  wait_child(p, "clone3");
  /* With CLONE_VM the child shares the memory (and vDSO): it stays, and only its children go. */
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_NEWTIME | CLONE_VM | CLONE_VFORK;
  ca.exit_signal = SIGCHLD;
  p = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (p == 0) syscall(SYS_exit, ino_of("/proc/self/ns/time") == mine ? 10 : 20);
  if (p < 0) printf("clone3 CLONE_VM: %s\n", ename(errno));
  else {
    int st;
    waitpid(p, &st, 0);
    printf("clone3 CLONE_VM: child stayed %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 10 ? "yes" : "no");
  }

  /* Namespaces made and dropped in a loop: each unshare frees the one before (nothing piles up). */
  p = fork();
  if (p == 0) {
    int bad = 0;
    for (int i = 0; i < 20000; i++) bad += unshare(CLONE_NEWTIME) != 0;
    printf("20000 unshares: %d failed\n", bad);
    exit(0);
  }
  wait_child(p, "loop");

  /* setns needs a single-threaded caller and CAP_SYS_ADMIN; a time fd is no other kind. */
  printf("setns wrong type: %s\n", setns(initial, CLONE_NEWNS) == 0 ? "OK" : ename(errno));
  printf("setns same: %s\n", setns(initial, CLONE_NEWTIME) == 0 ? "OK" : ename(errno));

  printf("done\n");
  return 0;
}
