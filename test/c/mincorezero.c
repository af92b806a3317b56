/* mincorezero: mincore on anonymous pages the program wrote zeros to
 * (resident, as any written page), next to pages never touched (absent),
 * in shared and private mappings, and a private page only read (the zero
 * page: resident); with MLOCK_ONFAULT as LTP's mlock201 does it. */
#define _GNU_SOURCE
#include "common.h"
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGES 8

static void show(const char *what, char *p) {
  unsigned char vec[PAGES];
  if (mincore(p, PAGES * 4096, vec) != 0) DIE("mincore");
  printf("%s:", what);
  for (int i = 0; i < PAGES; i++) printf(" %d", vec[i] & 1);
  printf("\n");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
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
