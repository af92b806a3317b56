/* opath: what an O_PATH descriptor may and may not do. Every operation on
 * the file itself fails with EBADF; the descriptor still works as a location
 * (fstat, fstatfs, fchdir, the *at() calls, with AT_EMPTY_PATH too, execveat). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>

int main(int argc, char **argv) {
  line_buffered();
  if (argc == 2 && strcmp(argv[1], "child") == 0) {
    printf("execveat child ran\n");
    return 7;
  }
  if (argc < 2) return 2;
  if (chdir(argv[argc - 1]) < 0) DIE("chdir");
  int w = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (w < 0 || write(w, "hello", 5) != 5) DIE("file");
  if (mkdir("dir", 0755) < 0) DIE("mkdir");
  int t = open("dir/inner", O_WRONLY | O_CREAT, 0600);
  if (t < 0) DIE("inner");
  close(t);
  if (symlink("file", "link") < 0) DIE("symlink");

  int p = open("file", O_PATH);
  if (p < 0) DIE("open O_PATH");
  char buf[64];
  struct iovec v = {buf, sizeof buf};
  struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
  struct stat st;
  struct statfs sfs;
  struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  SHOW("read", read(p, buf, 1));
  SHOW("write", write(p, "x", 1));
  SHOW("pread", pread(p, buf, 1, 0));
  SHOW("pwrite", pwrite(p, "x", 1, 0));
  SHOW("readv", readv(p, &v, 1));
  SHOW("writev", writev(p, &v, 1));
  SHOW("lseek", lseek(p, 0, SEEK_SET));
  SHOW("fchmod", fchmod(p, 0600));
  SHOW("fchown", fchown(p, 0, 0));
  SHOW("fcntl F_SETLK", fcntl(p, F_SETLK, &fl));
  SHOW("fcntl F_GETLK", fcntl(p, F_GETLK, &fl));
  SHOW("fcntl F_OFD_SETLK", fcntl(p, F_OFD_SETLK, &fl));
  SHOW("fcntl F_SETFL", fcntl(p, F_SETFL, O_NONBLOCK));
  SHOW("fcntl F_GETFL has O_PATH", (fcntl(p, F_GETFL) & O_PATH) != 0);
  snprintf(buf, sizeof buf, "/proc/self/fd/%d", p);
  SHOW("lstat /proc/self/fd mode", lstat(buf, &st) == 0 ? (long)(st.st_mode & 0777) : -1);
  SHOW("fcntl F_GETFD", fcntl(p, F_GETFD));
  SHOW("fcntl F_SETFD", fcntl(p, F_SETFD, FD_CLOEXEC));
  int d = fcntl(p, F_DUPFD_CLOEXEC, 0);
  SHOW("fcntl F_DUPFD_CLOEXEC", d >= 0);
  close(d);
  SHOW("flock", flock(p, LOCK_SH));
  SHOW("ioctl FIONREAD", ioctl(p, FIONREAD, &t));
  SHOW("fsync", fsync(p));
  SHOW("fdatasync", fdatasync(p));
  SHOW("ftruncate", ftruncate(p, 0));
  SHOW("fallocate", fallocate(p, 0, 0, 10));
  SHOW("posix_fadvise", -(errno = posix_fadvise(p, 0, 0, POSIX_FADV_NORMAL)) ? -1 : 0);
  SHOW("fgetxattr", fgetxattr(p, "user.x", buf, sizeof buf));
  SHOW("fsetxattr", fsetxattr(p, "user.x", "1", 1, 0));
  SHOW("flistxattr", flistxattr(p, buf, sizeof buf));
  SHOW("fremovexattr", fremovexattr(p, "user.x"));
  SHOW("futimens", futimens(p, ts));
  SHOW("mmap", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, p, 0) == MAP_FAILED ? -1 : 0);
  SHOW("sendfile from", sendfile(w, p, NULL, 1));
  SHOW("sendfile to", sendfile(p, w, NULL, 1));
  SHOW("fstat", fstat(p, &st));
  printf("  size %ld\n", (long)st.st_size);
  SHOW("fstatfs", fstatfs(p, &sfs));
  SHOW("fstatat AT_EMPTY_PATH", fstatat(p, "", &st, AT_EMPTY_PATH));
  printf("  size %ld\n", (long)st.st_size);
  SHOW("fstatat empty without flag", fstatat(p, "", &st, 0));
  SHOW("fchownat AT_EMPTY_PATH", fchownat(p, "", 0, 0, AT_EMPTY_PATH));
  SHOW("faccessat2 AT_EMPTY_PATH", syscall(SYS_faccessat2, p, "", R_OK, AT_EMPTY_PATH));
  SHOW("linkat AT_EMPTY_PATH", linkat(p, "", AT_FDCWD, "hard", AT_EMPTY_PATH));
  SHOW("  link count", stat("file", &st) == 0 ? (long)st.st_nlink : -1);
  SHOW("utimensat NULL path", syscall(SYS_utimensat, p, NULL, ts, 0));
  SHOW("utimensat AT_EMPTY_PATH", utimensat(p, "", ts, AT_EMPTY_PATH));
  struct pollfd pf = {p, POLLIN, 0};
  SHOW("poll", poll(&pf, 1, 0));
  printf("  revents %#x\n", pf.revents);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(p, &rs);
  struct timeval tv = {0, 0};
  SHOW("select", select(p + 1, &rs, NULL, NULL, &tv));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  SHOW("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, p, &ev));
  close(ep);

  int dp = open("dir", O_PATH | O_DIRECTORY);
  if (dp < 0) DIE("open dir O_PATH");
  SHOW("getdents64", syscall(SYS_getdents64, dp, buf, sizeof buf));
  int in = openat(dp, "inner", O_RDONLY);
  SHOW("openat relative to O_PATH dir", in >= 0);
  close(in);
  SHOW("mkdirat relative", mkdirat(dp, "sub", 0700));
  SHOW("unlinkat relative", unlinkat(dp, "sub", AT_REMOVEDIR));
  SHOW("fchdir", fchdir(dp));
  SHOW("  access inner", access("inner", F_OK));
  if (chdir("..") < 0) DIE("chdir ..");

  int lp = open("link", O_PATH | O_NOFOLLOW);
  if (lp < 0) DIE("open link O_PATH");
  memset(buf, 0, sizeof buf);
  SHOW("readlinkat empty", readlinkat(lp, "", buf, sizeof buf));
  printf("  target %s\n", buf);
  SHOW("fstatat link is link", fstatat(lp, "", &st, AT_EMPTY_PATH) == 0 && S_ISLNK(st.st_mode));
  SHOW("read link fd", read(lp, buf, 1));
  SHOW("fchownat link AT_EMPTY_PATH", fchownat(lp, "", 0, 0, AT_EMPTY_PATH));

  /* Reopening an O_PATH descriptor through /proc/self/fd gives a real one. */
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", p);
  int re = open(path, O_RDONLY);
  SHOW("reopen through /proc", re >= 0);
  memset(buf, 0, sizeof buf);
  SHOW("  read", read(re, buf, sizeof buf));
  printf("  data %s\n", buf);
  close(re);

  int xp = open(argv[0], O_PATH | O_CLOEXEC);
  if (xp < 0) DIE("open self");
  pid_t c = xfork();
  if (c == 0) {
    char *cargv[] = {argv[0], "child", NULL};
    char *cenv[] = {NULL};
    syscall(SYS_execveat, xp, "", cargv, cenv, AT_EMPTY_PATH);
    printf("execveat failed %s\n", ename(errno));
    _exit(1);
  }
  int status;
  if (waitpid(c, &status, 0) != c) DIE("waitpid");
  printf("execveat status %d\n", WEXITSTATUS(status));
  printf("done\n");
  return 0;
}
