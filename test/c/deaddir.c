/* deaddir: a directory still open after rmdir (or a rename over it) is dead
 * (Linux's S_DEAD): getdents is ENOENT whatever the buffer, nothing can be
 * made in it (ENOENT), while fchdir, fstat and lseek still work (LTP's
 * getdents02). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static void probe(const char *how, int fd) {
  char buf[4096], label[128];
  struct stat st;
  printf("%s:\n", how);
  if (fstat(fd, &st) < 0) DIE("fstat");
  printf("  nlink %lu\n", (unsigned long)st.st_nlink);
  SHOW("  getdents64", syscall(SYS_getdents64, fd, buf, sizeof buf));
  SHOW("  getdents64 of 1 byte", syscall(SYS_getdents64, fd, buf, 1));
  SHOW("  getdents", syscall(SYS_getdents, fd, buf, sizeof buf));
  SHOW("  getdents64 into a bad buffer", syscall(SYS_getdents64, fd, (void *)8, sizeof buf));
  SHOW("  openat O_CREAT", openat(fd, "f", O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  SHOW("  openat O_CREAT|O_EXCL", openat(fd, "f", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644));
  SHOW("  openat existing", openat(fd, "f", O_RDONLY | O_CLOEXEC));
  SHOW("  openat .", openat(fd, ".", O_RDONLY | O_CLOEXEC));
  SHOW("  openat . O_CREAT", openat(fd, ".", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
  SHOW("  mkdirat", mkdirat(fd, "d", 0755));
  SHOW("  mknodat fifo", mknodat(fd, "p", S_IFIFO | 0644, 0));
  SHOW("  symlinkat", symlinkat("x", fd, "l"));
  SHOW("  linkat into it", linkat(AT_FDCWD, "keep", fd, "k", 0));
  SHOW("  renameat into it", renameat(AT_FDCWD, "keep", fd, "k"));
  SHOW("  unlinkat in it", unlinkat(fd, "f", 0));
  snprintf(label, sizeof label, "  lseek");
  SHOW(label, lseek(fd, 0, SEEK_SET));
  SHOW("  fchdir", fchdir(fd));
  SHOW("  open . after fchdir", open(".", O_RDONLY | O_CLOEXEC));
  SHOW("  creat after fchdir", open("g", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
}

int main(int argc, char **argv) {
  line_buffered();
  char top[4096];
  if (argc < 2 || chdir(argv[1]) < 0 || !getcwd(top, sizeof top)) return 2;
  int k = open("keep", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (k < 0) DIE("keep");
  close(k);

  if (mkdir("a", 0755) < 0) DIE("mkdir a");
  int fd = open("a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) DIE("open a");
  if (rmdir("a") < 0) DIE("rmdir a");
  probe("after rmdir", fd);
  close(fd);
  if (chdir(top) < 0) DIE("chdir");

  if (mkdir("b", 0755) < 0 || mkdir("c", 0755) < 0) DIE("mkdir b c");
  fd = open("c", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) DIE("open c");
  if (rename("b", "c") < 0) DIE("rename b c");
  probe("after a rename over it", fd);
  close(fd);
  if (chdir(top) < 0) DIE("chdir");

  /* The directory that took its place is alive. */
  fd = open("c", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char buf[4096];
  SHOW("the new c: getdents64 (bytes)", syscall(SYS_getdents64, fd, buf, sizeof buf));
  SHOW("the new c: openat O_CREAT", openat(fd, "f", O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  printf("done\n");
  return 0;
}
