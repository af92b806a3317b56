/* settime: clock_settime, settimeofday, adjtimex, clock_adjtime and syslog
 * (klogctl). Run natively as root: with CAP_SYS_TIME only calls that fail
 * their argument checks (or set nothing) are made, so the host's time and
 * log are never changed; the refusals are tried in a child that dropped
 * every capability (and that stops if it could not). */
#define _GNU_SOURCE
#include "common.h"
#include <linux/capability.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/wait.h>

static void res(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
  else printf("%s: %ld\n", what, r);
}

static long cset(clockid_t id, long sec, long nsec) {
  struct timespec ts = {sec, nsec};
  return syscall(SYS_clock_settime, id, &ts);
}
static long stod(long sec, long usec, int use_tv, int mw, int use_tz) {
  struct timeval tv = {sec, usec};
  struct timezone tz = {mw, 0};
  return syscall(SYS_settimeofday, use_tv ? &tv : NULL, use_tz ? &tz : NULL);
}
static long adj(unsigned modes, long offset_usec, long long freq, long tick) {
  struct timex tx;
  memset(&tx, 0, sizeof tx);
  tx.modes = modes; tx.time.tv_usec = offset_usec; tx.freq = freq; tx.tick = tick;
  return syscall(SYS_adjtimex, &tx);
}
static long cadj(clockid_t id, unsigned modes) {
  struct timex tx;
  memset(&tx, 0, sizeof tx);
  tx.modes = modes;
  return syscall(SYS_clock_adjtime, id, &tx);
}

static void common_checks(const char *who) {
  printf("-- %s\n", who);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  clockid_t cpu;
  clock_getcpuclockid(0, &cpu);
  res("clock_settime MONOTONIC", cset(CLOCK_MONOTONIC, now.tv_sec, 0));
  res("clock_settime BOOTTIME", cset(CLOCK_BOOTTIME, now.tv_sec, 0));
  res("clock_settime PROCESS_CPUTIME_ID", cset(CLOCK_PROCESS_CPUTIME_ID, 1, 0));
  res("clock_settime own CPU clock", cset(cpu, 1, 0));
  res("clock_settime CPU clock of no process", cset((~0x3ffffff << 3) | 2, 1, 0));
  res("clock_settime clock 10", cset(10, now.tv_sec, 0));
  res("clock_settime clock 100", cset(100, now.tv_sec, 0));
  res("clock_settime nsec 1e9", cset(CLOCK_REALTIME, now.tv_sec, 1000000000));
  res("clock_settime nsec -1", cset(CLOCK_REALTIME, now.tv_sec, -1));
  res("clock_settime sec -1", cset(CLOCK_REALTIME, -1, 0));
  res("clock_settime bad pointer", syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8));
  res("clock_settime MONOTONIC bad pointer", syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void *)8));
  res("settimeofday usec 1000001", stod(now.tv_sec, 1000001, 1, 0, 0));
  res("settimeofday usec 1000000", stod(now.tv_sec, 1000000, 1, 0, 0));
  res("settimeofday usec -1", stod(now.tv_sec, -1, 1, 0, 0));
  res("settimeofday bad tv", syscall(SYS_settimeofday, (void *)8, NULL));
  res("settimeofday bad tz", syscall(SYS_settimeofday, NULL, (void *)8));
  res("adjtimex tick 5", adj(ADJ_TICK, 0, 0, 5));
  res("adjtimex SETOFFSET usec -1", adj(ADJ_SETOFFSET, -1, 0, 0));
  res("adjtimex SETOFFSET usec 1e6", adj(ADJ_SETOFFSET, 1000000, 0, 0));
  res("adjtimex freq too big", adj(ADJ_FREQUENCY, 0, 1LL << 40, 0));
  res("adjtimex bad pointer", syscall(SYS_adjtimex, (void *)8));
  struct timex tx;
  memset(&tx, 0, sizeof tx);
  long r = syscall(SYS_adjtimex, &tx);
  printf("adjtimex read: %s, tick %ld, tolerance %ld\n", r >= 0 ? "ok" : ename(errno), tx.tick, tx.tolerance);
  memset(&tx, 0, sizeof tx);
  tx.modes = ADJ_OFFSET_SS_READ;
  printf("adjtimex ADJ_OFFSET_SS_READ: %s\n", syscall(SYS_adjtimex, &tx) >= 0 ? "ok" : ename(errno));
  r = cadj(CLOCK_REALTIME, 0);
  printf("clock_adjtime REALTIME read: %s\n", r >= 0 ? "ok" : ename(errno));
  res("clock_adjtime MONOTONIC", cadj(CLOCK_MONOTONIC, 0));
  res("clock_adjtime PROCESS_CPUTIME_ID", cadj(CLOCK_PROCESS_CPUTIME_ID, 0));
  res("clock_adjtime own CPU clock", cadj(cpu, 0));
  res("clock_adjtime clock 100", cadj(100, 0));
  res("clock_adjtime bad pointer", syscall(SYS_clock_adjtime, CLOCK_REALTIME, (void *)8));
  res("clock_adjtime MONOTONIC bad pointer", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, (void *)8));
}

#include <signal.h>

static void on_alarm(int sig) { (void)sig; }

/* Only in the sandbox (SANDBOX=1 and its own log seen): with CAP_SYS_TIME the
 * sandbox still refuses to set the time; its kernel log is its own. */
static int own(void) {
  char buf[4096];
  int n = klogctl(3, buf, sizeof buf - 1);
  if (n < 0 || getenv("SANDBOX") == NULL) return 3;
  buf[n] = 0;
  if (strstr(buf, "] tsvisor: ") == NULL) return 3;
  printf("log: %s", strchr(buf, ']') + 2);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  res("clock_settime REALTIME with CAP_SYS_TIME", cset(CLOCK_REALTIME, now.tv_sec, now.tv_nsec));
  res("settimeofday with CAP_SYS_TIME", stod(now.tv_sec, 0, 1, 0, 0));
  res("settimeofday tz with CAP_SYS_TIME", stod(0, 0, 0, 60, 1));
  res("adjtimex OFFSET with CAP_SYS_TIME", adj(ADJ_OFFSET, 0, 0, 0));
  struct timex tx;
  memset(&tx, 0, sizeof tx);
  long r = syscall(SYS_adjtimex, &tx);
  printf("adjtimex read: %ld status 0x%x maxerror %ld\n", r, tx.status, tx.maxerror);
  printf("size buffer %d\n", klogctl(10, NULL, 0));
  printf("size unread %d (line %d)\n", klogctl(9, NULL, 0), n);
  res("read 5", klogctl(2, buf, 5));
  printf("  \"%.5s\"\n", buf);
  printf("size unread %d\n", klogctl(9, NULL, 0));
  r = klogctl(2, buf, sizeof buf);
  printf("read rest: %ld, whole line %s\n", r, r == n - 5 ? "yes" : "no");
  printf("size unread %d\n", klogctl(9, NULL, 0));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm(1);
  res("read with nothing unread (blocks until SIGALRM)", klogctl(2, buf, sizeof buf));
  res("read all, small buffer", klogctl(3, buf, 10));
  res("read all", klogctl(3, buf, sizeof buf));
  res("read and clear", klogctl(4, buf, sizeof buf));
  res("read all after clear", klogctl(3, buf, sizeof buf));
  res("console level 4", klogctl(8, NULL, 4));
  res("console off", klogctl(6, NULL, 0));
  res("clear", klogctl(5, NULL, 0));
  printf("done\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "own") == 0) return own();
  /* With the capabilities: only calls that must fail, or change nothing. */
  common_checks("root");
  res("settimeofday NULL NULL", stod(0, 0, 0, 0, 0));
  res("settimeofday tz out of range", stod(0, 0, 0, 15 * 60 + 1, 1));
  char buf[64];
  res("syslog SIZE_BUFFER is positive", klogctl(10, NULL, 0) > 0 ? 0 : -1);
  res("syslog READ_ALL len 0", klogctl(3, buf, 0));
  res("syslog READ_ALL NULL", klogctl(3, NULL, 10));
  res("syslog READ_ALL len -1", klogctl(3, buf, -1));
  res("syslog READ_CLEAR len 0", klogctl(4, buf, 0));
  res("syslog READ len 0", klogctl(2, buf, 0));
  res("syslog READ NULL", klogctl(2, NULL, 10));
  res("syslog READ_ALL past user space", klogctl(3, (char *)0x7ffffffff000, 4096));
  res("syslog CONSOLE_LEVEL 0", klogctl(8, NULL, 0));
  res("syslog CONSOLE_LEVEL 9", klogctl(8, NULL, 9));
  res("syslog type 11", klogctl(11, NULL, 0));
  res("syslog type -1", klogctl(-1, NULL, 0));
  res("syslog OPEN", klogctl(1, NULL, 0));
  res("syslog CLOSE", klogctl(0, NULL, 0));
  fflush(stdout);

  pid_t pid = fork();
  if (pid == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};
    if (syscall(SYS_capset, &h, d) < 0) {
      printf("capset: %s\n", ename(errno));
      _exit(1);
    }
    common_checks("no capabilities");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    res("clock_settime REALTIME", cset(CLOCK_REALTIME, now.tv_sec, now.tv_nsec));
    res("settimeofday", stod(now.tv_sec, 0, 1, 0, 0));
    res("settimeofday NULL NULL", stod(0, 0, 0, 0, 0));
    res("settimeofday tz", stod(0, 0, 0, 60, 1));
    res("settimeofday tz out of range", stod(0, 0, 0, 15 * 60 + 1, 1));
    res("adjtimex OFFSET", adj(ADJ_OFFSET, 0, 0, 0));
    res("adjtimex SETOFFSET", adj(ADJ_SETOFFSET, 0, 0, 0));
    res("adjtimex singleshot", adj(ADJ_OFFSET_SINGLESHOT, 0, 0, 0));
    res("adjtimex tick 5 (EPERM first)", adj(ADJ_TICK, 0, 0, 5));
    res("clock_adjtime REALTIME OFFSET", cadj(CLOCK_REALTIME, ADJ_OFFSET));
    for (int type = 0; type <= 11; type++) {
      if (type == 3 || type == 10) continue; /* allowed or not by the host's dmesg_restrict */
      char what[32];
      snprintf(what, sizeof what, "syslog type %d", type);
      res(what, klogctl(type, buf, sizeof buf));
    }
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child exit %d\n", WEXITSTATUS(st));
  printf("done\n");
  return 0;
}
