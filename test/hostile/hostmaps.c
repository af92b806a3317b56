/* hostmaps: memory patterns that cut the host mappings behind one address
 * space into many small pieces while the program's own VMA count stays
 * small. Each mode checks every page's data and prints "ok" at the end;
 * safe to run natively (it only maps anonymous memory and a file in the
 * directory given).
 *   cow MIB      fork, the child writes every other page of a MIB heap
 *                (top down) and drops the others with MADV_DONTNEED
 *   sparse MIB   writes every other page of a MIB anonymous area, top down,
 *                then drops and rewrites every fourth
 *   mixed DIR N  a file of 2N pages mapped MAP_PRIVATE, every other page
 *                replaced by a MAP_SHARED mapping of the same file page;
 *                private pages written, shared ones written through the file
 *   readonly DIR N  a read-only page, then mixed DIR N (which drops the host
 *                mappings in the sandbox), then the page is read (its data)
 *                and written (SIGSEGV with SEGV_ACCERR, as before the drop)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static int fail(const char *what, size_t i, unsigned v, unsigned want) {
  printf("%s: page %zu holds %u, want %u\n", what, i, v, want);
  return 1;
}

static int cow(size_t mib) {
  size_t n = mib * 256;
  unsigned char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return perror("mmap"), 1;
  for (size_t i = 0; i < n; i++) *(unsigned *)(p + i * PAGE) = (unsigned)i;
  pid_t c = fork();
  if (c < 0) return perror("fork"), 1;
  if (c == 0) {
    for (size_t i = n; i-- > 0;)
      if (i % 2 == 0) *(unsigned *)(p + i * PAGE) = (unsigned)i ^ 0x5a5a5a5a;
      else if (madvise(p + i * PAGE, PAGE, MADV_DONTNEED)) _exit(2);
    for (size_t i = 0; i < n; i++) {
      unsigned v = *(unsigned *)(p + i * PAGE), want = i % 2 == 0 ? (unsigned)i ^ 0x5a5a5a5a : 0;
      if (v != want) _exit(fail("child", i, v, want) + 2);
    }
    _exit(0);
  }
  int st = 0;
  if (waitpid(c, &st, 0) != c) return perror("waitpid"), 1;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return printf("child status %#x\n", st), 1;
  for (size_t i = 0; i < n; i++)
    if (*(unsigned *)(p + i * PAGE) != (unsigned)i) return fail("parent", i, *(unsigned *)(p + i * PAGE), (unsigned)i);
  return 0;
}

static int sparse(size_t mib) {
  size_t n = mib * 256;
  unsigned char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return perror("mmap"), 1;
  for (size_t i = n; i-- > 0;)
    if (i % 2 == 0) *(unsigned *)(p + i * PAGE) = (unsigned)i + 1;
  for (size_t i = 0; i < n; i += 4) {
    if (madvise(p + i * PAGE, PAGE, MADV_DONTNEED)) return perror("madvise"), 1;
    *(unsigned *)(p + i * PAGE + 8) = (unsigned)i + 7;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned v = *(unsigned *)(p + i * PAGE), want = i % 4 == 0 ? 0 : i % 2 == 0 ? (unsigned)i + 1 : 0;
    if (v != want) return fail("sparse", i, v, want);
    if (i % 4 == 0 && *(unsigned *)(p + i * PAGE + 8) != (unsigned)i + 7) return fail("sparse+8", i, *(unsigned *)(p + i * PAGE + 8), (unsigned)i + 7);
  }
  return 0;
}

static int mixed(const char *dir, size_t pairs) {
  char path[4096];
  snprintf(path, sizeof path, "%s/hostmaps.%d", dir, (int)getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return perror("open"), 1;
  unlink(path);
  size_t n = 2 * pairs;
  if (ftruncate(fd, n * PAGE)) return perror("ftruncate"), 1;
  unsigned char *w = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (w == MAP_FAILED) return perror("mmap shared"), 1;
  for (size_t i = 0; i < n; i++) *(unsigned *)(w + i * PAGE) = (unsigned)i;
  unsigned char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return perror("mmap private"), 1;
  for (size_t i = 1; i < n; i += 2)
    if (mmap(p + i * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, i * PAGE) == MAP_FAILED) return perror("mmap fixed"), 1;
  /* Private pages get their copies top down; shared ones change under them. */
  for (size_t i = n; i-- > 0;)
    if (i % 2 == 0) *(unsigned *)(p + i * PAGE) = (unsigned)i | 0x80000000u;
    else *(unsigned *)(w + i * PAGE) = (unsigned)i | 0x40000000u;
  for (size_t i = 0; i < n; i++) {
    unsigned v = *(unsigned *)(p + i * PAGE), want = (unsigned)i | (i % 2 == 0 ? 0x80000000u : 0x40000000u);
    if (v != want) return fail("mixed", i, v, want);
    if (i % 2 == 0 && *(unsigned *)(w + i * PAGE) != (unsigned)i) return fail("file", i, *(unsigned *)(w + i * PAGE), (unsigned)i);
  }
  return 0;
}

static sigjmp_buf jump;
static volatile int segv_code;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  segv_code = si->si_code;
  siglongjmp(jump, 1);
}

static int readonly(const char *dir, size_t pairs) {
  unsigned char *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ro == MAP_FAILED) return perror("mmap"), 1;
  memset(ro, 0x3c, PAGE);
  if (mprotect(ro, PAGE, PROT_READ)) return perror("mprotect"), 1;
  if (mixed(dir, pairs)) return 1;
  for (size_t i = 0; i < PAGE; i++)
    if (ro[i] != 0x3c) return fail("readonly", i, ro[i], 0x3c);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  if (sigsetjmp(jump, 1) == 0) {
    *(volatile unsigned char *)ro = 1;
    return printf("write to a read-only page succeeded\n"), 1;
  }
  printf("write to the read-only page: SIGSEGV %s\n", segv_code == SEGV_ACCERR ? "SEGV_ACCERR" : segv_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other");
  return segv_code == SEGV_ACCERR ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: hostmaps cow|sparse MIB | mixed|readonly DIR PAIRS\n"), 2;
  int r = 2;
  if (!strcmp(argv[1], "cow")) r = cow(strtoul(argv[2], NULL, 0));
  else if (!strcmp(argv[1], "sparse")) r = sparse(strtoul(argv[2], NULL, 0));
  else if (!strcmp(argv[1], "mixed") && argc > 3) r = mixed(argv[2], strtoul(argv[3], NULL, 0));
  else if (!strcmp(argv[1], "readonly") && argc > 3) r = readonly(argv[2], strtoul(argv[3], NULL, 0));
  if (r == 0) printf("ok\n");
  return r;
}
