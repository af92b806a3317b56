/* propagation: shared subtrees (Linux's sharedsubtree.rst) against native,
 * all inside a private mount namespace of a child, on a tmpfs of its own
 * at DIR: a shared tmpfs bound on a second point (a mount under one shows
 * under the other, and its unmount goes from both), a slave receives but
 * does not send, private stops, unbindable refuses bind, umount
 * propagation only where the copy has nothing mounted on it, MS_MOVE out
 * of a shared parent, new mount namespaces (same owner: peers; a user
 * namespace: slaves) receiving the parent's mounts, mount_setattr's
 * propagation field and MOVE_MOUNT_SET_GROUP. mountinfo is printed for the
 * mounts under DIR with peer group ids renumbered in order of appearance.
 * With "explode": the exponential bind-mount program (a recursive bind of
 * a shared tree into itself, again and again) runs into fs.mount-max
 * (ENOSPC) and the number of mounts it ends with is printed. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NR_open_tree 428
#define NR_move_mount 429
#define NR_mount_setattr 442
#define MM_SET_GROUP 0x100
#define AT_REC 0x8000

struct mount_attr_v0 {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static const char *dir;

static char *at(const char *name) {
  static char p[4][4096];
  static int i;
  i = (i + 1) % 4;
  snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
  return p[i];
}

static void res(const char *what, long r) {
  printf("%-40s %s\n", what, r < 0 ? ename(errno) : "ok");
}

/* The mounts under dir: mount point and root relative, fs type, source, and optional fields with group ids renumbered. */
static void show(const char *label) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[8192];
  int ids[256], nids = 0;
  size_t dl = strlen(dir);
  printf("-- %s\n", label);
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    char root[4096], mp[4096], opts[512], rest[4096];
    if (sscanf(line, "%*d %*d %*s %4095s %4095s %511s %4095[^\n]", root, mp, opts, rest) != 4) continue;
    if (strncmp(mp, dir, dl) || (mp[dl] && mp[dl] != '/')) continue;
    printf("%s root=%s", mp[dl] ? mp + dl : "/", root);
    char *save = NULL, *tok = strtok_r(rest, " ", &save);
    for (; tok && strcmp(tok, "-"); tok = strtok_r(NULL, " ", &save)) {
      char *c = strchr(tok, ':');
      if (!c) {
        printf(" %s", tok);
        continue;
      }
      int id = atoi(c + 1), k;
      for (k = 0; k < nids && ids[k] != id; k++) {}
      if (k == nids && nids < 256) ids[nids++] = id;
      printf(" %.*s:%c", (int)(c - tok), tok, 'A' + k);
    }
    char *type = strtok_r(NULL, " ", &save), *src = strtok_r(NULL, " ", &save);
    printf(" - %s %s\n", type ? type : "?", src ? src : "?");
  }
  fclose(f);
}

static void tmpfs(const char *src, const char *where) {
  mkdir(where, 0755);
  if (mount(src, where, "tmpfs", 0, "size=1m") < 0) printf("mount %s: %s\n", src, ename(errno));
}

static void cycle_pipe(int fd[2]) {
  if (pipe(fd) < 0) DIE("pipe");
}

/* A child in a new mount namespace (and with userns a user namespace, which makes the copies slaves). */
static void newns(int userns) {
  int go[2], back[2];
  cycle_pipe(go);
  cycle_pipe(back);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    if (unshare(CLONE_NEWNS | (userns ? CLONE_NEWUSER : 0)) < 0) DIE("unshare");
    if (write(back[1], "r", 1) != 1) _exit(1);
    if (read(go[0], &c, 1) != 1) _exit(1);
    show(userns ? "userns child sees the parent's mount" : "child sees the parent's mount");
    tmpfs("fromchild", at("s1/c"));
    fflush(stdout);
    if (write(back[1], "m", 1) != 1) _exit(1);
    if (read(go[0], &c, 1) != 1) _exit(1);
    res("child umount s1/p", umount(at("s1/p")));
    show("child after umount");
    fflush(stdout);
    _exit(0);
  }
  char c;
  if (read(back[0], &c, 1) != 1) DIE("sync");
  mkdir(at("s1/c"), 0755);
  tmpfs("fromparent", at("s1/p"));
  if (write(go[1], "g", 1) != 1) DIE("sync");
  if (read(back[0], &c, 1) != 1) DIE("sync");
  show("parent after the child's mount");
  if (write(go[1], "g", 1) != 1) DIE("sync");
  int st;
  waitpid(pid, &st, 0);
  show("parent after the child's umount");
  umount2(at("s1/c"), MNT_DETACH);
  umount2(at("s1/p"), MNT_DETACH);
  rmdir(at("s1/c"));
  rmdir(at("s1/p"));
}

static void cases(void) {
  tmpfs("base", dir);
  if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0) DIE("private base");
  /* A shared tmpfs on s1, bound on s2: peers. */
  tmpfs("shared", at("s1"));
  mkdir(at("s2"), 0755);
  res("make-shared s1", mount(NULL, at("s1"), NULL, MS_SHARED, NULL));
  res("bind s1 s2", mount(at("s1"), at("s2"), NULL, MS_BIND, NULL));
  mkdir(at("s1/x"), 0755);
  tmpfs("m1", at("s1/x"));
  show("a mount under s1 shows under s2");
  res("umount s2/x", umount(at("s2/x")));
  show("its umount through s2 went from both");

  /* A slave receives but does not send. */
  mkdir(at("sl"), 0755);
  res("bind s1 sl", mount(at("s1"), at("sl"), NULL, MS_BIND, NULL));
  res("make-slave sl", mount(NULL, at("sl"), NULL, MS_SLAVE, NULL));
  mkdir(at("s1/y"), 0755);
  tmpfs("m2", at("s1/y"));
  mkdir(at("s1/z"), 0755);
  tmpfs("m3", at("sl/z"));
  show("slave receives, does not send");
  /* A copy with something on it stays when the original goes. */
  tmpfs("m4", at("sl/y"));
  res("umount s1/y (busy copy in sl)", umount(at("s1/y")));
  show("copy with a mount on it stays");
  umount(at("sl/y"));
  umount(at("sl/y"));
  umount(at("sl/z"));

  /* Private stops. */
  res("make-private sl", mount(NULL, at("sl"), NULL, MS_PRIVATE, NULL));
  mkdir(at("s1/w"), 0755);
  tmpfs("m5", at("s1/w"));
  show("private stops");
  umount(at("s1/w"));

  /* Unbindable refuses bind; a recursive bind skips it. */
  mkdir(at("u"), 0755);
  res("make-unbindable sl", mount(NULL, at("sl"), NULL, MS_UNBINDABLE, NULL));
  res("bind unbindable", mount(at("sl"), at("u"), NULL, MS_BIND, NULL));
  res("rbind base to u", mount(dir, at("u"), NULL, MS_BIND | MS_REC, NULL));
  show("unbindable");
  umount2(at("u"), MNT_DETACH);

  /* MS_MOVE: out of a shared parent EINVAL; an unbindable tree into a shared mount EINVAL. */
  mkdir(at("s1/mv"), 0755);
  tmpfs("mv", at("s1/mv"));
  mkdir(at("mvto"), 0755);
  res("move from a shared parent", mount(at("s1/mv"), at("mvto"), NULL, MS_MOVE, NULL));
  umount(at("s1/mv"));
  mkdir(at("s1/mv2"), 0755);
  res("move unbindable into shared", mount(at("sl"), at("s1/mv2"), NULL, MS_MOVE, NULL));
  res("move a mount into itself", mount(at("s1"), at("s1/mv2"), NULL, MS_MOVE, NULL));

  /* A recursive make-shared, and mounts under a shared mount are shared. */
  res("make-rshared base", mount(NULL, dir, NULL, MS_SHARED | MS_REC, NULL));
  show("rshared");
  res("make-rprivate sl", mount(NULL, at("sl"), NULL, MS_PRIVATE | MS_REC, NULL));

  newns(0);
  newns(1);

  /* mount_setattr's propagation field. */
  struct mount_attr_v0 a = {0};
  a.propagation = MS_SLAVE;
  res("setattr slave s2", syscall(NR_mount_setattr, AT_FDCWD, at("s2"), 0, &a, sizeof a));
  a.propagation = MS_SHARED;
  res("setattr shared sl recursive", syscall(NR_mount_setattr, AT_FDCWD, at("sl"), AT_REC, &a, sizeof a));
  a.propagation = MS_SHARED | MS_SLAVE;
  res("setattr two types", syscall(NR_mount_setattr, AT_FDCWD, at("sl"), 0, &a, sizeof a));
  show("after mount_setattr");

  /* MOVE_MOUNT_SET_GROUP: a private mount joins s1's group. */
  mkdir(at("g"), 0755);
  res("bind s1 g", mount(at("s1"), at("g"), NULL, MS_BIND, NULL));
  res("make-private g", mount(NULL, at("g"), NULL, MS_PRIVATE, NULL));
  res("set group s1 -> g", syscall(NR_move_mount, AT_FDCWD, at("s1"), AT_FDCWD, at("g"), MM_SET_GROUP));
  res("set group again", syscall(NR_move_mount, AT_FDCWD, at("s1"), AT_FDCWD, at("g"), MM_SET_GROUP));
  res("set group from private", syscall(NR_move_mount, AT_FDCWD, at("u"), AT_FDCWD, at("g"), MM_SET_GROUP));
  tmpfs("m6", at("g/x"));
  show("set group");
  res("umount2 detach s1", umount2(at("s1"), MNT_DETACH));
  show("after a lazy umount of s1");
}

/* The classic explosion: a shared tree bound recursively into itself doubles at each round (and more through its peers). */
static void explode(void) {
  tmpfs("base", dir);
  if (mount(NULL, dir, NULL, MS_SHARED, NULL) < 0) DIE("shared");
  mkdir(at("a"), 0755);
  mkdir(at("b"), 0755);
  int i;
  for (i = 0; i < 64; i++) {
    if (mount(dir, at("a"), NULL, MS_BIND | MS_REC, NULL) < 0) break;
    if (mount(at("a"), at("b"), NULL, MS_BIND | MS_REC, NULL) < 0) break;
  }
  printf("stopped at round %d: %s\n", i, ename(errno));
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[8192];
  long n = 0;
  while (f && fgets(line, sizeof line, f)) n++;
  if (f) fclose(f);
  printf("mountinfo lines over the limit: %s\n", n > 100000 ? "yes" : "no");
  /* Everything goes again with one lazy unmount. */
  res("umount2 detach", umount2(dir, MNT_DETACH));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) DIE("usage: propagation DIR [explode]");
  dir = argv[1];
  int boom = argc > 2 && !strcmp(argv[2], "explode");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) < 0) DIE("unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) DIE("make / private");
    if (boom) explode();
    else cases();
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st)) printf("child status %d\n", st);
  printf("done\n");
  return 0;
}
