/* aiopoll: IOCB_CMD_POLL: a poll that waits completes with the events of
 * the wake-up, one ready at once with the ready events; io_cancel ends a
 * waiting one (EINPROGRESS, its event 0 in the ring); argument errors. */
#define _GNU_SOURCE
#include "common.h"
#include <poll.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <linux/aio_abi.h>
int main(void) {
  aio_context_t ctx = 0;
  syscall(SYS_io_setup, 16, &ctx);
  int p[2]; pipe(p);
  struct iocb cb = {0}, *v[1] = {&cb};
  cb.aio_lio_opcode = IOCB_CMD_POLL; cb.aio_fildes = p[0]; cb.aio_buf = POLLIN; cb.aio_data = 1;
  printf("submit poll: %ld\n", syscall(SYS_io_submit, ctx, 1, v));
  struct io_event ev[2]; struct timespec z = {0, 0};
  printf("events now: %ld\n", syscall(SYS_io_getevents, ctx, 0, 2, ev, &z));
  write(p[1], "x", 1);
  long n = syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL);
  printf("events after write: %ld res %lld\n", n, (long long)ev[0].res);
  printf("submit ready poll: %ld\n", syscall(SYS_io_submit, ctx, 1, v));
  n = syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL);
  printf("events: %ld res %#llx\n", n, (long long)ev[0].res);
  char c; read(p[0], &c, 1);
  printf("submit poll again: %ld\n", syscall(SYS_io_submit, ctx, 1, v));
  long r = syscall(SYS_io_cancel, ctx, &cb, ev);
  printf("cancel: %ld %s\n", r, r < 0 ? ename(errno) : "");
  struct timespec two = {2, 0}; /* Linux delivers the cancelled event from a work queue */
  n = syscall(SYS_io_getevents, ctx, 1, 2, ev, &two);
  printf("events after cancel: %ld res %lld\n", n, n > 0 ? (long long)ev[0].res : 0LL);
  cb.aio_buf = 0x10000;
  r = syscall(SYS_io_submit, ctx, 1, v);
  printf("bad events: %ld %s\n", r, r < 0 ? ename(errno) : "");
  cb.aio_buf = POLLIN; cb.aio_offset = 1;
  r = syscall(SYS_io_submit, ctx, 1, v);
  printf("offset: %ld %s\n", r, r < 0 ? ename(errno) : "");
  cb.aio_offset = 0; cb.aio_buf = POLLOUT; cb.aio_fildes = p[1];
  r = syscall(SYS_io_submit, ctx, 1, v);
  n = syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL);
  printf("pollout on write end: %ld res %#llx\n", n, (long long)ev[0].res);
  close(p[1]);
  cb.aio_buf = POLLIN; cb.aio_fildes = p[0];
  r = syscall(SYS_io_submit, ctx, 1, v);
  n = syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL);
  printf("pollin on widowed read end: %ld res %#llx\n", n, (long long)ev[0].res);
  printf("done\n");
  return 0;
}
