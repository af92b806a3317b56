/* rawsyscall: the kernel's identity and basic calls, through raw syscall().
 *
 * Prints "key=value" lines. Lines whose value legitimately differs between
 * the host and a sandbox (pid 1, parent 0) are printed only when the
 * environment has SANDBOX=1; the uname fields and /proc/version are printed
 * always and checked by the test against what the running kernel (host or
 * sandbox) is expected to report, not against each other. */
#define _GNU_SOURCE
#include "common.h"

#include <asm/prctl.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define RAW(label, ...)                                                        \
  do {                                                                         \
    errno = 0;                                                                 \
    long raw_r_ = syscall(__VA_ARGS__);                                        \
    if (raw_r_ < 0)                                                            \
      printf("%s=-1 %s\n", (label), ename(errno));                             \
    else                                                                       \
      printf("%s=%ld\n", (label), raw_r_);                                     \
  } while (0)

int main(void) {
  line_buffered();
  const char *sandbox = getenv("SANDBOX");
  int in_sandbox = sandbox && strcmp(sandbox, "1") == 0;

  fflush(stdout);
  static const char msg[] = "raw write to stdout\n";
  long n = syscall(SYS_write, 1, msg, sizeof msg - 1);
  printf("raw_write_returned=%ld\n", n);

  long pid = syscall(SYS_getpid);
  long tid = syscall(SYS_gettid);
  long ppid = syscall(SYS_getppid);
  if (in_sandbox) {
    printf("pid_is_1=%s\n", pid == 1 ? "yes" : "no");
    printf("ppid_is_0=%s\n", ppid == 0 ? "yes" : "no");
  }
  printf("pid_positive=%s\n", pid > 0 ? "yes" : "no");
  printf("tid_eq_pid=%s\n", tid == pid ? "yes" : "no");
  printf("pid_matches_libc=%s\n", pid == getpid() ? "yes" : "no");

  struct utsname u;
  memset(&u, 0, sizeof u);
  RAW("uname_returned", SYS_uname, &u);
  printf("sysname=%s\n", u.sysname);
  printf("nodename=%s\n", u.nodename);
  printf("release=%s\n", u.release);
  printf("version=%s\n", u.version);
  printf("machine=%s\n", u.machine);
  RAW("uname_bad_pointer", SYS_uname, (void *)8);

  char buf[4096];
  memset(buf, 0, sizeof buf);
  long fd = syscall(SYS_openat, AT_FDCWD, "/proc/version", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("proc_version_open=-1 %s\n", ename(errno));
  } else {
    long total = 0, r;
    while (total < (long)sizeof buf - 1 && (r = syscall(SYS_read, fd, buf + total, sizeof buf - 1 - total)) > 0)
      total += r;
    char *nl = strchr(buf, '\n');
    printf("proc_version_ends_with_newline=%s\n", nl && nl[1] == 0 ? "yes" : "no");
    if (nl) *nl = 0;
    printf("proc_version=%s\n", buf);
    RAW("close_returned", SYS_close, fd);
  }
  RAW("close_bad_fd", SYS_close, 12345);
  RAW("openat_missing", SYS_openat, AT_FDCWD, "/nonexistent/file", O_RDONLY);
  RAW("write_bad_pointer", SYS_write, 1, (void *)1, 10);
  RAW("read_bad_fd", SYS_read, 999, buf, 1);
  RAW("unknown_syscall_1000", 1000);
  RAW("unknown_syscall_-1", -1L);

  printf("uid=%ld euid=%ld gid=%ld egid=%ld\n", syscall(SYS_getuid), syscall(SYS_geteuid),
         syscall(SYS_getgid), syscall(SYS_getegid));

  char cwd[4096];
  long cl = syscall(SYS_getcwd, cwd, sizeof cwd);
  printf("getcwd_length_matches=%s\n", cl > 0 && cl == (long)strlen(cwd) + 1 ? "yes" : "no");
  RAW("getcwd_small_buffer", SYS_getcwd, cwd, 1);

  unsigned long fsbase = 0;
  RAW("arch_prctl_get_fs", SYS_arch_prctl, ARCH_GET_FS, &fsbase);
  printf("fs_base_nonzero=%s\n", fsbase ? "yes" : "no");

  struct timespec ts = {0, 0};
  RAW("clock_gettime_realtime", SYS_clock_gettime, CLOCK_REALTIME, &ts);
  printf("realtime_after_2020=%s\n", ts.tv_sec > 1577836800L ? "yes" : "no");
  struct timespec m1, m2;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m1);
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m2);
  printf("monotonic_nondecreasing=%s\n",
         (m2.tv_sec > m1.tv_sec || (m2.tv_sec == m1.tv_sec && m2.tv_nsec >= m1.tv_nsec)) ? "yes" : "no");
  RAW("clock_gettime_bad_clock", SYS_clock_gettime, 12345, &ts);

  unsigned char rnd[16];
  RAW("getrandom_16", SYS_getrandom, rnd, sizeof rnd, 0);

  long brk0 = syscall(SYS_brk, 0);
  long brk1 = syscall(SYS_brk, brk0 + 8192);
  printf("brk_grows=%s\n", brk1 == brk0 + 8192 ? "yes" : "no");
  syscall(SYS_brk, brk0);

  RAW("sched_yield", SYS_sched_yield);
  RAW("umask_old", SYS_umask, 022);
  RAW("umask_again", SYS_umask, 022);
  fflush(stdout);
  syscall(SYS_exit_group, 0);
  return 1;
}
