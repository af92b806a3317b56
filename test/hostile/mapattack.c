/* mapattack: a hostile program that tries to put its own pages over the
 * stub (the host process it runs in, whose code executes the Sentry's host
 * system calls) or beyond the top of its address space, by every mapping
 * path: mmap MAP_FIXED / MAP_FIXED_NOREPLACE / a hint, mremap with
 * MREMAP_FIXED or growing in place, brk, munmap, mprotect, madvise, and
 * system calls reading memory there.
 *
 * Usage: mapattack native|sandbox MARKER
 * In the sandbox the top of the address space is the lowest of the stub
 * (0x7ff000000000) and the host's vDSO/vvar (from /proc/self/maps), and the
 * stub's code is the target; natively both are TASK_SIZE. Linux answers the
 * same for addresses beyond TASK_SIZE, so both runs must print the same
 * lines. Source pages are filled with code that would create the directory
 * MARKER on the host if it ever ran as the stub: the test checks it does not
 * exist afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define TASK_SIZE 0x7ffffffff000UL
#define STUB_BASE 0x7ff000000000UL

static unsigned long top, stub, beyond;
static const char *marker;

static const char *ename(int e) {
  switch (e) {
  case 0: return "ok";
  case ENOMEM: return "ENOMEM";
  case EINVAL: return "EINVAL";
  case EFAULT: return "EFAULT";
  case EPERM: return "EPERM";
  case EEXIST: return "EEXIST";
  default: return strerror(e);
  }
}

static void report(const char *what, long r, int failed) {
  printf("%s: %s\n", what, failed ? ename(errno) : r == 0 ? "ok" : "ok");
  fflush(stdout);
  errno = 0;
}

static void report_map(const char *what, void *r) {
  if (r == MAP_FAILED) printf("%s: %s\n", what, ename(errno));
  else printf("%s: mapped %s top\n", what, (unsigned long)r + PAGE <= top ? "below" : "AT OR ABOVE");
  fflush(stdout);
  errno = 0;
}

/* mkdir(marker, 0755); then spin. Filled from the start with nops so any entry point slides into it. */
static void arm(void *p, size_t len) {
  unsigned char code[] = {
    0x48, 0x8d, 0x3d, 0x11, 0, 0, 0, /* lea rdi, [rip + 17] */
    0xbe, 0xed, 0x01, 0, 0,          /* mov esi, 0755 */
    0xb8, 83, 0, 0, 0,               /* mov eax, SYS_mkdir */
    0x0f, 0x05,                      /* syscall */
    0xeb, 0xfe,                      /* jmp . */
    0x90, 0x90, 0x90,
  };
  unsigned char *b = p;
  size_t n = strlen(marker) + 1;
  memset(b, 0x90, len);
  for (size_t off = 0; off + sizeof code + n <= len; off += PAGE) {
    size_t at = off + PAGE - sizeof code - n - 8;
    memcpy(b + at, code, sizeof code);
    memcpy(b + at + sizeof code, marker, n);
  }
}

static void *anon(size_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  arm(p, len);
  return p;
}

static unsigned long lowest_host_range(void) {
  unsigned long low = STUB_BASE;
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) {
    unsigned long s, e;
    char name[256] = "";
    if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &s, &e, name) < 2) continue;
    if ((!strncmp(name, "[vdso]", 6) || !strncmp(name, "[vvar", 5)) && s < low) low = s;
  }
  if (f) fclose(f);
  return low;
}

/* Run fn in a child; report how it ended. */
static void in_child(const char *what, void (*fn)(void)) {
  pid_t p = fork();
  if (p == 0) { fn(); _exit(0); }
  int st;
  waitpid(p, &st, 0);
  if (WIFSIGNALED(st)) printf("%s: signal %s\n", what, WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : strsignal(WTERMSIG(st)));
  else printf("%s: exit %d\n", what, WEXITSTATUS(st));
  fflush(stdout);
}

/* Above top and nothing mapped there: natively TASK_SIZE, here 1 MiB past the stub's pages. */
static void touch_beyond(void) { (void)*(volatile char *)beyond; }
static void touch_stub(void) { (void)*(volatile char *)stub; }
static void write_stub(void) { *(volatile char *)stub = 0xcc; }
/* The stub's control page (the batches of host calls it runs): read-only to code running in the stub. */
static unsigned long ctrl;
static void write_ctrl(void) { *(volatile unsigned long *)ctrl = 1; }

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: mapattack native|sandbox MARKER\n"); return 2; }
  int sandbox = !strcmp(argv[1], "sandbox");
  marker = argv[2];
  top = sandbox ? lowest_host_range() : TASK_SIZE;
  stub = sandbox ? STUB_BASE : TASK_SIZE;
  /* Above top, between the stub's pages and systrap's thread areas (which the stub's threads must be able to write). */
  beyond = sandbox ? STUB_BASE + (1UL << 19) : TASK_SIZE;
  ctrl = sandbox ? STUB_BASE + 0x2000 : TASK_SIZE;
  void *r;

  /* mmap */
  r = mmap((void *)stub, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r != MAP_FAILED) arm(r, PAGE);
  report_map("mmap MAP_FIXED at the stub", r);
  report_map("mmap MAP_FIXED at top", mmap((void *)top, PAGE, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  report_map("mmap MAP_FIXED across top", mmap((void *)(top - PAGE), 2 * PAGE, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  report_map("mmap MAP_FIXED_NOREPLACE at the stub", mmap((void *)stub, PAGE, PROT_READ, MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  report_map("mmap hint at the stub", mmap((void *)stub, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  report_map("mmap hint just under top, 2 pages", mmap((void *)(top - PAGE), 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  report_map("mmap longer than the address space", mmap(NULL, top + PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));

  /* mremap */
  void *src = anon(4 * PAGE);
  report_map("mremap MREMAP_FIXED onto the stub", mremap(src, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)stub));
  report_map("mremap MREMAP_FIXED across top", mremap(src, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(top - PAGE)));
  report_map("mremap MREMAP_FIXED growing onto the stub", mremap(src, PAGE, 64 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(stub - 32 * PAGE)));
  void *last = mmap((void *)(top - PAGE), PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  report_map("mmap MAP_FIXED of the last page", last);
  if (last != MAP_FAILED) {
    arm(last, PAGE);
    report_map("mremap growing the last page in place", mremap(last, PAGE, 1 << 20, 0));
    report_map("mremap growing the last page, may move", mremap(last, PAGE, 1 << 20, MREMAP_MAYMOVE));
  }
  report_map("mremap of the stub's pages", mremap((void *)stub, PAGE, 2 * PAGE, MREMAP_MAYMOVE));

  /* brk */
  long b0 = syscall(SYS_brk, 0);
  printf("brk to the stub: %s\n", syscall(SYS_brk, stub + PAGE) == b0 ? "refused" : "MOVED");
  printf("brk to top: %s\n", syscall(SYS_brk, top) == b0 ? "refused" : "MOVED");
  printf("brk beyond 2^47: %s\n", syscall(SYS_brk, 1UL << 47) == b0 ? "refused" : "MOVED");

  /* calls on the range itself */
  report("munmap of the stub", munmap((void *)stub, PAGE), 1);
  report("munmap across top", munmap((void *)(top - PAGE), 2 * PAGE), 1);
  report("mprotect of the stub", mprotect((void *)stub, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC), 1);
  report("madvise DONTNEED of the stub", madvise((void *)stub, PAGE, MADV_DONTNEED), 1);
  unsigned char vec[4];
  report("mincore of the stub", mincore((void *)stub, PAGE, vec), 1);
  report("msync of the stub", msync((void *)stub, PAGE, MS_SYNC), 1);
  errno = 0;
  long w = write(1, (void *)stub, 0);
  report("write of 0 bytes from the stub", w, w < 0);
  w = syscall(SYS_write, -1, (void *)stub, 16);
  report("write to a bad fd from the stub", w, w < 0);
  int fds[2];
  if (pipe(fds) == 0) {
    w = write(fds[1], (void *)stub, 16);
    report("write from the stub's code", w, w < 0);
    w = write(fds[1], "x", 1);
    w = read(fds[0], (void *)stub, 1);
    report("read into the stub's code", w, w < 0);
  }

  /* faults */
  in_child("touch beyond top", touch_beyond);
  in_child("write the stub's code", write_stub);
  in_child("write the stub's control page", write_ctrl);
  if (sandbox) in_child("read the stub's code", touch_stub);
  printf("done\n");
  return 0;
}
