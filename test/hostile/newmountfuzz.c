/* newmountfuzz: a hostile program for the sandbox ONLY (never run it
 * natively: it mounts and unmounts as root wherever chance takes it). Each
 * round forks a child that makes random calls of the new mount API
 * (fsopen, fsconfig, fsmount, move_mount, open_tree, fspick, mount_setattr,
 * open_tree_attr) with random flags, keys and sizes, on a small pool of
 * descriptors it keeps (contexts, detached trees, plain files) and a small
 * set of places, closing and reusing them at random, so that detached trees
 * are attached, moved, changed and dropped in every order. Children may
 * wreck their own view; the kernel must not fail. argv[1]: rounds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long long st = 0x9e3779b97f4a7c15ULL;
static unsigned long long rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *paths[] = {"/", ".", "/mnt", "/mnt/a", "/mnt/a/b", "/tmp", "/tmp/x", "/proc", "/proc/self/ns/mnt",
                              "/dev/null", "/sys", "/mnt/../mnt", "x", "", NULL};
static const char *types[] = {"tmpfs", "proc", "sysfs", "devtmpfs", "mqueue", "cgroup2", "overlay", "bogus", "", NULL};
static const char *keys[] = {"source", "ro", "rw", "size", "mode", "uid", "gid", "nr_inodes", "sync", "bogus", "", NULL};
static const char *vals[] = {"1m", "0700", "5", "x", "", "a,b", NULL};
static int pool[8];

static const char *path(void) { return paths[rnd() % N(paths)]; }
static int fd(void) {
  switch (rnd() % 6) {
  case 0: return AT_FDCWD;
  case 1: return -1;
  case 2: return (int)(rnd() % 64);
  default: return pool[rnd() % N(pool)];
  }
}
static void keep(long r) {
  if (r < 0) return;
  int i = rnd() % N(pool);
  if (pool[i] > 2) close(pool[i]);
  pool[i] = (int)r;
}
static unsigned bits(unsigned mask) { return (unsigned)rnd() & mask & (unsigned)rnd(); }

static void one(void) {
  uint64_t attr[6] = {rnd() % 3 ? bits(0x3000ff) : rnd(), rnd() % 3 ? bits(0x3000ff) : rnd(), rnd() % 3 ? (rnd() % 2 ? 0x40000 : 0x20000) : rnd(),
                      rnd() % 2 ? (uint64_t)fd() : rnd(), rnd() % 4 ? 0 : rnd(), 0};
  size_t sizes[] = {32, 0, 8, 40, 48, 4096, 4097};
  switch (rnd() % 16) {
  case 0: keep(syscall(SYS_fsopen, types[rnd() % N(types)], bits(3))); break;
  case 1: case 2: syscall(SYS_fsconfig, fd(), (unsigned)(rnd() % 10), keys[rnd() % N(keys)], vals[rnd() % N(vals)], (int)(rnd() % 4) - 1); break;
  case 3: syscall(SYS_fsconfig, fd(), rnd() % 2 ? FSCONFIG_CMD_CREATE : FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0); break;
  case 4: keep(syscall(SYS_fsmount, fd(), bits(3), bits(0x3000ff))); break;
  case 5: case 6: syscall(SYS_move_mount, fd(), path(), fd(), path(), bits(0x377)); break;
  case 7: keep(syscall(SYS_open_tree, fd(), path(), bits(0x9901 | O_CLOEXEC))); break;
  case 8: keep(syscall(SYS_fspick, fd(), path(), bits(0xf))); break;
  case 9: syscall(SYS_mount_setattr, fd(), path(), bits(0x9900), attr, sizes[rnd() % N(sizes)]); break;
  case 10: keep(syscall(467, fd(), path(), bits(0x9901 | O_CLOEXEC), rnd() % 4 ? attr : NULL, sizes[rnd() % N(sizes)])); break;
  case 11: {
    int f = pool[rnd() % N(pool)];
    char b[64];
    if (rnd() % 2) keep(openat(f, rnd() % 2 ? "x" : ".", O_RDWR | O_CREAT, 0644));
    else if (read(f, b, rnd() % 2 ? 3 : sizeof b) < 0) {}
    break;
  }
  case 12: umount2(path(), (int)(rnd() % 4)); break;
  case 13: {
    /* The whole way to a detached tmpfs, kept for the other calls to meet. */
    int c = syscall(SYS_fsopen, "tmpfs", 0);
    if (rnd() % 2) syscall(SYS_fsconfig, c, FSCONFIG_SET_STRING, keys[rnd() % 8], vals[rnd() % 3], 0);
    syscall(SYS_fsconfig, c, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    keep(syscall(SYS_fsmount, c, 0, bits(0x3000ff)));
    if (rnd() % 2) keep(c);
    else close(c);
    break;
  }
  default: {
    int i = rnd() % N(pool);
    if (pool[i] > 2) close(pool[i]);
    pool[i] = -1;
    if (rnd() % 3 == 0) mkdir(path() ? path() : "/mnt", 0755);
  }
  }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir("/mnt/a", 0755);
  mkdir("/mnt/a/b", 0755);
  for (int r = 0; r < rounds; r++) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
      for (unsigned i = 0; i < N(pool); i++) pool[i] = -1;
      if (r % 2) unshare(CLONE_NEWNS);
      for (int i = 0; i < 600; i++) one();
      _exit(0);
    }
    int status;
    waitpid(p, &status, 0);
    for (int i = 0; i < 7; i++) rnd();
    printf("round %d: %d\n", r, status);
  }
  printf("sentry alive\n");
  return 0;
}
