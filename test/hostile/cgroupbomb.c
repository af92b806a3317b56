/* cgroupbomb: makes cgroups in a loop (side by side, then nested) until the
 * sandbox refuses with Linux's errno for a hierarchy limit (EAGAIN), a fork
 * loop in a cgroup with a small pids.max, and moves between cgroups in a
 * loop; then removes everything and shows the Sentry still serves calls.
 * Only ever run inside the sandbox. argv[1]: a directory to mount in. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char mnt[4096];

static int put(const char *path, const char *v) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int r = write(fd, v, strlen(v)) < 0 ? -1 : 0;
  close(fd);
  return r;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  snprintf(mnt, sizeof mnt, "%s/cg", argv[1]);
  mkdir(mnt, 0755);
  if (mount("none", mnt, "cgroup2", 0, NULL) < 0) return perror("mount"), 1;
  char path[8192];
  int n = 0;
  for (;; n++) {
    snprintf(path, sizeof path, "%s/flat%d", mnt, n);
    if (mkdir(path, 0755) < 0) break;
  }
  printf("flat: %d made, then %s\n", n, strerror(errno));
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/flat%d", mnt, i);
    if (rmdir(path) < 0) printf("rmdir flat%d: %s\n", i, strerror(errno));
  }
  /* Nested: each inside the last. */
  int depth = 0;
  size_t len = (size_t)snprintf(path, sizeof path, "%s", mnt);
  for (; len + 4 < sizeof path; depth++) {
    len += (size_t)snprintf(path + len, sizeof path - len, "/d");
    if (mkdir(path, 0755) < 0) break;
  }
  printf("nested: %d made, then %s\n", depth, strerror(errno));
  for (int i = depth; i > 0; i--) {
    len = (size_t)snprintf(path, sizeof path, "%s", mnt);
    for (int k = 0; k < i; k++) len += (size_t)snprintf(path + len, sizeof path - len, "/d");
    if (rmdir(path) < 0) printf("rmdir depth %d: %s\n", i, strerror(errno));
  }
  /* A fork loop under pids.max 8 (controllers given from a cgroup without processes of its own). */
  snprintf(path, sizeof path, "%s/init", mnt);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/init/cgroup.procs", mnt);
  put(path, "0");
  snprintf(path, sizeof path, "%s/cgroup.subtree_control", mnt);
  if (put(path, "+pids +memory") < 0) printf("subtree_control: %s\n", strerror(errno));
  snprintf(path, sizeof path, "%s/bomb", mnt);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/bomb/pids.max", mnt);
  put(path, "8");
  pid_t boss = fork();
  if (boss == 0) {
    snprintf(path, sizeof path, "%s/bomb/cgroup.procs", mnt);
    put(path, "0");
    int made = 0, err = 0;
    for (int i = 0; i < 64; i++) {
      pid_t c = fork();
      if (c == 0) {
        pause();
        _exit(0);
      }
      if (c < 0) {
        err = errno;
        break;
      }
      made++;
    }
    printf("bomb: %d forked, then %s\n", made, strerror(err));
    kill(0, SIGKILL);
    _exit(0);
  }
  setpgid(boss, boss);
  int st;
  waitpid(boss, &st, 0);
  kill(-boss, SIGKILL);
  while (waitpid(-1, &st, WNOHANG) > 0) {
  }
  usleep(10000);
  snprintf(path, sizeof path, "%s/bomb/pids.events", mnt);
  FILE *f = fopen(path, "r");
  char line[64] = "";
  if (f && fgets(line, sizeof line, f)) printf("pids.events: %s", line);
  if (f) fclose(f);
  /* Moves back and forth. */
  snprintf(path, sizeof path, "%s/move", mnt);
  mkdir(path, 0755);
  char a[8192], b[8192];
  snprintf(a, sizeof a, "%s/move/cgroup.procs", mnt);
  snprintf(b, sizeof b, "%s/init/cgroup.procs", mnt);
  int moved = 0;
  for (int i = 0; i < 2000; i++) moved += put(a, "0") == 0 && put(b, "0") == 0;
  printf("moves: %d\n", moved);
  snprintf(path, sizeof path, "%s/move", mnt);
  if (rmdir(path) < 0) printf("rmdir move: %s\n", strerror(errno));
  snprintf(path, sizeof path, "%s/bomb", mnt);
  for (int i = 0; i < 100 && rmdir(path) < 0; i++) usleep(10000);
  if (access(path, F_OK) == 0) printf("rmdir bomb: %s\n", strerror(errno));
  printf("sentry alive: pid %d\n", getpid() > 0);
  return 0;
}
