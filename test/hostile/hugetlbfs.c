/* hugetlbfs (hostile, sandbox only): a program that makes thousands of
 * hugetlbfs files, sizes them to terabytes, maps and unmaps them, asks for
 * vast reservations, fallocates and punches absurd ranges, truncates under
 * its own mappings (SIGBUS past the end) and mounts and unmounts min_size=
 * mounts in a loop. Every request must be refused or served at once (no
 * walk over a length the program chose), the pool must never go below
 * zero or leak, and everything must come back. Never run natively: it
 * would take the host's huge pages and mounts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HP (2UL << 20)
#define DIR "/var/tmp/hugetlbfs-hostile"
#define NFILES 5000

static long meminfo(const char *key) {
  char line[256];
  long v = -1;
  FILE *f = fopen("/proc/meminfo", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') v = atol(line + strlen(key) + 1);
  if (f) fclose(f);
  return v;
}

static int setpool(const char *v) {
  int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
  if (fd < 0) return errno;
  int r = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : errno;
  close(fd);
  return r;
}

static sigjmp_buf jb;
static void onbus(int sig) {
  siglongjmp(jb, sig);
}

static int touch(volatile char *p) {
  int sig = sigsetjmp(jb, 1);
  if (sig) return sig;
  *p = 1;
  return 0;
}

int main(void) {
  struct sigaction sa = {.sa_handler = onbus};
  sigaction(SIGBUS, &sa, NULL);
  setpool("8");
  mkdir(DIR, 0755);
  printf("mount: %d\n", mount("none", DIR, "hugetlbfs", 0, NULL));

  /* Thousands of files sized to a terabyte each, each mapped once: reservations stop at the pool. */
  static int fds[NFILES];
  int made = 0, mapped = 0;
  char path[128];
  for (; made < NFILES; made++) {
    snprintf(path, sizeof path, DIR "/f%d", made);
    fds[made] = open(path, O_CREAT | O_RDWR, 0600);
    if (fds[made] < 0) break;
    if (ftruncate(fds[made], 1L << 40)) break;
    void *p = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fds[made], (off_t)(made % 512) * HP);
    if (p != MAP_FAILED) {
      mapped++;
      *(char *)p = 1;
      munmap(p, HP);
    }
  }
  printf("files: %d, mapped: %d, Free %ld Rsvd %ld\n", made, mapped, meminfo("HugePages_Free"), meminfo("HugePages_Rsvd"));
  for (int i = 0; i < made; i++) {
    close(fds[i]);
    snprintf(path, sizeof path, DIR "/f%d", i);
    unlink(path);
  }
  printf("unlinked: Free %ld Rsvd %ld\n", meminfo("HugePages_Free"), meminfo("HugePages_Rsvd"));

  int fd = open(DIR "/big", O_CREAT | O_RDWR, 0600);
  printf("ftruncate 2^46: %d\n", ftruncate(fd, 1L << 46));
  printf("map 64 TiB: %s\n", mmap(NULL, 1UL << 46, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? strerror(errno) : "mapped");
  printf("private 64 TiB: %s\n", mmap(NULL, 1UL << 46, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED ? strerror(errno) : "mapped");
  printf("fallocate 2^50: %s\n", fallocate(fd, 0, 0, 1L << 50) ? strerror(errno) : "OK");
  printf("after: Free %ld\n", meminfo("HugePages_Free"));
  printf("punch 2^62: %d\n", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1L << 62));
  printf("punched: Free %ld\n", meminfo("HugePages_Free"));
  /* 64 GiB without reservations, touched in a child: SIGBUS at the pool's end. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char *p = mmap(NULL, 64UL << 30, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) _exit(2);
    signal(SIGBUS, SIG_DFL);
    for (unsigned long i = 0; i < 64UL << 30; i += HP) p[i] = 1;
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("noreserve touch: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS ? "SIGBUS" : "other");
  printf("pages kept by the file: Free %ld\n", meminfo("HugePages_Free"));
  ftruncate(fd, 0);

  /* Truncate under a mapping, a thousand times. */
  int bus = 0;
  for (int i = 0; i < 1000; i++) {
    ftruncate(fd, HP);
    char *p = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) break;
    p[0] = 1;
    ftruncate(fd, 0);
    bus += touch(p) == SIGBUS;
    munmap(p, HP);
  }
  printf("truncated under mappings: %d SIGBUS, Free %ld Rsvd %ld\n", bus, meminfo("HugePages_Free"), meminfo("HugePages_Rsvd"));
  close(fd);
  unlink(DIR "/big");
  printf("umount: %d\n", umount(DIR));

  /* min_size= mounts in a loop: each reserves 8 pages, given back at umount. */
  int ok = 0;
  for (int i = 0; i < 200; i++) {
    if (mount("none", DIR, "hugetlbfs", 0, "min_size=16M")) break;
    ok += meminfo("HugePages_Rsvd") == 8;
    if (mount("none", DIR, "hugetlbfs", 0, "min_size=2M") == 0) ok = -1000;
    umount(DIR);
  }
  printf("min_size mounts: %d, Rsvd %ld\n", ok, meminfo("HugePages_Rsvd"));
  int r = setpool("0");
  printf("pool 0: %d, Total %ld\n", r, meminfo("HugePages_Total"));
  rmdir(DIR);
  printf("done\n");
  return 0;
}
