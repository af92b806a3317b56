// landlock_escape: a program restricted by Landlock to reading nothing
// tries the ways around it: other names for a file (/proc/self/root, a
// descriptor of its directory or of the file itself opened before the
// restriction, /proc/self/fd of it, a hard link or symlink made before,
// "..", a bind mount in a new user and mount namespace), and its
// unrestricted parent's memory and descriptors (ptrace, process_vm_readv,
// /proc/PID/mem, pidfd_getfd). Each must fail as on Linux. Run as root in DIR.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define A_READ_FILE (1ULL << 2)
#define A_READ_DIR (1ULL << 3)
#define A_MAKE_SYM (1ULL << 12)
#define A_MAKE_REG (1ULL << 8)

static const char *dir;
static char secret_value[] = "parent's secret";

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

static void restrict_all(void) {
  uint64_t handled = A_READ_FILE | A_READ_DIR | A_MAKE_SYM | A_MAKE_REG;
  int rs = syscall(444, &handled, sizeof handled, 0);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (rs < 0 || syscall(446, rs, 0) < 0) {
    perror("landlock");
    exit(1);
  }
  close(rs);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : "/tmp";
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(at("secret"), 0755);
  int fd = open(at("secret/file"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (write(fd, "secret\n", 7) != 7) return 1;
  close(fd);
  unlink(at("hard"));
  unlink(at("soft"));
  if (link(at("secret/file"), at("hard")) < 0 || symlink(at("secret/file"), at("soft")) < 0) return 1;

  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    // Opened before the restriction: descriptors keep working as opened, new opens are checked.
    int dirfd = open(at("secret"), O_PATH | O_DIRECTORY);
    int pathfd = open(at("secret/file"), O_PATH);
    int readfd = open(at("secret/file"), O_RDONLY);
    restrict_all();
    show("open the file", open(at("secret/file"), O_RDONLY));
    char p[600];
    snprintf(p, sizeof p, "/proc/self/root%s", at("secret/file"));
    show("through /proc/self/root", open(p, O_RDONLY));
    show("openat an O_PATH directory", openat(dirfd, "file", O_RDONLY));
    snprintf(p, sizeof p, "/proc/self/fd/%d", pathfd);
    show("reopen an O_PATH descriptor", open(p, O_RDONLY));
    snprintf(p, sizeof p, "/proc/self/fd/%d", readfd);
    show("reopen a readable descriptor", open(p, O_RDONLY));
    char b[16];
    show("read the descriptor opened before", read(readfd, b, sizeof b));
    show("through a hard link", open(at("hard"), O_RDONLY));
    show("through a symlink", open(at("soft"), O_RDONLY));
    snprintf(p, sizeof p, "%s/secret/../secret/./file", dir);
    show("through ..", open(p, O_RDONLY));
    show("make a symlink", symlink(at("secret/file"), at("soft2")));
    show("make a file", open(at("new"), O_CREAT | O_WRONLY, 0644));
    show("list the directory", open(at("secret"), O_RDONLY | O_DIRECTORY));
    show("exec cat", execl("/bin/cat", "cat", at("secret/file"), NULL));
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
      show("bind mount in a new namespace", mount(at("secret"), at("hard"), NULL, MS_BIND, NULL));
      show("tmpfs in a new namespace", mount("none", at("secret"), "tmpfs", 0, NULL));
    } else {
      show("unshare", -1);
    }
    show("attach to the parent", ptrace(PTRACE_ATTACH, parent, 0, 0));
    char got[32] = "";
    struct iovec local = {got, sizeof secret_value}, remote = {secret_value, sizeof secret_value};
    show("process_vm_readv of the parent", process_vm_readv(parent, &local, 1, &remote, 1, 0));
    snprintf(p, sizeof p, "/proc/%d/mem", parent);
    show("the parent's /proc mem", open(p, O_RDONLY));
    int pfd = syscall(SYS_pidfd_open, parent, 0);
    show("pidfd_open of the parent", pfd);
    show("pidfd_getfd of the parent's stdin", syscall(SYS_pidfd_getfd, pfd, 0, 0));
    show("signal the parent", kill(parent, 0));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(child, &st, 0);
  printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
  printf("done\n");
  return 0;
}
