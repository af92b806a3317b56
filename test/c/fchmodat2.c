/* fchmodat2: fchmodat2(2) (Linux 6.6) against native: a file by path and
 * through a symlink (followed), AT_SYMLINK_NOFOLLOW on a symlink
 * (EOPNOTSUPP: a symlink's mode never changes) and on a file, AT_EMPTY_PATH
 * on an O_PATH descriptor, unknown flags (EINVAL), and chmod of a symlink
 * through an O_PATH|O_NOFOLLOW descriptor's /proc/self/fd link. Run with a
 * scratch directory as argv[1]. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define NR_FCHMODAT2 452

static void mode_of(const char *what, int dirfd, const char *name) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) printf("%-36s stat %s\n", what, ename(errno));
  else printf("%-36s mode %o\n", what, st.st_mode & 07777);
}

static void res(const char *what, long r) { printf("%-36s %ld %s\n", what, r, r < 0 ? ename(errno) : ""); }

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int d = open(argv[1], O_DIRECTORY | O_RDONLY);
  if (d < 0) DIE("open dir");
  int f = openat(d, "file", O_CREAT | O_WRONLY, 0644);
  if (f < 0) DIE("create");
  close(f);
  if (symlinkat("file", d, "link") != 0) DIE("symlink");
  res("by path", syscall(NR_FCHMODAT2, d, "file", 0600, 0));
  mode_of("  file", d, "file");
  res("through the symlink", syscall(NR_FCHMODAT2, d, "link", 0640, 0));
  mode_of("  file", d, "file");
  res("NOFOLLOW on the symlink", syscall(NR_FCHMODAT2, d, "link", 0600, AT_SYMLINK_NOFOLLOW));
  mode_of("  file", d, "file");
  res("NOFOLLOW on the file", syscall(NR_FCHMODAT2, d, "file", 0604, AT_SYMLINK_NOFOLLOW));
  mode_of("  file", d, "file");
  res("unknown flag", syscall(NR_FCHMODAT2, d, "file", 0600, 0x800));
  res("AT_REMOVEDIR", syscall(NR_FCHMODAT2, d, "file", 0600, AT_REMOVEDIR));
  int p = openat(d, "file", O_PATH);
  res("EMPTY_PATH on an O_PATH fd", syscall(NR_FCHMODAT2, p, "", 0610, AT_EMPTY_PATH));
  mode_of("  file", d, "file");
  res("empty path without the flag", syscall(NR_FCHMODAT2, p, "", 0610, 0));
  res("missing", syscall(NR_FCHMODAT2, d, "nothing", 0600, 0));
  res("bad dirfd", syscall(NR_FCHMODAT2, 999, "file", 0600, 0));
  int l = openat(d, "link", O_PATH | O_NOFOLLOW);
  res("EMPTY_PATH on a symlink's O_PATH fd", syscall(NR_FCHMODAT2, l, "", 0600, AT_EMPTY_PATH));
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", l);
  res("chmod of /proc/self/fd/N (symlink)", chmod(proc, 0600));
  res("fchmodat of the symlink's fd link", syscall(SYS_fchmodat, AT_FDCWD, proc, 0600));
  mode_of("  file", d, "file");
  res("setgid bit kept for the owner's group", syscall(NR_FCHMODAT2, d, "file", 02755, 0));
  mode_of("  file", d, "file");
  printf("done\n");
  return 0;
}
