/* newmount: Linux's new mount API (fsopen, fsconfig, fsmount, move_mount,
 * open_tree, fspick, mount_setattr) against native, in a new user and mount
 * namespace: a tmpfs made through a file system context and attached with
 * move_mount, a bind through open_tree(OPEN_TREE_CLONE), mount_setattr's
 * read-only, noatime and nosymfollow flags, a reconfiguration through
 * fspick, the context's error messages, a closed detached tree that is gone,
 * the argument checks, and a user namespace without rights over the mount
 * namespace (EPERM). Printed: results and errno names, never fd numbers. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NR_open_tree 428
#define NR_move_mount 429
#define NR_fsopen 430
#define NR_fsconfig 431
#define NR_fsmount 432
#define NR_fspick 433
#define NR_mount_setattr 442

#define CFG_SET_FLAG 0
#define CFG_SET_STRING 1
#define CFG_SET_BINARY 2
#define CFG_SET_PATH 3
#define CFG_SET_FD 5
#define CFG_CMD_CREATE 6
#define CFG_CMD_RECONFIGURE 7
#define ATTR_RDONLY 0x1
#define ATTR_NODEV 0x4
#define ATTR__ATIME 0x70
#define ATTR_NOATIME 0x10
#define ATTR_IDMAP 0x100000
#define ATTR_NOSYMFOLLOW 0x200000
#define MM_F_EMPTY_PATH 4
#define OT_CLONE 1
#define OT_CLOEXEC O_CLOEXEC
#define AT_REC 0x8000

struct mount_attr_v0 {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static const char *dir;

static void res(const char *what, long r) {
  if (r < 0) printf("%-48s -1 %s\n", what, errno == EMSGSIZE ? "EMSGSIZE" : ename(errno));
  else printf("%-48s ok\n", what);
}

static char *at(const char *name) {
  static char p[4][4096];
  static int i;
  i = (i + 1) % 4;
  snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
  return p[i];
}

static void writeFile(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) printf("%s: %s\n", path, ename(errno));
  if (fd >= 0) close(fd);
}

static long cfg(int fd, unsigned cmd, const char *key, const void *val, int aux) {
  return syscall(NR_fsconfig, fd, cmd, key, val, aux);
}

static long setattr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr, uint64_t prop, size_t size) {
  struct mount_attr_v0 a = {set, clr, prop, 0};
  return syscall(NR_mount_setattr, dfd, path, flags, &a, size);
}

/* The context's messages, one read each, until ENODATA. */
static void messages(const char *what, int fd) {
  char b[512];
  long n;
  while ((n = read(fd, b, sizeof b)) > 0) printf("%-48s \"%.*s\"\n", what, (int)(n && b[n - 1] == '\n' ? n - 1 : n), b);
  printf("%-48s end %s\n", what, ename(errno));
}

/* The mount options (field 6) of mountinfo's last line for the mount point dir/name, or "absent". */
static void mountOpts(const char *name) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[4096], mp[4096], opts[1024], found[1024] = "absent", type[256] = "", ftype[256] = "-";
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%*u %*u %*u:%*u %*s %4095s %1023s", mp, opts) != 2) continue;
    char *dash = strstr(line, " - ");
    if (dash) sscanf(dash + 3, "%255s", type);
    if (strcmp(mp, at(name)) == 0) {
      snprintf(found, sizeof found, "%s", opts);
      snprintf(ftype, sizeof ftype, "%s", type);
    }
  }
  if (f) fclose(f);
  printf("%-48s %s %s\n", name, ftype, found);
}

static void readBack(const char *what, const char *path) {
  char b[64] = "";
  int fd = open(path, O_RDONLY);
  long n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
  if (fd >= 0) close(fd);
  if (n < 0) printf("%-48s -1 %s\n", what, ename(errno));
  else printf("%-48s \"%.*s\"\n", what, (int)n, b);
}

static void create(const char *what, const char *path) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd >= 0) {
    if (write(fd, "hello", 5) != 5) DIE("write");
    close(fd);
  }
  res(what, fd);
}

static void contexts(void) {
  res("fsopen bad flags", syscall(NR_fsopen, "tmpfs", 2));
  res("fsopen unknown type", syscall(NR_fsopen, "nosuchfs", 0));
  res("fsopen NULL name", syscall(NR_fsopen, NULL, 0));
  int fd = syscall(NR_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  res("fsopen tmpfs cloexec", fd);
  printf("%-48s %d\n", "cloexec", fcntl(fd, F_GETFD));
  printf("%-48s %o\n", "F_GETFL accmode", fcntl(fd, F_GETFL) & O_ACCMODE);
  char link[64], lp[64];
  snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
  long n = readlink(lp, link, sizeof link - 1);
  printf("%-48s %.*s\n", "fd link", (int)(n < 0 ? 0 : n), link);
  char b[8];
  res("read empty log", read(fd, b, sizeof b));
  res("fsconfig bad cmd", cfg(fd, 99, NULL, NULL, 0));
  res("fsconfig not a context", cfg(1, CFG_SET_FLAG, "ro", NULL, 0));
  res("fsconfig bad fd", cfg(-1, CFG_SET_FLAG, "ro", NULL, 0));
  res("fsconfig closed fd", cfg(200, CFG_SET_FLAG, "ro", NULL, 0));
  res("SET_FLAG no key", cfg(fd, CFG_SET_FLAG, NULL, NULL, 0));
  res("SET_FLAG with value", cfg(fd, CFG_SET_FLAG, "ro", "x", 0));
  res("SET_FLAG with aux", cfg(fd, CFG_SET_FLAG, "ro", NULL, 1));
  res("SET_STRING no value", cfg(fd, CFG_SET_STRING, "size", NULL, 0));
  res("SET_BINARY aux 0", cfg(fd, CFG_SET_BINARY, "size", "x", 0));
  res("SET_PATH bad aux", cfg(fd, CFG_SET_PATH, "size", "/", -5));
  res("SET_FD negative", cfg(fd, CFG_SET_FD, "size", NULL, -1));
  res("SET_FD closed", cfg(fd, CFG_SET_FD, "ro", NULL, 200));
  res("CMD_CREATE with key", cfg(fd, CFG_CMD_CREATE, "x", NULL, 0));
  res("SET_STRING source", cfg(fd, CFG_SET_STRING, "source", "newmount-src", 0));
  res("SET_STRING source again", cfg(fd, CFG_SET_STRING, "source", "again", 0));
  res("SET_FLAG source", cfg(fd, CFG_SET_FLAG, "source", NULL, 0));
  res("SET_STRING unknown key", cfg(fd, CFG_SET_STRING, "nosuchkey", "1", 0));
  res("SET_STRING bad size", cfg(fd, CFG_SET_STRING, "size", "lots", 0));
  res("SET_FLAG size (takes a value)", cfg(fd, CFG_SET_FLAG, "size", NULL, 0));
  res("SET_PATH size (a string)", cfg(fd, CFG_SET_PATH, "size", "/", AT_FDCWD));
  res("SET_STRING bad mode", cfg(fd, CFG_SET_STRING, "mode", "999", 0));
  res("SET_STRING bad nr_blocks", cfg(fd, CFG_SET_STRING, "nr_blocks", "x", 0));
  res("SET_STRING bad nr_inodes (9 messages: 8 kept)", cfg(fd, CFG_SET_STRING, "nr_inodes", "x", 0));
  res("read log into 3 bytes", read(fd, b, 3));
  messages("log", fd);
  res("SET_FLAG rw", cfg(fd, CFG_SET_FLAG, "rw", NULL, 0));
  res("SET_PATH sync (a superblock flag)", cfg(fd, CFG_SET_PATH, "sync", "/", AT_FDCWD));
  res("SET_STRING size", cfg(fd, CFG_SET_STRING, "size", "1m", 0));
  res("SET_STRING mode", cfg(fd, CFG_SET_STRING, "mode", "0755", 0));
  res("fsmount before create", syscall(NR_fsmount, fd, 0, 0));
  res("CMD_RECONFIGURE on a new context", cfg(fd, CFG_CMD_RECONFIGURE, NULL, NULL, 0));
  res("CMD_CREATE", cfg(fd, CFG_CMD_CREATE, NULL, NULL, 0));
  res("CMD_CREATE again", cfg(fd, CFG_CMD_CREATE, NULL, NULL, 0));
  res("SET_STRING after create", cfg(fd, CFG_SET_STRING, "size", "2m", 0));
  res("fsmount bad flags", syscall(NR_fsmount, fd, 2, 0));
  res("fsmount bad attr", syscall(NR_fsmount, fd, 0, 0x40000000));
  res("fsmount bad atime", syscall(NR_fsmount, fd, 0, 0x30));
  res("fsmount bad fd", syscall(NR_fsmount, -1, 0, 0));
  res("fsmount not a context", syscall(NR_fsmount, 1, 0, 0));
  int m = syscall(NR_fsmount, fd, FSMOUNT_CLOEXEC, ATTR_NODEV);
  res("fsmount nodev", m);
  res("fsmount again", syscall(NR_fsmount, fd, 0, 0));
  printf("%-48s %d\n", "mount fd cloexec", fcntl(m, F_GETFD));
  printf("%-48s %o\n", "mount fd O_PATH", (fcntl(m, F_GETFL) & O_PATH) != 0);
  int f = openat(m, "f", O_CREAT | O_WRONLY, 0644);
  res("create in the detached tree", f);
  if (f >= 0 && write(f, "hello", 5) != 5) DIE("write");
  close(f);
  mountOpts("a");
  mkdir(at("a"), 0755);
  mkdir(at("b"), 0755);
  mkdir(at("c"), 0755);
  res("move_mount bad flags", syscall(NR_move_mount, m, "", AT_FDCWD, at("a"), 0x8000));
  res("move_mount empty path without flag", syscall(NR_move_mount, m, "", AT_FDCWD, at("a"), 0));
  res("move_mount bad fd", syscall(NR_move_mount, -1, "", AT_FDCWD, at("a"), MM_F_EMPTY_PATH));
  int pp[2];
  if (pipe(pp) < 0) DIE("pipe");
  res("move_mount from a pipe", syscall(NR_move_mount, pp[0], "", AT_FDCWD, at("a"), MM_F_EMPTY_PATH));
  res("move_mount from the context fd", syscall(NR_move_mount, fd, "", AT_FDCWD, at("a"), MM_F_EMPTY_PATH));
  res("fspick a pipe", syscall(NR_fspick, pp[0], "", FSPICK_EMPTY_PATH));
  close(pp[0]);
  close(pp[1]);
  res("move_mount onto a file", syscall(NR_move_mount, m, "", AT_FDCWD, "/proc/self/status", MM_F_EMPTY_PATH));
  res("move_mount attach", syscall(NR_move_mount, m, "", AT_FDCWD, at("a"), MM_F_EMPTY_PATH));
  res("move_mount attach again (now a move)", syscall(NR_move_mount, m, "", AT_FDCWD, at("c"), MM_F_EMPTY_PATH));
  res("move_mount back", syscall(NR_move_mount, AT_FDCWD, at("c"), AT_FDCWD, at("a"), 0));
  close(m);
  readBack("a/f after attach", at("a/f"));
  mountOpts("a");
  mountOpts("c");
  struct statvfs sv;
  if (statvfs(at("a"), &sv) == 0) printf("%-48s nodev %d rdonly %d\n", "statvfs a", !!(sv.f_flag & ST_NODEV), !!(sv.f_flag & ST_RDONLY));
  close(fd);
}

/* FSCONFIG_CMD_CREATE_EXCL: refused for a file system that would be reused (sysfs, the
 * namespace's mqueue), not for proc or tmpfs; the context fails with it. */
static void exclusive(void) {
  const char *types[] = {"proc", "sysfs", "tmpfs", "mqueue"};
  for (int i = 0; i < 4; i++) {
    char what[64];
    int c = syscall(NR_fsopen, types[i], 0);
    snprintf(what, sizeof what, "CMD_CREATE_EXCL %s", types[i]);
    res(what, cfg(c, 8, NULL, NULL, 0));
    messages(what, c);
    snprintf(what, sizeof what, "CMD_CREATE after it %s", types[i]);
    res(what, cfg(c, CFG_CMD_CREATE, NULL, NULL, 0));
    close(c);
  }
}

static void binds(void) {
  res("open_tree bad flags", syscall(NR_open_tree, AT_FDCWD, at("a"), 0x40));
  res("open_tree AT_RECURSIVE without clone", syscall(NR_open_tree, AT_FDCWD, at("a"), AT_REC));
  int plain = syscall(NR_open_tree, AT_FDCWD, at("a"), OT_CLOEXEC);
  res("open_tree without clone", plain);
  printf("%-48s %o\n", "plain fd O_PATH", (fcntl(plain, F_GETFL) & O_PATH) != 0);
  int t = syscall(NR_open_tree, AT_FDCWD, at("a"), OT_CLONE | OT_CLOEXEC);
  res("open_tree clone", t);
  printf("%-48s %d\n", "clone fd cloexec", fcntl(t, F_GETFD));
  res("move_mount clone onto b", syscall(NR_move_mount, t, "", AT_FDCWD, at("b"), MM_F_EMPTY_PATH));
  close(t);
  close(plain);
  readBack("b/f through the bind", at("b/f"));
  mountOpts("b");
  /* mount_setattr */
  res("mount_setattr size 8", setattr(AT_FDCWD, at("b"), 0, ATTR_RDONLY, 0, 0, 8));
  res("mount_setattr size 4097", setattr(AT_FDCWD, at("b"), 0, ATTR_RDONLY, 0, 0, 4097));
  res("mount_setattr bad flags", setattr(AT_FDCWD, at("b"), 0x1, ATTR_RDONLY, 0, 0, 32));
  res("mount_setattr bad attr", setattr(AT_FDCWD, at("b"), 0, 0x40000000, 0, 0, 32));
  res("mount_setattr two propagations", setattr(AT_FDCWD, at("b"), 0, 0, 0, MS_PRIVATE | MS_SLAVE, 32));
  res("mount_setattr other propagation bit", setattr(AT_FDCWD, at("b"), 0, 0, 0, MS_RDONLY, 32));
  res("mount_setattr atime without clearing", setattr(AT_FDCWD, at("b"), 0, ATTR_NOATIME, 0, 0, 32));
  res("mount_setattr nothing (not a mount)", setattr(AT_FDCWD, at("b/f"), 0, 0, 0, 0, 32));
  res("mount_setattr not a mount root", setattr(AT_FDCWD, at("b/f"), 0, ATTR_RDONLY, 0, 0, 32));
  res("mount_setattr idmap, userns fd -1", setattr(AT_FDCWD, at("b"), 0, ATTR_IDMAP, 0, 0, 32));
  res("mount_setattr clear idmap", setattr(AT_FDCWD, at("b"), 0, 0, ATTR_IDMAP, 0, 32));
  res("mount_setattr private", setattr(AT_FDCWD, at("b"), 0, 0, 0, MS_PRIVATE, 32));
  res("mount_setattr rdonly", setattr(AT_FDCWD, at("b"), 0, ATTR_RDONLY, 0, 0, 32));
  mountOpts("b");
  create("create on read-only b", at("b/g"));
  create("create on a (still rw)", at("a/g"));
  res("mount_setattr clear rdonly", setattr(AT_FDCWD, at("b"), 0, 0, ATTR_RDONLY, 0, 32));
  create("create on b again", at("b/g"));
  res("mount_setattr noatime, nosymfollow", setattr(AT_FDCWD, at("b"), 0, ATTR_NOATIME | ATTR_NOSYMFOLLOW, ATTR__ATIME, 0, 32));
  mountOpts("b");
  res("symlink in b", symlink("f", at("b/l")));
  readBack("follow b/l (nosymfollow)", at("b/l"));
  readBack("follow a/l (a is not)", at("a/l"));
  char lb[16];
  long n = readlink(at("b/l"), lb, sizeof lb);
  printf("%-48s %ld\n", "readlink b/l", n);
  res("mount_setattr relatime back", setattr(AT_FDCWD, at("b"), 0, 0, ATTR__ATIME | ATTR_NOSYMFOLLOW, 0, 32));
  mountOpts("b");
  /* A recursive clone through an fd, set read-only while detached, then attached. */
  int t2 = syscall(NR_open_tree, AT_FDCWD, at("b"), OT_CLONE | AT_REC);
  res("open_tree clone recursive", t2);
  res("mount_setattr rdonly on the detached tree", setattr(t2, "", AT_EMPTY_PATH | AT_REC, ATTR_RDONLY, 0, 0, 32));
  res("move_mount detached onto c", syscall(NR_move_mount, t2, "", AT_FDCWD, at("c"), MM_F_EMPTY_PATH));
  close(t2);
  mountOpts("c");
  create("create on c", at("c/h"));
  res("umount c", umount2(at("c"), 0));
}

static void pick(void) {
  res("fspick bad flags", syscall(NR_fspick, AT_FDCWD, at("a"), 0x100));
  res("fspick not a mount root", syscall(NR_fspick, AT_FDCWD, at("a/f"), 0));
  res("fspick empty path without flag", syscall(NR_fspick, AT_FDCWD, "", 0));
  int p = syscall(NR_fspick, AT_FDCWD, at("a"), FSPICK_CLOEXEC);
  res("fspick a", p);
  res("fsmount of a picked context", syscall(NR_fsmount, p, 0, 0));
  res("CMD_CREATE on a picked context", cfg(p, CFG_CMD_CREATE, NULL, NULL, 0));
  res("SET_FLAG ro", cfg(p, CFG_SET_FLAG, "ro", NULL, 0));
  res("CMD_RECONFIGURE", cfg(p, CFG_CMD_RECONFIGURE, NULL, NULL, 0));
  /* Not printed: mountinfo's mount options. Linux made the superblock read-only (the
   * mount still says rw); the sandbox's file systems keep no flags apart from their
   * mounts', so there the mount says ro (docs/COMPATIBILITY.md, fsconfig). */
  create("create on a (read-only)", at("a/i"));
  res("SET_FLAG rw", cfg(p, CFG_SET_FLAG, "rw", NULL, 0));
  res("CMD_RECONFIGURE again", cfg(p, CFG_CMD_RECONFIGURE, NULL, NULL, 0));
  create("create on a (rw again)", at("a/i"));
  close(p);
}

static void detached(void) {
  int t = syscall(NR_open_tree, AT_FDCWD, at("a"), OT_CLONE);
  res("open_tree clone to drop", t);
  int f = openat(t, "f", O_RDONLY);
  res("open a file in the detached tree", f);
  close(t);
  res("move_mount of the closed tree fd", syscall(NR_move_mount, t, "", AT_FDCWD, at("c"), MM_F_EMPTY_PATH));
  char b[16] = "";
  long n = read(f, b, sizeof b - 1);
  printf("%-48s %ld \"%s\"\n", "the open file still reads", n, b);
  close(f);
  mountOpts("c");
  /* fsmount without attaching, and the context closed first. */
  int c = syscall(NR_fsopen, "tmpfs", 0);
  cfg(c, CFG_CMD_CREATE, NULL, NULL, 0);
  int m = syscall(NR_fsmount, c, 0, 0);
  close(c);
  res("fsmount, context closed", m);
  /* A watch inside the detached tmpfs hears it go when the tree's last descriptor closes. */
  res("mkdir in the detached tmpfs", mkdirat(m, "d", 0755));
  char wp[64];
  snprintf(wp, sizeof wp, "/proc/self/fd/%d/d", m);
  int in = inotify_init1(IN_NONBLOCK);
  res("inotify watch in the detached tmpfs", inotify_add_watch(in, wp, IN_ALL_EVENTS));
  close(m);
  char ev[4096];
  n = read(in, ev, sizeof ev);
  for (long off = 0; n > 0 && off < n;) {
    struct inotify_event *e = (struct inotify_event *)(ev + off);
    printf("%-48s %s%s\n", "event after the close", e->mask & IN_UNMOUNT ? "IN_UNMOUNT " : "", e->mask & IN_IGNORED ? "IN_IGNORED" : "");
    off += sizeof *e + e->len;
  }
  if (n < 0) printf("%-48s -1 %s\n", "events after the close", ename(errno));
  close(in);
  mountOpts("c");
}

/* MOVE_MOUNT_BENEATH (as LTP's move_mount03) and its refusals; MOVE_MOUNT_SET_GROUP from a private mount. */
static void beneath(void) {
  mkdir(at("e"), 0755);
  mkdir(at("f"), 0755);
  res("mount tmpfs on e", mount("none", at("e"), "tmpfs", 0, NULL));
  res("mount tmpfs on f", mount("none", at("f"), "tmpfs", 0, NULL));
  create("create e/E", at("e/E"));
  create("create f/F", at("f/F"));
  mkdir(at("f/sub"), 0755);
  int fa = syscall(NR_open_tree, AT_FDCWD, at("e"), OT_CLONE | OT_CLOEXEC);
  int fb = open(at("f"), O_PATH | O_NOFOLLOW);
  res("beneath the root", syscall(NR_move_mount, fa, "", AT_FDCWD, "/", MM_F_EMPTY_PATH | 0x200));
  res("beneath a directory that is no mount root", syscall(NR_move_mount, fa, "", AT_FDCWD, at("f/sub"), MM_F_EMPTY_PATH | 0x200));
  res("beneath and set group together", syscall(NR_move_mount, fa, "", fb, "", MM_F_EMPTY_PATH | 0x40 | 0x200 | 0x100));
  res("set group from a private mount", syscall(NR_move_mount, AT_FDCWD, at("e"), AT_FDCWD, at("f"), 0x100));
  res("move_mount beneath f", syscall(NR_move_mount, fa, "", fb, "", MM_F_EMPTY_PATH | 0x40 | 0x200));
  close(fa);
  close(fb);
  res("f/F (the top)", access(at("f/F"), F_OK));
  res("e/E", access(at("e/E"), F_OK));
  res("f/E (beneath)", access(at("f/E"), F_OK));
  res("umount f (the top)", umount2(at("f"), 0));
  res("f/E uncovered", access(at("f/E"), F_OK));
  res("umount f", umount2(at("f"), 0));
  res("umount e", umount2(at("e"), 0));
}

static void unprivileged(void) {
  pid_t p = xfork();
  if (p == 0) {
    if (unshare(CLONE_NEWUSER) < 0) DIE("unshare");
    /* A user namespace that does not own the mount namespace: no rights over its mounts. */
    res("unprivileged fsopen", syscall(NR_fsopen, "tmpfs", 0));
    res("unprivileged fspick", syscall(NR_fspick, AT_FDCWD, at("a"), 0));
    res("unprivileged open_tree clone", syscall(NR_open_tree, AT_FDCWD, at("a"), OT_CLONE));
    int o = syscall(NR_open_tree, AT_FDCWD, at("a"), 0);
    res("unprivileged open_tree without clone", o);
    res("unprivileged move_mount", syscall(NR_move_mount, AT_FDCWD, at("a"), AT_FDCWD, at("c"), 0));
    res("unprivileged mount_setattr", setattr(AT_FDCWD, at("a"), 0, ATTR_RDONLY, 0, 0, 32));
    exit(0);
  }
  int st;
  waitpid(p, &st, 0);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  dir = argv[1];
  setvbuf(stdout, NULL, _IONBF, 0);
  /* As the initial namespaces' root, before the user namespace: nothing here attaches a mount. */
  exclusive();
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) DIE("unshare");
  char map[64];
  snprintf(map, sizeof map, "0 %u 1", uid);
  writeFile("/proc/self/uid_map", map);
  writeFile("/proc/self/setgroups", "deny");
  snprintf(map, sizeof map, "0 %u 1", gid);
  writeFile("/proc/self/gid_map", map);
  contexts();
  binds();
  pick();
  detached();
  beneath();
  unprivileged();
  res("umount b", umount2(at("b"), 0));
  res("umount a", umount2(at("a"), 0));
  mountOpts("a");
  printf("done\n");
  return 0;
}
