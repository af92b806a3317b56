/* sbro: "ro" given to the new mount API is the file system's own flag (the
 * superblock's), not the mount's: fsconfig(ro) before fsmount, or fspick and
 * a reconfigure, leave mountinfo's per-mount field rw and make the super
 * options ro, and every mount of that tmpfs refuses writes (EROFS); "rw"
 * given the same way makes it writable again. Run as root in a mount
 * namespace of its own (natively under unshare --mount). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

static char top[4096];

/* The mountinfo and /proc/mounts options of the mount at dir (relative to top). */
static void show(const char *label, const char *dir) {
  char want[4200], line[8192];
  snprintf(want, sizeof want, "%s/%s", top, dir);
  printf("%s:\n", label);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) DIE("mountinfo");
  while (fgets(line, sizeof line, f)) {
    char mp[4200], opts[256], fstype[64], src[256], sopts[256];
    if (sscanf(line, "%*d %*d %*s %*s %4199s %255s", mp, opts) != 2 || strcmp(mp, want)) continue;
    char *dash = strstr(line, " - ");
    if (!dash || sscanf(dash, " - %63s %255s %255s", fstype, src, sopts) != 3) continue;
    printf("  mountinfo: %s, super %s %s\n", opts, fstype, sopts);
  }
  fclose(f);
  f = fopen("/proc/self/mounts", "re");
  if (!f) DIE("mounts");
  while (fgets(line, sizeof line, f)) {
    char mp[4200], opts[256];
    if (sscanf(line, "%*s %4199s %*s %255s", mp, opts) == 2 && !strcmp(mp, want)) printf("  mounts: %s\n", opts);
  }
  fclose(f);
  struct statvfs sv;
  if (statvfs(dir, &sv) < 0) DIE("statvfs");
  printf("  statvfs ST_RDONLY: %s\n", sv.f_flag & ST_RDONLY ? "yes" : "no");
  char path[4300];
  snprintf(path, sizeof path, "%s/new", dir);
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  printf("  create: %s\n", fd < 0 ? ename(errno) : "OK");
  if (fd >= 0) {
    close(fd);
    unlink(path);
  }
}

static int fsopen_(const char *fs) { return syscall(SYS_fsopen, fs, FSOPEN_CLOEXEC); }
static int fsconfig_(int fd, unsigned cmd, const char *key, const void *value, int aux) {
  return syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
static int fsmount_(int fd, unsigned flags, unsigned attrs) { return syscall(SYS_fsmount, fd, flags, attrs); }
static int move_mount_(int from, const char *to) {
  return syscall(SYS_move_mount, from, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH);
}
static int fspick_(const char *path) { return syscall(SYS_fspick, AT_FDCWD, path, FSPICK_CLOEXEC); }

/* A fresh tmpfs at dir, with "ro" as the file system's flag when ro. */
static void newTmpfs(const char *dir, int ro, unsigned attrs) {
  int fs = fsopen_("tmpfs");
  if (fs < 0) DIE("fsopen");
  if (ro && fsconfig_(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0) DIE("fsconfig ro");
  if (fsconfig_(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) DIE("create");
  int m = fsmount_(fs, FSMOUNT_CLOEXEC, attrs);
  if (m < 0) DIE("fsmount");
  if (move_mount_(m, dir) < 0) DIE("move_mount");
  close(m);
  close(fs);
}

static void reconfigure(const char *label, const char *dir, const char *flag) {
  int fs = fspick_(dir);
  if (fs < 0) DIE("fspick");
  SHOW(label, fsconfig_(fs, FSCONFIG_SET_FLAG, flag, NULL, 0));
  SHOW("  reconfigure", fsconfig_(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0));
  close(fs);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2 || chdir(argv[1]) < 0 || !getcwd(top, sizeof top)) return 2;
  if (mkdir("a", 0755) < 0 || mkdir("b", 0755) < 0 || mkdir("c", 0755) < 0 || mkdir("d", 0755) < 0) DIE("mkdir");

  newTmpfs("a", 1, 0);
  show("fsconfig ro, then fsmount", "a");
  newTmpfs("d", 0, MOUNT_ATTR_RDONLY);
  show("fsmount with MOUNT_ATTR_RDONLY", "d");

  newTmpfs("b", 0, 0);
  show("a writable tmpfs", "b");
  if (mount("b", "c", NULL, MS_BIND, NULL) < 0) DIE("bind");
  reconfigure("fspick, fsconfig ro", "b", "ro");
  show("after it", "b");
  show("its bind mount", "c");
  reconfigure("fspick, fsconfig rw", "c", "rw");
  show("after it", "b");
  show("its bind mount", "c");

  reconfigure("fspick of the ro tmpfs, fsconfig rw", "a", "rw");
  show("after it", "a");

  /* mount(2): MS_RDONLY on a new tmpfs, a remount of the file system, a bind remount. */
  if (mkdir("e", 0755) < 0 || mkdir("f", 0755) < 0) DIE("mkdir");
  if (mount("none", "e", "tmpfs", MS_RDONLY, NULL) < 0) DIE("mount ro");
  show("mount(2) with MS_RDONLY", "e");
  SHOW("remount rw", mount(NULL, "e", NULL, MS_REMOUNT, NULL));
  show("after it", "e");
  if (mount("e", "f", NULL, MS_BIND, NULL) < 0) DIE("bind");
  SHOW("remount ro of the file system", mount(NULL, "e", NULL, MS_REMOUNT | MS_RDONLY, NULL));
  show("after it", "e");
  show("its bind mount", "f");
  SHOW("bind remount rw", mount(NULL, "e", NULL, MS_REMOUNT | MS_BIND, NULL));
  show("after it", "e");
  SHOW("remount rw of the file system", mount(NULL, "f", NULL, MS_REMOUNT, NULL));
  show("after it", "e");
  show("its bind mount", "f");
  if (umount("f") < 0 || umount("e") < 0 || rmdir("e") < 0 || rmdir("f") < 0) DIE("umount e f");

  /* The sandbox's run follows the native one in the same directory. */
  if (umount("a") < 0 || umount("c") < 0 || umount("b") < 0 || umount("d") < 0) DIE("umount");
  if (rmdir("a") < 0 || rmdir("b") < 0 || rmdir("c") < 0 || rmdir("d") < 0) DIE("rmdir");
  printf("done\n");
  return 0;
}
