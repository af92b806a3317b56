/* ftimes: file times on tmpfs (/dev/shm, natively and in the sandbox, so
 * that mount options agree): atime by relatime's rules for reads and
 * directory listings, ctime on every metadata change, mtime on data and
 * name changes, utimensat's UTIME_NOW/UTIME_OMIT, NULL path and
 * AT_EMPTY_PATH, and truncate to the same size. Prints changed/same only. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>


static struct stat before, after;

static void snap(const char *p) {
  if (lstat(p, &before) < 0) DIE("lstat");
  sleep_ms(15);
}

static int ts_eq(struct timespec a, struct timespec b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

static void check(const char *what, const char *p) {
  if (lstat(p, &after) < 0) DIE("lstat after");
  printf("%-44s atime %s mtime %s ctime %s\n", what, ts_eq(before.st_atim, after.st_atim) ? "same" : "changed",
         ts_eq(before.st_mtim, after.st_mtim) ? "same" : "changed", ts_eq(before.st_ctim, after.st_ctim) ? "same" : "changed");
}

static void set_times(const char *p, time_t a, time_t m) {
  struct timespec ts[2] = {{a, 0}, {m, 0}};
  if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) < 0) DIE("utimensat");
}

int main(void) {
  line_buffered();
  char buf[64];
  char dir0[] = "/dev/shm/ftimes-XXXXXX"; /* unique: native runs may overlap */
  if (!mkdtemp(dir0) || chdir(dir0) < 0) DIE("mkdtemp");
  int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, "hello", 5) != 5) DIE("create");
  time_t now = time(NULL);

  /* relatime: a read updates atime only if it is not after mtime/ctime, or a day old. */
  set_times("f", now - 100, now - 50);
  snap("f");
  if (pread(fd, buf, 5, 0) != 5) DIE("read");
  check("read, atime before mtime", "f");
  snap("f");
  if (pread(fd, buf, 5, 0) != 5) DIE("read");
  check("read again", "f");
  set_times("f", now - 3 * 86400, now - 4 * 86400);
  snap("f");
  if (pread(fd, buf, 5, 0) != 5) DIE("read");
  check("read, atime a day old", "f");
  set_times("f", now - 50, now - 100);
  snap("f");
  if (pread(fd, buf, 1, 0) != 1) DIE("read");
  check("read, atime after mtime and recent", "f");
  snap("f");
  SHOW("  read of 0 bytes", pread(fd, buf, 0, 0));
  check("read 0 bytes", "f");
  set_times("f", now - 100, now - 50);
  snap("f");
  SHOW("  read at EOF", pread(fd, buf, 5, 100));
  check("read at EOF", "f");
  int ro = open("f", O_RDONLY | O_NOATIME);
  set_times("f", now - 100, now - 50);
  snap("f");
  if (read(ro, buf, 5) != 5) DIE("read noatime");
  check("read O_NOATIME", "f");
  close(ro);

  if (mkdir("d", 0755) < 0) DIE("mkdir");
  close(open("d/x", O_CREAT | O_WRONLY, 0644));
  set_times("d", now - 100, now - 50);
  snap("d");
  int dfd = open("d", O_RDONLY | O_DIRECTORY);
  check("open directory", "d");
  snap("d");
  if (syscall(SYS_getdents64, dfd, buf, sizeof buf) < 0) DIE("getdents");
  check("list directory", "d");
  snap("d");
  lseek(dfd, 0, SEEK_SET);
  while (syscall(SYS_getdents64, dfd, buf, sizeof buf) > 0) {
  }
  check("list directory again", "d");
  close(dfd);

  /* Data changes: mtime and ctime. */
  snap("f");
  if (write(fd, "x", 1) != 1) DIE("write");
  check("write", "f");
  snap("f");
  SHOW("  write 0 bytes", write(fd, "x", 0));
  check("write 0 bytes", "f");
  snap("f");
  SHOW("  ftruncate same size", ftruncate(fd, 6));
  check("ftruncate same size", "f");
  snap("f");
  SHOW("  truncate same size", truncate("f", 6));
  check("truncate same size", "f");
  snap("f");
  SHOW("  ftruncate smaller", ftruncate(fd, 2));
  check("ftruncate smaller", "f");
  snap("f");
  SHOW("  fallocate KEEP_SIZE", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8192));
  check("fallocate KEEP_SIZE", "f");
  snap("f");
  SHOW("  fallocate extend", fallocate(fd, 0, 0, 16384));
  check("fallocate extend", "f");

  /* Metadata changes: ctime only. */
  snap("f");
  SHOW("  chmod", chmod("f", 0600));
  check("chmod", "f");
  snap("f");
  SHOW("  chmod same mode", chmod("f", 0600));
  check("chmod same mode", "f");
  snap("f");
  SHOW("  chown same owner", chown("f", getuid(), getgid()));
  check("chown same owner", "f");
  snap("f");
  SHOW("  fchown -1 -1", fchown(fd, -1, -1));
  check("fchown -1 -1", "f");
  snap("f");
  SHOW("  link", link("f", "g"));
  check("link (the file)", "f");
  snap("f");
  SHOW("  unlink the other name", unlink("g"));
  check("unlink (the file)", "f");
  snap("f");
  SHOW("  rename", rename("f", "f2"));
  check("rename (the file)", "f2");
  if (rename("f2", "f") < 0) DIE("rename back");
  snap("f");
  SHOW("  setxattr", setxattr("f", "user.a", "1", 1, 0));
  check("setxattr", "f");
  snap("f");
  SHOW("  removexattr", removexattr("f", "user.a"));
  check("removexattr", "f");
  snap("f");
  SHOW("  removexattr missing", removexattr("f", "user.a"));
  check("removexattr missing", "f");

  /* The directory: entries added, removed, renamed. */
  snap(".");
  close(open("new", O_CREAT | O_WRONLY, 0644));
  check("create (the directory)", ".");
  snap(".");
  if (rename("new", "new2") < 0) DIE("rename");
  check("rename (the directory)", ".");
  snap(".");
  if (unlink("new2") < 0) DIE("unlink");
  check("unlink (the directory)", ".");
  snap(".");
  SHOW("  chmod the file", chmod("f", 0644));
  check("chmod a file (the directory)", ".");

  /* utimensat. */
  struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  struct timespec nowomit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  struct timespec omitset[2] = {{0, UTIME_OMIT}, {now - 1000, 0}};
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  snap("f");
  SHOW("  utimensat OMIT OMIT", utimensat(AT_FDCWD, "f", omit, 0));
  check("utimensat OMIT OMIT", "f");
  snap("f");
  SHOW("  utimensat NOW OMIT", utimensat(AT_FDCWD, "f", nowomit, 0));
  check("utimensat NOW OMIT", "f");
  snap("f");
  SHOW("  utimensat OMIT set", utimensat(AT_FDCWD, "f", omitset, 0));
  check("utimensat OMIT set", "f");
  printf("  mtime set to now-1000: %s\n", after.st_mtim.tv_sec == now - 1000 ? "yes" : "no");
  snap("f");
  SHOW("  utimensat NULL times", utimensat(AT_FDCWD, "f", NULL, 0));
  check("utimensat NULL times", "f");
  SHOW("  utimensat bad nsec", utimensat(AT_FDCWD, "f", bad, 0));
  snap("f");
  SHOW("  utimensat(fd, NULL)", syscall(SYS_utimensat, fd, NULL, omitset, 0));
  check("utimensat(fd, NULL path)", "f");
  SHOW("  utimensat(fd, NULL, NOFOLLOW)", syscall(SYS_utimensat, fd, NULL, omitset, AT_SYMLINK_NOFOLLOW));
  SHOW("  utimensat(AT_FDCWD, NULL)", syscall(SYS_utimensat, AT_FDCWD, NULL, omitset, 0));
  SHOW("  utimensat(fd, \"\") without flag", utimensat(fd, "", omitset, 0));
  snap("f");
  SHOW("  utimensat(fd, \"\", AT_EMPTY_PATH)", utimensat(fd, "", nowomit, AT_EMPTY_PATH));
  check("utimensat AT_EMPTY_PATH", "f");
  SHOW("  utimensat bad flag", utimensat(AT_FDCWD, "f", NULL, 0x4));
  if (symlink("f", "ln") < 0) DIE("symlink");
  struct stat lbefore;
  lstat("ln", &lbefore);
  snap("f");
  SHOW("  utimensat NOFOLLOW on link", utimensat(AT_FDCWD, "ln", omitset, AT_SYMLINK_NOFOLLOW));
  check("utimensat NOFOLLOW (the target)", "f");
  lstat("ln", &after);
  printf("  link mtime set: %s\n", after.st_mtim.tv_sec == now - 1000 ? "yes" : "no");
  snap("f");
  SHOW("  futimens", futimens(fd, nowomit));
  check("futimens NOW OMIT", "f");

  close(fd);
  unlink("ln");
  unlink("f");
  unlink("d/x");
  rmdir("d");
  if (chdir("/") < 0) DIE("chdir /");
  rmdir(dir0);
  printf("done\n");
  return 0;
}
