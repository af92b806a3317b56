/* ficlone: FICLONE and FICLONERANGE (ioctl_ficlone(2)) on files of a file
 * system without shared extents (the host's ext4 or tmpfs, the sandbox's
 * overlay): EOPNOTSUPP once the checks pass, and the checks' errors in
 * Linux's order (source fd, same file system, file types, access modes). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  char a[4096], b[4096];
  snprintf(a, sizeof a, "%s/src", argv[1]);
  snprintf(b, sizeof b, "%s/dst", argv[1]);
  int src = open(a, O_RDWR | O_CREAT | O_CLOEXEC, 0644), dst = open(b, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (src < 0 || dst < 0) DIE("open");
  if (write(src, "0123456789", 10) != 10) DIE("write");
  struct file_clone_range r = {.src_fd = src, .src_offset = 0, .src_length = 4096, .dest_offset = 0};
  SHOW("FICLONE", ioctl(dst, FICLONE, src));
  SHOW("FICLONERANGE", ioctl(dst, FICLONERANGE, &r));
  SHOW("FICLONE bad fd", ioctl(dst, FICLONE, 999));
  SHOW("FICLONERANGE bad pointer", ioctl(dst, FICLONERANGE, (void *)8));
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  SHOW("FICLONE from a directory", ioctl(dst, FICLONE, dir));
  SHOW("FICLONE into a directory", ioctl(dir, FICLONE, src));
  int shm = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  SHOW("FICLONE across file systems", ioctl(dst, FICLONE, shm));
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) DIE("pipe");
  SHOW("FICLONE from a pipe", ioctl(dst, FICLONE, p[0]));
  int wo = open(a, O_WRONLY | O_CLOEXEC), ro = open(b, O_RDONLY | O_CLOEXEC), ap = open(b, O_WRONLY | O_APPEND | O_CLOEXEC);
  SHOW("FICLONE from write-only", ioctl(dst, FICLONE, wo));
  SHOW("FICLONE into read-only", ioctl(ro, FICLONE, src));
  SHOW("FICLONE into append-only", ioctl(ap, FICLONE, src));
  SHOW("FICLONE from itself", ioctl(dst, FICLONE, dst));
  printf("done\n");
  return 0;
}
