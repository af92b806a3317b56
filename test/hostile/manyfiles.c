// manyfiles: pressure on the Sentry's file caches from inside the sandbox.
//
//   manyfiles open DIR N   raise RLIMIT_NOFILE, open DIR/f0 .. DIR/f{N-1} (host
//                          files) and keep them open, reading each; print
//                          "held N", wait for a line on stdin, then check every
//                          file again with pread (its own contents) and print
//                          "reread ok".
//   manyfiles walk DIR N   create N files in DIR (the sandbox's tmpfs) and stat
//                          each of them twice, then walk every host directory
//                          named on stdin's lines with stat per entry; print
//                          "walked COUNT".
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what, const char *path) {
  printf("FAIL %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

static int check(int fd, int i) {
  char want[32], got[32];
  int n = snprintf(want, sizeof want, "file %d\n", i);
  memset(got, 0, sizeof got);
  if (pread(fd, got, sizeof got - 1, 0) != n || memcmp(got, want, n) != 0) return -1;
  return 0;
}

static int open_many(const char *dir, int n) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return fail("getrlimit", "");
  rl.rlim_cur = (rlim_t)n + 64;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return fail("setrlimit", "");
  int *fds = calloc(n, sizeof *fds);
  char path[4096];
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%d", dir, i);
    fds[i] = open(path, O_RDONLY);
    if (fds[i] < 0) return fail("open", path);
    if (check(fds[i], i) != 0) return fail("read", path);
  }
  printf("held %d\n", n);
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return fail("stdin", "");
  // Twice over, in an order unlike the opening one.
  for (int round = 0; round < 2; round++)
    for (int k = 0; k < n; k++) {
      int i = (int)(((long)k * 7919) % n);
      if (check(fds[i], i) != 0) {
        snprintf(path, sizeof path, "%s/f%d", dir, i);
        return fail("reread", path);
      }
    }
  for (int i = 0; i < n; i++) close(fds[i]);
  printf("reread ok\n");
  return 0;
}

static long walk(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  long count = 0;
  struct dirent *e;
  char path[4096];
  struct stat st;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (lstat(path, &st) != 0) continue;
    count++;
    if (S_ISDIR(st.st_mode)) count += walk(path);
  }
  closedir(d);
  return count;
}

static int walk_many(const char *dir, int n) {
  char path[4096];
  struct stat st;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return fail("mkdir", dir);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/name-%d", dir, i);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) return fail("create", path);
    close(fd);
  }
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/name-%d", dir, i);
      if (stat(path, &st) != 0) return fail("stat", path);
    }
  long count = n;
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    if (line[0]) count += walk(line);
  }
  printf("walked %ld\n", count);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int n = atoi(argv[3]);
  if (strcmp(argv[1], "open") == 0) return open_many(argv[2], n);
  if (strcmp(argv[1], "walk") == 0) return walk_many(argv[2], n);
  return 2;
}
