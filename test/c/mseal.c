/* mseal: mseal(2) (Linux 6.10) against native. Argument checks (flags,
 * alignment, wrap, holes, zero length), then a sealed range tried every
 * way around: munmap (whole, part, a range that covers it), mprotect,
 * mremap (shrink, grow, move, as a MREMAP_FIXED target, DONTUNMAP),
 * mmap MAP_FIXED over it, madvise advice that discards (refused on sealed
 * read-only private anonymous memory, allowed on writable) and advice that
 * does not, brk shrinking over a sealed heap, shmat SHM_REMAP over it,
 * sealing kept across fork and in /proc/self/smaps ("sl"), sealing parts
 * of a VMA (splits), advice across a sealed VMA, shmdt and io_destroy of
 * sealed mappings (they succeed, the memory stays), and the data still
 * readable after every refusal. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NR_MSEAL 462
#define PG 4096L

static long mseal_(void *a, unsigned long len, unsigned long flags) { return syscall(NR_MSEAL, a, len, flags); }

static void res(const char *what, long r) {
  if (r == -1) printf("%-44s -1 %s\n", what, ename(errno));
  else printf("%-44s ok\n", what);
}

static char *map(size_t len, int prot) {
  char *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) DIE("mmap");
  return p;
}

/* How many VmFlags lines of smaps in [a, a+len) carry "sl", and how many VMAs there are. */
static void smaps_of(const char *what, char *a, size_t len) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) DIE("smaps");
  char line[512];
  int in = 0, vmas = 0, sealed = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (strchr(line, ':') > strchr(line, ' ') && sscanf(line, "%lx-%lx ", &s, &e) == 2) {
      in = s < (unsigned long)a + len && e > (unsigned long)a;
      if (in) vmas++;
    } else if (in && strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " sl")) {
      sealed++;
    }
  }
  fclose(f);
  printf("%-44s vmas %d sealed %d\n", what, vmas, sealed);
}

/* How many VMAs in [a, a+len) carry "dc" (MADV_DONTFORK). */
static void smaps_dc(const char *what, char *a, size_t len) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) DIE("smaps");
  char line[512];
  int in = 0, dc = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (strchr(line, ':') > strchr(line, ' ') && sscanf(line, "%lx-%lx ", &s, &e) == 2) in = s < (unsigned long)a + len && e > (unsigned long)a;
    else if (in && strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " dc")) dc++;
  }
  fclose(f);
  printf("%-44s %d\n", what, dc);
}

static void readable(const char *what, char *p, char want) {
  printf("%-44s %s\n", what, p[0] == want ? "intact" : "CHANGED");
}

int main(void) {
  line_buffered();
  /* Arguments. */
  char *a = map(4 * PG, PROT_READ | PROT_WRITE);
  res("flags 1", mseal_(a, PG, 1));
  res("flags high bit", mseal_(a, PG, 1UL << 40));
  res("unaligned start", mseal_(a + 1, PG, 0));
  res("length 0", mseal_(a, 0, 0));
  res("length 0 unaligned", mseal_(a + 1, 0, 0));
  res("wraps", mseal_(a, -PG, 0));
  res("huge length", mseal_(a, 1UL << 62, 0));
  res("unmapped range", mseal_((void *)0x10000, PG, 0));
  res("beyond user space", mseal_((void *)0x800000000000UL, PG, 0));
  munmap(a + PG, PG);
  res("range with a hole", mseal_(a, 3 * PG, 0));
  res("  hole did not seal the first page", munmap(a, PG));
  munmap(a, 4 * PG);

  /* A sealed read-write page, then every way around. */
  char *s = map(3 * PG, PROT_READ | PROT_WRITE);
  s[PG] = 'x';
  res("seal the middle page", mseal_(s + PG, PG, 0));
  smaps_of("  after sealing the middle", s, 3 * PG);
  res("seal it again", mseal_(s + PG, PG, 0));
  res("unaligned length rounds up", mseal_(s + PG, 1, 0));
  res("munmap sealed", munmap(s + PG, PG));
  res("munmap all three", munmap(s, 3 * PG));
  res("  first page still mapped (mprotect)", mprotect(s, PG, PROT_READ | PROT_WRITE));
  res("munmap part of it", munmap(s + PG, 16));
  res("mprotect sealed", mprotect(s + PG, PG, PROT_READ));
  res("mprotect same prot", mprotect(s + PG, PG, PROT_READ | PROT_WRITE));
  res("mprotect covering it", mprotect(s, 3 * PG, PROT_READ));
  res("  unsealed neighbour writable again", mprotect(s, PG, PROT_READ | PROT_WRITE));
  res("mremap shrink", (long)mremap(s + PG, PG, PG / 2, 0) == -1 ? -1 : 0);
  res("mremap grow maymove", (long)mremap(s + PG, PG, 4 * PG, MREMAP_MAYMOVE) == -1 ? -1 : 0);
  res("mremap same size", (long)mremap(s + PG, PG, PG, 0) == -1 ? -1 : 0);
  char *t = map(PG, PROT_READ | PROT_WRITE);
  res("mremap move to fixed", (long)mremap(s + PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, t) == -1 ? -1 : 0);
  res("mremap dontunmap", (long)mremap(s + PG, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL) == -1 ? -1 : 0);
  res("mremap another onto it (fixed)", (long)mremap(t, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, s + PG) == -1 ? -1 : 0);
  res("  source still mapped", mprotect(t, PG, PROT_READ | PROT_WRITE));
  res("mmap fixed over it", mmap(s + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0);
  res("mmap fixed over all three", mmap(s, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0);
  res("mmap fixed_noreplace over it", mmap(s + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED ? -1 : 0);
  res("madvise DONTNEED (writable)", madvise(s + PG, PG, MADV_DONTNEED));
  s[PG] = 'x';
  res("madvise WILLNEED", madvise(s + PG, PG, MADV_WILLNEED));
  res("madvise DONTDUMP", madvise(s + PG, PG, MADV_DONTDUMP));
  res("mlock sealed", mlock(s + PG, PG));
  res("munlock sealed", munlock(s + PG, PG));
  readable("  data", s + PG, 'x');
  smaps_of("  after the attempts", s, 3 * PG);

  /* Read-only private anonymous: discarding advice is refused. */
  char *r = map(2 * PG, PROT_READ | PROT_WRITE);
  r[0] = 'y';
  if (mprotect(r, 2 * PG, PROT_READ)) DIE("mprotect");
  res("seal read-only", mseal_(r, 2 * PG, 0));
  res("madvise DONTNEED read-only", madvise(r, PG, MADV_DONTNEED));
  res("madvise FREE read-only", madvise(r, PG, MADV_FREE));
  res("madvise DONTFORK read-only", madvise(r, PG, MADV_DONTFORK));
  res("madvise DOFORK read-only", madvise(r, PG, MADV_DOFORK));
  res("madvise WIPEONFORK read-only", madvise(r, PG, MADV_WIPEONFORK));
  res("madvise REMOVE read-only", madvise(r, PG, MADV_REMOVE));
  res("madvise COLD read-only", madvise(r, PG, MADV_COLD));
  res("madvise PAGEOUT read-only", madvise(r, PG, MADV_PAGEOUT));
  res("madvise NORMAL read-only", madvise(r, PG, MADV_NORMAL));
  readable("  data", r, 'y');

  /* Read-only shared and file mappings: discarding advice stays allowed. */
  char *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) DIE("mmap shared");
  sh[0] = 'z';
  mprotect(sh, PG, PROT_READ);
  res("seal shared read-only", mseal_(sh, PG, 0));
  res("madvise DONTNEED shared read-only", madvise(sh, PG, MADV_DONTNEED));
  readable("  data", sh, 'z');
  int fd = open("/proc/self/exe", O_RDONLY);
  char *fm = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
  if (fm == MAP_FAILED) DIE("mmap file");
  close(fd);
  res("seal private file read-only", mseal_(fm, PG, 0));
  res("madvise DONTNEED private file", madvise(fm, PG, MADV_DONTNEED));
  res("munmap private file", munmap(fm, PG));

  /* PROT_NONE, then the fork child inherits the seal. */
  char *n = map(PG, PROT_NONE);
  res("seal PROT_NONE", mseal_(n, PG, 0));
  res("mprotect PROT_NONE to rw", mprotect(n, PG, PROT_READ | PROT_WRITE));
  pid_t c = xfork();
  if (c == 0) {
    res("child: munmap sealed", munmap(s + PG, PG));
    res("child: mprotect sealed", mprotect(n, PG, PROT_READ));
    smaps_of("child: smaps", s, 3 * PG);
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);

  /* Splits: sealing the ends of one VMA and merging of sealed neighbours. */
  char *m = map(6 * PG, PROT_READ | PROT_WRITE);
  res("seal first page", mseal_(m, PG, 0));
  res("seal last page", mseal_(m + 5 * PG, PG, 0));
  smaps_of("  two sealed ends", m, 6 * PG);
  res("seal the rest", mseal_(m + PG, 4 * PG, 0));
  smaps_of("  all sealed", m, 6 * PG);
  res("munmap after all sealed", munmap(m + 2 * PG, PG));

  /* brk over a sealed heap. */
  char *b0 = sbrk(0);
  char *b1 = (char *)(((unsigned long)b0 + 2 * PG - 1) & ~(PG - 1));
  if (brk(b1 + 2 * PG) != 0) DIE("brk");
  res("seal heap tail", mseal_(b1, 2 * PG, 0));
  errno = 0;
  long br = syscall(SYS_brk, b1);
  printf("%-44s %s\n", "brk shrink over sealed", br == (long)(b1 + 2 * PG) ? "unchanged" : br == (long)b1 ? "shrunk" : "other");

  /* shmat SHM_REMAP over a sealed page. */
  int id = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0600);
  if (id >= 0) {
    void *at = shmat(id, s + PG, SHM_REMAP);
    res("shmat SHM_REMAP over sealed", at == (void *)-1 ? -1 : 0);
    shmctl(id, IPC_RMID, NULL);
  }
  readable("  data at the end", s + PG, 'x');

  /* Advice over a range whose middle is sealed read-only: Linux goes VMA by VMA, the ones before it get the advice. */
  char *v = map(3 * PG, PROT_READ | PROT_WRITE);
  v[0] = 'a';
  v[PG] = 'b';
  v[2 * PG] = 'c';
  mprotect(v + PG, PG, PROT_READ);
  res("seal the middle of three (read-only)", mseal_(v + PG, PG, 0));
  res("madvise DONTNEED across it", madvise(v, 3 * PG, MADV_DONTNEED));
  printf("%-44s %d %d %d\n", "  first, sealed, last", v[0], v[PG], v[2 * PG]);
  res("madvise DONTFORK across it", madvise(v, 3 * PG, MADV_DONTFORK));
  smaps_dc("  VMAs marked dc", v, 3 * PG);

  /* shmdt of a sealed attachment succeeds and leaves it mapped. */
  int id2 = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0600);
  if (id2 >= 0) {
    char *at = shmat(id2, NULL, 0);
    res("seal a shm attachment", mseal_(at, PG, 0));
    res("shmdt of it", shmdt(at));
    res("  still mapped (mprotect EPERM)", mprotect(at, PG, PROT_READ));
    res("shmdt again", shmdt(at));
    shmctl(id2, IPC_RMID, NULL);
  }

  /* A sealed grows-down mapping: PROT_GROWSDOWN reaches the sealed start. */
  char *g = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
  if (g == MAP_FAILED) DIE("mmap growsdown");
  res("seal a grows-down mapping", mseal_(g, 2 * PG, 0));
  res("mprotect PROT_GROWSDOWN", mprotect(g + PG, PG, PROT_READ | PROT_GROWSDOWN));
  /* io_destroy of a context whose ring is sealed: the context goes, the ring stays. */
  unsigned long ctx = 0;
  if (syscall(SYS_io_setup, 8, &ctx) == 0) {
    res("seal an aio ring", mseal_((void *)ctx, PG, 0));
    res("io_destroy", syscall(SYS_io_destroy, ctx));
    res("  ring still mapped (mprotect EPERM)", mprotect((void *)ctx, PG, PROT_READ));
    res("io_destroy again", syscall(SYS_io_destroy, ctx));
  }
  printf("done\n");
  return 0;
}
