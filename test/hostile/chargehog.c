// chargehog: a program that tries to pass its memory limit through memory the
// kernel holds for it rather than its own pages. Run under a small memory
// limit (tsvisor do --memory, a pod container's linux.resources, or natively
// a memory cgroup; test/integration/memcharge.test.js):
//   pipes    pipes grown to 1 MiB (F_SETPIPE_SZ) and filled, until a pipe,
//            the resize or a write is refused (or the OOM kill ends it)
//   splice   the same, filled by splice from /dev/zero
//   sockets  AF_UNIX stream socket pairs filled until the send would block,
//            until a pair or a send is refused
//   shm      a file in /dev/shm written 1 MiB at a time until refused
//   fallocate  the same by fallocate
//   memfd    the same in a memfd (the sandbox's internal tmpfs)
//   sysvshm  System V segments of 8 MiB attached and touched page by page
//            (the OOM kill ends it: touched pages cannot be refused)
// Each stops at the first refusal, prints its errno and the MiB it held,
// frees everything and holds 8 MiB the same way again (the memory came
// back), then prints "alive".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#define MIB (1L << 20)
#define MAXFDS 8192

static char chunk[65536];
static int fds[MAXFDS][2];

static int zero = -1;

/* Write to fd (how: 0 write, 1 send, 2 splice from /dev/zero) until it would block; returns the bytes written, *err the errno of another failure. */
static long fillOne(int fd, int how, int *err) {
  long held = 0;
  for (;;) {
    long w = how == 1 ? send(fd, chunk, sizeof chunk, MSG_DONTWAIT)
      : how == 2 ? splice(zero, NULL, fd, NULL, sizeof chunk, SPLICE_F_NONBLOCK)
      : write(fd, chunk, sizeof chunk);
    if (w < 0) {
      if (errno != EAGAIN) *err = errno;
      return held;
    }
    held += w;
  }
}

/* Fill pipes (how: by write or splice) until one is refused or limit bytes are held; returns the bytes held, *err the errno that stopped it. */
static long fillPipes(int *n, long limit, int how, int *err) {
  long held = 0;
  *err = 0;
  for (*n = 0; *n < MAXFDS && held < limit; (*n)++) {
    if (pipe2(fds[*n], O_NONBLOCK)) {
      *err = errno;
      break;
    }
    if (fcntl(fds[*n][1], F_SETPIPE_SZ, (int)MIB) < 0) {
      *err = errno;
      (*n)++;
      break;
    }
    held += fillOne(fds[*n][1], how, err);
    if (*err) {
      (*n)++;
      break;
    }
  }
  return held;
}

static long fillSockets(int *n, long limit, int *err) {
  long held = 0;
  *err = 0;
  for (*n = 0; *n < MAXFDS && held < limit; (*n)++) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[*n])) {
      *err = errno;
      break;
    }
    held += fillOne(fds[*n][0], 1, err);
    if (*err) {
      (*n)++;
      break;
    }
  }
  return held;
}

/* A file in name (NULL: a memfd) written, or fallocated, 1 MiB at a time. */
static long fillShm(const char *name, long limit, int alloc, int *err) {
  long held = 0;
  *err = 0;
  int fd = name ? open(name, O_CREAT | O_TRUNC | O_WRONLY, 0600) : memfd_create("chargehog", 0);
  if (fd < 0) {
    *err = errno;
    return 0;
  }
  static char big[MIB];
  memset(big, 's', sizeof big);
  while (held < limit) {
    long w = alloc ? (fallocate(fd, 0, held, MIB) ? -1 : MIB) : write(fd, big, sizeof big);
    if (w < 0) {
      *err = errno;
      break;
    }
    held += w;
  }
  close(fd);
  return held;
}

/* Segments made, attached and touched until one is refused; the OOM kill usually comes first. */
static long touchSysv(int *n, long limit, int *err) {
  long held = 0;
  *err = 0;
  for (*n = 0; *n < MAXFDS && held < limit; (*n)++) {
    int id = shmget(IPC_PRIVATE, 8 * MIB, IPC_CREAT | 0600);
    if (id < 0) {
      *err = errno;
      break;
    }
    fds[*n][0] = id;
    char *m = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if (m == (char *)-1) {
      *err = errno;
      break;
    }
    for (long i = 0; i < 8 * MIB; i += 4096) m[i] = 1;
    held += 8 * MIB;
  }
  return held;
}

static void closeAll(int n) {
  for (int i = 0; i < n; i++) {
    close(fds[i][0]);
    close(fds[i][1]);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  struct rlimit rl = {2 * MAXFDS + 64, 2 * MAXFDS + 64};
  setrlimit(RLIMIT_NOFILE, &rl);
  memset(chunk, 'c', sizeof chunk);
  const char *mode = argv[1];
  long endless = 1L << 40;
  int n = 0, err = 0;
  long held;
  zero = open("/dev/zero", O_RDONLY);
  if (!strcmp(mode, "pipes") || !strcmp(mode, "splice")) held = fillPipes(&n, endless, strcmp(mode, "pipes") ? 2 : 0, &err);
  else if (!strcmp(mode, "sockets")) held = fillSockets(&n, endless, &err);
  else if (!strcmp(mode, "shm") || !strcmp(mode, "fallocate")) held = fillShm("/dev/shm/chargehog", endless, !strcmp(mode, "fallocate"), &err);
  else if (!strcmp(mode, "memfd")) held = fillShm(NULL, endless, 0, &err);
  else if (!strcmp(mode, "sysvshm")) held = touchSysv(&n, endless, &err);
  else return 2;
  printf("%s: %s\n", mode, err ? strerrorname_np(err) : "no error");
  printf("held MiB: %ld\n", held / MIB);
  if (strcmp(mode, "sysvshm")) closeAll(n);
  unlink("/dev/shm/chargehog");
  int again = 0;
  if (!strcmp(mode, "pipes") || !strcmp(mode, "splice")) held = fillPipes(&n, 8 * MIB, strcmp(mode, "pipes") ? 2 : 0, &again);
  else if (!strcmp(mode, "sockets")) held = fillSockets(&n, 8 * MIB, &again);
  else if (!strcmp(mode, "memfd")) held = fillShm(NULL, 8 * MIB, 0, &again);
  else if (!strcmp(mode, "shm") || !strcmp(mode, "fallocate")) held = fillShm("/dev/shm/chargehog", 8 * MIB, !strcmp(mode, "fallocate"), &again);
  else return 1;
  printf("again: %s\n", again ? strerrorname_np(again) : (held >= 8 * MIB ? "ok" : "short"));
  if (strcmp(mode, "sysvshm")) closeAll(n);
  unlink("/dev/shm/chargehog");
  printf("alive\n");
  return 0;
}
