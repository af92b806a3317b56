/* hostrw_escape: try to make a write through a read-write bind mount land
 * outside the bound host directory, or a read come from outside it.
 *
 * Run in the sandbox with the bind at /data (test/integration/hostrw.test.js).
 * Meanwhile a host process keeps swapping /data/a (a directory) for a symlink
 * to a host directory outside the bind, and /data/f (a file) for a symlink to
 * a host file outside it. This program swaps /data/b the same way itself
 * (a child process), with symlinks whose targets are the outside directory's
 * host path (argv[1]) and "../../..". The parent hammers every writing call
 * through those names: create, O_TRUNC, write, mkdir, rename, link, symlink,
 * unlink, rmdir, chmod, chown, truncate, utimes, xattrs, mknod; and reads
 * through them, printing LEAK if a byte of the outside files' marker shows.
 * The test then checks that the outside tree is unchanged. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MARKER "OUTSIDE-MARKER"

static long leaks, done_ops, ok_ops;

static void check(const char *buf, ssize_t n, const char *what) {
  if (n > 0 && memmem(buf, (size_t)n, MARKER, strlen(MARKER))) {
    printf("LEAK through %s\n", what);
    leaks++;
  }
}

static void op(long r) {
  done_ops++;
  if (r >= 0) ok_ops++;
}

static void reads(const char *p) {
  char buf[256];
  int fd = open(p, O_RDONLY | O_NONBLOCK);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf);
    check(buf, n, p);
    close(fd);
  }
  ssize_t n = readlink(p, buf, sizeof buf);
  (void)n; /* a symlink's own target is the program's or the racer's: not a leak */
  n = getxattr(p, "user.marker", buf, sizeof buf);
  check(buf, n, p);
}

static void writes(const char *base, int i) {
  char p[512], q[512];
  snprintf(p, sizeof p, "%s/new%d", base, i % 7);
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_NONBLOCK, 0644);
  if (fd >= 0) {
    op(write(fd, "pwned", 5));
    close(fd);
  } else
    op(-1);
  snprintf(p, sizeof p, "%s/secret", base);
  fd = open(p, O_WRONLY | O_TRUNC | O_NONBLOCK);
  if (fd >= 0) {
    op(pwrite(fd, "pwned", 5, 0));
    op(ftruncate(fd, 1));
    op(fchmod(fd, 0777));
    close(fd);
  } else
    op(-1);
  op(truncate(p, 0));
  op(chmod(p, 0777));
  op(chown(p, 1234, 1234));
  op(lchown(p, 1234, 1234));
  struct timespec ts[2] = {{1, 0}, {1, 0}};
  op(utimensat(AT_FDCWD, p, ts, 0));
  op(setxattr(p, "user.pwned", "1", 1, 0));
  op(removexattr(p, "user.marker"));
  snprintf(q, sizeof q, "%s/renamed", base);
  op(rename(p, q));
  op(unlink(p));
  snprintf(q, sizeof q, "%s/hard", base);
  op(link(p, q));
  snprintf(p, sizeof p, "%s/dir%d", base, i % 5);
  op(mkdir(p, 0755));
  op(rmdir(p));
  snprintf(p, sizeof p, "%s/sym%d", base, i % 3);
  op(symlink("pwned", p));
  snprintf(p, sizeof p, "%s/fifo%d", base, i % 3);
  op(mkfifo(p, 0644));
  snprintf(p, sizeof p, "%s/sub", base);
  op(rmdir(p));
  snprintf(p, sizeof p, "%s/sub/deep", base);
  op(unlink(p));
  snprintf(q, sizeof q, "%s/sub/deeper", base);
  op(syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD, q, 2 /* RENAME_EXCHANGE */));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) return 2;
  const char *outside = argv[1];
  int rounds = atoi(argv[2]);
  mkdir("/data/b", 0755);
  pid_t racer = fork();
  if (racer == 0) {
    /* The sandbox's own swaps: /data/b becomes a symlink to the outside's host path, or up and out. */
    for (long n = 0;; n++) {
      if (rename("/data/b", "/data/b.real") == 0) {
        symlink(n % 2 ? outside : "../../..", "/data/b");
        unlink("/data/b");
        rename("/data/b.real", "/data/b");
      }
    }
  }
  const char *bases[] = {"/data/a", "/data/b", "/data/a/sub", "/data/b/sub", "/data/up/a", "/data"};
  for (int i = 0; i < rounds; i++) {
    for (unsigned k = 0; k < sizeof bases / sizeof *bases; k++) writes(bases[k], i);
    reads("/data/a/secret");
    reads("/data/a/sub/deep");
    reads("/data/f");
    reads("/data/b/secret");
    reads("/data/up/a/secret");
  }
  kill(racer, SIGKILL);
  waitpid(racer, NULL, 0);
  printf("ops=%ld succeeded=%ld leaks=%ld\n", done_ops, ok_ops, leaks);
  return leaks ? 1 : 0;
}
