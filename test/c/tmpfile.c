/* tmpfile: O_TMPFILE on tmpfs (LTP openat03), compared with Linux: an
 * unnamed file (nlink 0, no entry, "dir/#ino (deleted)" in /proc/self/fd)
 * that linkat names through /proc/self/fd (AT_SYMLINK_FOLLOW) or
 * AT_EMPTY_PATH, unless opened with O_EXCL; once it lost every name again
 * it cannot be linked (ENOENT), as no unlinked open file can be. Linux's
 * argument checks (O_RDONLY, O_CREAT, a file, a missing directory, the
 * bare __O_TMPFILE bit), the directory's write permission, openat2's
 * RESOLVE_BENEATH. Runs in a fresh directory of /dev/shm (a tmpfs natively
 * and in the sandbox); glibc's tmpfile() takes this path. Runs as root. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int entries(void) {
  DIR *d = opendir(".");
  if (!d) DIE("opendir");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void fdlink(int fd, char *out, size_t size) {
  snprintf(out, size, "/proc/self/fd/%d", fd);
}

static void named(void) {
  int fd = open(".", O_TMPFILE | O_RDWR, 0666);
  SHOW("O_TMPFILE|O_RDWR", fd >= 0 ? 0 : -1);
  struct stat st;
  if (fstat(fd, &st) < 0) DIE("fstat");
  printf("nlink %ld, mode %o, entries %d\n", (long)st.st_nlink, st.st_mode, entries());
  SHOW("write", write(fd, "hello", 5));
  char lk[64], target[4096];
  fdlink(fd, lk, sizeof lk);
  ssize_t n = readlink(lk, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  char *base = strrchr(target, '/');
  printf("fd link: %s\n", base && base[1] == '#' && strstr(base, " (deleted)") ? "dir/#N (deleted)" : target);
  SHOW("linkat through /proc/self/fd", linkat(AT_FDCWD, lk, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
  if (fstat(fd, &st) < 0) DIE("fstat");
  printf("nlink %ld, entries %d\n", (long)st.st_nlink, entries());
  char buf[8] = {0};
  int r = open("named", O_RDONLY);
  if (r < 0 || read(r, buf, 5) != 5) DIE("read named");
  close(r);
  printf("named holds: %s\n", buf);
  SHOW("a second link", linkat(AT_FDCWD, lk, AT_FDCWD, "named2", AT_SYMLINK_FOLLOW));
  SHOW("unlink named", unlink("named"));
  SHOW("unlink named2", unlink("named2"));
  SHOW("linkat once its names are gone", linkat(AT_FDCWD, lk, AT_FDCWD, "named3", AT_SYMLINK_FOLLOW));
  close(fd);

  fd = open(".", O_TMPFILE | O_WRONLY | O_EXCL, 0600);
  SHOW("O_TMPFILE|O_EXCL", fd >= 0 ? 0 : -1);
  fdlink(fd, lk, sizeof lk);
  SHOW("linkat of an O_EXCL one", linkat(AT_FDCWD, lk, AT_FDCWD, "x", AT_SYMLINK_FOLLOW));
  SHOW("linkat AT_EMPTY_PATH of an O_EXCL one", linkat(fd, "", AT_FDCWD, "x", AT_EMPTY_PATH));
  close(fd);

  umask(022);
  fd = open(".", O_TMPFILE | O_WRONLY, 0666);
  if (fstat(fd, &st) < 0) DIE("fstat");
  printf("umask 022: mode %o\n", st.st_mode);
  SHOW("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, "e", AT_EMPTY_PATH));
  if (stat("e", &st) < 0) DIE("stat e");
  printf("e: mode %o, nlink %ld\n", st.st_mode, (long)st.st_nlink);
  close(fd);

  int u = open("u", O_CREAT | O_RDWR, 0600);
  if (u < 0 || unlink("u") < 0) DIE("u");
  fdlink(u, lk, sizeof lk);
  SHOW("linkat of an unlinked file", linkat(AT_FDCWD, lk, AT_FDCWD, "u2", AT_SYMLINK_FOLLOW));
  SHOW("linkat AT_EMPTY_PATH of an unlinked file", linkat(u, "", AT_FDCWD, "u2", AT_EMPTY_PATH));
  close(u);
  printf("entries %d\n", entries());
}

static void refused(void) {
  SHOW("O_TMPFILE|O_RDONLY", open(".", O_TMPFILE | O_RDONLY, 0600));
  SHOW("O_TMPFILE|O_CREAT", open(".", O_TMPFILE | O_CREAT | O_RDWR, 0600));
  SHOW("O_TMPFILE on a file", open("e", O_TMPFILE | O_RDWR, 0600));
  SHOW("O_TMPFILE in a missing directory", open("nope", O_TMPFILE | O_RDWR, 0600));
  SHOW("__O_TMPFILE without O_DIRECTORY", open(".", (O_TMPFILE & ~O_DIRECTORY) | O_RDWR, 0600));
  struct open_how how = {.flags = O_TMPFILE | O_RDWR, .mode = 0600, .resolve = RESOLVE_BENEATH};
  SHOW("openat2 RESOLVE_BENEATH of ..", syscall(SYS_openat2, AT_FDCWD, "..", &how, sizeof how));
  long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  SHOW("openat2 RESOLVE_BENEATH of .", fd >= 0 ? 0 : -1);
  if (fd >= 0) close((int)fd);
  if (mkdir("ro", 0500) < 0) DIE("mkdir");
  pid_t pid = xfork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) DIE("drop");
    SHOW("O_TMPFILE in an unwritable directory", open("ro", O_TMPFILE | O_RDWR, 0600));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  rmdir("ro");
}

int main(void) {
  line_buffered();
  char dir[] = "/dev/shm/tsvisor-tmpfile-XXXXXX";
  if (!mkdtemp(dir) || chmod(dir, 0755) < 0 || chdir(dir) < 0) DIE("mkdtemp");
  named();
  refused();
  unlink("e");
  if (chdir("/") < 0 || rmdir(dir) < 0) DIE("cleanup");
  printf("done\n");
  return 0;
}
