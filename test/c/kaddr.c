/* kaddr: touching kernel addresses near 2^64 gives SIGSEGV with that
 * address (once a Sentry bug: the address, rounded to 2^64 in a number,
 * overflowed the siginfo it was written into). */
#include "common.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

static sigjmp_buf env;
static void *fault_addr;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  fault_addr = si->si_addr;
  siglongjmp(env, 1);
}

int main(void) {
  line_buffered();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  const uintptr_t addrs[] = {0xfffffffffffff000UL, 0xffffffffffffff00UL, 0xffff800000000000UL};
  for (int i = 0; i < 3; i++) {
    if (sigsetjmp(env, 1) == 0) {
      volatile char c = *(volatile char *)addrs[i];
      (void)c;
      printf("read %d: no fault\n", i);
    } else {
      /* The page, not the byte: the Sentry holds addresses above 2^53 rounded. */
      printf("read %d: SIGSEGV, si_addr page %s\n", i, ((uintptr_t)fault_addr >> 12) == (addrs[i] >> 12) ? "same" : fault_addr == NULL ? "0" : "other");
    }
  }
  printf("done\n");
  return 0;
}
