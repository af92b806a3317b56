/* procres: fill what a process can make the Sentry keep through the process
 * calls, until Linux's error, and check the sandbox still works after.
 *
 *   AIO contexts: io_setup(64) until it fails (EAGAIN once aio-max-nr, 65536
 *   events, is reserved sandbox-wide); another process then gets EAGAIN at
 *   once; exit and io_destroy give the reservation back.
 *   pidfds: pidfd_open until EMFILE (RLIMIT_NOFILE raised to 20000), then
 *   2000 short-lived children each leaving a pidfd behind after reaping. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static aio_context_t ctxs[4096];

static int fill(int *err) {
  int n = 0;
  for (; n < 4096; n++) {
    ctxs[n] = 0;
    if (syscall(SYS_io_setup, 64, &ctxs[n]) < 0) break;
  }
  *err = errno;
  return n;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int err;
  int n = fill(&err);
  printf("aio contexts: %d, then %s\n", n, err == EAGAIN ? "EAGAIN" : strerror(err));
  pid_t p = fork();
  if (p == 0) {
    int e2, m = fill(&e2);
    printf("another process: %d, then %s\n", m, e2 == EAGAIN ? "EAGAIN" : strerror(e2));
    _exit(0);
  }
  waitpid(p, NULL, 0);
  for (int i = 0; i < n; i++) syscall(SYS_io_destroy, ctxs[i]);
  p = fork();
  if (p == 0) {
    int e2, m = fill(&e2);
    printf("after io_destroy: %d\n", m);
    _exit(0); /* exits holding them all */
  }
  waitpid(p, NULL, 0);
  n = fill(&err);
  printf("after an exit holding them: %d\n", n);

  /* Huge AIO transfers are cut short, never allocated whole. */
  for (int i = 0; i < n; i++) syscall(SYS_io_destroy, ctxs[i]);
  aio_context_t c = 0;
  syscall(SYS_io_setup, 8, &c);
  int fd = open("/tmp/aio-big", O_RDWR | O_CREAT | O_TRUNC, 0600);
  /* Low, so that a length of 16 TiB still ends below TASK_SIZE (else EFAULT at submission). */
  char *area = mmap((void *)0x10000000, 1 << 28, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  struct iocb cb = {0}, *v[1] = {&cb};
  cb.aio_lio_opcode = IOCB_CMD_PWRITE;
  cb.aio_fildes = fd;
  cb.aio_buf = (unsigned long)area;
  cb.aio_nbytes = 1UL << 28;
  struct io_event ev;
  long s1 = syscall(SYS_io_submit, c, 1, v), g1 = syscall(SYS_io_getevents, c, 1, 1, &ev, NULL);
  printf("huge write: submitted %ld, %ld event, wrote %lld MiB\n", s1, g1, (long long)ev.res >> 20);
  cb.aio_lio_opcode = IOCB_CMD_PREAD;
  cb.aio_nbytes = 1UL << 44;
  long s2 = syscall(SYS_io_submit, c, 1, v), g2 = s2 == 1 ? syscall(SYS_io_getevents, c, 1, 1, &ev, NULL) : -1;
  printf("huge read: submitted %ld, %ld event, read %lld MiB\n", s2, g2, (long long)ev.res >> 20);
  close(fd);
  unlink("/tmp/aio-big");
  syscall(SYS_io_destroy, c);

  struct rlimit rl = {20000, 20000};
  setrlimit(RLIMIT_NOFILE, &rl);
  int fds = 0;
  while (syscall(SYS_pidfd_open, getpid(), 0) >= 0) fds++;
  printf("pidfds: %d, then %s\n", fds, errno == EMFILE ? "EMFILE" : strerror(errno));
  for (int fd = 3; fd < 20000; fd++) close(fd);
  int kept = 0;
  for (int i = 0; i < 2000; i++) {
    pid_t c = fork();
    if (c == 0) _exit(0);
    if (syscall(SYS_pidfd_open, c, 0) >= 0) kept++;
    waitpid(c, NULL, 0);
  }
  printf("pidfds of reaped children: %d\n", kept);
  printf("sentry alive\n");
  return 0;
}
