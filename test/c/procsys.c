/* procsys: writable proc files and their parsing rules (kernel IPC sysctls,
 * randomize_va_space, the inotify limits, oom_score_adj with oom_score,
 * coredump_filter) and the
 * task/ directory (nlink, getdents without duplicates). Host-wide values are
 * only written back unchanged or with values Linux refuses; the IPC sysctls
 * are written inside a new IPC namespace when the kernel allows one. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int readf(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, n - 1);
  close(fd);
  if (r < 0) return -1;
  buf[r] = 0;
  return (int)r;
}

/* Write s in one write() and print the result and what reads back. */
static void wr(const char *path, const char *label, const char *s, int show) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) {
    printf("%s: open %s\n", label, ename(errno));
    return;
  }
  errno = 0;
  ssize_t r = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  char buf[256];
  readf(path, buf, sizeof buf);
  if (r < 0) printf("%s: -1 %s", label, ename(e));
  else printf("%s: %zd", label, r);
  if (show) printf(" -> %s", buf);
  else printf("\n");
}

/* A single decimal and a newline. */
static int one_int(const char *s) {
  char *e;
  strtol(s, &e, 10);
  return e != s && strcmp(e, "\n") == 0;
}

static void ipc_sysctls(void) {
  const char *k = "/proc/sys/kernel/";
  const char *ints[] = {"msgmni", "msgmax", "msgmnb", "randomize_va_space"};
  char path[128], cur[128], s[160];
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s%s", k, ints[i]);
    struct stat st;
    if (stat(path, &st) < 0) DIE("stat");
    if (readf(path, cur, sizeof cur) < 0) DIE("read");
    printf("%s: mode %o, one integer %s\n", ints[i], st.st_mode & 07777, one_int(cur) ? "yes" : "no");
    wr(path, "  same value", cur, 0);
    char again[128];
    readf(path, again, sizeof again);
    printf("  unchanged: %s\n", strcmp(cur, again) == 0 ? "yes" : "no");
    wr(path, "  'abc'", "abc\n", 0);
    wr(path, "  '+5'", "+5\n", 0);
    wr(path, "  '12x'", "12x\n", 0);
    wr(path, "  blanks", "  \n", 0);
    wr(path, "  empty", "", 0);
    wr(path, "  2^31", "2147483648\n", 0);
    if (i < 3) wr(path, "  -1", "-1\n", 0);
    snprintf(s, sizeof s, "  %.*s  \n", (int)strlen(cur) - 1, cur);
    wr(path, "  value with blanks", s, 0);
    snprintf(s, sizeof s, "%.*s 77\n", (int)strlen(cur) - 1, cur);
    wr(path, "  two values", s, 0);
  }
  if (unshare(CLONE_NEWIPC) == 0) {
    /* Only in a private IPC namespace (or the sandbox, next line): values of our own. */
  }
  snprintf(path, sizeof path, "%ssem", k);
  if (readf(path, cur, sizeof cur) < 0) DIE("read sem");
  int a, b, c, d, tabs = 0;
  for (char *p = cur; *p; p++) tabs += *p == '\t';
  printf("sem: four values %s, tab separated %s\n", sscanf(cur, "%d\t%d\t%d\t%d\n", &a, &b, &c, &d) == 4 ? "yes" : "no",
         tabs == 3 ? "yes" : "no");
  wr(path, "  same value", cur, 0);
  snprintf(s, sizeof s, "%d %d %d 99999\n", a, b, c);
  wr(path, "  semmni too big", s, 0);
  readf(path, s, sizeof s);
  printf("  unchanged: %s\n", strcmp(cur, s) == 0 ? "yes" : "no");
  snprintf(s, sizeof s, "%d %d x\n", a, b);
  wr(path, "  bad third", s, 0);
  snprintf(s, sizeof s, "%d\t%d\t%d\t%d", a, b, c, d);
  wr(path, "  tabs, no newline", s, 0);
  snprintf(s, sizeof s, "%d %d %d %d 5\n", a, b, c, d);
  wr(path, "  five values", s, 0);
}

/* fs.inotify's limits: writable by root, one integer from 0 to INT_MAX (only refused values and the same value are written). */
static void inotify_sysctls(void) {
  const char *names[] = {"max_user_instances", "max_user_watches", "max_queued_events"};
  char path[128], cur[128], again[128];
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "/proc/sys/fs/inotify/%s", names[i]);
    struct stat st;
    if (stat(path, &st) < 0) DIE("stat");
    if (readf(path, cur, sizeof cur) < 0) DIE("read");
    printf("%s: mode %o, one integer %s\n", names[i], st.st_mode & 07777, one_int(cur) ? "yes" : "no");
    int fd = open(path, O_WRONLY);
    ssize_t r = fd < 0 ? -1 : write(fd, cur, strlen(cur));
    if (fd >= 0) close(fd);
    printf("  same value: %s\n", r == (ssize_t)strlen(cur) ? "written whole" : ename(errno));
    wr(path, "  'abc'", "abc\n", 0);
    wr(path, "  '12x'", "12x\n", 0);
    wr(path, "  -1", "-1\n", 0);
    wr(path, "  2^31", "2147483648\n", 0);
    wr(path, "  empty", "", 0);
    readf(path, again, sizeof again);
    printf("  unchanged: %s\n", strcmp(cur, again) == 0 ? "yes" : "no");
  }
}

static void oom(void) {
  const char *adj = "/proc/self/oom_score_adj";
  struct stat st;
  if (stat("/proc/self/oom_score", &st) < 0) DIE("stat oom_score");
  printf("oom_score mode %o\n", st.st_mode & 07777);
  if (stat(adj, &st) < 0) DIE("stat oom_score_adj");
  printf("oom_score_adj mode %o\n", st.st_mode & 07777);
  wr(adj, "adj 1000", "1000\n", 1);
  wr(adj, "adj 1001", "1001\n", 1);
  wr(adj, "adj -1001", "-1001\n", 1);
  wr(adj, "adj 0x10", "0x10\n", 1);
  wr(adj, "adj 010", "010", 1);
  wr(adj, "adj blanks 7", "  7 \n", 1);
  wr(adj, "adj '5 6'", "5 6\n", 1);
  wr(adj, "adj empty", "", 1);
  wr(adj, "adj huge", "99999999999\n", 1);
  int values[] = {0, 300};
  char s[32], buf[64];
  for (int i = 0; i < 2; i++) {
    snprintf(s, sizeof s, "%d\n", values[i]);
    wr(adj, "set", s, 0);
    readf("/proc/self/oom_score", buf, sizeof buf);
    long score = atol(buf);
    long base = (1000 + values[i]) * 2 / 3;
    printf("adj %d: oom_score near (1000 + adj) * 2/3: %s\n", values[i], score >= base && score < base + 50 ? "yes" : "no");
  }
  pid_t p = xfork();
  if (p == 0) {
    readf(adj, buf, sizeof buf);
    printf("child inherits adj: %s", buf);
    exit(0);
  }
  int status;
  waitpid(p, &status, 0);
}

static void coredump(void) {
  const char *f = "/proc/self/coredump_filter";
  char cur[64];
  readf(f, cur, sizeof cur);
  printf("coredump_filter: %zu chars, hex %s\n", strlen(cur), strspn(cur, "0123456789abcdef") == 8 ? "yes" : "no");
  wr(f, "cdf 0x1ff", "0x1ff\n", 1);
  wr(f, "cdf ff", "ff\n", 1);
  wr(f, "cdf -1", "-1\n", 1);
  wr(f, "cdf 100000000", "100000000\n", 1);
  wr(f, "cdf blanks", " 0x3\n", 1);
  wr(f, "cdf empty", "", 1);
  wr(f, "cdf 2^32", "4294967296\n", 1);
  wr(f, "cdf 0x33", "0x33\n", 1);
  wr(f, "cdf 0x1000", "0x1000\n", 1);
  wr(f, "cdf 0x33", "0x33\n", 1);
}

/* Entries of dir read with a buffer of bufsize bytes per getdents64. */
static int list(const char *dir, size_t bufsize, char names[][32], int max) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) DIE("open dir");
  char buf[4096];
  int n = 0;
  for (;;) {
    long r = syscall(SYS_getdents64, fd, buf, bufsize);
    if (r < 0) DIE("getdents64");
    if (r == 0) break;
    for (long off = 0; off < r;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      if (n < max) {
        size_t l = strnlen(d->d_name, 31);
        memcpy(names[n], d->d_name, l);
        names[n][l] = 0;
      }
      n++;
      off += d->d_reclen;
    }
  }
  close(fd);
  return n;
}

static int subdirs(const char *dir) {
  char names[128][32], p[512];
  int n = list(dir, sizeof(char[4096]), names, 128), k = 0;
  for (int i = 0; i < n && i < 128; i++) {
    if (!strcmp(names[i], ".") || !strcmp(names[i], "..")) continue;
    struct stat st;
    snprintf(p, sizeof p, "%.400s/%.31s", dir, names[i]);
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) k++;
  }
  return k;
}

static void tasks(void) {
  enum { N = 0 };
  char names[64][32];
  for (size_t bs = 32; bs <= 4096; bs *= 128) {
    int n = list("/proc/self/task", bs, names, 64), dup = 0, dots = 0;
    for (int i = 0; i < n; i++) {
      dots += !strcmp(names[i], ".") || !strcmp(names[i], "..");
      for (int j = 0; j < i; j++) dup += !strcmp(names[i], names[j]);
    }
    printf("task/ with %zu-byte getdents: %d entries (%d dots), %d duplicates\n", bs, n, dots, dup);
  }
  struct stat st;
  stat("/proc/self/task", &st);
  printf("task nlink == 2 + threads: %s\n", st.st_nlink == 2 + N + 1 ? "yes" : "no");
  char p[128];
  snprintf(p, sizeof p, "/proc/self/task/%ld", (long)syscall(SYS_gettid));
  stat(p, &st);
  printf("task/TID nlink == 2 + subdirectories: %s\n", (int)st.st_nlink == 2 + subdirs(p) ? "yes" : "no");
  stat("/proc/self/", &st);
  printf("/proc/PID nlink == 2 + subdirectories: %s\n", (int)st.st_nlink == 2 + subdirs("/proc/self") ? "yes" : "no");
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
  char buf[1024];
  lseek(fd, 0, SEEK_SET);
  SHOW("getdents after lseek(1000000)", (lseek(fd, 1000000, SEEK_SET), syscall(SYS_getdents64, fd, buf, sizeof buf)));
  SHOW("getdents with 8-byte buffer", (lseek(fd, 0, SEEK_SET), syscall(SYS_getdents64, fd, buf, 8)));
  close(fd);
}

int main(void) {
  line_buffered();
  ipc_sysctls();
  inotify_sysctls();
  oom();
  coredump();
  tasks();
  printf("done\n");
  return 0;
}
