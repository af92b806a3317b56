/* pidfdinfo: ioctl(PIDFD_GET_INFO) on pidfds (Linux 6.13, exit status 6.15,
 * core dump state 6.16): the numbers, credentials and cgroup of a live or
 * zombie process, the exit status only once it is reaped (ESRCH then
 * without PIDFD_INFO_EXIT), the core dump mode from the dumpable setting,
 * the extensible struct's sizes (too small or the wrong direction is
 * ENOTTY, larger is zero-filled), and hostile arguments (NULL, a bad or
 * half-mapped buffer); a process in a child PID namespace cannot ask about
 * one outside it (ESRCH before Linux 6.18.14, EREMOTE after: both shown as
 * one answer). Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct info {
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
  uint32_t coredump_mask, spare;
};

#define GET_INFO(sz) _IOC(_IOC_READ | _IOC_WRITE, 0xFF, 11, (sz))
#define PIDFD_INFO_EXIT 8
#define PIDFD_INFO_COREDUMP 16

static int pidfd_open(pid_t pid) { return syscall(SYS_pidfd_open, pid, 0); }

static long get(int fd, unsigned long cmd, void *arg) {
  long r = ioctl(fd, cmd, arg);
  return r < 0 ? -errno : r;
}

static void show(const char *label, int fd, uint64_t asked, pid_t pid) {
  struct info i;
  memset(&i, 0xee, sizeof i);
  i.mask = asked;
  long r = get(fd, GET_INFO(sizeof i), &i);
  if (r < 0) {
    printf("%s: %s\n", label, ename(-r));
    return;
  }
  printf("%s: mask %#llx cgroup %s pid %s tgid %s ppid %s uids %u %u %u %u gids %u %u %u %u exit %#x core %#x\n", label,
         (unsigned long long)i.mask, i.cgroupid ? "set" : "0", i.pid == (uint32_t)pid ? "right" : i.pid ? "wrong" : "0",
         i.tgid == (uint32_t)pid ? "right" : i.tgid ? "wrong" : "0", i.ppid == (uint32_t)getpid() ? "me" : i.ppid ? "other" : "0", i.ruid,
         i.euid, i.suid, i.fsuid, i.rgid, i.egid, i.sgid, i.fsgid, i.exit_code, i.coredump_mask);
}

/* A child that sleeps once it has made itself undumpable (0), stayed as it is (1) or become another user (2). */
static pid_t sleeper(int dumpable) {
  int ready[2];
  char b;
  pipe(ready);
  pid_t p = fork();
  if (p == 0) {
    if (!dumpable) prctl(PR_SET_DUMPABLE, 0);
    if (dumpable == 2) setresuid(1000, 1000, 1000);
    write(ready[1], "x", 1);
    for (;;) pause();
  }
  read(ready[0], &b, 1);
  close(ready[0]);
  close(ready[1]);
  return p;
}

static void sizes(int fd) {
  static char big[16384];
  unsigned sz[] = {0, 8, 60, 63, 64, 72, 80, 4096, 16383};
  for (unsigned k = 0; k < sizeof sz / sizeof sz[0]; k++) {
    memset(big, 0xee, sizeof big);
    long r = get(fd, GET_INFO(sz[k]), big);
    int clean = 1;
    for (unsigned j = 72; j < sz[k]; j++) clean &= big[j] == 0;
    int untouched = sz[k] < sizeof big ? (unsigned char)big[sz[k]] == 0xee : 1;
    printf("size %u: %s zeroed past the struct %d untouched after %d\n", sz[k], r < 0 ? ename(-r) : "OK", clean, untouched);
  }
  printf("read only: %s\n", ename(-get(fd, _IOC(_IOC_READ, 0xFF, 11, 64), big)));
  printf("no direction: %s\n", ename(-get(fd, _IOC(0, 0xFF, 11, 64), big)));
  printf("another number: %s\n", ename(-get(fd, _IOC(_IOC_READ | _IOC_WRITE, 0xFF, 12, 64), big)));
  printf("another type: %s\n", ename(-get(fd, _IOC(_IOC_READ | _IOC_WRITE, 0xFE, 11, 64), big)));
  printf("NULL: %s\n", ename(-get(fd, GET_INFO(64), NULL)));
  printf("address 8: %s\n", ename(-get(fd, GET_INFO(64), (void *)8)));
  printf("kernel address: %s\n", ename(-get(fd, GET_INFO(64), (void *)0xffffffffff600000ul)));
  /* The struct crosses into an unmapped page: its mask is readable, its end is not. */
  char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(two + 4096, 4096);
  memset(two, 0, 4096);
  printf("half mapped: %s\n", ename(-get(fd, GET_INFO(64), two + 4096 - 32)));
  printf("read-only page: ");
  mprotect(two, 4096, PROT_READ);
  printf("%s\n", ename(-get(fd, GET_INFO(64), two)));
  munmap(two, 4096);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct rlimit nocore = {0, 0};
  setrlimit(RLIMIT_CORE, &nocore);
  int self = pidfd_open(getpid());
  struct info i;
  memset(&i, 0, sizeof i);
  long r = get(self, GET_INFO(sizeof i), &i);
  printf("self: %s pid is mine %d\n", ename(-r), i.pid == (uint32_t)getpid());
  int p[2];
  pipe(p);
  printf("a pipe: %s\n", ename(-get(p[0], GET_INFO(64), &i)));
  char procdir[32];
  snprintf(procdir, sizeof procdir, "/proc/%d", getpid());
  int pd = open(procdir, O_RDONLY | O_DIRECTORY);
  printf("a /proc/PID directory: %s\n", ename(-get(pd, GET_INFO(64), &i)));
  close(pd);

  pid_t c = sleeper(1);
  int fd = pidfd_open(c);
  show("live", fd, 0, c);
  show("live, exit asked", fd, PIDFD_INFO_EXIT, c);
  show("live, core dump asked", fd, PIDFD_INFO_COREDUMP, c);
  show("live, all asked", fd, ~0ull, c);
  sizes(fd);
  kill(c, SIGKILL);
  siginfo_t si;
  waitid(P_PID, c, &si, WEXITED | WNOWAIT);
  show("zombie", fd, PIDFD_INFO_EXIT, c);
  int st;
  waitpid(c, &st, 0);
  printf("status %#x\n", st);
  show("reaped, nothing asked", fd, 0, c);
  show("reaped, exit asked", fd, PIDFD_INFO_EXIT, c);
  show("reaped, exit and core dump asked", fd, PIDFD_INFO_EXIT | PIDFD_INFO_COREDUMP, c);
  close(fd);

  c = sleeper(0);
  fd = pidfd_open(c);
  show("not dumpable", fd, PIDFD_INFO_COREDUMP, c);
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  close(fd);
  c = sleeper(2);
  fd = pidfd_open(c);
  show("another user", fd, PIDFD_INFO_COREDUMP, c);
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  close(fd);

  /* An exit code, then the same pidfd from a child in its own PID namespace. */
  c = fork();
  if (c == 0) _exit(42);
  fd = pidfd_open(c);
  waitpid(c, &st, 0);
  show("exited 42", fd, PIDFD_INFO_EXIT, c);
  if (unshare(CLONE_NEWPID) < 0) {
    printf("unshare: %s\n", ename(errno));
    return 1;
  }
  pid_t in = fork();
  if (in == 0) {
    memset(&i, 0, sizeof i);
    i.mask = PIDFD_INFO_EXIT;
    r = get(fd, GET_INFO(sizeof i), &i);
    printf("from a child PID namespace: %s\n", r == -ESRCH || r == -EREMOTE ? "ESRCH or EREMOTE" : r < 0 ? ename(-r) : "OK");
    memset(&i, 0, sizeof i);
    r = get(self, GET_INFO(sizeof i), &i);
    printf("its parent from there: %s\n", r == -ESRCH || r == -EREMOTE ? "ESRCH or EREMOTE" : r < 0 ? ename(-r) : "OK");
    int own = pidfd_open(getpid());
    memset(&i, 0, sizeof i);
    r = get(own, GET_INFO(sizeof i), &i);
    printf("itself there: %s pid %u ppid %u\n", r < 0 ? ename(-r) : "OK", i.pid, i.ppid);
    _exit(0);
  }
  waitpid(in, NULL, 0);
  printf("done\n");
  return 0;
}
