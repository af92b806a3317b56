/* memlimit: fills each kind of memory a sandboxed program can make the
 * Sentry keep, until Linux's errno, then frees it and shows that the sandbox
 * still works. Modes (argv[1]):
 *   anon MIB        touch MIB MiB of anonymous memory (the OOM killer's case)
 *   eager N MIB     map N areas of MIB MiB without touching them, then touch
 *                   only the first (untouched frames must not count)
 *   meminfo         MemTotal/MemFree of /proc/meminfo and sysinfo, in kB
 *   files DIR | symlinks DIR | bigfile DIR | xattrs DIR
 *                   fill a tmpfs until the errno, clean up, create again
 *   pipesize        F_SETPIPE_SZ limits as root and as an unprivileged user
 *   pipes           make and fill pipes until the errno
 *   sigqueue N      queue real-time signals with RLIMIT_SIGPENDING N
 *   timers N        timer_create with RLIMIT_SIGPENDING N
 *   epoll           register one pipe under every fd in many epoll sets
 *                   until the errno (ENOSPC, as max_user_watches)
 *   msgq            fill System V message queues until the errno (ENOMEM
 *                   from the heap budget, or ENOSPC past msgmni)
 * Each mode prints one line per result; errors are printed by name. */
#define _GNU_SOURCE
#include "../c/common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

#define MIB (1UL << 20)

static char path[4096];

/* Names for the errnos common.h does not know. */
static const char *en(int e) {
  if (e == ENFILE) return "ENFILE";
  if (e == EMFILE) return "EMFILE";
  if (e == ENOSPC) return "ENOSPC";
  if (e == E2BIG) return "E2BIG";
  if (e == ERANGE) return "ERANGE";
  return ename(e);
}
#define ename en

static int anon(unsigned long mib) {
  char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap %lu MiB: %s\n", mib, p == MAP_FAILED ? ename(errno) : "ok");
  if (p == MAP_FAILED) return 1;
  for (unsigned long i = 0; i < mib * MIB; i += 4096) p[i] = 1;
  printf("touched %lu MiB\n", mib);
  return 0;
}

static int eager(int n, unsigned long mib) {
  char *first = NULL;
  for (int i = 0; i < n; i++) {
    char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      printf("mmap %d: %s\n", i, ename(errno));
      return 1;
    }
    if (!first) first = p;
  }
  printf("mapped %d x %lu MiB\n", n, mib);
  memset(first, 3, mib * MIB);
  printf("touched %lu MiB\n", mib);
  return 0;
}

static int meminfo(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "MemTotal:", 9) || !strncmp(line, "MemFree:", 8) || !strncmp(line, "MemAvailable:", 13)) fputs(line, stdout);
  if (f) fclose(f);
  struct sysinfo si;
  sysinfo(&si);
  printf("sysinfo totalram %llu kB\n", (unsigned long long)si.totalram * si.mem_unit / 1024);
  printf("sysinfo freeram %llu kB\n", (unsigned long long)si.freeram * si.mem_unit / 1024);
  return 0;
}

/* Create entries named DIR/<prefix><i> with make() until it fails; returns the count. */
static int fill(const char *dir, const char *what, int (*make)(const char *, int)) {
  int i;
  for (i = 0; i < 10000000; i++) {
    snprintf(path, sizeof path, "%s/%s%d", dir, what, i);
    if (make(path, i)) break;
  }
  int e = errno;
  printf("%s: %s after %s\n", what, ename(e), i > 0 ? "some" : "none");
  return i;
}

static void unfill(const char *dir, const char *what, int n) {
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s%d", dir, what, i);
    if (unlink(path)) {
      printf("unlink %s: %s\n", path, ename(errno));
      return;
    }
  }
}

static int make_file(const char *p, int i) {
  (void)i;
  int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static char target[4000];
static int make_link(const char *p, int i) {
  memset(target, 'x', sizeof target - 1); /* 3999 bytes, unique */
  target[sizeof target - 1] = 0;
  int n = snprintf(target, 16, "%d", i);
  target[n] = 'x';
  return symlink(target, p);
}

/* The check after every fill: a fresh file can be created and written. */
static void again(const char *dir) {
  snprintf(path, sizeof path, "%s/again", dir);
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  printf("create again: %s\n", fd < 0 ? ename(errno) : (write(fd, "hello", 5) == 5 ? "ok" : ename(errno)));
  if (fd >= 0) close(fd);
  unlink(path);
}

static int bigfile(const char *dir) {
  snprintf(path, sizeof path, "%s/big", dir);
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  static char buf[1 << 20];
  memset(buf, 7, sizeof buf);
  long total = 0;
  ssize_t n;
  while ((n = write(fd, buf, sizeof buf)) > 0) total += n;
  printf("bigfile: %s\n", n < 0 ? ename(errno) : "short");
  struct statfs sf;
  statfs(dir, &sf);
  printf("bigfile: written %s blocks\n", total / 4096 <= (long)sf.f_blocks ? "<=" : ">");
  close(fd);
  unlink(path);
  return 0;
}

static int xattrs(const char *dir) {
  static char val[65537];
  memset(val, 'v', sizeof val);
  snprintf(path, sizeof path, "%s/xa", dir);
  close(open(path, O_CREAT | O_WRONLY, 0644));
  printf("value 64 KiB + 1: %s\n", setxattr(path, "user.big", val, 65537, 0) ? ename(errno) : "ok");
  char name[300];
  memset(name, 'n', sizeof name);
  memcpy(name, "user.", 5);
  name[256] = 0;
  printf("name 256 bytes: %s\n", setxattr(path, name, "v", 1, 0) ? ename(errno) : "ok");
  int files = 0, i = 0;
  for (;; files++) {
    snprintf(path, sizeof path, "%s/xa%d", dir, files);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) break;
    close(fd);
    for (i = 0; i < 64; i++) {
      snprintf(name, sizeof name, "user.%d", i);
      if (setxattr(path, name, val, 65536, 0)) break;
    }
    if (i < 64) break;
  }
  printf("xattrs: %s\n", ename(errno));
  for (int k = 0; k <= files; k++) {
    snprintf(path, sizeof path, "%s/xa%d", dir, k);
    unlink(path);
  }
  snprintf(path, sizeof path, "%s/xa", dir);
  unlink(path);
  again(dir);
  return 0;
}

static int pipesize(void) {
  int p[2];
  if (pipe(p)) return 1;
  printf("root 2 MiB: %s\n", fcntl(p[1], F_SETPIPE_SZ, 2 << 20) < 0 ? ename(errno) : "ok");
  printf("root 1 GiB: %s\n", fcntl(p[1], F_SETPIPE_SZ, 1 << 30) < 0 ? ename(errno) : "ok");
  printf("root INT_MAX: %s\n", fcntl(p[1], F_SETPIPE_SZ, 0x7fffffff) < 0 ? ename(errno) : "ok");
  pid_t c = fork();
  if (c == 0) {
    if (setuid(1000)) _exit(1);
    printf("user 1 MiB: %s\n", fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0 ? ename(errno) : "ok");
    printf("user 2 MiB: %s\n", fcntl(p[1], F_SETPIPE_SZ, 2 << 20) < 0 ? ename(errno) : "ok");
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  return 0;
}

static int pipes(void) {
  static char buf[1 << 16];
  int n = 0, p[2];
  struct rlimit rl = {1 << 20, 1 << 20};
  setrlimit(RLIMIT_NOFILE, &rl);
  for (;; n++) {
    if (pipe2(p, O_NONBLOCK)) break;
    while (write(p[1], buf, sizeof buf) > 0) {}
    close(p[0]); /* the write end keeps the pipe and its data */
  }
  printf("pipes: %s\n", ename(errno));
  for (int fd = 3; fd < 1 << 20 && n > 0; fd++)
    if (close(fd) == 0) n--;
  printf("pipe again: %s\n", pipe(p) ? ename(errno) : "ok");
  return 0;
}

static int sigq(int limit) {
  struct rlimit rl = {limit, limit};
  setrlimit(RLIMIT_SIGPENDING, &rl);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &set, NULL);
  union sigval v = {0};
  int i;
  for (i = 0; i < 10 * limit; i++)
    if (sigqueue(getpid(), SIGRTMIN, v)) break;
  printf("sigqueue: %s after %s\n", ename(errno), i <= limit && i >= limit / 2 ? "about the limit" : "a wrong count");
  printf("kill: %s\n", kill(getpid(), SIGRTMIN) ? ename(errno) : "ok");
  struct timespec zero = {0, 0};
  int got = 0;
  while (sigtimedwait(&set, NULL, &zero) == SIGRTMIN) got++;
  printf("dequeued %s\n", got >= i ? "all" : "too few");
  printf("sigqueue again: %s\n", sigqueue(getpid(), SIGRTMIN, v) ? ename(errno) : "ok");
  return 0;
}

static int timers(int limit) {
  struct rlimit rl = {limit, limit};
  setrlimit(RLIMIT_SIGPENDING, &rl);
  timer_t id;
  int i;
  for (i = 0; i < 10 * limit; i++)
    if (timer_create(CLOCK_MONOTONIC, NULL, &id)) break;
  printf("timer_create: %s after %s\n", ename(errno), i <= limit && i >= limit / 2 ? "about the limit" : "a wrong count");
  return 0;
}

static int epollfill(void) {
  struct rlimit rl = {65536, 65536};
  setrlimit(RLIMIT_NOFILE, &rl);
  int p[2];
  if (pipe(p)) return 1;
  enum { FDS = 2000, SETS = 2000 };
  static int fds[FDS], sets[SETS];
  for (int i = 0; i < FDS; i++) fds[i] = dup(p[0]);
  long n = 0;
  int err = 0, s;
  for (s = 0; s < SETS && !err; s++) {
    sets[s] = epoll_create1(0);
    if (sets[s] < 0) { err = errno; break; }
    for (int i = 0; i < FDS; i++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
      if (epoll_ctl(sets[s], EPOLL_CTL_ADD, fds[i], &ev)) { err = errno; break; }
      n++;
    }
  }
  printf("epoll_ctl: %s after some\n", err ? ename(err) : "no error");
  for (int i = 0; i <= s && i < SETS; i++) if (sets[i] > 0) close(sets[i]);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
  printf("epoll again: %s\n", ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0 ? "ok" : ename(errno));
  return n > 0 ? 0 : 1;
}

static int msgqfill(void) {
  struct { long type; char text[8192]; } m = {1, {0}};
  int err = 0, nq = 0;
  static int ids[40000];
  while (!err && nq < 40000) {
    int q = msgget(IPC_PRIVATE, 0600);
    if (q < 0) { err = errno; break; }
    ids[nq++] = q;
    while (msgsnd(q, &m, sizeof m.text, IPC_NOWAIT) == 0) {}
    if (errno != EAGAIN) err = errno;
  }
  printf("msgq: %s after some\n", err ? ename(err) : "no error");
  for (int i = 0; i < nq; i++) msgctl(ids[i], IPC_RMID, NULL);
  int q = msgget(IPC_PRIVATE, 0600);
  printf("msgq again: %s\n", q >= 0 && msgsnd(q, &m, 100, IPC_NOWAIT) == 0 ? "ok" : ename(errno));
  msgctl(q, IPC_RMID, NULL);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *m = argc > 1 ? argv[1] : "";
  const char *a = argc > 2 ? argv[2] : "/tmp";
  int r = 1;
  if (!strcmp(m, "anon")) r = anon(strtoul(a, NULL, 0));
  else if (!strcmp(m, "eager")) r = eager(atoi(a), strtoul(argv[3], NULL, 0));
  else if (!strcmp(m, "meminfo")) r = meminfo();
  else if (!strcmp(m, "files")) { int n = fill(a, "f", make_file); unfill(a, "f", n); again(a); r = 0; }
  else if (!strcmp(m, "symlinks")) { int n = fill(a, "l", make_link); unfill(a, "l", n); again(a); r = 0; }
  else if (!strcmp(m, "bigfile")) { bigfile(a); again(a); r = 0; }
  else if (!strcmp(m, "xattrs")) r = xattrs(a);
  else if (!strcmp(m, "pipesize")) r = pipesize();
  else if (!strcmp(m, "pipes")) r = pipes();
  else if (!strcmp(m, "sigqueue")) r = sigq(atoi(a));
  else if (!strcmp(m, "timers")) r = timers(atoi(a));
  else if (!strcmp(m, "epoll")) r = epollfill();
  else if (!strcmp(m, "msgq")) r = msgqfill();
  else fprintf(stderr, "unknown mode %s\n", m);
  printf("alive\n");
  return r;
}
