/* dents: getdents64 as Linux answers it: a buffer too small for one entry,
 * a buffer that turns bad part-way, counts beyond INT_MAX, every entry once
 * while the directory changes between calls (host directory and tmpfs), and
 * positions at and past the end of procfs directories. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

struct d64 {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

static long gd(int fd, void *buf, unsigned long n) { return syscall(SYS_getdents64, fd, buf, n); }

/* Count the entries in [buf, buf+n); remember the offset of the last. */
static int count(char *buf, long n, int64_t *last) {
  int c = 0;
  for (long at = 0; at < n;) {
    struct d64 *d = (struct d64 *)(buf + at);
    *last = d->off;
    at += d->reclen;
    c++;
  }
  return c;
}

static void changing(const char *label, const char *dir) {
  char path[512];
  enum { N = 200 };
  if (mkdir(dir, 0755) < 0) DIE("mkdir");
  for (int i = 0; i < N; i++) {
    snprintf(path, sizeof path, "%s/s%03d", dir, i);
    close(open(path, O_CREAT | O_WRONLY, 0644));
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  static char buf[512];
  int seen[N] = {0}, extra = 0, calls = 0;
  long n;
  while ((n = gd(fd, buf, sizeof buf)) > 0) {
    for (long at = 0; at < n;) {
      struct d64 *d = (struct d64 *)(buf + at);
      int k;
      if (d->name[0] == 's' && sscanf(d->name + 1, "%d", &k) == 1) seen[k]++;
      else if (d->name[0] != '.') extra++;
      at += d->reclen;
    }
    /* Between calls: new names appear, never-stable ones go. */
    snprintf(path, sizeof path, "%s/new%d", dir, calls);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    if (calls > 0) {
      snprintf(path, sizeof path, "%s/new%d", dir, calls - 1);
      unlink(path);
    }
    calls++;
  }
  int once = 0, dup = 0, missed = 0;
  for (int i = 0; i < N; i++) {
    if (seen[i] == 1) once++;
    else if (seen[i] > 1) dup++;
    else missed++;
  }
  printf("%s: end %ld, stable entries once %d, duplicated %d, missed %d, new ones seen at most %d: %s\n", label, n, once, dup, missed,
         calls, extra <= calls ? "yes" : "no");
  close(fd);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  if (chdir(argv[1]) < 0) DIE("chdir");
  if (mkdir("d", 0755) < 0) DIE("mkdir");
  for (int i = 0; i < 6; i++) {
    char p[32];
    /* Names as long as "." and "..": every entry takes 24 bytes, whatever the order. */
    snprintf(p, sizeof p, "d/f%d", i);
    close(open(p, O_CREAT | O_WRONLY, 0644));
  }
  int fd = open("d", O_RDONLY | O_DIRECTORY);
  static char buf[4096];
  SHOW("count 0", gd(fd, buf, 0));
  SHOW("count 10 (too small)", gd(fd, buf, 10));
  SHOW("count 24 (fits one)", gd(fd, buf, 24));
  SHOW("count 47 (fits one)", gd(fd, buf, 47));
  SHOW("NULL buffer", gd(fd, NULL, 100));
  SHOW("count 0x80000000", gd(fd, buf, 0x80000000UL));
  int64_t last = 0;
  long k0 = gd(fd, buf, sizeof buf);
  printf("  then: entries %d\n", k0 > 0 ? count(buf, k0, &last) : -1);
  lseek(fd, 0, SEEK_SET);
  SHOW("count 0xffffffff", gd(fd, buf, 0xffffffffUL));
  lseek(fd, 0, SEEK_SET);
  SHOW("count 2^32+100 (truncated to 100)", gd(fd, buf, (1UL << 32) + 100));

  char *half = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (half == MAP_FAILED || munmap(half + 4096, 4096) < 0) DIE("mmap");
  lseek(fd, 0, SEEK_SET);
  long n = gd(fd, half + 4096 - 100, 1000);
  printf("partly bad buffer: %ld, entries %d\n", n, n > 0 ? count(half + 4096 - 100, n, &last) : 0);
  long rest = gd(fd, buf, sizeof buf);
  printf("  rest: entries %d\n", rest > 0 ? count(buf, rest, &last) : -1);
  lseek(fd, 0, SEEK_SET);
  SHOW("all bad buffer", gd(fd, half + 4096, 1000));
  long all = gd(fd, buf, sizeof buf);
  printf("  then: entries %d\n", all > 0 ? count(buf, all, &last) : -1);
  SHOW("at the end", gd(fd, buf, sizeof buf));
  SHOW("seek to the last d_off", lseek(fd, last, SEEK_SET) == last);
  SHOW("  getdents", gd(fd, buf, sizeof buf));
  close(fd);

  changing("host", "big");
  char shm[64];
  snprintf(shm, sizeof shm, "/dev/shm/dents-%d", (int)getpid());
  changing("tmpfs", shm);
  char path[512];
  for (int i = 0; i < 200; i++) {
    snprintf(path, sizeof path, "%s/s%03d", shm, i);
    unlink(path);
  }
  DIR *dd = opendir(shm);
  struct dirent *e;
  while ((e = readdir(dd))) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", shm, e->d_name);
    unlink(path);
  }
  closedir(dd);
  rmdir(shm);

  const char *procdirs[] = {"/proc/self", "/proc/sys", "/proc/self/fd", "/proc"};
  for (int i = 0; i < 4; i++) {
    fd = open(procdirs[i], O_RDONLY | O_DIRECTORY);
    long tot = 0, k;
    while ((k = gd(fd, buf, sizeof buf)) > 0) tot += count(buf, k, &last);
    printf("%s: read to the end %s\n", procdirs[i], tot > 2 ? "ok" : "short");
    SHOW("  again", gd(fd, buf, sizeof buf));
    SHOW("  seek to the last d_off", lseek(fd, last, SEEK_SET) == last);
    SHOW("  getdents there", gd(fd, buf, sizeof buf));
    SHOW("  seek far", lseek(fd, 1000000, SEEK_SET));
    SHOW("  getdents far", gd(fd, buf, sizeof buf));
    SHOW("  seek END", lseek(fd, 0, SEEK_END));
    SHOW("  getdents after END gives entries", gd(fd, buf, sizeof buf) > 0);
    close(fd);
  }
  printf("done\n");
  return 0;
}
