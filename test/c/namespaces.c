/* namespaces: mount, user and UTS namespaces, mount(2), umount2, pivot_root,
 * chroot, setns and /proc/PID/ns, uid_map/gid_map/setgroups, compared with
 * Linux. Every mount happens in a child that first made its own mount
 * namespace with every mount private, so a native run never changes the
 * host's mounts. argv[1]: a fresh empty directory. Runs as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/capability.h>

static char dir[4096];

static char *at(const char *rel) {
  static char buf[4][4200];
  static int n;
  char *b = buf[n++ & 3];
  snprintf(b, sizeof buf[0], "%s/%s", dir, rel);
  return b;
}

static void wait_child(pid_t p, const char *what) {
  int st;
  if (waitpid(p, &st, 0) != p) DIE("waitpid");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child status %d\n", what, st);
}

/* write_file writes s to path in one write, returning 0 or -1 (errno set). */
static int write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t n = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  errno = e;
  return n < 0 ? -1 : 0;
}

static void cat(const char *label, const char *path) {
  char buf[512];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: open %s\n", label, ename(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  printf("%s: [%s]\n", label, buf);
}

static void private_ns(void) {
  if (unshare(CLONE_NEWNS) < 0) DIE("unshare(CLONE_NEWNS)");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) DIE("make / private");
}

static int has_cap(int cap) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) DIE("capget");
  return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* The lines of /proc/self/mountinfo under dir: root, mount point (relative), options, type, source. */
static void mountinfo(const char *label) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) DIE("mountinfo");
  char line[1024];
  size_t dl = strlen(dir);
  while (fgets(line, sizeof line, f)) {
    char root[512], mp[512], opts[256], type[64], src[256];
    if (sscanf(line, "%*d %*d %*s %511s %511s %255s", root, mp, opts) != 3) continue;
    char *dash = strstr(line, " - ");
    if (!dash || sscanf(dash, " - %63s %255s", type, src) != 2) continue;
    if (strncmp(mp, dir, dl) != 0) continue;
    const char *r = strncmp(root, dir, dl) == 0 ? root + dl : root;
    printf("%s: root=%s at=%s opts=%s type=%s src=%s\n", label, r, mp + dl, opts, type, src);
  }
  fclose(f);
}

static void mounts(void) {
  private_ns();
  mkdir(at("m"), 0755);
  mkdir(at("b"), 0755);
  SHOW("mount tmpfs", mount("src1", at("m"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0750"));
  struct stat st;
  stat(at("m"), &st);
  printf("tmpfs root mode %o\n", st.st_mode & 07777);
  SHOW("create in tmpfs", open(at("m/f"), O_CREAT | O_WRONLY, 0644));
  SHOW("mkdir in tmpfs", mkdir(at("m/d"), 0755));
  SHOW("bind", mount(at("m"), at("b"), NULL, MS_BIND, NULL));
  SHOW("seen through bind", access(at("b/f"), F_OK));
  /* The magic number old callers (and bubblewrap) put in the top half of the flags. */
  SHOW("bind subdir", mount(at("m/d"), at("m/d"), NULL, MS_MGC_VAL | MS_BIND | MS_SILENT, NULL));
  mountinfo("after binds");
  SHOW("remount bind ro", mount(NULL, at("b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
  SHOW("write through ro bind", open(at("b/g"), O_CREAT | O_WRONLY, 0644));
  SHOW("write through rw mount", open(at("m/g"), O_CREAT | O_WRONLY, 0644));
  struct statvfs sv;
  statvfs(at("b"), &sv);
  printf("bind ST_RDONLY %d ST_NOSUID %d\n", !!(sv.f_flag & ST_RDONLY), !!(sv.f_flag & ST_NOSUID));
  mountinfo("after remount");
  statvfs(at("m"), &sv);
  printf("tmpfs flags ro %d nosuid %d nodev %d noexec %d\n", !!(sv.f_flag & ST_RDONLY), !!(sv.f_flag & ST_NOSUID), !!(sv.f_flag & ST_NODEV), !!(sv.f_flag & ST_NOEXEC));
  mkdir(at("devb"), 0755);
  SHOW("bind /dev", mount("/dev", at("devb"), NULL, MS_BIND, NULL));
  int nfd = open(at("devb/null"), O_RDONLY);
  SHOW("open null", nfd);
  close(nfd);
  SHOW("remount nodev", mount(NULL, at("devb"), NULL, MS_REMOUNT | MS_BIND | MS_NODEV, NULL));
  SHOW("open null on nodev", open(at("devb/null"), O_RDONLY));
  SHOW("umount devb", umount2(at("devb"), 0));
  SHOW("umount missing", umount2(at("m/d/x"), 0));
  SHOW("umount dotdot to m", umount2(at("m/d/.."), 0));
  SHOW("umount with submount", umount2(at("m"), 0));
  mkdir(at("m/d/x"), 0755);
  SHOW("umount not a mount point", umount2(at("m/d/x"), 0));
  SHOW("umount submount", umount2(at("m/d"), 0));
  if (chdir(at("b")) < 0) DIE("chdir");
  SHOW("umount cwd", umount2(at("b"), 0));
  if (chdir(dir) < 0) DIE("chdir");
  SHOW("umount bad flags", umount2(at("b"), 0x100));
  SHOW("expire 1", umount2(at("b"), MNT_EXPIRE));
  SHOW("expire 2", umount2(at("b"), MNT_EXPIRE));
  SHOW("expire+detach", umount2(at("m"), MNT_EXPIRE | MNT_DETACH));
  int fd = open(at("m/f"), O_RDWR);
  SHOW("umount busy file", umount2(at("m"), 0));
  SHOW("umount detach", umount2(at("m"), MNT_DETACH));
  SHOW("file after detach: write", write(fd, "xy", 2));
  SHOW("gone from tree", access(at("m/f"), F_OK));
  close(fd);
  SHOW("unknown type", mount("x", at("m"), "nosuchfs", 0, NULL));
  SHOW("bad tmpfs option", mount("x", at("m"), "tmpfs", 0, "bogus=1"));
  SHOW("no type", mount("x", at("m"), NULL, 0, NULL));
  SHOW("MS_NOUSER", mount("x", at("m"), "tmpfs", 1UL << 31, NULL));
  SHOW("bind missing source", mount(at("nope"), at("m"), NULL, MS_BIND, NULL));
  SHOW("private on non-root", mount(NULL, at("m"), NULL, MS_PRIVATE, NULL));
  SHOW("two propagation types", mount(NULL, "/", NULL, MS_PRIVATE | MS_SLAVE, NULL));
  /* A file bound over a file. */
  int f1 = open(at("file1"), O_CREAT | O_WRONLY, 0644);
  SHOW("write file1", write(f1, "one\n", 4));
  close(f1);
  close(open(at("file2"), O_CREAT | O_WRONLY, 0644));
  SHOW("bind file on file", mount(at("file1"), at("file2"), NULL, MS_BIND, NULL));
  cat("file2 shows", at("file2"));
  SHOW("bind file on dir", mount(at("file1"), at("m"), NULL, MS_BIND, NULL));
  SHOW("umount file", umount2(at("file2"), 0));
  cat("file2 again", at("file2"));
  /* MS_MOVE */
  SHOW("mount for move", mount("mv", at("m"), "tmpfs", 0, NULL));
  SHOW("move", mount(at("m"), at("b"), NULL, MS_MOVE, NULL));
  mountinfo("after move");
  SHOW("umount moved", umount2(at("b"), 0));
  SHOW("umount moved again", umount2(at("b"), 0));
}

static void pivot(void) {
  private_ns();
  mkdir(at("r"), 0755);
  SHOW("pivot not a mount", syscall(SYS_pivot_root, at("r"), at("r")));
  SHOW("mount new root", mount("newroot", at("r"), "tmpfs", 0, NULL));
  mkdir(at("r/old"), 0755);
  mkdir(at("r/sub"), 0755);
  SHOW("pivot old not below", syscall(SYS_pivot_root, at("r"), dir));
  SHOW("pivot file", syscall(SYS_pivot_root, at("r"), at("r/nofile")));
  SHOW("pivot", syscall(SYS_pivot_root, at("r"), at("r/old")));
  char cwd[256];
  if (!getcwd(cwd, sizeof cwd)) DIE("getcwd");
  printf("cwd after pivot: %.4s + dir: %d\n", cwd, strcmp(cwd + 4, dir) == 0);
  SHOW("chdir /", chdir("/"));
  SHOW("old root visible", access("/old/proc", F_OK));
  SHOW("detach old root", umount2("/old", MNT_DETACH));
  SHOW("old root gone", access("/old/proc", F_OK));
  SHOW("sub here", access("/sub", F_OK));
}

static void pivot_dot(void) {
  /* The pivot_root(".", ".") idiom: the old root stacks on the new one, then is detached. */
  private_ns();
  mkdir(at("r2"), 0755);
  SHOW("mount r2", mount("r2", at("r2"), "tmpfs", 0, NULL));
  close(open(at("r2/marker"), O_CREAT | O_WRONLY, 0644));
  SHOW("chdir r2", chdir(at("r2")));
  SHOW("pivot . .", syscall(SYS_pivot_root, ".", "."));
  SHOW("detach .", umount2(".", MNT_DETACH));
  SHOW("chdir /", chdir("/"));
  SHOW("marker at /", access("/marker", F_OK));
}

static void chroots(void) {
  mkdir(at("c"), 0755);
  mkdir(at("c/inner"), 0755);
  SHOW("chroot file", chroot(at("file1")));
  SHOW("chroot missing", chroot(at("nope")));
  SHOW("chroot", chroot(at("c")));
  SHOW("inner at /", access("/inner", F_OK));
  /* The cwd stays outside the new root: getcwd marks it "(unreachable)" (LTP realpath01). */
  char cwd[4096];
  long n = syscall(SYS_getcwd, cwd, sizeof cwd);
  printf("getcwd outside the root: %s\n", n < 0 ? ename(errno) : strncmp(cwd, "(unreachable)/", 14) == 0 ? "(unreachable)/..." : cwd);
  SHOW("getcwd outside the root, short buffer", syscall(SYS_getcwd, cwd, 5));
  printf("glibc getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : ename(errno));
  char *real = realpath(".", NULL);
  printf("realpath(.): %s\n", real ? real : ename(errno));
  free(real);
  SHOW("chdir /inner", chdir("/inner"));
  printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : ename(errno));
  SHOW("userns from chroot", unshare(CLONE_NEWUSER));
}

static void unprivileged(void) {
  if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) DIE("drop");
  if (prctl(PR_SET_DUMPABLE, 1) < 0) DIE("dumpable");
  SHOW("mount as nobody", mount("x", at("m"), "tmpfs", 0, NULL));
  SHOW("umount as nobody", umount2("/proc", 0));
  SHOW("unshare mnt as nobody", unshare(CLONE_NEWNS));
  SHOW("unshare uts as nobody", unshare(CLONE_NEWUTS));
  SHOW("chroot as nobody", chroot("/"));
  SHOW("pivot as nobody", syscall(SYS_pivot_root, "/", "/"));
  SHOW("sethostname as nobody", sethostname("x", 1));
  SHOW("uid_map of own ns", write_file("/proc/self/uid_map", "0 0 1\n"));
}

/* An unprivileged user creates a user namespace and maps itself, as unshare -r does. */
static void rootless(void) {
  /* Mounts of the parent's namespace, to be inherited (locked) by the user namespace's copy. */
  private_ns();
  mkdir(at("inh"), 0755);
  mkdir(at("inhro"), 0755);
  if (mount("inh", at("inh"), "tmpfs", 0, "mode=0777") < 0 || mount("inhro", at("inhro"), "tmpfs", MS_RDONLY, NULL) < 0) DIE("mount inh");
  if (setgroups(0, NULL) < 0 || setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) DIE("drop");
  /* Changing IDs made the process non-dumpable, which would give its /proc files to root. */
  if (prctl(PR_SET_DUMPABLE, 1) < 0) DIE("dumpable");
  SHOW("userns", unshare(CLONE_NEWUSER));
  printf("unmapped ids: uid %d gid %d\n", (int)getuid(), (int)getgid());
  printf("CAP_SYS_ADMIN %d CAP_SETUID %d\n", has_cap(CAP_SYS_ADMIN), has_cap(CAP_SETUID));
  cat("uid_map before", "/proc/self/uid_map");
  SHOW("map another uid", write_file("/proc/self/uid_map", "0 0 1\n"));
  SHOW("map two uids", write_file("/proc/self/uid_map", "0 1000 2\n"));
  SHOW("bad map", write_file("/proc/self/uid_map", "0 1000\n"));
  SHOW("zero count", write_file("/proc/self/uid_map", "0 1000 0\n"));
  SHOW("map self", write_file("/proc/self/uid_map", "0 1000 1\n"));
  SHOW("map self again", write_file("/proc/self/uid_map", "0 1000 1\n"));
  SHOW("gid_map before deny", write_file("/proc/self/gid_map", "0 1000 1\n"));
  SHOW("setgroups junk", write_file("/proc/self/setgroups", "maybe"));
  SHOW("setgroups deny", write_file("/proc/self/setgroups", "deny\n"));
  SHOW("gid_map after deny", write_file("/proc/self/gid_map", "0 1000 1\n"));
  SHOW("setgroups allow again", write_file("/proc/self/setgroups", "allow"));
  cat("uid_map", "/proc/self/uid_map");
  cat("gid_map", "/proc/self/gid_map");
  cat("setgroups", "/proc/self/setgroups");
  printf("mapped ids: uid %d euid %d gid %d\n", (int)getuid(), (int)geteuid(), (int)getgid());
  struct stat st;
  if (stat("/", &st) < 0) DIE("stat /");
  printf("stat / owner %d:%d\n", (int)st.st_uid, (int)st.st_gid);
  SHOW("setgroups(2)", setgroups(0, NULL));
  SHOW("setuid to unmapped", setuid(5));
  SHOW("setuid 0", setuid(0));
  SHOW("sethostname in parent's uts", sethostname("x", 1));
  SHOW("unshare uts", unshare(CLONE_NEWUTS));
  SHOW("sethostname", sethostname("inner", 5));
  struct utsname u;
  uname(&u);
  printf("nodename %s\n", u.nodename);
  SHOW("unshare mnt", unshare(CLONE_NEWNS));
  SHOW("mount tmpfs in userns", mount("t", at("m"), "tmpfs", 0, NULL));
  SHOW("mount proc in userns", mount("proc", at("m"), "proc", 0, NULL));
  SHOW("umount locked", umount2("/proc", 0));
  SHOW("remount own ro", mount(NULL, at("m"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
  SHOW("umount own", umount2(at("m"), 0));
  SHOW("remount inherited", mount(NULL, at("inh"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
  SHOW("remount inherited bind ro", mount(NULL, at("inh"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
  SHOW("remount inherited bind rw", mount(NULL, at("inh"), NULL, MS_REMOUNT | MS_BIND, NULL));
  SHOW("remount locked ro rw", mount(NULL, at("inhro"), NULL, MS_REMOUNT | MS_BIND, NULL));
  SHOW("umount inherited", umount2(at("inh"), 0));
  SHOW("bind inherited", mount(at("inh"), at("m"), NULL, MS_BIND, NULL));
  SHOW("umount bind of inherited", umount2(at("m"), 0));
  SHOW("nested userns", unshare(CLONE_NEWUSER));
  printf("nested uid %d\n", (int)getuid());
}

/* A privileged parent writes a child's maps with ranges (what newuidmap does for rootless containers). */
static void parentmaps(void) {
  int go[2], done[2];
  if (pipe(go) < 0 || pipe(done) < 0) DIE("pipe");
  int f = open(at("owned"), O_CREAT | O_WRONLY, 0644);
  if (f < 0 || fchown(f, 100005, 100007) < 0) DIE("owned");
  close(f);
  pid_t p = xfork();
  if (p == 0) {
    char c;
    if (unshare(CLONE_NEWUSER) < 0) DIE("unshare");
    if (write(done[1], "u", 1) != 1 || read(go[0], &c, 1) != 1) DIE("sync");
    printf("child ids %d %d\n", (int)getuid(), (int)getgid());
    struct stat st;
    if (stat(at("owned"), &st) < 0) DIE("stat owned");
    printf("owned by %d:%d\n", (int)st.st_uid, (int)st.st_gid);
    SHOW("setgroups", setgroups(0, NULL));
    SHOW("setresgid 7", setresgid(7, 7, 7));
    SHOW("setresuid 5", setresuid(5, 5, 5));
    printf("now %d %d\n", (int)getuid(), (int)getgid());
    SHOW("write own file", open(at("owned"), O_WRONLY));
    _exit(0);
  }
  char c, path[64];
  if (read(done[0], &c, 1) != 1) DIE("sync");
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)p);
  SHOW("parent writes uid_map", write_file(path, "0 100000 65536\n"));
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)p);
  SHOW("parent writes gid_map", write_file(path, "0 100000 65536\n"));
  snprintf(path, sizeof path, "/proc/%d/setgroups", (int)p);
  cat("child setgroups", path);
  if (write(go[1], "g", 1) != 1) DIE("sync");
  wait_child(p, "parentmaps child");
}

static void nsfiles(void) {
  char a[64], b[64];
  ssize_t n = readlink("/proc/self/ns/mnt", a, sizeof a - 1);
  if (n < 0) DIE("readlink");
  a[n] = 0;
  struct stat st, lst;
  if (stat("/proc/self/ns/mnt", &st) < 0 || lstat("/proc/self/ns/mnt", &lst) < 0) DIE("stat ns");
  char expect[64];
  snprintf(expect, sizeof expect, "mnt:[%lu]", (unsigned long)st.st_ino);
  printf("link names the inode: %d\n", strcmp(a, expect) == 0);
  printf("link mode %o target mode %o nlink %d\n", lst.st_mode, st.st_mode, (int)st.st_nlink);
  int fd = open("/proc/self/ns/mnt", O_RDONLY);
  int ufd = open("/proc/self/ns/uts", O_RDONLY);
  char c;
  SHOW("read ns file", read(fd, &c, 1));
  private_ns();
  n = readlink("/proc/self/ns/mnt", b, sizeof b - 1);
  b[n] = 0;
  printf("new mnt ns differs: %d\n", strcmp(a, b) != 0);
  SHOW("setns wrong type", setns(fd, CLONE_NEWUTS));
  SHOW("setns not ns", setns(0, 0));
  SHOW("setns back", setns(fd, CLONE_NEWNS));
  n = readlink("/proc/self/ns/mnt", b, sizeof b - 1);
  b[n] = 0;
  printf("back in first: %d\n", strcmp(a, b) == 0);
  SHOW("unshare uts", unshare(CLONE_NEWUTS));
  sethostname("changed", 7);
  SHOW("setns uts", setns(ufd, 0));
  struct utsname u1, u2;
  uname(&u1);
  gethostname(u2.nodename, sizeof u2.nodename);
  printf("hostname restored: %d\n", strcmp(u1.nodename, "changed") != 0);
  SHOW("setns own user ns", setns(open("/proc/self/ns/user", O_RDONLY), CLONE_NEWUSER));
}

static int clone_child(void *arg) {
  (void)arg;
  printf("clone child uid %d\n", (int)getuid());
  return 0;
}

static void clones(void) {
  static char stack[65536];
  pid_t p = clone(clone_child, stack + sizeof stack, CLONE_NEWUSER | CLONE_NEWUTS | SIGCHLD, NULL);
  if (p < 0) DIE("clone");
  wait_child(p, "clone");
  SHOW("clone NEWNS|FS", clone(clone_child, stack + sizeof stack, CLONE_NEWNS | CLONE_FS | SIGCHLD, NULL));
  SHOW("clone NEWUSER|FS", clone(clone_child, stack + sizeof stack, CLONE_NEWUSER | CLONE_FS | SIGCHLD, NULL));
}

static void run(const char *name, void (*fn)(void)) {
  printf("-- %s\n", name);
  pid_t p = xfork();
  if (p == 0) {
    fn();
    fflush(stdout);
    _exit(0);
  }
  wait_child(p, name);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) DIE("usage");
  snprintf(dir, sizeof dir, "%s", argv[1]);
  /* The unprivileged parts walk into it. */
  if (chmod(dir, 0755) < 0) DIE("chmod");
  run("mounts", mounts);
  run("pivot", pivot);
  run("pivot_dot", pivot_dot);
  run("chroot", chroots);
  run("unprivileged", unprivileged);
  run("rootless", rootless);
  run("parentmaps", parentmaps);
  run("nsfiles", nsfiles);
  run("clones", clones);
  printf("done\n");
  return 0;
}
