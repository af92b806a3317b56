/* statxattr: statx's stx_attributes and stx_attributes_mask on tmpfs (the
 * append-only, immutable and nodump inode flags, not noatime), the
 * STATX_ATTR_MOUNT_ROOT bit on a mount's root and a bind mount's, and
 * STATX_BTIME only where the file system keeps a birth time (not proc,
 * pipes, sockets, eventfds). LTP's statx04 and statx12. Run as root in a
 * mount namespace of its own (natively under unshare --mount). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

static void sx(const char *label, int dirfd, const char *path, int flags) {
  struct statx s;
  if (statx(dirfd, path, flags, STATX_ALL, &s) < 0) {
    printf("%s: %s\n", label, ename(errno));
    return;
  }
  printf("%s: btime %s attributes %#llx mask %#llx\n", label, s.stx_mask & STATX_BTIME ? "yes" : "no",
         (unsigned long long)s.stx_attributes, (unsigned long long)s.stx_attributes_mask);
}

static void setflags(const char *label, const char *path, int flags) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) DIE("open");
  SHOW(label, ioctl(fd, FS_IOC_SETFLAGS, &flags));
  close(fd);
  sx(path, AT_FDCWD, path, 0);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2 || chdir(argv[1]) < 0) return 2;
  if (mkdir("m", 0755) < 0 || mkdir("b", 0755) < 0) DIE("mkdir");
  if (mount("none", "m", "tmpfs", 0, "size=1m") < 0) DIE("mount tmpfs");
  sx("tmpfs root", AT_FDCWD, "m", 0);
  int root = open("m", O_PATH | O_CLOEXEC);
  sx("tmpfs root through an O_PATH fd", root, "", AT_EMPTY_PATH);
  close(root);
  if (mkdir("m/sub", 0755) < 0) DIE("mkdir sub");
  int fd = open("m/f", O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) DIE("create");
  sx("tmpfs file", AT_FDCWD, "m/f", 0);
  sx("tmpfs file by fd", fd, "", AT_EMPTY_PATH);
  close(fd);
  sx("tmpfs directory", AT_FDCWD, "m/sub", 0);
  if (symlink("f", "m/l") < 0) DIE("symlink");
  sx("tmpfs symlink", AT_FDCWD, "m/l", AT_SYMLINK_NOFOLLOW);
  setflags("append-only", "m/f", FS_APPEND_FL);
  setflags("immutable", "m/f", FS_IMMUTABLE_FL);
  setflags("nodump", "m/f", FS_NODUMP_FL);
  setflags("noatime", "m/f", FS_NOATIME_FL);
  setflags("all four", "m/f", FS_APPEND_FL | FS_IMMUTABLE_FL | FS_NODUMP_FL | FS_NOATIME_FL);
  setflags("none", "m/f", 0);
  setflags("append-only directory", "m/sub", FS_APPEND_FL);
  setflags("none", "m/sub", 0);

  if (mount("m/sub", "b", NULL, MS_BIND, NULL) < 0) DIE("bind");
  sx("bind mount of a subdirectory", AT_FDCWD, "b", 0);
  sx("that subdirectory in the first mount", AT_FDCWD, "m/sub", 0);

  sx("/proc", AT_FDCWD, "/proc", 0);
  sx("/proc/self/status", AT_FDCWD, "/proc/self/status", 0);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) DIE("pipe");
  sx("pipe", p[0], "", AT_EMPTY_PATH);
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) DIE("socketpair");
  sx("socket", p[0], "", AT_EMPTY_PATH);
  sx("eventfd", eventfd(0, EFD_CLOEXEC), "", AT_EMPTY_PATH);

  /* The sandbox's run follows the native one in the same directory. */
  if (umount("b") < 0 || umount("m") < 0 || rmdir("b") < 0 || rmdir("m") < 0) DIE("umount");
  printf("done\n");
  return 0;
}
