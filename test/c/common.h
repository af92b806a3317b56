/* common.h: helpers shared by the tsvisor black-box test programs.
 *
 * Every program prints deterministic output (no pids, addresses, inode
 * numbers or times) so that a native run and a sandboxed run can be compared
 * byte for byte. stdout is line buffered and flushed before every fork. */
#ifndef TSVISOR_TEST_COMMON_H
#define TSVISOR_TEST_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ename returns the symbolic name of an errno value. */
static inline const char *ename(int e) {
  switch (e) {
  case 0: return "OK";
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case ESRCH: return "ESRCH";
  case EINTR: return "EINTR";
  case EIO: return "EIO";
  case ENXIO: return "ENXIO";
  case E2BIG: return "E2BIG";
  case ENOEXEC: return "ENOEXEC";
  case EBADF: return "EBADF";
  case ECHILD: return "ECHILD";
  case EAGAIN: return "EAGAIN";
  case ENOMEM: return "ENOMEM";
  case EACCES: return "EACCES";
  case EFAULT: return "EFAULT";
  case EBUSY: return "EBUSY";
  case EEXIST: return "EEXIST";
  case EXDEV: return "EXDEV";
  case ENODEV: return "ENODEV";
  case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR";
  case EINVAL: return "EINVAL";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  case ENOTTY: return "ENOTTY";
  case EFBIG: return "EFBIG";
  case ENOSPC: return "ENOSPC";
  case ESPIPE: return "ESPIPE";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case EROFS: return "EROFS";
  case EMLINK: return "EMLINK";
  case EPIPE: return "EPIPE";
  case ERANGE: return "ERANGE";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case ENOSYS: return "ENOSYS";
  case ENOTEMPTY: return "ENOTEMPTY";
  case ENODATA: return "ENODATA";
  case ELOOP: return "ELOOP";
  case ETXTBSY: return "ETXTBSY";
  case EDEADLK: return "EDEADLK";
  case EOVERFLOW: return "EOVERFLOW";
  default: return "E?";
  }
}

/* SHOW evaluates a call returning a negative value on error (with errno set)
 * and prints "label = value" or "label = -1 ENAME". */
#define SHOW(label, expr)                                                      \
  do {                                                                         \
    errno = 0;                                                                 \
    long show_r_ = (long)(expr);                                               \
    int show_e_ = errno;                                                       \
    if (show_r_ < 0)                                                           \
      printf("%s = -1 %s\n", (label), ename(show_e_));                         \
    else                                                                       \
      printf("%s = %ld\n", (label), show_r_);                                  \
  } while (0)

/* DIE reports an unexpected failure of the test program itself. */
#define DIE(what)                                                              \
  do {                                                                         \
    printf("FATAL %s:%d %s: %s\n", __FILE__, __LINE__, (what),                 \
           ename(errno));                                                      \
    fflush(stdout);                                                            \
    exit(99);                                                                  \
  } while (0)

static inline void line_buffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/* xfork flushes stdout first so buffered output is not printed twice. */
static inline pid_t xfork(void) {
  fflush(stdout);
  pid_t p = fork();
  if (p < 0) DIE("fork");
  return p;
}

/* sleep_ms sleeps through signal interruptions. */
static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

#endif
