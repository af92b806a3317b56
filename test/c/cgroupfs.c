/* cgroupfs: the cgroup v2 file system's core, compared with Linux in a
 * fresh cgroup (natively a new cgroup of the host's v2 hierarchy entered
 * with a new cgroup namespace, so that a mount shows it as the root, as the
 * sandbox's shows its own): mount, statfs, the core interface files,
 * mkdir/rmdir (EEXIST, EBUSY while populated or a parent), moving processes
 * with cgroup.procs and /proc/self/cgroup, clone3's CLONE_INTO_CGROUP
 * (EBADF, ENOENT, an O_PATH fd), cgroup.max.depth and .max.descendants
 * (EAGAIN, ERANGE), a cgroup namespace made inside (its paths, "/..", a
 * mount from its root), and the name operations kernfs refuses. Controllers are not used: this machine's
 * v2 hierarchy has none (they are tested in the sandbox by
 * test/integration/cgroupfs.test.js). argv[1]: a directory to mount in. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define CLONE_INTO_CGROUP_ 0x200000000ULL

static char mnt[4096];

static const char *p(const char *rel) {
  static char buf[8][4200];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", mnt, rel);
  return buf[i];
}

static void res(const char *label, int r) { printf("%s: %s\n", label, r < 0 ? ename(errno) : "OK"); }

/* The file's content, or the error, on one line. */
static void show(const char *label, const char *path) {
  char b[512];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: %s\n", label, ename(errno));
    return;
  }
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  b[n < 0 ? 0 : n] = 0;
  for (char *c = b; *c; c++)
    if (*c == '\n' && c[1]) *c = '|';
  printf("%s: %s%s", label, b, n > 0 && b[n - 1] == '\n' ? "" : "\n");
}

static int put(const char *path, const char *v) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int r = write(fd, v, strlen(v)) < 0 ? -1 : 0;
  int e = errno;
  close(fd);
  errno = e;
  return r;
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

/* The v2 line of /proc/self/cgroup (a hybrid host lists its v1 hierarchies too). */
static void own_cgroup(const char *label) {
  char line[512];
  FILE *f = fopen("/proc/self/cgroup", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "0::", 3)) printf("%s: %s", label, line);
  if (f) fclose(f);
}

/* The first line of a file. */
static void first(const char *label, const char *path) {
  char line[512] = "";
  FILE *f = fopen(path, "r");
  if (f && fgets(line, sizeof line, f)) printf("%s: %s", label, line);
  if (f) fclose(f);
}

struct clone_args_ {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* clone3 into the cgroup of fd: the child prints its cgroup. */
static void clone_into(const char *label, int fd) {
  struct clone_args_ a;
  memset(&a, 0, sizeof a);
  a.flags = CLONE_INTO_CGROUP_;
  a.exit_signal = SIGCHLD;
  a.cgroup = (uint64_t)fd;
  fflush(stdout);
  long pid = syscall(SYS_clone3, &a, sizeof a);
  if (pid == 0) {
    own_cgroup(label);
    fflush(stdout);
    _exit(0);
  }
  if (pid < 0) {
    printf("%s: %s\n", label, ename(errno));
    return;
  }
  waitpid(pid, NULL, 0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  snprintf(mnt, sizeof mnt, "%s/cg", argv[1]);
  mkdir(mnt, 0755);
  if (mount("none", mnt, "cgroup2", 0, NULL) < 0) {
    printf("mount: %s\n", ename(errno));
    return 1;
  }
  struct statfs sf;
  statfs(mnt, &sf);
  printf("f_type %#lx\n", (unsigned long)sf.f_type);
  own_cgroup("start");
  const char *core[] = {"cgroup.procs", "cgroup.threads", "cgroup.controllers", "cgroup.subtree_control", "cgroup.type", "cgroup.events",
                        "cgroup.max.depth", "cgroup.max.descendants", "cgroup.stat", "cpu.stat"};
  for (unsigned i = 0; i < sizeof core / sizeof core[0]; i++) {
    struct stat st;
    int r = stat(p(core[i]), &st);
    printf("%s: %s mode %o size %lld\n", core[i], r ? ename(errno) : "exists", r ? 0 : st.st_mode, r ? 0LL : (long long)st.st_size);
  }
  show("root type", p("cgroup.type"));
  show("root max.depth", p("cgroup.max.depth"));
  show("root max.descendants", p("cgroup.max.descendants"));
  show("root events", p("cgroup.events"));
  printf("root procs hold me: %d\n", holds(p("cgroup.procs"), getpid()));
  printf("root threads hold me: %d\n", holds(p("cgroup.threads"), gettid()));

  res("mkdir a", mkdir(p("a"), 0755));
  res("mkdir a again", mkdir(p("a"), 0755));
  res("mkdir a/b", mkdir(p("a/b"), 0755));
  struct stat st;
  stat(p("a"), &st);
  printf("a: mode %o nlink %lu\n", st.st_mode, (unsigned long)st.st_nlink);
  first("root stat", p("cgroup.stat"));
  show("a events", p("a/cgroup.events"));
  show("a/b type", p("a/b/cgroup.type"));

  res("enter a/b", put(p("a/b/cgroup.procs"), "0"));
  own_cgroup("in a/b");
  show("a events", p("a/cgroup.events"));
  printf("a/b procs hold me: %d, root's: %d\n", holds(p("a/b/cgroup.procs"), getpid()), holds(p("cgroup.procs"), getpid()));
  res("rmdir a (a parent)", rmdir(p("a")));
  res("rmdir a/b (populated)", rmdir(p("a/b")));
  res("procs: not a number", put(p("a/cgroup.procs"), "abc"));
  res("procs: no such process", put(p("a/cgroup.procs"), "99999999"));
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    char me[32];
    snprintf(me, sizeof me, "%d\n", getpid());
    res("child enters a", put(p("a/cgroup.procs"), me));
    own_cgroup("child");
    _exit(0);
  }
  waitpid(c, NULL, 0);
  res("back to the root", put(p("cgroup.procs"), "0"));
  own_cgroup("at the root");

  int fd = open(p("a/b"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  clone_into("clone3 into a/b", fd);
  int opath = open(p("a/b"), O_PATH | O_DIRECTORY | O_CLOEXEC);
  clone_into("clone3 into a/b by an O_PATH fd", opath);
  close(opath);
  int file = open(p("cgroup.procs"), O_RDONLY | O_CLOEXEC);
  clone_into("clone3 into a file", file);
  close(file);
  res("rmdir a/b", rmdir(p("a/b")));
  clone_into("clone3 into a removed cgroup", fd);
  close(fd);
  res("rmdir a", rmdir(p("a")));

  res("max.depth 1", put(p("cgroup.max.depth"), "1"));
  res("mkdir x", mkdir(p("x"), 0755));
  res("mkdir x/y (too deep)", mkdir(p("x/y"), 0755));
  res("max.depth -1", put(p("cgroup.max.depth"), "-1"));
  res("max.depth abc", put(p("cgroup.max.depth"), "abc"));
  res("max.depth max", put(p("cgroup.max.depth"), "max"));
  res("mkdir x/y", mkdir(p("x/y"), 0755));
  res("max.descendants 2", put(p("cgroup.max.descendants"), "2"));
  show("root max.descendants", p("cgroup.max.descendants"));
  res("mkdir z (a third)", mkdir(p("z"), 0755));
  res("max.descendants max", put(p("cgroup.max.descendants"), "max"));
  res("rmdir x/y", rmdir(p("x/y")));
  res("rename x", rename(p("x"), p("w")));
  res("rmdir x", rmdir(p("x")));

  /* A cgroup namespace made in ns: its paths and a new mount start there; outside it, "/..". */
  res("mkdir ns", mkdir(p("ns"), 0755));
  res("mkdir sib", mkdir(p("sib"), 0755));
  res("enter ns", put(p("ns/cgroup.procs"), "0"));
  fflush(stdout);
  c = fork();
  if (c == 0) {
    res("unshare cgroup", unshare(CLONE_NEWCGROUP));
    own_cgroup("in the new namespace");
    char inner[4200];
    snprintf(inner, sizeof inner, "%s2", mnt);
    mkdir(inner, 0755);
    res("mount inside", mount("none", inner, "cgroup2", 0, NULL));
    snprintf(inner, sizeof inner, "%s2/cgroup.procs", mnt);
    printf("its root holds me: %d\n", holds(inner, getpid()));
    snprintf(inner, sizeof inner, "%s2/ns", mnt);
    printf("its root has ns: %d\n", access(inner, F_OK) == 0);
    res("to sib", put(p("sib/cgroup.procs"), "0"));
    own_cgroup("in sib, seen from ns");
    res("to the root", put(p("cgroup.procs"), "0"));
    own_cgroup("at the root, seen from ns");
    snprintf(inner, sizeof inner, "%s2", mnt);
    res("umount inside", umount(inner));
    rmdir(inner);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  res("back", put(p("cgroup.procs"), "0"));
  res("rmdir ns", rmdir(p("ns")));
  res("rmdir sib", rmdir(p("sib")));

  res("create a file", open(p("f"), O_CREAT | O_WRONLY, 0644));
  res("mknod", mknod(p("n"), S_IFIFO | 0644, 0));
  res("symlink", symlink("x", p("l")));
  res("unlink an interface file", unlink(p("cgroup.procs")));
  res("umount", umount(mnt));
  rmdir(mnt);
  printf("done\n");
  return 0;
}
