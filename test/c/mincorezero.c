/* mincorezero: mincore on anonymous pages the program wrote zeros to
 * (resident, as any written page), next to pages never touched (absent),
 * in shared and private mappings, and a private page only read (the zero
 * page: resident); with MLOCK_ONFAULT as LTP's mlock201 does it. And a
 * file's pages another process brought into the page cache (a child's
 * mlock of its own private mapping) count as resident in the parent's
 * untouched mapping, as LTP's mincore04 checks. */
#define _GNU_SOURCE
#include "common.h"
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>

#define PAGES 8

static void show(const char *what, char *p) {
  unsigned char vec[PAGES];
  if (mincore(p, PAGES * 4096, vec) != 0) DIE("mincore");
  printf("%s:", what);
  for (int i = 0; i < PAGES; i++) printf(" %d", vec[i] & 1);
  printf("\n");
}

/* A file of PAGES holes mapped here; the child locks all of its copy of the mapping (only whole: the host would read ahead around part of it). */
static void file_pages(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/mincore.file", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) DIE("open");
  if (ftruncate(fd, PAGES * 4096) != 0) DIE("ftruncate");
  char *p = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) DIE("mmap file");
  show("file, untouched", p);
  int go[2];
  if (pipe(go) != 0) DIE("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    if (mlock(p, PAGES * 4096) != 0) DIE("mlock");
    char c = 1;
    if (write(go[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c;
  if (read(go[0], &c, 1) != 1) DIE("read");
  show("file, child locked all", p);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  munmap(p, PAGES * 4096);
  close(fd);
  unlink(path);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) file_pages(argv[1]);
  long ps = 4096;
  for (int shared = 0; shared < 2; shared++) {
    char *p = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) DIE("mmap");
    show(shared ? "shared, untouched" : "private, untouched", p);
    memset(p, 0, 3 * ps);
    memset(p + 5 * ps, 0, ps);
    if (!shared) (void)*(volatile char *)(p + 7 * ps);
    show(shared ? "shared, zeros written to 0-2 and 5" : "private, zeros written to 0-2 and 5, 7 read", p);
    munmap(p, PAGES * ps);
  }
  /* mlock201's case: half the pages written with zeros, all locked on fault. */
  char *p = mmap(NULL, PAGES * ps, PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) DIE("mmap");
  memset(p, 0, PAGES / 2 * ps);
  long r = syscall(SYS_mlock2, p, PAGES * ps, 1 /* MLOCK_ONFAULT */);
  printf("mlock2(MLOCK_ONFAULT): %ld\n", r);
  show("locked on fault", p);
  munmap(p, PAGES * ps);
  printf("done\n");
  return 0;
}
