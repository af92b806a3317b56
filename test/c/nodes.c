/* nodes: permission rules of mknod and chmod (LTP mknod01, open11,
 * chmod05, fchmod05). Root may make device nodes; a node opens the device
 * of its number (1:3 is /dev/null), or fails with ENXIO when there is no
 * such device; without CAP_MKNOD it is EPERM, after the directory's own
 * checks. chmod and fchmod by the owner who is not in the file's group drop
 * S_ISGID, on directories too. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

static char dir[512];

static const char *at(const char *name) {
  static char buf[4][600];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
  return buf[i];
}

static void devices(void) {
  SHOW("mknod c 1:3", mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)));
  struct stat st;
  if (stat(at("null"), &st)) DIE("stat");
  printf("node: char %d, %u:%u, mode %o\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777);
  int fd = open(at("null"), O_RDWR);
  printf("open 1:3 works: %d\n", fd >= 0);
  char b[4];
  SHOW("write to it", write(fd, "abcde", 5));
  SHOW("read from it", read(fd, b, sizeof b));
  close(fd);
  SHOW("mknod c 240:7", mknod(at("c240"), S_IFCHR | 0600, makedev(240, 7)));
  SHOW("open c 240:7", open(at("c240"), O_RDONLY));
  SHOW("mknod b 60:7", mknod(at("b60"), S_IFBLK | 0600, makedev(60, 7)));
  SHOW("open b 60:7", open(at("b60"), O_RDONLY));
  SHOW("mknod c over an existing name", mknod(at("null"), S_IFCHR | 0600, makedev(1, 5)));
  SHOW("mknod bad type", mknod(at("bad"), 0170000 | 0600, 0));
}

static void unprivileged(void) {
  if (mkdir(at("open"), 0777) || chmod(at("open"), 0777) || mkdir(at("closed"), 0755)) DIE("mkdir");
  /* Owned by nobody, group 12345 (nobody is not a member), and one of nobody's own group. */
  if (mkdir(at("sgid"), 0777) || chown(at("sgid"), 65534, 12345)) DIE("sgid dir");
  if (mkdir(at("own"), 0777) || chown(at("own"), 65534, 65534)) DIE("own dir");
  pid_t p = xfork();
  if (p == 0) {
    gid_t g = 65534;
    if (setgroups(1, &g) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) DIE("drop");
    SHOW("nobody: mknod c 1:3", mknod(at("open/n"), S_IFCHR | 0666, makedev(1, 3)));
    SHOW("nobody: mknod c in an unwritable dir", mknod(at("closed/n"), S_IFCHR | 0666, makedev(1, 3)));
    SHOW("nobody: mknod c over an existing name", mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)));
    SHOW("nobody: mknod fifo", mknod(at("open/f"), S_IFIFO | 0666, 0));
    struct stat st;
    SHOW("nobody: chmod(dir of another group, 043777)", chmod(at("sgid"), 043777));
    stat(at("sgid"), &st);
    printf("mode %o\n", st.st_mode & 07777);
    int fd = open(at("sgid"), O_RDONLY);
    SHOW("nobody: fchmod(dir of another group, 043777)", fchmod(fd, 043777));
    fstat(fd, &st);
    printf("mode %o\n", st.st_mode & 07777);
    SHOW("nobody: chmod(dir of its group, 043777)", chmod(at("own"), 043777));
    stat(at("own"), &st);
    printf("mode %o\n", st.st_mode & 07777);
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
  /* Root (CAP_FSETID) keeps the bit. */
  struct stat st;
  SHOW("root: chmod(dir of another group, 042777)", chmod(at("sgid"), 042777));
  stat(at("sgid"), &st);
  printf("mode %o\n", st.st_mode & 07777);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc != 2) return 2;
  snprintf(dir, sizeof dir, "%s", argv[1]);
  if (chmod(dir, 0755)) DIE("chmod");
  devices();
  unprivileged();
  printf("done\n");
  return 0;
}
