/* vsyscall: the legacy fixed-address entry points that old static binaries
 * call (gettimeofday at 0xffffffffff600000, time at +0x400, getcpu at
 * +0x800), called by address, and what happens to bad calls into that page. */
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#define VSYSCALL 0xffffffffff600000UL

typedef long (*gtod_fn)(struct timeval *, struct timezone *);
typedef long (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static void report(const char *label, pid_t p) {
  int st = 0;
  if (waitpid(p, &st, 0) != p) DIE("waitpid");
  if (WIFEXITED(st)) printf("%s: exited %d\n", label, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) printf("%s: killed by %s\n", label, strsignal(WTERMSIG(st)));
}

static int near(long a, long b) { return a - b <= 2 && b - a <= 2; }

int main(void) {
  line_buffered();
  gtod_fn gtod = (gtod_fn)VSYSCALL;
  time_fn vtime = (time_fn)(VSYSCALL + 0x400);
  getcpu_fn vgetcpu = (getcpu_fn)(VSYSCALL + 0x800);

  struct timeval tv = {0, 0};
  struct timezone tz = {-1, -1};
  long r = gtod(&tv, &tz);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  printf("gettimeofday = %ld, agrees with clock_gettime: %d, usec in range: %d\n", r, near(tv.tv_sec, ts.tv_sec),
         tv.tv_usec >= 0 && tv.tv_usec < 1000000);
  r = gtod(&tv, NULL);
  printf("gettimeofday(tv, NULL) = %ld\n", r);
  r = gtod(NULL, NULL);
  printf("gettimeofday(NULL, NULL) = %ld\n", r);

  time_t t = 0;
  long t1 = vtime(&t);
  printf("time(&t) agrees with its result: %d, with clock_gettime: %d\n", t1 == (long)t, near(t1, ts.tv_sec));
  printf("time(NULL) agrees: %d\n", near(vtime(NULL), ts.tv_sec));

  unsigned cpu = 999, node = 999;
  r = vgetcpu(&cpu, &node, NULL);
  long ncpu = sysconf(_SC_NPROCESSORS_CONF);
  printf("getcpu = %ld, cpu in range: %d, node = %u\n", r, cpu < (unsigned)ncpu, node);
  r = vgetcpu(NULL, NULL, NULL);
  printf("getcpu(NULL, NULL) = %ld\n", r);

  /* The registers a caller keeps (rbx, rbp, r12-r15) survive the call. */
  long keep = 0x1234567;
  long out;
  __asm__ volatile("mov %2, %%rbx\n\t"
                   "mov %3, %%rax\n\t"
                   "xor %%edi, %%edi\n\t"
                   "call *%%rax\n\t"
                   "mov %%rbx, %0\n\t"
                   : "=r"(out), "=a"(r)
                   : "r"(keep), "r"(VSYSCALL + 0x400)
                   : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
  printf("rbx kept across the call: %d, time result sane: %d\n", out == keep, near(r, ts.tv_sec));

  pid_t p = xfork();
  if (p == 0) {
    gtod((struct timeval *)8, NULL); /* a bad pointer */
    _exit(0);
  }
  report("gettimeofday with a bad pointer", p);

  p = xfork();
  if (p == 0) {
    gtod((struct timeval *)0xffff800000000000UL, NULL); /* a kernel pointer */
    _exit(0);
  }
  report("gettimeofday with a kernel pointer", p);

  p = xfork();
  if (p == 0) {
    ((time_fn)(VSYSCALL + 0x10))(NULL); /* not an entry point */
    _exit(0);
  }
  report("call into the middle of the page", p);

  p = xfork();
  if (p == 0) {
    ((time_fn)(VSYSCALL + 0xc00))(NULL); /* no fourth entry */
    _exit(0);
  }
  report("call to the fourth slot", p);

  p = xfork();
  if (p == 0) {
    volatile unsigned char *b = (volatile unsigned char *)VSYSCALL;
    printf("read %d\n", b[0]); /* the page is execute-only */
    _exit(0);
  }
  report("read of the page", p);
  printf("done\n");
  return 0;
}
