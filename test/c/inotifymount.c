// IN_UNMOUNT: unmounting a file system sends IN_UNMOUNT and then IN_IGNORED
// to every watch on its files; a watch outside it sees nothing of that.
// Runs in a new user and mount namespace of its own.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *name(int wd, int *wds, const char **names, int n) {
  for (int i = 0; i < n; i++)
    if (wds[i] == wd) return names[i];
  return "?";
}

static void writeFile(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) printf("%s: %s\n", path, strerror(errno));
  if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
    printf("unshare: %s\n", strerror(errno));
    return 1;
  }
  // Map the caller to root inside, so that files can be made on the new tmpfs.
  char map[64];
  snprintf(map, sizeof map, "0 %u 1", uid);
  writeFile("/proc/self/uid_map", map);
  writeFile("/proc/self/setgroups", "deny");
  snprintf(map, sizeof map, "0 %u 1", gid);
  writeFile("/proc/self/gid_map", map);
  char m[4096], p[4200];
  snprintf(m, sizeof m, "%s/mnt", argv[1]);
  mkdir(m, 0755);
  if (mount("none", m, "tmpfs", 0, NULL) < 0) {
    printf("mount: %s\n", strerror(errno));
    return 1;
  }
  snprintf(p, sizeof p, "%s/f", m);
  close(open(p, O_CREAT | O_WRONLY, 0644));
  snprintf(p, sizeof p, "%s/d", m);
  mkdir(p, 0755);
  int fd = inotify_init1(IN_NONBLOCK);
  int wds[4];
  const char *names[4] = {"parent", "root", "f", "d"};
  wds[0] = inotify_add_watch(fd, argv[1], IN_ALL_EVENTS);
  wds[1] = inotify_add_watch(fd, m, IN_ALL_EVENTS);
  snprintf(p, sizeof p, "%s/f", m);
  wds[2] = inotify_add_watch(fd, p, IN_OPEN);
  snprintf(p, sizeof p, "%s/d", m);
  wds[3] = inotify_add_watch(fd, p, IN_ATTRIB | IN_ONESHOT);
  for (int i = 0; i < 4; i++) printf("watch %s: %s\n", names[i], wds[i] > 0 ? "ok" : strerror(errno));
  if (umount(m) < 0) printf("umount: %s\n", strerror(errno));
  char buf[4096] __attribute__((aligned(8)));
  ssize_t r = read(fd, buf, sizeof buf);
  for (char *q = buf; r > 0 && q < buf + r;) {
    struct inotify_event *e = (struct inotify_event *)q;
    printf("%s mask %x%s%s\n", name(e->wd, wds, names, 4), e->mask, e->len ? " name " : "", e->len ? e->name : "");
    q += sizeof *e + e->len;
  }
  printf("rm_watch root after: %d\n", inotify_rm_watch(fd, wds[1]));
  printf("done\n");
  return 0;
}
