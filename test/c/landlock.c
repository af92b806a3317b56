// landlock: the three system calls' argument checks, and what a domain
// allows and refuses (opens, exec, creation and removal, rename and link
// across directories with REFER, mounts, ptrace, stacked layers), each
// scenario in a child of its own. Only ABI-2 behaviour is printed, so the
// output is the same on any kernel with ABI 2 or later. Run as root in DIR.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define A_EXECUTE (1ULL << 0)
#define A_WRITE_FILE (1ULL << 1)
#define A_READ_FILE (1ULL << 2)
#define A_READ_DIR (1ULL << 3)
#define A_REMOVE_DIR (1ULL << 4)
#define A_REMOVE_FILE (1ULL << 5)
#define A_MAKE_CHAR (1ULL << 6)
#define A_MAKE_DIR (1ULL << 7)
#define A_MAKE_REG (1ULL << 8)
#define A_MAKE_SOCK (1ULL << 9)
#define A_MAKE_FIFO (1ULL << 10)
#define A_MAKE_BLOCK (1ULL << 11)
#define A_MAKE_SYM (1ULL << 12)
#define A_REFER (1ULL << 13)
#define A_ALL ((A_REFER << 1) - 1)

struct ruleset_attr {
  uint64_t handled_access_fs;
};
struct path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

static long create_ruleset(const void *attr, size_t size, uint32_t flags) { return syscall(444, attr, size, flags); }
static long add_rule(int fd, int type, const void *attr, uint32_t flags) { return syscall(445, fd, type, attr, flags); }
static long restrict_self(int fd, uint32_t flags) { return syscall(446, fd, flags); }

static const char *dir;

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: ok\n", what);
}

static char *at(const char *rel) {
  static char buf[8][512];
  static int n;
  char *b = buf[n++ % 8];
  snprintf(b, 512, "%s/%s", dir, rel);
  return b;
}

static int ruleset(uint64_t handled) {
  struct ruleset_attr a = {handled};
  int fd = create_ruleset(&a, sizeof a, 0);
  if (fd < 0) {
    perror("create_ruleset");
    exit(1);
  }
  return fd;
}

static void rule(int rs, const char *path, uint64_t access) {
  int pfd = open(path, O_PATH | O_CLOEXEC);
  struct path_beneath pb = {access, pfd};
  if (pfd < 0 || add_rule(rs, 1, &pb, 0) < 0) {
    printf("rule %s: %s\n", path, strerrorname_np(errno));
    exit(1);
  }
  close(pfd);
}

static void enforce(int rs) {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (restrict_self(rs, 0) < 0) {
    perror("restrict_self");
    exit(1);
  }
  close(rs);
}

static void scenario(const char *name, void (*fn)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("== %s\n", name);
    fn();
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child status %#x\n", name, st);
}

static void args(void) {
  long v = create_ruleset(NULL, 0, 1);
  printf("abi at least 2: %s\n", v >= 2 ? "yes" : "no");
  show("version with attr", create_ruleset(&v, 0, 1));
  show("version with size", create_ruleset(NULL, 8, 1));
  show("unknown flag", create_ruleset(NULL, 0, 1u << 30));
  struct {
    uint64_t fs, extra;
  } big = {A_READ_FILE, 0};
  show("size 4", create_ruleset(&big, 4, 0));
  show("size 4097", create_ruleset(&big, 4097, 0));
  show("huge size", create_ruleset(&big, (size_t)-1, 0));
  show("NULL attr", create_ruleset(NULL, 8, 0));
  big.fs = 0;
  show("nothing handled", create_ruleset(&big, 8, 0));
  big.fs = 1ULL << 40;
  show("unknown right", create_ruleset(&big, 8, 0));
  big.fs = A_READ_FILE;
  big.extra = 0;
  long rs = create_ruleset(&big, 16, 0);
  show("zero tail", rs);
  char link[64], target[128] = "";
  snprintf(link, sizeof link, "/proc/self/fd/%ld", rs);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n > 0) target[n] = 0;
  printf("fd link: %s, cloexec %d\n", target, (fcntl(rs, F_GETFD) & FD_CLOEXEC) != 0);
  char b[8];
  show("read ruleset", read(rs, b, 8));

  int dfd = open(dir, O_PATH);
  int plain = open(dir, O_RDONLY | O_DIRECTORY);
  struct path_beneath pb = {A_READ_FILE, dfd};
  show("rule flags", add_rule(rs, 1, &pb, 1));
  show("rule bad ruleset fd", add_rule(999, 1, &pb, 0));
  show("rule on O_PATH non-ruleset", add_rule(dfd, 1, &pb, 0));
  show("rule on non-ruleset", add_rule(plain, 1, &pb, 0));
  show("rule type 0", add_rule(rs, 0, &pb, 0));
  show("rule type 7", add_rule(rs, 7, &pb, 0));
  show("rule NULL attr", add_rule(rs, 1, NULL, 0));
  pb.allowed_access = 0;
  show("rule nothing allowed", add_rule(rs, 1, &pb, 0));
  pb.allowed_access = A_WRITE_FILE;
  show("rule not handled", add_rule(rs, 1, &pb, 0));
  pb.allowed_access = A_READ_FILE;
  pb.parent_fd = 998;
  show("rule bad parent fd", add_rule(rs, 1, &pb, 0));
  int pp[2];
  pipe(pp);
  pb.parent_fd = pp[0];
  show("rule on a pipe", add_rule(rs, 1, &pb, 0));
  pb.parent_fd = rs;
  show("rule on the ruleset", add_rule(rs, 1, &pb, 0));
  pb.parent_fd = dfd;
  show("rule on dir", add_rule(rs, 1, &pb, 0));
  show("same rule again", add_rule(rs, 1, &pb, 0));
  int ffd = open(at("a/f"), O_PATH);
  pb.parent_fd = ffd;
  show("file right on file", add_rule(rs, 1, &pb, 0));
  struct ruleset_attr rd = {A_READ_FILE | A_READ_DIR};
  int rs2 = create_ruleset(&rd, sizeof rd, 0);
  pb.allowed_access = A_READ_DIR;
  show("dir right on file", add_rule(rs2, 1, &pb, 0));

  show("restrict bad fd", restrict_self(997, 0));
  show("restrict O_PATH non-ruleset", restrict_self(dfd, 0));
  show("restrict non-ruleset", restrict_self(plain, 0));
}

static void unprivileged(void) {
  int rs = ruleset(A_READ_FILE);
  if (setuid(65534) < 0) perror("setuid");
  show("restrict without no_new_privs", restrict_self(rs, 0));
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  show("restrict with no_new_privs", restrict_self(rs, 0));
  show("read after", open("/etc/hostname", O_RDONLY));
}

static void reads(void) {
  int rs = ruleset(A_ALL);
  rule(rs, at("a"), A_READ_FILE | A_READ_DIR);
  rule(rs, at("b/h"), A_WRITE_FILE);
  enforce(rs);
  show("open a/f read", open(at("a/f"), O_RDONLY));
  show("open a/f write", open(at("a/f"), O_WRONLY));
  show("open a/f rdwr", open(at("a/f"), O_RDWR));
  show("open a/f mode 3", open(at("a/f"), 3));
  show("open a/sub/g read", open(at("a/sub/g"), O_RDONLY));
  show("open a dir", open(at("a"), O_RDONLY | O_DIRECTORY));
  show("open b dir", open(at("b"), O_RDONLY | O_DIRECTORY));
  show("open b/h read", open(at("b/h"), O_RDONLY));
  show("open b/h write", open(at("b/h"), O_WRONLY));
  show("open b/h O_PATH", open(at("b/h"), O_PATH));
  struct stat st;
  show("stat b/h", stat(at("b/h"), &st));
  show("chmod b/h", chmod(at("b/h"), 0644));
  show("truncate a/f", truncate(at("a/f"), 1));
  show("chdir b", chdir(at("b")));
  show("creat a/new", open(at("a/new"), O_CREAT | O_WRONLY, 0644));
  show("mkdir a/d", mkdir(at("a/d"), 0755));
  show("symlink a/s", symlink("x", at("a/s")));
  show("mkfifo a/p", mkfifo(at("a/p"), 0644));
  show("unlink a/f", unlink(at("a/f")));
  show("rmdir a/sub", rmdir(at("a/sub")));
  show("open missing", open(at("a/nothing"), O_RDONLY));
  int pp[2];
  pipe(pp);
  char pl[64];
  snprintf(pl, sizeof pl, "/proc/self/fd/%d", pp[0]);
  show("reopen a pipe", open(pl, O_RDONLY | O_NONBLOCK));
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", at("a/sock"));
  show("bind a/sock", bind(s, (struct sockaddr *)&sa, sizeof sa));
  show("exec /bin/true", execl("/bin/true", "true", NULL));
}

static void makes(void) {
  int rs = ruleset(A_ALL & ~A_REFER);
  rule(rs, at("a"), A_MAKE_REG | A_MAKE_DIR | A_REMOVE_FILE | A_WRITE_FILE);
  enforce(rs);
  show("creat a/new", open(at("a/new"), O_CREAT | O_WRONLY, 0644));
  show("reopen a/new read", open(at("a/new"), O_RDONLY));
  show("mkdir a/d", mkdir(at("a/d"), 0755));
  show("rmdir a/d", rmdir(at("a/d")));
  show("unlink a/new", unlink(at("a/new")));
  show("creat b/new", open(at("b/new"), O_CREAT | O_WRONLY, 0644));
  show("creat existing a/f", open(at("a/f"), O_CREAT | O_WRONLY, 0644));
  show("mkdir existing a/sub", mkdir(at("a/sub"), 0755));
  show("rename in a", rename(at("a/f"), at("a/f2")));
  show("rename a to a/sub", rename(at("a/f2"), at("a/sub/f2")));
  show("link in a", link(at("a/f2"), at("a/f3")));
  show("symlink a/s", symlink("x", at("a/s")));
}

static void refers(void) {
  int rs = ruleset(A_ALL);
  rule(rs, at("a"), A_ALL);
  rule(rs, at("b"), A_ALL & ~A_REFER);
  rule(rs, at("c"), A_ALL & ~A_WRITE_FILE);
  enforce(rs);
  show("rename a to b", rename(at("a/f"), at("b/f")));
  show("link a to b", link(at("a/f"), at("b/l")));
  show("rename b to a", rename(at("b/h"), at("b/h2")));
  show("rename a to c (loses write)", rename(at("a/f"), at("c/f")));
  show("rename c to a (gains write)", rename(at("c/f"), at("a/f")));
  show("link c to a (gains write)", link(at("c/f"), at("a/l")));
  show("rename c/i to a (gains write)", rename(at("c/i"), at("a/i")));
  show("exchange a/sub/g c/i", syscall(SYS_renameat2, AT_FDCWD, at("a/sub/g"), AT_FDCWD, at("c/i"), 2));
  show("rename a/sub to c", rename(at("a/sub"), at("c/sub")));
}

static void layers(void) {
  for (int i = 0; i < 17; i++) {
    int rs = ruleset(A_READ_DIR);
    rule(rs, "/", A_READ_DIR);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    long r = restrict_self(rs, 0);
    if (r < 0) printf("layer %d: %s\n", i + 1, strerrorname_np(errno));
    close(rs);
  }
  show("list /", open("/", O_RDONLY | O_DIRECTORY));
}

static void stacked(void) {
  // Two layers: each must allow.
  int rs = ruleset(A_READ_FILE);
  rule(rs, at("a"), A_READ_FILE);
  rule(rs, at("b"), A_READ_FILE);
  enforce(rs);
  rs = ruleset(A_READ_FILE | A_WRITE_FILE);
  rule(rs, at("a"), A_READ_FILE | A_WRITE_FILE);
  rule(rs, "/usr", A_READ_FILE);
  // A rule added after restrict_self changes nothing.
  int dfd = open(at("b"), O_PATH);
  struct path_beneath pb = {A_READ_FILE, dfd};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  show("restrict second layer", restrict_self(rs, 0));
  show("rule after restrict", add_rule(rs, 1, &pb, 0));
  show("open a/f", open(at("a/f"), O_RDWR));
  show("open b/h", open(at("b/h"), O_RDONLY));
  show("open /usr/bin/true", open("/usr/bin/true", O_RDONLY));
  show("open b/h", open(at("b/h"), O_RDONLY));
  // The domain goes on across fork and exec.
  pid_t p = fork();
  if (p == 0) {
    execl("/bin/cat", "cat", at("b/h"), NULL);
    printf("exec cat: %s\n", strerrorname_np(errno));
    _exit(3);
  }
  int st;
  waitpid(p, &st, 0);
  printf("child exec status %d\n", WEXITSTATUS(st));
}

static void tracing(void) {
  pid_t before = fork();
  if (before == 0) {
    pause();
    _exit(0);
  }
  int rs = ruleset(A_READ_FILE);
  rule(rs, "/", A_READ_FILE);
  enforce(rs);
  pid_t after = fork();
  if (after == 0) {
    pause();
    _exit(0);
  }
  show("attach to an older child", ptrace(PTRACE_ATTACH, before, 0, 0));
  show("attach to a younger child", ptrace(PTRACE_ATTACH, after, 0, 0));
  kill(before, SIGKILL);
  kill(after, SIGKILL);
  while (wait(NULL) > 0) {
  }
  show("unshare mount namespace", unshare(CLONE_NEWNS));
  show("mount tmpfs", mount("none", at("b"), "tmpfs", 0, NULL));
  show("remount /", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
  show("umount /proc", umount2("/proc", MNT_DETACH));
}

static void execs(void) {
  // EXECUTE granted where the program is, READ_FILE nowhere: the exec's open reads it.
  int rs = ruleset(A_EXECUTE | A_READ_FILE);
  rule(rs, "/usr", A_EXECUTE);
  enforce(rs);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    execl("/usr/bin/true", "true", NULL);
    printf("exec without read: %s\n", strerrorname_np(errno));
    fflush(stdout);
    _exit(9);
  }
  int st;
  waitpid(p, &st, 0);
  printf("exec without read: status %d\n", WEXITSTATUS(st));
}

static void execs2(void) {
  int rs = ruleset(A_EXECUTE | A_READ_FILE);
  rule(rs, "/", A_READ_FILE);
  enforce(rs);
  show("exec without execute", execl("/usr/bin/true", "true", NULL));
}

// DIR/l was made before the program started (natively: files on disk; in
// the sandbox: the root overlay's lower layer), so rules name lower files
// and the first change copies their directory up.
static void lower(void) {
  struct stat st;
  if (stat(at("l/a/f"), &st) < 0) {
    printf("no l/a/f: %s\n", strerrorname_np(errno));
    return;
  }
  int rs = ruleset(A_READ_FILE | A_WRITE_FILE | A_MAKE_REG | A_MAKE_DIR);
  rule(rs, at("l/a"), A_READ_FILE | A_WRITE_FILE | A_MAKE_REG | A_MAKE_DIR);
  enforce(rs);
  show("read l/a/f", open(at("l/a/f"), O_RDONLY));
  show("create l/a/new", open(at("l/a/new"), O_CREAT | O_WRONLY, 0644));
  show("read l/a/f after the copy-up", open(at("l/a/f"), O_RDONLY));
  show("write l/a/sub/g", open(at("l/a/sub/g"), O_WRONLY));
  show("mkdir l/a/sub/d", mkdir(at("l/a/sub/d"), 0755));
  show("write l/a/sub/g after the copy-up", open(at("l/a/sub/g"), O_WRONLY));
  show("read l/b", open(at("l/b"), O_RDONLY));
}

static void mk(const char *rel, int isdir) {
  if (isdir) mkdir(at(rel), 0755);
  else close(open(at(rel), O_CREAT | O_WRONLY, 0644));
}

static void fresh(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s/a %s/b %s/c", dir, dir, dir);
  if (system(cmd) != 0) exit(1);
  mk("a", 1);
  mk("a/sub", 1);
  mk("a/f", 0);
  mk("a/sub/g", 0);
  mk("b", 1);
  mk("b/h", 0);
  mk("c", 1);
  mk("c/i", 0);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : "/tmp";
  setvbuf(stdout, NULL, _IOLBF, 0);
  fresh();
  scenario("arguments", args);
  scenario("unprivileged", unprivileged);
  fresh();
  scenario("reads", reads);
  fresh();
  scenario("makes", makes);
  fresh();
  scenario("refer", refers);
  fresh();
  scenario("stacked", stacked);
  scenario("layers", layers);
  scenario("tracing", tracing);
  scenario("exec needs read", execs);
  scenario("exec needs execute", execs2);
  scenario("lower files", lower);
  printf("done\n");
  return 0;
}
