/* aio: Linux native AIO through raw system calls: io_setup (the ring in
 * the process's memory, its header), io_submit of reads, writes, vectors and
 * syncs, io_getevents (blocking, timeouts, reading the ring), io_cancel,
 * io_destroy, and the errors of each. Run with a scratch directory. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

struct ring {
  unsigned id, nr, head, tail, magic, compat, incompat, header_length;
  struct io_event events[];
};

static long setup(unsigned n, aio_context_t *c) { return syscall(SYS_io_setup, n, c); }
static long submit(aio_context_t c, long n, struct iocb **v) { return syscall(SYS_io_submit, c, n, v); }
static long getevents(aio_context_t c, long min, long n, struct io_event *e, struct timespec *ts) {
  return syscall(SYS_io_getevents, c, min, n, e, ts);
}
static void show(const char *label, long r) {
  if (r < 0) printf("%s: %s\n", label, ename(errno));
  else printf("%s: %ld\n", label, r);
}
static void prep(struct iocb *cb, int op, int fd, void *buf, size_t n, long long off, uint64_t data) {
  memset(cb, 0, sizeof *cb);
  cb->aio_lio_opcode = op;
  cb->aio_fildes = fd;
  cb->aio_buf = (uintptr_t)buf;
  cb->aio_nbytes = n;
  cb->aio_offset = off;
  cb->aio_data = data;
}
static void drain(aio_context_t c, int want) {
  struct io_event ev[16];
  long n = getevents(c, want, 16, ev, NULL);
  long res[16];
  for (long i = 0; i < 16; i++) res[i] = -999;
  for (long i = 0; i < n; i++) res[ev[i].data] = ev[i].res;
  printf("  %ld events:", n);
  for (long i = 0; i < 16; i++)
    if (res[i] != -999) printf(" [%ld]=%ld", i, res[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) < 0) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  aio_context_t ctx = 0;
  show("setup 0", setup(0, &ctx));
  ctx = 5;
  show("setup with a nonzero id", setup(8, &ctx));
  ctx = 0;
  show("setup bad pointer", setup(8, (aio_context_t *)8));
  show("setup 128", setup(128, &ctx));
  struct ring *r = (struct ring *)ctx;
  printf("ring: id %u nr %u head %u tail %u magic %#x compat %u incompat %u header %u\n", r->id, r->nr, r->head, r->tail, r->magic,
         r->compat, r->incompat, r->header_length);
  aio_context_t ctx2 = 0;
  setup(1, &ctx2);
  printf("second ring: id %u nr %u\n", ((struct ring *)ctx2)->id, ((struct ring *)ctx2)->nr);

  int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
  char wbuf[64], rbuf[64] = {0}, v1[8] = {0}, v2[8] = {0};
  memset(wbuf, 'w', sizeof wbuf);
  struct iocb cbs[8], *v[8];
  for (int i = 0; i < 8; i++) v[i] = &cbs[i];
  prep(&cbs[0], IOCB_CMD_PWRITE, fd, "hello, aio world", 16, 100, 0);
  show("submit one write", submit(ctx, 1, v));
  printf("  key %u, ring tail %u head %u\n", cbs[0].aio_key, r->tail, r->head);
  drain(ctx, 1);
  printf("  ring head after reaping %u\n", r->head);
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, 16, 100, 1);
  prep(&cbs[1], IOCB_CMD_PREAD, fd, rbuf + 20, 64, 110, 2);
  struct iovec wv[2] = {{wbuf, 3}, {"XYZ", 3}};
  prep(&cbs[2], IOCB_CMD_PWRITEV, fd, wv, 2, 0, 3);
  prep(&cbs[3], IOCB_CMD_FSYNC, fd, NULL, 0, 0, 4);
  prep(&cbs[4], IOCB_CMD_FDSYNC, fd, NULL, 0, 0, 5);
  show("submit five", submit(ctx, 5, v));
  drain(ctx, 5);
  printf("  read: %.16s / %s\n", rbuf, rbuf + 20);
  struct iovec rv[2] = {{v1, 4}, {v2, 4}};
  prep(&cbs[0], IOCB_CMD_PREADV, fd, rv, 2, 0, 6);
  show("submit a vector read", submit(ctx, 1, v));
  drain(ctx, 1);
  printf("  vector: %s | %s\n", v1, v2);
  prep(&cbs[0], IOCB_CMD_PREAD, fd, (void *)4096, 16, 0, 7);
  show("read into an unmapped buffer", submit(ctx, 1, v));
  drain(ctx, 1);
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, 16, 1000, 8);
  show("read past the end", submit(ctx, 1, v));
  drain(ctx, 1);

  /* Errors */
  show("submit to a bad context", submit(12345, 1, v));
  show("submit -1", submit(ctx, -1, v));
  show("submit 0", submit(ctx, 0, v));
  show("submit bad array", submit(ctx, 1, (struct iocb **)8));
  struct iocb *bad[1] = {(struct iocb *)8};
  show("submit bad iocb", submit(ctx, 1, bad));
  prep(&cbs[0], IOCB_CMD_PREAD, 999, rbuf, 1, 0, 9);
  show("bad fd", submit(ctx, 1, v));
  int wo = open("data", O_WRONLY);
  prep(&cbs[0], IOCB_CMD_PREAD, wo, rbuf, 1, 0, 9);
  show("read on a write-only fd", submit(ctx, 1, v));
  prep(&cbs[0], IOCB_CMD_NOOP, fd, rbuf, 1, 0, 9);
  show("NOOP", submit(ctx, 1, v));
  prep(&cbs[0], 42, fd, rbuf, 1, 0, 9);
  show("opcode 42", submit(ctx, 1, v));
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, 1, 0, 9);
  cbs[0].aio_reserved2 = 1;
  show("reserved2", submit(ctx, 1, v));
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, 1, -1, 9);
  show("negative offset", submit(ctx, 1, v));
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, (size_t)-1, 0, 9);
  show("huge length", submit(ctx, 1, v));
  prep(&cbs[0], IOCB_CMD_FSYNC, fd, NULL, 4, 0, 9);
  show("fsync with a length", submit(ctx, 1, v));
  int pp[2];
  pipe(pp);
  prep(&cbs[0], IOCB_CMD_FSYNC, pp[0], NULL, 0, 0, 9);
  show("fsync of a pipe", submit(ctx, 1, v));
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, 4, 0, 10);
  prep(&cbs[1], IOCB_CMD_PREAD, 999, rbuf, 4, 0, 11);
  show("second of two bad", submit(ctx, 2, v));
  drain(ctx, 1);

  struct io_event ev[4];
  show("getevents min > nr", getevents(ctx, 3, 2, ev, NULL));
  show("getevents negative", getevents(ctx, -1, 2, ev, NULL));
  show("getevents bad context", getevents(777, 0, 2, ev, NULL));
  struct timespec zero = {0, 0}, short_wait = {0, 50000000};
  show("getevents nothing, timeout 0", getevents(ctx, 1, 4, ev, &zero));
  show("getevents nothing, 50 ms", getevents(ctx, 1, 4, ev, &short_wait));
  show("getevents min 0", getevents(ctx, 0, 4, ev, NULL));
  prep(&cbs[0], IOCB_CMD_PREAD, fd, rbuf, 4, 0, 12);
  submit(ctx, 1, v);
  show("getevents bad events pointer", getevents(ctx, 1, 4, (struct io_event *)8, NULL));
  show("  the event is still there", getevents(ctx, 0, 4, ev, &zero));
  show("cancel a finished request", syscall(SYS_io_cancel, ctx, &cbs[0], ev));
  show("cancel on a bad context", syscall(SYS_io_cancel, 777, &cbs[0], ev));
  /* The iocb is read before the context is looked up: EFAULT either way (LTP io_cancel01/02). */
  show("cancel of a NULL iocb", syscall(SYS_io_cancel, ctx, NULL, NULL));
  show("cancel of a NULL iocb on a bad context", syscall(SYS_io_cancel, 777, NULL, NULL));

  show("destroy", syscall(SYS_io_destroy, ctx));
  show("destroy again", syscall(SYS_io_destroy, ctx));
  show("submit after destroy", submit(ctx, 1, v));
  show("ring unmapped", msync((void *)ctx, 4096, MS_ASYNC));
  show("destroy the second", syscall(SYS_io_destroy, ctx2));
  printf("done\n");
  return 0;
}
