/* mlocks: the mlock family with RLIMIT_MEMLOCK (privileged, then as an
 * unprivileged user: EPERM, ENOMEM, EAGAIN), the locked state in
 * /proc/self/smaps (Locked:, VmFlags lo/lf) and /proc/self/status (VmLck),
 * MCL_FUTURE on later mappings, locks not inherited by fork;
 * MADV_DONTFORK/DOFORK and MADV_WIPEONFORK/KEEPONFORK seen by a fork child;
 * the [vvar] page is read-only (a write is SIGSEGV/SEGV_ACCERR); MADV_HWPOISON
 * and MADV_SOFT_OFFLINE refused (LTP madvise07 was told they worked). */
#define _GNU_SOURCE
#include "common.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PG 4096UL

static long vmlck(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmLck: %ld kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

/* The smaps block of the mapping that starts at p: its Locked: and whether VmFlags has lo, lf, dc, wf. */
static void smaps_of(const char *label, void *p, int show_locked) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  int in = 0;
  long locked = -1;
  char flags[512] = "";
  while (f && fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
      if (in) break;
      in = a == (uintptr_t)p;
      continue;
    }
    if (!in) continue;
    sscanf(line, "Locked: %ld kB", &locked);
    if (strncmp(line, "VmFlags:", 8) == 0) snprintf(flags, sizeof flags, "%s", line);
  }
  if (f) fclose(f);
  /* Locked: is the resident part: only compared where every page is resident on both. */
  if (!show_locked) locked = -1;
  printf("%s: Locked %ld kB, lo %d lf %d dc %d wf %d\n", label, locked, strstr(flags, " lo ") != 0,
         strstr(flags, " lf ") != 0, strstr(flags, " dc ") != 0, strstr(flags, " wf ") != 0);
}

static void *anon(size_t len, int prot, int flags) {
  return mmap(0, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static const char *res(void *p) { return p == MAP_FAILED ? ename(errno) : "ok"; }

static void privileged(void) {
  long base = vmlck();
  printf("VmLck at start %ld\n", base);
  char *p = anon(65 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  munmap(p + 64 * PG, PG);
  SHOW("mlock 16 pages", mlock(p + 8 * PG, 16 * PG));
  printf("VmLck %ld\n", vmlck() - base);
  smaps_of("middle", p + 8 * PG, 1);
  smaps_of("before", p, 1);
  SHOW("mlock again overlapping", mlock(p + 4 * PG, 16 * PG));
  printf("VmLck %ld\n", vmlck() - base);
  SHOW("mlock unaligned", mlock(p + 100, 10));
  printf("VmLck %ld\n", vmlck() - base);
  SHOW("munlock", munlock(p, 64 * PG));
  printf("VmLck %ld\n", vmlck() - base);
  SHOW("mlock2 onfault", syscall(SYS_mlock2, p, 8 * PG, 1));
  smaps_of("onfault", p, 0);
  SHOW("mlock2 bad flag", syscall(SYS_mlock2, p, 8 * PG, 2));
  SHOW("mlock unmapped", mlock(p + 64 * PG, PG));
  SHOW("munlock unmapped", munlock(p + 64 * PG, PG));
  SHOW("mlock length 0", mlock(p, 0));
  SHOW("munlock all of it", munlock(p, 64 * PG));
  char *r = anon(4 * PG, PROT_READ, MAP_PRIVATE | MAP_LOCKED);
  printf("MAP_LOCKED: %s\n", res(r));
  smaps_of("map_locked", r, 0);
  printf("VmLck %ld\n", vmlck() - base);
  munmap(r, 4 * PG);
  printf("VmLck after munmap %ld\n", vmlck() - base);
  SHOW("mlockall 0", mlockall(0));
  SHOW("mlockall ONFAULT alone", mlockall(MCL_ONFAULT));
  SHOW("mlockall bad", mlockall(8));
  SHOW("mlockall FUTURE", mlockall(MCL_FUTURE));
  char *q = anon(8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  smaps_of("future map", q, 1);
  printf("VmLck %ld\n", vmlck() - base);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    /* Locks are not inherited, nor is MCL_FUTURE. */
    printf("child VmLck %ld\n", vmlck());
    char *z = anon(PG, PROT_READ, MAP_PRIVATE);
    smaps_of("child map", z, 1);
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  SHOW("munlockall", munlockall());
  printf("VmLck %ld\n", vmlck() - base);
  q = anon(8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  smaps_of("after munlockall", q, 1);
  SHOW("mlockall CURRENT|ONFAULT", mlockall(MCL_CURRENT | MCL_ONFAULT));
  smaps_of("current onfault", q, 0);
  SHOW("munlockall", munlockall());
  printf("VmLck %ld\n", vmlck() - base);
}

static void unprivileged(void) {
  if (setresuid(65534, 65534, 65534) < 0) DIE("setresuid");
  struct rlimit r = {16 * PG, 16 * PG};
  SHOW("setrlimit MEMLOCK 16 pages", setrlimit(RLIMIT_MEMLOCK, &r));
  char *p = anon(64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  SHOW("mlock 8 pages", mlock(p, 8 * PG));
  SHOW("mlock 8 more", mlock(p + 8 * PG, 8 * PG));
  SHOW("mlock one more", mlock(p + 16 * PG, PG));
  SHOW("mlock the same 16 again", mlock(p, 16 * PG));
  SHOW("mlock 17 over them", mlock(p, 17 * PG));
  SHOW("munlock 8", munlock(p, 8 * PG));
  SHOW("mlock one more now", mlock(p + 16 * PG, PG));
  char *m = anon(8 * PG, PROT_READ, MAP_PRIVATE | MAP_LOCKED);
  printf("MAP_LOCKED past the limit: %s\n", res(m));
  m = anon(4 * PG, PROT_READ, MAP_PRIVATE | MAP_LOCKED);
  printf("MAP_LOCKED within: %s\n", res(m));
  SHOW("munlockall", munlockall());
  SHOW("mlockall CURRENT", mlockall(MCL_CURRENT));
  SHOW("mlockall FUTURE", mlockall(MCL_FUTURE));
  char *big = anon(32 * PG, PROT_READ, MAP_PRIVATE);
  printf("map past the limit after MCL_FUTURE: %s\n", res(big));
  char *small = anon(4 * PG, PROT_READ, MAP_PRIVATE);
  printf("map within: %s\n", res(small));
  void *b = sbrk(0);
  void *s = sbrk(64 * PG);
  printf("sbrk past: %s\n", s == (void *)-1 ? ename(errno) : "ok");
  (void)b;
  char *g = mremap(small, 4 * PG, 64 * PG, MREMAP_MAYMOVE);
  printf("mremap a locked mapping past: %s\n", res(g));
  SHOW("munlockall", munlockall());
  big = anon(32 * PG, PROT_READ, MAP_PRIVATE);
  printf("map after munlockall: %s\n", res(big));
  r.rlim_cur = r.rlim_max = 0;
  SHOW("setrlimit MEMLOCK 0", setrlimit(RLIMIT_MEMLOCK, &r));
  SHOW("mlock at 0", mlock(p, PG));
  SHOW("mlock2 at 0", syscall(SYS_mlock2, p, PG, 0));
  SHOW("mlockall at 0", mlockall(MCL_FUTURE));
  m = anon(PG, PROT_READ, MAP_PRIVATE | MAP_LOCKED);
  printf("MAP_LOCKED at 0: %s\n", res(m));
  SHOW("munlock at 0", munlock(p, PG));
  SHOW("munlockall at 0", munlockall());
  /* Memory-failure injection: EINVAL on a kernel without CONFIG_MEMORY_FAILURE (the sandbox is
   * one), EPERM without CAP_SYS_ADMIN on a kernel with it; never a silent success (which would
   * promise a poisoned page). Unprivileged, so that a native run never poisons a host page. */
  char *q = anon(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  int hw = madvise(q, PG, 100 /* MADV_HWPOISON */);
  printf("MADV_HWPOISON refused: %d\n", hw < 0 && (errno == EINVAL || errno == EPERM));
  int so = madvise(q, PG, 101 /* MADV_SOFT_OFFLINE */);
  printf("MADV_SOFT_OFFLINE refused: %d\n", so < 0 && (errno == EINVAL || errno == EPERM));
}

static int child_reads(volatile char *p);

static sigjmp_buf jb;
static volatile int sig_code;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  sig_code = si->si_code;
  siglongjmp(jb, 1);
}

/* In a child: reads p[0], or reports the signal. */
static int child_reads(volatile char *p) {
  if (sigsetjmp(jb, 1)) {
    printf("  child: SIGSEGV code %d\n", sig_code);
    return 0;
  }
  printf("  child reads %d\n", p[0]);
  return 0;
}

static void fork_advice(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  char *p = anon(5 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  munmap(p + 4 * PG, PG);
  memset(p, 7, 4 * PG);
  SHOW("DONTFORK", madvise(p + PG, PG, MADV_DONTFORK));
  smaps_of("dontfork", p + PG, 0);
  SHOW("WIPEONFORK", madvise(p + 2 * PG, PG, MADV_WIPEONFORK));
  smaps_of("wipeonfork", p + 2 * PG, 0);
  char *sh = anon(PG, PROT_READ | PROT_WRITE, MAP_SHARED);
  SHOW("WIPEONFORK shared", madvise(sh, PG, MADV_WIPEONFORK));
  SHOW("DONTFORK unmapped", madvise(p + 4 * PG, PG, MADV_DONTFORK));
  const char *what[] = {"plain", "dontfork", "wipeonfork", "plain"};
  for (int i = 0; i < 4; i++) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
      unsigned char v;
      printf(" %s page: mincore %d\n", what[i], mincore(p + i * PG, PG, &v));
      child_reads(p + i * PG);
      fflush(stdout);
      _exit(0);
    }
    waitpid(c, NULL, 0);
  }
  printf("parent still reads %d %d %d\n", p[PG], p[2 * PG], p[3 * PG]);
  SHOW("DOFORK", madvise(p + PG, PG, MADV_DOFORK));
  SHOW("KEEPONFORK", madvise(p + 2 * PG, PG, MADV_KEEPONFORK));
  smaps_of("after dofork", p, 0);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    printf(" child after DOFORK/KEEPONFORK reads %d %d\n", p[PG], p[2 * PG]);
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

static void vvar(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  unsigned long a = 0, b = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "[vvar]")) {
      sscanf(line, "%lx-%lx", &a, &b);
      break;
    }
  if (f) fclose(f);
  if (!a) {
    printf("no [vvar]\n");
    return;
  }
  if (sigsetjmp(jb, 1)) {
    printf("write to [vvar]: SIGSEGV code %d\n", sig_code);
    return;
  }
  *(volatile char *)a = 1;
  printf("write to [vvar] succeeded\n");
}

int main(void) {
  line_buffered();
  privileged();
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    unprivileged();
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  fork_advice();
  vvar();
  printf("done\n");
  return 0;
}
