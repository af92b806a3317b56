/* pidns: nested PID namespaces (man 7 pid_namespaces) compared with Linux:
 * unshare(CLONE_NEWPID) moving only the children, pids seen from each level
 * two and three deep, getppid 0 at the boundary, pgid and sid outside the
 * namespace shown as 0, /proc mounted in a namespace (its listing, self,
 * NSpid/NSpgid/NSsid), orphans reparented to the namespace's init, init's
 * protection from its own namespace's signals (SIGTERM and SIGKILL from
 * inside ignored; a handled signal delivered with the sender's pid there),
 * si_pid 0 from outside, the death of init killing the rest and closing the
 * namespace (fork ENOMEM after setns into it), setns's rules, the nsfs
 * ioctls, and the bound of 32 levels (ENOSPC). Only numbers inside the
 * namespaces it makes are printed. Runs as root; mounts only in private
 * mount namespaces of its own children. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NS_GET_USERNS 0xb701
#define NS_GET_PARENT 0xb702
#define NS_GET_NSTYPE 0xb703

/* wait for p and say how it ended */
static void reap(const char *what, pid_t p) {
  int st;
  if (waitpid(p, &st, 0) != p) DIE("waitpid");
  if (WIFEXITED(st)) printf("%s: exit %d\n", what, WEXITSTATUS(st));
  else printf("%s: signal %d\n", what, WTERMSIG(st));
}

/* fork into a namespace and run fn there; returns the child's pid as the caller sees it */
static pid_t spawn(int (*fn)(void)) {
  pid_t p = xfork();
  if (p == 0) exit(fn());
  return p;
}

/* A private mount namespace with /proc of the caller's PID namespace. */
static void own_proc(void) {
  if (unshare(CLONE_NEWNS) < 0) DIE("unshare mnt");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) DIE("make / private");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) DIE("mount proc");
}

/* the line "key:\t..." of /proc/PID/status, tabs shown as spaces */
static void status_line(const char *pid, const char *key) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%s/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) DIE("open status");
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      for (char *c = line; *c; c++) if (*c == '\t') *c = ' ';
      printf("  %s %s", pid, line);
    }
  }
  fclose(f);
}

/* the numeric entries of /proc, in order */
static void list_proc(const char *label) {
  int nums[64], n = 0;
  DIR *d = opendir("/proc");
  if (!d) DIE("opendir /proc");
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) if (e->d_name[0] >= '1' && e->d_name[0] <= '9') nums[n++] = atoi(e->d_name);
  closedir(d);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (nums[j] < nums[i]) { int x = nums[i]; nums[i] = nums[j]; nums[j] = x; }
  printf("%s:", label);
  for (int i = 0; i < n; i++) printf(" %d", nums[i]);
  printf("\n");
}

static void self_link(const char *label, const char *path) {
  char buf[64];
  ssize_t r = readlink(path, buf, sizeof buf - 1);
  if (r < 0) { printf("%s = -1 %s\n", label, ename(errno)); return; }
  buf[r] = 0;
  /* namespace links name inode numbers: only their kind is stable */
  if (strncmp(buf, "pid:[", 5) == 0) buf[4] = 0;
  printf("%s = %s\n", label, buf);
}

/* ---- two and three deep --------------------------------------------------------- */

static int level3(void) {
  printf("L3: getpid %d getppid %d\n", getpid(), getppid());
  status_line("self", "NStgid");
  status_line("self", "NSpid");
  status_line("3", "NSpid");
  self_link("L3: /proc/self", "/proc/self");
  return 0;
}

static int level2(void) {
  printf("L2: getpid %d getppid %d\n", getpid(), getppid());
  if (unshare(CLONE_NEWPID) < 0) DIE("unshare L2");
  pid_t c = spawn(level3);
  reap("L2 reaps L3", c);
  printf("L2: child was %d\n", c);
  return 0;
}

static int level1(void) {
  printf("L1: getpid %d getppid %d getpgid %d getsid %d\n", getpid(), getppid(), getpgid(0), getsid(0));
  SHOW("L1: setsid", setsid());
  printf("L1: getpgrp %d getsid %d\n", getpgrp(), getsid(0));
  own_proc();
  self_link("L1: /proc/self", "/proc/self");
  self_link("L1: pid_for_children before", "/proc/self/ns/pid_for_children");
  if (unshare(CLONE_NEWPID) < 0) DIE("unshare L1");
  SHOW("L1: unshare again", unshare(CLONE_NEWPID));
  SHOW("L1: getpid after unshare", getpid());
  self_link("L1: pid_for_children new, no process", "/proc/self/ns/pid_for_children");
  int sync[2];
  if (pipe(sync) < 0) DIE("pipe");
  pid_t c = xfork();
  if (c == 0) {
    close(sync[1]);
    char b;
    if (read(sync[0], &b, 1) != 1) DIE("read sync");
    exit(level2());
  }
  close(sync[0]);
  printf("L1: child is %d\n", c);
  struct stat a, b;
  if (stat("/proc/self/ns/pid", &a) < 0 || stat("/proc/self/ns/pid_for_children", &b) < 0) DIE("stat ns");
  printf("L1: pid and pid_for_children differ: %d\n", a.st_ino != b.st_ino);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", c);
  struct stat cs;
  if (stat(path, &cs) < 0) DIE("stat child ns");
  printf("L1: child's ns is my pid_for_children: %d\n", cs.st_ino == b.st_ino);
  list_proc("L1: /proc");
  status_line("2", "NSpid");
  status_line("2", "NSpgid");
  status_line("2", "NSsid");
  status_line("2", "PPid");
  if (write(sync[1], "x", 1) != 1) DIE("write sync");
  reap("L1 reaps L2", c);
  return 0;
}

static void nested(void) {
  pid_t before = getpid();
  if (unshare(CLONE_NEWPID) < 0) DIE("unshare");
  printf("top: getpid unchanged after unshare: %d\n", getpid() == before);
  SHOW("top: second unshare before any child", unshare(CLONE_NEWPID));
  pid_t c = spawn(level1);
  reap("top reaps L1", c);
  /* The caller's children keep going into the namespace it unshared, now without init. */
  errno = 0;
  pid_t again = fork();
  if (again == 0) exit(0);
  printf("top: fork into the namespace whose init died = %d %s\n", again < 0 ? -1 : 0, again < 0 ? ename(errno) : "");
  if (again > 0) waitpid(again, NULL, 0);
}

/* ---- init: orphans, signals, death ------------------------------------------------ */

static volatile sig_atomic_t got_sig, got_pid = -1, got_code = 99;

static void on_usr(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  got_sig = sig;
  got_pid = si->si_pid;
  got_code = si->si_code;
}

/* init writes to it once it has reaped the orphan's parent */
static int orphan_go[2];

static int orphan_child(void) {
  /* pid 2 leads a group, forks pid 3 and dies: 3 goes to init, the group (led by a pid gone) stays */
  if (setpgid(0, 0) < 0) DIE("setpgid");
  pid_t q = xfork();
  if (q == 0) {
    char c;
    if (read(orphan_go[0], &c, 1) != 1) DIE("read orphan go");
    printf("orphan: getpid %d getppid %d getpgid %d\n", getpid(), getppid(), getpgid(0));
    exit(3);
  }
  exit(2);
}

/* init's ends of the pipes to its parent: ready, go, and one its last child holds until it dies */
static int ready_w = -1, go_r = -1, held_w = -1;

static int init_main(void) {
  char c;
  /* the parent prints its part first */
  if (read(go_r, &c, 1) != 1) DIE("read start");
  struct sigaction sa = {0};
  sa.sa_sigaction = on_usr;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  /* orphans come to init */
  if (pipe(orphan_go) < 0) DIE("pipe");
  pid_t p = spawn(orphan_child);
  printf("init: orphan's parent is %d\n", p);
  reap("init reaps the parent", p);
  if (write(orphan_go[1], "g", 1) != 1) DIE("write orphan go");
  int st;
  pid_t w = waitpid(-1, &st, 0);
  printf("init: reaped orphan %d, exit %d\n", w, WEXITSTATUS(st));
  /* signals from inside: SIGTERM and SIGKILL without handler ignored; SIGUSR1 handled with the sender's pid */
  pid_t k = xfork();
  if (k == 0) {
    SHOW("inside: kill(1, SIGTERM)", kill(1, SIGTERM));
    SHOW("inside: kill(1, SIGKILL)", kill(1, SIGKILL));
    SHOW("inside: kill(1, SIGUSR1)", kill(1, SIGUSR1));
    exit(0);
  }
  reap("init reaps the signaller", k);
  for (int i = 0; i < 500 && !got_sig; i++) sleep_ms(2);
  printf("init: survived, SIGUSR1 from si_pid %d (sender was %d) code %d\n", got_pid, k, got_code);
  got_sig = 0;
  /* kill(-1) from inside: everyone but init and the caller */
  pid_t a = xfork();
  if (a == 0) { pause(); exit(0); }
  pid_t b = xfork();
  if (b == 0) {
    SHOW("inside: kill(-1, SIGTERM)", kill(-1, SIGTERM));
    exit(0);
  }
  reap("init reaps kill(-1)'s caller", b);
  reap("init reaps kill(-1)'s target", a);
  printf("init: still alive\n");
  /* tell the parent we are ready for signals from outside, then wait for them */
  fflush(stdout);
  if (write(ready_w, "r", 1) != 1) DIE("write ready");
  if (read(go_r, &c, 1) != 1) DIE("read go");
  for (int i = 0; i < 500 && !got_sig; i++) sleep_ms(2);
  printf("init: SIGUSR1 from outside: si_pid %d code %d\n", got_pid, got_code);
  /* a child that outlives nothing: killed with init */
  pid_t z = xfork();
  if (z == 0) {
    /* holds the write end of held until it dies */
    pause();
    exit(0);
  }
  close(held_w);
  fflush(stdout);
  if (write(ready_w, "k", 1) != 1) DIE("write k");
  pause();
  return 0;
}

static void init_rules(void) {
  int ready[2], go[2], held[2];
  if (pipe(ready) < 0 || pipe(go) < 0 || pipe(held) < 0) DIE("pipe");
  int self = open("/proc/self/ns/pid", O_RDONLY);
  if (self < 0) DIE("open self ns");
  pid_t x;
  if (syscall(SYS_unshare, CLONE_NEWPID) < 0) DIE("unshare");
  x = xfork();
  if (x == 0) {
    ready_w = ready[1];
    go_r = go[0];
    held_w = held[1];
    close(ready[0]);
    close(go[1]);
    close(held[0]);
    exit(init_main());
  }
  close(held[1]);
  close(ready[1]);
  close(go[0]);
  /* back to making children in our own namespace */
  if (setns(self, CLONE_NEWPID) < 0) DIE("setns back");
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", x);
  int nsfd = open(path, O_RDONLY);
  if (nsfd < 0) DIE("open child ns");
  SHOW("NS_GET_NSTYPE is CLONE_NEWPID", ioctl(nsfd, NS_GET_NSTYPE) == CLONE_NEWPID);
  int parent = ioctl(nsfd, NS_GET_PARENT);
  struct stat ps, ss;
  fstat(parent, &ps);
  fstat(self, &ss);
  printf("NS_GET_PARENT of the child's is mine: %d\n", parent >= 0 && ps.st_ino == ss.st_ino);
  SHOW("NS_GET_PARENT of mine (above the caller)", ioctl(self, NS_GET_PARENT));
  int uns = ioctl(nsfd, NS_GET_USERNS);
  printf("NS_GET_USERNS works: %d\n", uns >= 0);
  if (write(go[1], "s", 1) != 1) DIE("write start");
  char c;
  if (read(ready[0], &c, 1) != 1) DIE("read ready");
  /* from outside: SIGTERM without handler still ignored, SIGUSR1 with si_pid 0 */
  SHOW("outside: kill(init, SIGTERM)", kill(x, SIGTERM));
  SHOW("outside: kill(init, SIGUSR1)", kill(x, SIGUSR1));
  if (write(go[1], "g", 1) != 1) DIE("write go");
  if (read(ready[0], &c, 1) != 1) DIE("read k");
  /* SIGKILL from an ancestor namespace gets through; the rest of the namespace dies with init */
  SHOW("outside: kill(init, SIGKILL)", kill(x, SIGKILL));
  reap("parent reaps init", x);
  char b;
  printf("the namespace's other process died: %d\n", read(held[0], &b, 1) == 0);
  /* joining the dead namespace is allowed, forking in it is not */
  SHOW("setns into the dead namespace", setns(nsfd, CLONE_NEWPID));
  errno = 0;
  pid_t f = fork();
  if (f == 0) exit(0);
  printf("fork in a dead namespace = %d %s\n", f < 0 ? -1 : 0, f < 0 ? ename(errno) : "");
  if (f > 0) waitpid(f, NULL, 0);
  SHOW("setns back", setns(self, CLONE_NEWPID));
  /* a child's namespace may be joined for children, never an ancestor */
  close(nsfd);
  close(parent);
}

/* ---- setns rules, waitid and si_pid across ---------------------------------- */

static int join_child(void) {
  /* its own namespace may be joined (children stay in it) */
  int own = open("/proc/self/ns/pid", O_RDONLY);
  if (own < 0) DIE("open");
  SHOW("child: setns own namespace", setns(own, CLONE_NEWPID));
  return 0;
}

static void across(void) {
  int self = open("/proc/self/ns/pid", O_RDONLY);
  if (unshare(CLONE_NEWPID) < 0) DIE("unshare");
  pid_t c = xfork();
  if (c == 0) {
    /* the parent's namespace (inherited fd) is an ancestor: EINVAL */
    SHOW("child: setns into the ancestor", setns(self, CLONE_NEWPID));
    exit(join_child());
  }
  if (setns(self, CLONE_NEWPID) < 0) DIE("setns back");
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, c, &si, WEXITED) < 0) DIE("waitid");
  printf("waitid: si_pid is the fork result %d, status %d\n", si.si_pid == c, si.si_status);
}

/* ---- SCM_CREDENTIALS and SO_PEERCRED across the boundary ---------------------- */

static void creds_across(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) DIE("socketpair");
  int on = 1;
  setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  if (unshare(CLONE_NEWPID) < 0) DIE("unshare");
  pid_t c = xfork();
  if (c == 0) {
    struct ucred pc;
    socklen_t l = sizeof pc;
    getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &pc, &l);
    printf("child: SO_PEERCRED pid of the pair's maker (outside) = %d\n", pc.pid);
    struct ucred uc = {getpid(), getuid(), getgid()};
    char cbuf[CMSG_SPACE(sizeof uc)];
    memset(cbuf, 0, sizeof cbuf);
    char byte = 'x';
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_CREDENTIALS;
    cm->cmsg_len = CMSG_LEN(sizeof uc);
    memcpy(CMSG_DATA(cm), &uc, sizeof uc);
    SHOW("child: sendmsg with its own pid (1)", sendmsg(sv[1], &mh, 0));
    exit(0);
  }
  char byte;
  struct iovec iov = {&byte, 1};
  char cbuf[CMSG_SPACE(sizeof(struct ucred))];
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  if (recvmsg(sv[0], &mh, 0) != 1) DIE("recvmsg");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  struct ucred got;
  memcpy(&got, CMSG_DATA(cm), sizeof got);
  reap("creds child", c);
  printf("parent: SCM_CREDENTIALS pid is the child's here: %d\n", got.pid == c);
}

/* ---- futex words hold the namespace's thread ids -------------------------------- */

static pthread_mutex_t pi_m, robust_m;

static void *pi_waiter(void *arg) {
  (void)arg;
  int r = pthread_mutex_lock(&pi_m);
  if (r == 0) r = pthread_mutex_unlock(&pi_m);
  return (void *)(long)r;
}

static void *robust_holder(void *arg) {
  (void)arg;
  pthread_mutex_lock(&robust_m);
  return NULL; /* dies holding it */
}

static int futex_child(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&pi_m, &a);
  pthread_mutex_lock(&pi_m);
  pthread_t th;
  pthread_create(&th, NULL, pi_waiter, NULL);
  sleep_ms(50);
  int u = pthread_mutex_unlock(&pi_m);
  void *r;
  pthread_join(th, &r);
  printf("PI mutex in the namespace: unlock %s, waiter %s\n", ename(u), ename((int)(long)r));
  pthread_mutexattr_t b;
  pthread_mutexattr_init(&b);
  pthread_mutexattr_setrobust(&b, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&robust_m, &b);
  pthread_create(&th, NULL, robust_holder, NULL);
  pthread_join(th, NULL);
  int e = pthread_mutex_lock(&robust_m);
  printf("robust mutex of a dead thread: %s\n", e == EOWNERDEAD ? "EOWNERDEAD" : ename(e));
  return 0;
}

static void futex_in_ns(void) {
  if (unshare(CLONE_NEWPID) < 0) DIE("unshare");
  reap("futex child", spawn(futex_child));
}

/* ---- the bound on levels ---------------------------------------------------- */

static int start_level(void) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "NSpid:", 6) == 0)
      for (char *c = line; *c; c++) if (*c == '\t') n++;
  if (f) fclose(f);
  return n - 1;
}

static void depth(void) {
  int start = start_level();
  int made = 0;
  for (;;) {
    if (unshare(CLONE_NEWPID) < 0) {
      int e = errno;
      printf("depth: %s after %d more levels; reaches the limit 32: %d\n", ename(e), made, start + made == 32);
      break;
    }
    pid_t c = xfork();
    if (c > 0) {
      int st;
      waitpid(c, &st, 0);
      exit(made == 0 ? 0 : WEXITSTATUS(st));
    }
    made++;
    if (getpid() != 1) DIE("not init");
  }
  /* the deepest clone with CLONE_NEWPID fails the same way */
  errno = 0;
  long r = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) exit(0);
  printf("depth: clone(CLONE_NEWPID) at the bottom = %ld %s\n", r < 0 ? -1L : 0L, r < 0 ? ename(errno) : "");
  fflush(stdout);
  exit(0);
}

int main(void) {
  line_buffered();
  signal(SIGPIPE, SIG_IGN);
  alarm(60);
  pid_t p = xfork();
  if (p == 0) { nested(); exit(0); }
  reap("nested", p);
  p = xfork();
  if (p == 0) { init_rules(); exit(0); }
  reap("init rules", p);
  p = xfork();
  if (p == 0) { across(); exit(0); }
  reap("across", p);
  p = xfork();
  if (p == 0) { creds_across(); exit(0); }
  reap("creds", p);
  p = xfork();
  if (p == 0) { futex_in_ns(); exit(0); }
  reap("futex", p);
  p = xfork();
  if (p == 0) depth();
  reap("depth", p);
  printf("done\n");
  return 0;
}
