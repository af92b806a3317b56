/* nsfuzz: a hostile program for the sandbox ONLY (never run it natively: it
 * mounts, unmounts and pivots as root wherever chance takes it). Each round
 * forks a child that makes random mount-namespace and namespace calls
 * (mount with random types and flags, umount2, pivot_root, chroot, unshare,
 * setns, chdir, mkdir) on a small set of places, so that the calls meet each
 * other's results (stacks, detached trees, moved roots). Children may wreck
 * their own view; the kernel must not fail. argv[1]: rounds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long long st = 88172645463325252ULL;
static unsigned long long rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }

static const char *paths[] = {"/", ".", "..", "/mnt", "/mnt/a", "/mnt/a/b", "/tmp", "/tmp/x", "/proc", "/proc/self/ns/mnt",
                              "/dev/null", "/sys", "/dev", "/mnt/../mnt", "/proc/self/root", "/proc/self/cwd", "x", ""};
static const char *types[] = {"tmpfs", "proc", "sysfs", "devtmpfs", "overlay", "bogus", NULL};
static const char *datas[] = {NULL, "", "size=1m", "mode=0700", "uid=5,gid=5", "nr_inodes=3", "ro", "bogus", "size=1%",
                              "lowerdir=/mnt:/tmp", "lowerdir=/mnt/a:/,upperdir=/tmp,workdir=/tmp/x", "lowerdir=/proc:/sys",
                              "lowerdir=/mnt/a/b:/mnt/a,upperdir=/mnt,workdir=/tmp", "lowerdir=/dev\\:x:/tmp,userxattr,volatile",
                              "lowerdir=/tmp/x:/mnt/a,upperdir=/mnt/a/b,workdir=/mnt/a/c"};
static const unsigned long flagbits[] = {MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_MOVE,
                                          MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE, MS_SILENT, 1UL << 31};
static const int nsflags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_FS, CLONE_FILES};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *path(void) { return paths[rnd() % N(paths)]; }
/** Places below /mnt and /tmp only: removing or renaming them leaves the rest of the sandbox as it was. */
static const char *scratches[] = {"/mnt/a", "/mnt/a/b", "/mnt/a/c", "/tmp/x", "/tmp/u", "/tmp/w", "/tmp/x/y", "/mnt/a/b/f",
                                  "/mnt/a/c/f", "/mnt/a/c/d", "/mnt/a/c/d/g", "/tmp/u/f", "/mnt/a/c/bus"};
static const char *scratch(void) { return scratches[rnd() % N(scratches)]; }

static void one(void) {
  unsigned long flags = 0;
  int n = rnd() % 4;
  for (int i = 0; i < n; i++) flags |= flagbits[rnd() % N(flagbits)];
  switch (rnd() % 10) {
  case 0: case 1: mount(path(), path(), types[rnd() % N(types)], flags, datas[rnd() % N(datas)]); break;
  case 2: umount2(path(), (int)(rnd() % 16)); break;
  case 3: syscall(SYS_pivot_root, path(), path()); break;
  case 4: if (rnd() % 4 == 0) chroot(path()); break;
  case 5: unshare(nsflags[rnd() % N(nsflags)] | (rnd() % 3 == 0 ? nsflags[rnd() % N(nsflags)] : 0)); break;
  case 6: {
    int fd = open(path(), O_RDONLY);
    if (fd >= 0) { setns(fd, (int)(rnd() % 2 ? 0 : nsflags[rnd() % N(nsflags)])); close(fd); }
    break;
  }
  case 7: if (chdir(path()) < 0) {} break;
  case 8:
    mkdir(rnd() % 2 ? path() : scratch(), 0755);
    // Files through whatever is mounted there (an overlay's copy-up, whiteouts, opaque directories).
    if (rnd() % 2) { int fd = open(rnd() % 2 ? path() : scratch(), O_WRONLY | O_CREAT | O_APPEND, 0644); if (fd >= 0) { if (write(fd, "x", 1) < 0) {} close(fd); } }
    if (rnd() % 3 == 0) { if (unlink(scratch()) < 0) {} if (rmdir(scratch()) < 0) {} if (rename(scratch(), scratch()) < 0) {} }
    break;
  default: {
    int fd = open("/proc/self/mountinfo", O_RDONLY);
    char buf[4096];
    if (fd >= 0) { while (read(fd, buf, sizeof buf) > 0) {} close(fd); }
  }
  }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int r = 0; r < rounds; r++) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
      // Layers for the overlay mounts among the calls (an overlay needs existing directories to get anywhere).
      mkdir("/mnt", 0755);
      for (unsigned i = 0; i < 6; i++) mkdir(scratches[i], 0755);
      mount("o", "/mnt/a/c", "overlay", 0, "lowerdir=/mnt/a/b:/sys/kernel,upperdir=/tmp/u,workdir=/tmp/w");
      for (int i = 0; i < 400; i++) one();
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
