/* sgidumask: the mode of a new file in a set-group-ID directory of another
 * group (CVE-2018-13405, LTP's creat09). Linux strips S_ISGID from a
 * group-executable request by a creator outside the group without
 * CAP_FSETID, and decides on the mode asked for, before the umask: a umask
 * that takes S_IXGRP away does not keep S_ISGID. Run as root; the
 * unprivileged cases in a child that dropped to nobody. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

static void show(const char *label, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    printf("%s: stat %s\n", label, ename(errno));
    return;
  }
  printf("%s: mode %04o gid %u\n", label, (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
}

/* Every way of making a file, for each umask and requested mode. */
static void creations(const char *who) {
  static const unsigned umasks[] = {0, 010, 022, 077};
  static const unsigned modes[] = {02777, 02767, 02755, 02745, 02710, 02070};
  char path[64], label[128];
  for (unsigned u = 0; u < sizeof umasks / sizeof *umasks; u++) {
    umask(umasks[u]);
    for (unsigned m = 0; m < sizeof modes / sizeof *modes; m++) {
      snprintf(path, sizeof path, "sgid/f%o", modes[m]);
      int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, modes[m]);
      if (fd < 0) DIE("open");
      close(fd);
      snprintf(label, sizeof label, "%s umask %03o open %04o", who, umasks[u], modes[m]);
      show(label, path);
      unlink(path);
      fd = creat(path, modes[m]);
      if (fd < 0) DIE("creat");
      close(fd);
      snprintf(label, sizeof label, "%s umask %03o creat %04o", who, umasks[u], modes[m]);
      show(label, path);
      unlink(path);
      if (mknod(path, S_IFREG | modes[m], 0) < 0) DIE("mknod");
      snprintf(label, sizeof label, "%s umask %03o mknod %04o", who, umasks[u], modes[m]);
      show(label, path);
      unlink(path);
      if (mknod(path, S_IFIFO | modes[m], 0) < 0) DIE("mkfifo");
      snprintf(label, sizeof label, "%s umask %03o mkfifo %04o", who, umasks[u], modes[m]);
      show(label, path);
      unlink(path);
      if (mkdir(path, modes[m] & 0777) < 0) DIE("mkdir");
      snprintf(label, sizeof label, "%s umask %03o mkdir %04o", who, umasks[u], modes[m] & 0777);
      show(label, path);
      rmdir(path);
    }
  }
}

static void as(const char *who, gid_t extra) {
  pid_t p = fork();
  if (p < 0) DIE("fork");
  if (p == 0) {
    gid_t groups[] = {65534, extra};
    if (setgroups(extra ? 2 : 1, groups) < 0 || setresgid(65534, 65534, 65534) < 0 ||
        setresuid(65534, 65534, 65534) < 0)
      DIE("drop");
    creations(who);
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child failed\n", who);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2 || chdir(argv[1]) < 0) return 2;
  /* The test's directory is made 0700: nobody must be able to reach sgid/ in it. */
  if (chmod(".", 0755) < 0) DIE("chmod");
  if (mkdir("sgid", 0777) < 0 || chown("sgid", 0, 4321) < 0 || chmod("sgid", 02777) < 0) DIE("sgid");
  show("the directory", "sgid");
  creations("root");
  as("nobody", 0);
  as("nobody in the group", 4321);
  printf("done\n");
  return 0;
}
