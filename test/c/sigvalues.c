/* sigvalues: any 64-bit value given to rt_sigaction and sigaltstack reads
 * back unchanged (trinity's random handler 0xffffffffffffffff once made the
 * Sentry throw while writing it back). */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

struct ksigaction {
  uint64_t handler, flags, restorer, mask;
};

int main(void) {
  line_buffered();
  const uint64_t vals[] = {~0ULL, 0x8000000000000000ULL, 0x7ff0000000000000ULL, 0xdeadbeef00000000ULL};
  for (int i = 0; i < 4; i++) {
    struct ksigaction act = {vals[i], 0x04000000 /* SA_RESTORER */, vals[i], 0}, old;
    SHOW("rt_sigaction set", syscall(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8));
    SHOW("rt_sigaction get", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8));
    printf("handler %d restorer %d\n", old.handler == vals[i], old.restorer == vals[i]);
  }
  signal(SIGUSR1, SIG_DFL);
  for (int i = 0; i < 4; i++) {
    stack_t ss = {(void *)vals[i], 0, (size_t)~0ULL}, old;
    SHOW("sigaltstack set", sigaltstack(&ss, NULL));
    SHOW("sigaltstack get", sigaltstack(NULL, &old));
    printf("sp %d size %d flags %d\n", (uint64_t)old.ss_sp == vals[i], old.ss_size == (size_t)~0ULL, old.ss_flags);
  }
  stack_t off = {NULL, SS_DISABLE, 0};
  SHOW("sigaltstack off", sigaltstack(&off, NULL));
  printf("done\n");
  return 0;
}
