/* mmap: memory mappings.
 *
 * Anonymous and file mappings (shared and private), MAP_FIXED, mprotect with
 * the resulting SIGSEGV caught through sigsetjmp/siglongjmp, munmap, mremap,
 * madvise(MADV_DONTNEED), SIGBUS past the end of a file, and brk. Files are
 * created in argv[1] (a directory), or in a new directory under /tmp. */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf jump;
static volatile sig_atomic_t caught;

static void on_fault(int sig) {
  caught = sig;
  siglongjmp(jump, 1);
}

static const char *signame(int sig) {
  switch (sig) {
  case 0: return "ok";
  case SIGSEGV: return "SIGSEGV";
  case SIGBUS: return "SIGBUS";
  default: return "other signal";
  }
}

/* probe_read reads one byte and reports "ok" with its value, or the signal. */
static void probe_read(const char *label, volatile unsigned char *p) {
  caught = 0;
  volatile int v = -1;
  if (sigsetjmp(jump, 1) == 0) v = *p;
  if (caught)
    printf("read %s: %s\n", label, signame(caught));
  else
    printf("read %s: ok (%d)\n", label, v);
}

static void probe_write(const char *label, volatile unsigned char *p, unsigned char val) {
  caught = 0;
  if (sigsetjmp(jump, 1) == 0) *p = val;
  printf("write %s: %s\n", label, signame(caught));
}

static int all_equal(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

static int make_file(const char *path, size_t size, unsigned char seed) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) DIE("open");
  unsigned char buf[PAGE];
  for (size_t off = 0; off < size; off += PAGE) {
    size_t n = size - off < PAGE ? size - off : PAGE;
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(seed + (off + i) / 97);
    if (write(fd, buf, n) != (ssize_t)n) DIE("write");
  }
  return fd;
}

int main(int argc, char **argv) {
  line_buffered();
  char dir[4096];
  if (argc > 1) {
    snprintf(dir, sizeof dir, "%s", argv[1]);
  } else {
    snprintf(dir, sizeof dir, "/tmp/mmap-test-XXXXXX");
    if (!mkdtemp(dir)) DIE("mkdtemp");
  }
  if (chdir(dir) < 0) DIE("chdir");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) < 0 || sigaction(SIGBUS, &sa, NULL) < 0) DIE("sigaction");

  printf("--- anonymous\n");
  unsigned char *a = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) DIE("mmap");
  printf("page aligned: %s\n", ((uintptr_t)a & (PAGE - 1)) == 0 ? "yes" : "no");
  printf("zero filled: %s\n", all_equal(a, 16 * PAGE, 0) ? "yes" : "no");
  memset(a, 0x5a, 16 * PAGE);
  printf("written and read back: %s\n", all_equal(a, 16 * PAGE, 0x5a) ? "yes" : "no");
  SHOW("mmap length 0", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  SHOW("mmap without MAP_PRIVATE/SHARED",
       (long)mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0));
  SHOW("madvise DONTNEED pages 2-3", madvise(a + 2 * PAGE, 2 * PAGE, MADV_DONTNEED));
  printf("those pages are zero again: %s, neighbours kept: %s\n",
         all_equal(a + 2 * PAGE, 2 * PAGE, 0) ? "yes" : "no",
         all_equal(a + PAGE, PAGE, 0x5a) && all_equal(a + 4 * PAGE, PAGE, 0x5a) ? "yes" : "no");

  printf("--- mprotect and SIGSEGV\n");
  probe_write("rw page", a, 1);
  SHOW("mprotect PROT_READ", mprotect(a, PAGE, PROT_READ));
  probe_write("read-only page", a, 2);
  probe_read("read-only page", a);
  probe_write("next page (still rw)", a + PAGE, 3);
  SHOW("mprotect PROT_NONE", mprotect(a, PAGE, PROT_NONE));
  probe_read("PROT_NONE page", a);
  SHOW("mprotect PROT_READ|PROT_WRITE", mprotect(a, PAGE, PROT_READ | PROT_WRITE));
  probe_write("page made writable again", a, 4);
  probe_read("page made writable again", a);
  SHOW("mprotect unaligned", mprotect(a + 1, PAGE, PROT_READ));
  probe_read("NULL", (volatile unsigned char *)(uintptr_t)0);

  printf("--- munmap\n");
  SHOW("munmap page 5", munmap(a + 5 * PAGE, PAGE));
  probe_read("unmapped page 5", a + 5 * PAGE);
  probe_read("page 4", a + 4 * PAGE);
  probe_read("page 6", a + 6 * PAGE);
  SHOW("munmap unaligned", munmap(a + 1, PAGE));
  SHOW("munmap page 5 again (no-op)", munmap(a + 5 * PAGE, PAGE));
  SHOW("munmap all", munmap(a, 16 * PAGE));
  probe_read("after munmap all", a + 10 * PAGE);

  printf("--- MAP_FIXED\n");
  unsigned char *r = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) DIE("mmap reserve");
  unsigned char *f = mmap(r + 2 * PAGE, 3 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("MAP_FIXED at the requested address: %s\n", f == r + 2 * PAGE ? "yes" : "no");
  probe_write("fixed page", r + 2 * PAGE, 9);
  probe_write("fixed page 3", r + 4 * PAGE + 100, 9);
  probe_read("reserved PROT_NONE page 1", r + PAGE);
  probe_read("reserved PROT_NONE page 5", r + 5 * PAGE);
  SHOW("MAP_FIXED unaligned", (long)mmap(r + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  void *nr = mmap(r + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  printf("MAP_FIXED_NOREPLACE over a mapping: %s\n", nr == MAP_FAILED ? ename(errno) : "mapped");
  f = mmap(r + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  probe_read("page replaced by MAP_FIXED (zero)", r + 2 * PAGE);
  probe_read("neighbour not replaced", r + 4 * PAGE + 100);
  munmap(r, 8 * PAGE);

  printf("--- mremap\n");
  /* 4 usable pages and a guard mapping right after them (a different
   * protection, so a separate mapping) that makes growing in place impossible */
  unsigned char *m = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) DIE("mmap");
  void *guard = mmap(m + 4 * PAGE, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("guard placed: %s\n", guard == m + 4 * PAGE ? "yes" : "no");
  for (int i = 0; i < 4 * PAGE; i++) m[i] = (unsigned char)(i / 13);
  SHOW("mremap grow in place (blocked)", (long)mremap(m, 4 * PAGE, 64 * PAGE, 0));
  unsigned char *g = mremap(m, 4 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
  if (g == MAP_FAILED) DIE("mremap");
  int ok = 1;
  for (int i = 0; i < 4 * PAGE; i++)
    if (g[i] != (unsigned char)(i / 13)) ok = 0;
  printf("mremap MAYMOVE: contents kept %s, new part zero %s\n", ok ? "yes" : "no",
         all_equal(g + 4 * PAGE, 60 * PAGE, 0) ? "yes" : "no");
  memset(g + 4 * PAGE, 7, 60 * PAGE);
  probe_read("last grown page", g + 63 * PAGE);
  unsigned char *s = mremap(g, 64 * PAGE, 2 * PAGE, 0);
  printf("mremap shrink in place: %s\n", s == g ? "yes" : "no");
  probe_read("page after shrunk mapping", g + 3 * PAGE);
  SHOW("mremap unaligned", (long)mremap(g + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
  munmap(s, 2 * PAGE);
  munmap(guard, PAGE);

  printf("--- file mappings\n");
  int fd = make_file("map.bin", 3 * PAGE, 1);
  unsigned char *fm = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (fm == MAP_FAILED) DIE("mmap file");
  ok = 1;
  for (int i = 0; i < 3 * PAGE; i++)
    if (fm[i] != (unsigned char)(1 + i / 97)) ok = 0;
  printf("MAP_SHARED mapping shows the file: %s\n", ok ? "yes" : "no");
  memcpy(fm + 100, "written through the mapping", 27);
  SHOW("msync", msync(fm, 3 * PAGE, MS_SYNC));
  char buf[64];
  memset(buf, 0, sizeof buf);
  SHOW("pread", pread(fd, buf, 27, 100));
  printf("  file has \"%s\"\n", buf);
  SHOW("pwrite", pwrite(fd, "written with pwrite", 19, PAGE + 5));
  printf("mapping sees pwrite: %s\n", memcmp(fm + PAGE + 5, "written with pwrite", 19) == 0 ? "yes" : "no");
  unsigned char *off1 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
  printf("mapping at offset one page: %s\n",
         off1 != MAP_FAILED && memcmp(off1 + 5, "written with pwrite", 19) == 0 ? "yes" : "no");
  SHOW("mmap unaligned offset", (long)mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 100));
  munmap(off1, PAGE);

  unsigned char *pm = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (pm == MAP_FAILED) DIE("mmap private");
  memcpy(pm + 200, "private write", 13);
  memset(buf, 0, sizeof buf);
  SHOW("pread", pread(fd, buf, 13, 200));
  printf("MAP_PRIVATE write reached the file: %s\n", memcmp(buf, "private write", 13) == 0 ? "yes" : "no");
  printf("MAP_PRIVATE mapping sees its write: %s\n", memcmp(pm + 200, "private write", 13) == 0 ? "yes" : "no");
  printf("MAP_SHARED mapping unaffected: %s\n", memcmp(fm + 200, "private write", 13) != 0 ? "yes" : "no");
  munmap(pm, 3 * PAGE);
  munmap(fm, 3 * PAGE);
  close(fd);

  int ro = open("map.bin", O_RDONLY);
  SHOW("MAP_SHARED PROT_WRITE on O_RDONLY fd", (long)mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
  unsigned char *rp = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
  printf("MAP_PRIVATE PROT_WRITE on O_RDONLY fd: %s\n", rp == MAP_FAILED ? ename(errno) : "mapped");
  if (rp != MAP_FAILED) munmap(rp, PAGE);
  unsigned char *rm = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
  probe_write("read-only file mapping", rm, 1);
  munmap(rm, PAGE);
  close(ro);
  int wo = open("map.bin", O_WRONLY);
  SHOW("mmap of O_WRONLY fd", (long)mmap(NULL, PAGE, PROT_READ, MAP_SHARED, wo, 0));
  close(wo);
  SHOW("mmap of bad fd", (long)mmap(NULL, PAGE, PROT_READ, MAP_SHARED, 77, 0));

  printf("--- past the end of a file\n");
  fd = make_file("short.bin", 100, 9);
  unsigned char *sm = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
  if (sm == MAP_FAILED) DIE("mmap short");
  probe_read("byte 50 (in file)", sm + 50);
  probe_read("byte 200 (past EOF, same page)", sm + 200);
  probe_read("second page (past EOF)", sm + PAGE);
  SHOW("ftruncate to 2 pages", ftruncate(fd, 2 * PAGE));
  probe_read("second page after ftruncate", sm + PAGE);
  probe_read("third page", sm + 2 * PAGE);
  munmap(sm, 3 * PAGE);
  close(fd);
  unlink("short.bin");
  unlink("map.bin");

  printf("--- brk\n");
  void *cur = sbrk(0);
  SHOW("brk +256 KiB", brk((char *)cur + 256 * 1024));
  printf("sbrk(0) moved by 256 KiB: %s\n", (char *)sbrk(0) == (char *)cur + 256 * 1024 ? "yes" : "no");
  memset(cur, 0x33, 256 * 1024);
  printf("heap written: %s\n", all_equal(cur, 256 * 1024, 0x33) ? "yes" : "no");
  SHOW("brk back", brk(cur));
  printf("sbrk(0) restored: %s\n", sbrk(0) == cur ? "yes" : "no");
  probe_read("old heap top (released)", (unsigned char *)cur + 128 * 1024);
  SHOW("brk +1 page", brk((char *)cur + PAGE));
  probe_read("regrown heap page (zero)", (unsigned char *)cur + 10);
  brk(cur);
  SHOW("brk to a tiny address", brk((void *)4096));
  printf("break unchanged by it: %s\n", sbrk(0) == cur ? "yes" : "no");
  printf("done\n");
  return 0;
}
