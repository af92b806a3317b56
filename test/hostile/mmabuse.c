/* mmabuse: the memory calls of this round used the hostile way, in a small
 * sandbox: mlockall over a 64 GiB reservation, thousands of mremap
 * duplicates of shared pages, truncating a file mapped thousands of times,
 * MADV_WIPEONFORK on a huge area before fork. Each step prints one line;
 * /proc/meminfo's MemFree must come back (no frame leaks). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL

static long memfree(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemFree: %ld kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long start = memfree();
  size_t huge = (size_t)64 << 30;
  char *r = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return perror("mmap"), 1;
  printf("mlockall over 64 GiB: %s\n", mlockall(MCL_CURRENT | MCL_FUTURE) ? strerror(errno) : "returned");
  munlockall();
  munmap(r, huge);

  int dups = 0;
  for (int i = 0; i < 4000; i++) {
    char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) break;
    s[0] = (char)i;
    char *d[4];
    for (int k = 0; k < 4; k++) {
      d[k] = mremap(s, 0, 2 * PG, MREMAP_MAYMOVE);
      if (d[k] != MAP_FAILED && d[k][0] == (char)i) dups++;
    }
    munmap(s, PG);
    for (int k = 0; k < 4; k++)
      if (d[k] != MAP_FAILED) munmap(d[k], 2 * PG);
  }
  printf("duplicates that saw the data: %d\n", dups);

  char path[] = "/tmp/mmabuse.file";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, 4 * PG)) return perror("file"), 1;
  char *maps[4096];
  int n = 0;
  for (; n < 4096; n++) {
    maps[n] = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (maps[n] == MAP_FAILED) break;
    maps[n][3 * PG] = 1;
  }
  for (int i = 0; i < 500; i++)
    if (ftruncate(fd, i % 2 ? PG : 4 * PG)) return perror("ftruncate"), 1;
  printf("truncated %d mappings 500 times\n", n);
  for (int i = 0; i < n; i++) munmap(maps[i], 4 * PG);
  close(fd);
  unlink(path);

  char *w = mmap(NULL, (size_t)16 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (w == MAP_FAILED) return perror("mmap"), 1;
  w[0] = 1;
  printf("wipeonfork 16 GiB: %s\n", madvise(w, (size_t)16 << 30, MADV_WIPEONFORK) ? strerror(errno) : "ok");
  pid_t c = fork();
  if (c == 0) _exit(w[0] + w[((size_t)8 << 30)]);
  int st;
  waitpid(c, &st, 0);
  printf("child saw %d\n", WEXITSTATUS(st));
  munmap(w, (size_t)16 << 30);
  long end = memfree();
  printf("MemFree back within 1 MiB: %s\n", end >= start - 1024 ? "yes" : "no");
  return 0;
}
