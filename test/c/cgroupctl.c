/* cgroupctl: the cgroup v2 files that act on processes, compared with
 * Linux in a fresh cgroup (natively a new cgroup of the host's v2
 * hierarchy entered with a new cgroup namespace, as cgroupfs.c):
 * delegation (chown and chmod of cgroup files; a move needs write access
 * to the common ancestor's cgroup.procs: EACCES), cgroup.freeze and the
 * "frozen" of cgroup.events (a frozen process does not run, takes no
 * signal but SIGKILL until thawed, a blocked one stays blocked, a process
 * moved in is frozen and one moved out runs), cgroup.kill (SIGKILL to the
 * subtree; ERANGE, EINVAL), and cgroup.type with threaded cgroups.
 * argv[1]: a directory to mount in. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char mnt[4096];  /* the mount point (".": the mount itself, for a process that cannot reach it by path) */

static const char *p(const char *rel) {
  static char buf[8][4500];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", mnt, rel);
  return buf[i];
}

static void res(const char *label, int r) { printf("%s: %s\n", label, r < 0 ? ename(errno) : "OK"); }

static int put(const char *path, const char *v) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int r = write(fd, v, strlen(v)) < 0 ? -1 : 0;
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static int putpid(const char *path, pid_t pid) {
  char b[32];
  snprintf(b, sizeof b, "%d\n", (int)pid);
  return put(path, b);
}

/* The file's content on one line, or the error. */
static void show(const char *label, const char *path) {
  char b[512];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: %s\n", label, ename(errno));
    return;
  }
  ssize_t n = read(fd, b, sizeof b - 1);
  int e = errno;
  close(fd);
  if (n < 0) {
    printf("%s: read %s\n", label, ename(e));
    return;
  }
  b[n] = 0;
  for (char *c = b; *c; c++)
    if (*c == '\n' && c[1]) *c = '|';
  printf("%s: %s%s", label, b, n > 0 && b[n - 1] == '\n' ? "" : "\n");
}

/* Whether the file holds the text s. */
static int has(const char *path, const char *s) {
  char b[512];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  b[n < 0 ? 0 : n] = 0;
  return strstr(b, s) != NULL;
}

/* Wait (up to 10 s) for the events file to say frozen v. */
static int await_frozen(const char *events, int v) {
  const char *want = v ? "frozen 1" : "frozen 0";
  for (int i = 0; i < 1000; i++) {
    if (has(events, want)) return 1;
    usleep(10000);
  }
  return 0;
}

static void owner(const char *label, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    printf("%s: %s\n", label, ename(errno));
    return;
  }
  printf("%s: uid %u gid %u mode %o\n", label, st.st_uid, st.st_gid, st.st_mode);
}

static volatile long *counter;

/* A child in cgroup cg (relative) that runs fn after telling the parent it is there. */
static pid_t child_in(const char *cg, void (*fn)(void)) {
  int ready[2];
  if (pipe(ready) < 0) return -1;
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    char procs[300];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", cg);
    if (put(p(procs), "0") < 0) _exit(3);
    close(ready[0]);
    if (write(ready[1], "x", 1) != 1) _exit(4);
    close(ready[1]);
    fn();
    _exit(0);
  }
  close(ready[1]);
  char x;
  if (read(ready[0], &x, 1) != 1) printf("child did not start\n");
  close(ready[0]);
  return c;
}

static void spin(void) {
  for (;;) (*counter)++;
}

static void rest(void) {
  for (;;) pause();
}

static int req[2], rep[2], note[2];

static void on_usr1(int sig) {
  (void)sig;
  if (write(note[1], "u", 1) != 1) _exit(6);
}

/* Takes SIGUSR1 with a handler that writes to note. */
static void handled(void) {
  signal(SIGUSR1, on_usr1);
  for (;;) pause();
}

/* Blocked in read: echoes one byte back once it gets it. */
static void echo(void) {
  char x;
  if (read(req[0], &x, 1) == 1 && write(rep[1], &x, 1) == 1) _exit(0);
  _exit(1);
}

static void reap(const char *label, pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) < 0) printf("%s: %s\n", label, ename(errno));
  else if (WIFSIGNALED(st)) printf("%s: killed by %s\n", label, strsignal(WTERMSIG(st)));
  else printf("%s: exit %d\n", label, WEXITSTATUS(st));
}

/* Does the counter move within 10 s? */
static int moves(void) {
  long c0 = *counter;
  for (int i = 0; i < 1000; i++) {
    if (*counter != c0) return 1;
    usleep(10000);
  }
  return 0;
}

struct clone_args_ {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* clone3 with CLONE_INTO_CGROUP into the cgroup directory rel: the result. */
static void clone_into(const char *label, const char *rel) {
  int fd = open(p(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    printf("%s: open %s\n", label, ename(errno));
    return;
  }
  struct clone_args_ a;
  memset(&a, 0, sizeof a);
  a.flags = 0x200000000ULL;
  a.exit_signal = SIGCHLD;
  a.cgroup = (uint64_t)fd;
  fflush(stdout);
  long pid = syscall(SYS_clone3, &a, sizeof a);
  if (pid == 0) _exit(0);
  res(label, pid < 0 ? -1 : 0);
  if (pid > 0) waitpid(pid, NULL, 0);
  close(fd);
}

static void delegation(void) {
  printf("-- delegation\n");
  res("mkdir d", mkdir(p("d"), 0755));
  res("mkdir d/a", mkdir(p("d/a"), 0755));
  res("mkdir d/b", mkdir(p("d/b"), 0755));
  const char *mine[] = {"d/a", "d/a/cgroup.procs", "d/b", "d/b/cgroup.procs"};
  for (unsigned i = 0; i < 4; i++) res(mine[i], chown(p(mine[i]), 1000, 1000));
  res("chmod d/b/cgroup.procs", chmod(p("d/b/cgroup.procs"), 0664));
  res("chmod d/a", chmod(p("d/a"), 0775));
  owner("d/a", p("d/a"));
  owner("d/b/cgroup.procs", p("d/b/cgroup.procs"));
  owner("d/cgroup.procs", p("d/cgroup.procs"));
  res("truncate cgroup.procs", truncate(p("d/a/cgroup.procs"), 0));
  pid_t sleeper = child_in("d/a", rest);
  for (int round = 0; round < 2; round++) {
    if (round == 1) res("chown d/cgroup.procs", chown(p("d/cgroup.procs"), 1000, 1000));
    /* Opened by root, written by uid 1000: the opener's credentials count. */
    int rootfd = open(p("d/b/cgroup.procs"), O_WRONLY | O_CLOEXEC);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
      /* From inside the mount: the directories above it are the test's, not searchable by uid 1000. */
      if (put(p("d/a/cgroup.procs"), "0") < 0 || chdir(mnt) < 0 || setgid(1000) < 0 || setuid(1000) < 0) _exit(5);
      strcpy(mnt, ".");
      clone_into(" uid 1000: clone3 from d/a into d/b", "d/b");
      clone_into(" uid 1000: clone3 into d", "d");
      res(" uid 1000: d/a to d/b", put(p("d/b/cgroup.procs"), "0"));
      res(" uid 1000: to d", put(p("d/cgroup.procs"), "0"));
      res(" uid 1000: root's sleeper d/a to d/b", putpid(p("d/b/cgroup.procs"), sleeper));
      res(" uid 1000: to the top", put(p("cgroup.procs"), "0"));
      res(" uid 1000: back to d/a", put(p("d/a/cgroup.procs"), "0"));
      res(" uid 1000: to d/b through root's fd", write(rootfd, "0", 1) == 1 ? 0 : -1);
      res(" uid 1000: back to d/a", put(p("d/a/cgroup.procs"), "0"));
      _exit(0);
    }
    close(rootfd);
    reap("uid 1000 child", c);
  }
  printf("sleeper in d/b: %d\n", has(p("d/b/cgroup.procs"), "\n") ? 1 : 0);
  kill(sleeper, SIGKILL);
  reap("sleeper", sleeper);
  res("rmdir d/a", rmdir(p("d/a")));
  res("rmdir d/b", rmdir(p("d/b")));
  res("rmdir d", rmdir(p("d")));
}

static void freezer(void) {
  printf("-- freeze\n");
  res("mkdir f", mkdir(p("f"), 0755));
  res("mkdir f/sub", mkdir(p("f/sub"), 0755));
  show("f freeze", p("f/cgroup.freeze"));
  show("f events", p("f/cgroup.events"));
  pid_t spinner = child_in("f/sub", spin);
  if (pipe(req) < 0 || pipe(rep) < 0 || pipe(note) < 0) return;
  pid_t usr1 = child_in("f/sub", handled);
  pid_t termed = child_in("f/sub", rest);
  pid_t echoer = child_in("f/sub", echo);
  printf("spinning: %d\n", moves());
  res("freeze 2", put(p("f/cgroup.freeze"), "2"));
  res("freeze -1", put(p("f/cgroup.freeze"), "-1"));
  res("freeze abc", put(p("f/cgroup.freeze"), "abc"));
  res("freeze 0x1", put(p("f/cgroup.freeze"), "0x1"));
  printf("f frozen: %d\n", await_frozen(p("f/cgroup.events"), 1));
  show("f events", p("f/cgroup.events"));
  show("f/sub events", p("f/sub/cgroup.events"));
  show("f freeze", p("f/cgroup.freeze"));
  show("f/sub freeze", p("f/sub/cgroup.freeze"));
  long c0 = *counter;
  usleep(100000);
  printf("counter still: %d\n", *counter == c0);
  kill(termed, SIGTERM);
  reap("SIGTERM while frozen (no handler)", termed);
  kill(usr1, SIGUSR1);
  struct pollfd nf = {note[0], POLLIN, 0};
  printf("SIGUSR1 handled while frozen: %d\n", poll(&nf, 1, 100));
  if (write(req[1], "y", 1) != 1) printf("req write failed\n");
  struct pollfd pf = {rep[0], POLLIN, 0};
  printf("echo while frozen: %d\n", poll(&pf, 1, 100));

  /* A process moved into a frozen cgroup freezes; moved out, it runs. */
  res("mkdir g", mkdir(p("g"), 0755));
  res("thaw f", put(p("f/cgroup.freeze"), "0"));
  printf("f thawed: %d\n", await_frozen(p("f/cgroup.events"), 0));
  printf("spinning again: %d\n", moves());
  printf("echo after thaw: %d\n", poll(&pf, 1, 10000));
  reap("echoer", echoer);
  printf("SIGUSR1 handled after thaw: %d\n", poll(&nf, 1, 10000));
  kill(usr1, SIGKILL);
  reap("usr1", usr1);
  res("freeze f/sub", put(p("f/sub/cgroup.freeze"), "1"));
  printf("f/sub frozen: %d\n", await_frozen(p("f/sub/cgroup.events"), 1));
  show("f events (sub frozen)", p("f/cgroup.events"));
  res("spinner to g", putpid(p("g/cgroup.procs"), spinner));
  printf("spinning in g: %d\n", moves());
  res("freeze g", put(p("g/cgroup.freeze"), "1"));
  printf("g frozen: %d\n", await_frozen(p("g/cgroup.events"), 1));
  res("spinner to f (thawed)", putpid(p("f/cgroup.procs"), spinner));
  printf("spinning in f: %d\n", moves());
  res("spinner to f/sub (frozen)", putpid(p("f/sub/cgroup.procs"), spinner));
  printf("f/sub frozen with spinner: %d\n", await_frozen(p("f/sub/cgroup.events"), 1));
  c0 = *counter;
  usleep(100000);
  printf("counter still: %d\n", *counter == c0);
  kill(spinner, SIGKILL);
  reap("spinner (SIGKILL while frozen)", spinner);
  show("f/sub events", p("f/sub/cgroup.events"));
  res("rmdir f/sub", rmdir(p("f/sub")));
  res("rmdir f", rmdir(p("f")));
  res("rmdir g (frozen, empty)", rmdir(p("g")));
}

static void killer(void) {
  printf("-- kill\n");
  res("mkdir k", mkdir(p("k"), 0755));
  res("mkdir k/s", mkdir(p("k/s"), 0755));
  owner("k/cgroup.kill", p("k/cgroup.kill"));
  show("k kill", p("k/cgroup.kill"));
  pid_t a = child_in("k", rest), b = child_in("k", spin), c = child_in("k/s", rest);
  res("kill 0", put(p("k/cgroup.kill"), "0"));
  res("kill 2", put(p("k/cgroup.kill"), "2"));
  res("kill abc", put(p("k/cgroup.kill"), "abc"));
  res("kill 1", put(p("k/cgroup.kill"), "1"));
  reap("a", a);
  reap("b", b);
  reap("c", c);
  printf("k emptied: %d\n", await_frozen(p("k/cgroup.events"), 0) && has(p("k/cgroup.events"), "populated 0"));
  res("kill an empty one", put(p("k/s/cgroup.kill"), "1"));
  res("rmdir k/s", rmdir(p("k/s")));
  res("rmdir k", rmdir(p("k")));
}

static volatile pid_t *second_tid;

static void *second(void *a) {
  (void)a;
  *second_tid = gettid();
  for (;;) pause();
  return NULL;
}

/* Two threads: the second reports its tid through shared memory. */
static void two_threads(void) {
  pthread_t th;
  pthread_create(&th, NULL, second, NULL);
  for (;;) pause();
}

/* Does the list file at path hold id? */
static int holds(const char *path, long id) {
  char b[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  b[n < 0 ? 0 : n] = 0;
  for (char *s = b; *s;) {
    if (strtol(s, &s, 10) == id) return 1;
    while (*s == '\n') s++;
  }
  return 0;
}

static void types(const char *label, const char *const *cgs) {
  printf("%s:", label);
  for (; *cgs; cgs++) {
    char f[300], b[64] = "";
    snprintf(f, sizeof f, "%s/cgroup.type", *cgs);
    int fd = open(p(f), O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
    if (fd >= 0) close(fd);
    if (n > 0) b[n - 1] = 0;
    printf(" %s=%s", *cgs, n > 0 ? b : ename(errno));
  }
  printf("\n");
}

static void threaded(void) {
  printf("-- threaded\n");
  const char *all[] = {"t", "t/x", "t/y", NULL};
  res("mkdir t", mkdir(p("t"), 0755));
  res("mkdir t/x", mkdir(p("t/x"), 0755));
  res("mkdir t/y", mkdir(p("t/y"), 0755));
  types("types", all);
  res("t/x domain", put(p("t/x/cgroup.type"), "domain"));
  res("t/x Threaded", put(p("t/x/cgroup.type"), "Threaded"));
  res("t/x threaded", put(p("t/x/cgroup.type"), "threaded\n"));
  types("types", all);
  res("t/x threaded again", put(p("t/x/cgroup.type"), "threaded"));
  res("t/x domain", put(p("t/x/cgroup.type"), "domain"));
  res("procs into t/y (invalid)", put(p("t/y/cgroup.procs"), "0"));
  res("own thread into t/x from another domain", put(p("t/x/cgroup.threads"), "0"));
  res("mkdir t/x/z", mkdir(p("t/x/z"), 0755));
  const char *z[] = {"t/x/z", NULL};
  types("types", z);
  res("t/x/z threaded", put(p("t/x/z/cgroup.type"), "threaded"));
  types("types", z);
  res("t/y threaded", put(p("t/y/cgroup.type"), "threaded"));
  types("types", all);

  *second_tid = 0;
  pid_t c = child_in("t", two_threads);
  for (int i = 0; i < 1000 && !*second_tid; i++) usleep(10000);
  res("second thread to t/x", putpid(p("t/x/cgroup.threads"), *second_tid));
  printf("t/x threads: second %d main %d\n", holds(p("t/x/cgroup.threads"), *second_tid), holds(p("t/x/cgroup.threads"), c));
  printf("t threads: second %d main %d\n", holds(p("t/cgroup.threads"), *second_tid), holds(p("t/cgroup.threads"), c));
  printf("t/x procs: %d, t procs: %d\n", holds(p("t/x/cgroup.procs"), c), holds(p("t/cgroup.procs"), c));
  show("t/x procs", p("t/x/cgroup.procs"));
  res("pids.max in t/x", access(p("t/x/pids.max"), F_OK));
  res("rmdir t/x/z", rmdir(p("t/x/z")));
  res("rmdir t/x (a thread in it)", rmdir(p("t/x")));
  res("main thread to t/y", putpid(p("t/y/cgroup.threads"), c));
  printf("t procs: %d, t/y procs: %d\n", holds(p("t/cgroup.procs"), c), holds(p("t/y/cgroup.procs"), c));
  res("main thread to self (another domain)", putpid(p("self/cgroup.threads"), c));
  res("second thread to t", putpid(p("t/cgroup.threads"), *second_tid));
  res("process to t/x (threaded)", putpid(p("t/x/cgroup.procs"), c));
  printf("in t/x: main %d second %d; t procs %d\n", holds(p("t/x/cgroup.threads"), c), holds(p("t/x/cgroup.threads"), *second_tid), holds(p("t/cgroup.procs"), c));
  res("process to t", putpid(p("t/cgroup.procs"), c));
  printf("after: t/y threads %d, t threads main %d second %d\n", holds(p("t/y/cgroup.threads"), c), holds(p("t/cgroup.threads"), c), holds(p("t/cgroup.threads"), *second_tid));
  res("mkdir t/w", mkdir(p("t/w"), 0755));
  const char *w[] = {"t/w", NULL};
  types("types", w);
  res("process to t/w (invalid)", putpid(p("t/w/cgroup.procs"), c));
  kill(c, SIGKILL);
  reap("two threads", c);
  res("rmdir t/w", rmdir(p("t/w")));
  res("rmdir t/x", rmdir(p("t/x")));
  types("types after t/x went", all);
  res("rmdir t/y", rmdir(p("t/y")));
  const char *t[] = {"t", NULL};
  types("types after t/y went", t);

  /* A populated cgroup cannot become threaded; nor can a child of a cgroup with a populated domain child. */
  res("mkdir u", mkdir(p("u"), 0755));
  res("mkdir u/d", mkdir(p("u/d"), 0755));
  res("mkdir u/e", mkdir(p("u/e"), 0755));
  c = child_in("u/d", rest);
  res("u/d (populated) threaded", put(p("u/d/cgroup.type"), "threaded"));
  res("u/e threaded (u has a populated domain child)", put(p("u/e/cgroup.type"), "threaded"));
  res("process to u", putpid(p("u/cgroup.procs"), c));
  res("u/e threaded (u has the process)", put(p("u/e/cgroup.type"), "threaded"));
  const char *u[] = {"u", "u/d", "u/e", NULL};
  types("types", u);
  kill(c, SIGKILL);
  reap("rest", c);
  res("rmdir u/d", rmdir(p("u/d")));
  res("rmdir u/e", rmdir(p("u/e")));
  res("rmdir u", rmdir(p("u")));
  res("rmdir t", rmdir(p("t")));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  second_tid = (volatile pid_t *)(counter + 8);
  snprintf(mnt, sizeof mnt, "%s/cg", argv[1]);
  mkdir(mnt, 0755);
  if (mount("none", mnt, "cgroup2", 0, NULL) < 0) {
    printf("mount: %s\n", ename(errno));
    return 1;
  }
  /* The program itself lives in a leaf of its own, so that the top can give controllers. */
  res("mkdir self", mkdir(p("self"), 0755));
  res("enter self", put(p("self/cgroup.procs"), "0"));
  delegation();
  freezer();
  killer();
  threaded();
  res("leave self", put(p("cgroup.procs"), "0"));
  res("rmdir self", rmdir(p("self")));
  res("umount", umount(mnt));
  rmdir(mnt);
  printf("done\n");
  return 0;
}
