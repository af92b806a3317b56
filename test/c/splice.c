/* splice.c: splice, tee and vmsplice between pipes, files and memory; offsets
 * updated or not, and the errors in the order Linux checks them. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <mqueue.h>

static void res(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
  else printf("%s: %ld\n", what, r);
}

static void drain(const char *what, int fd) {
  char buf[256];
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  fcntl(fd, F_SETFL, fl);
  if (n < 0) { printf("%s: read %s\n", what, ename(errno)); return; }
  buf[n] = 0;
  printf("%s: \"%s\"\n", what, buf);
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (write(fd, "0123456789abcdef", 16) != 16) return 3;
  lseek(fd, 0, SEEK_SET);
  int p[2], q[2];
  if (pipe(p) || pipe(q)) return 4;

  /* file -> pipe: with an offset the file position stays, without it moves */
  loff_t off = 4;
  res("file->pipe off", splice(fd, &off, p[1], NULL, 6, 0));
  printf("off now %lld, pos %lld\n", (long long)off, (long long)lseek(fd, 0, SEEK_CUR));
  drain("pipe", p[0]);
  res("file->pipe pos", splice(fd, NULL, p[1], NULL, 3, SPLICE_F_MOVE | SPLICE_F_MORE));
  printf("pos %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
  drain("pipe", p[0]);
  off = 16;
  res("file->pipe at eof", splice(fd, &off, p[1], NULL, 10, 0));
  off = 14;
  res("file->pipe short", splice(fd, &off, p[1], NULL, 10, 0));
  drain("pipe", p[0]);

  /* pipe -> file */
  if (write(p[1], "XYZ", 3) != 3) return 5;
  off = 2;
  res("pipe->file off", splice(p[0], NULL, fd, &off, 2, 0));
  printf("off now %lld\n", (long long)off);
  lseek(fd, 10, SEEK_SET);
  res("pipe->file pos", splice(p[0], NULL, fd, NULL, 100, 0));
  printf("pos %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
  char buf[64] = {0};
  pread(fd, buf, 16, 0);
  printf("file: \"%s\"\n", buf);

  /* pipe -> pipe, and tee */
  if (write(p[1], "hello world", 11) != 11) return 6;
  res("pipe->pipe", splice(p[0], NULL, q[1], NULL, 5, 0));
  drain("q", q[0]);
  res("tee", tee(p[0], q[1], 100, 0));
  drain("q after tee", q[0]);
  drain("p after tee", p[0]);

  /* vmsplice both ways */
  struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
  res("vmsplice to pipe", vmsplice(p[1], iov, 3, 0));
  char r1[2], r2[10] = {0};
  struct iovec riov[2] = {{r1, 2}, {r2, 9}};
  res("vmsplice from pipe", vmsplice(p[0], riov, 2, 0));
  printf("got %.2s|%s\n", r1, r2);
  res("vmsplice zero", vmsplice(fd, iov + 1, 1, 0));

  /* empty pipe, nonblocking */
  res("empty NONBLOCK", splice(p[0], NULL, fd, NULL, 5, SPLICE_F_NONBLOCK));
  res("tee empty NONBLOCK", tee(p[0], q[1], 5, SPLICE_F_NONBLOCK));
  res("vmsplice empty NONBLOCK", vmsplice(p[0], riov, 2, SPLICE_F_NONBLOCK));

  /* errors */
  res("len 0 bad fds", splice(-1, NULL, -1, NULL, 0, 0));
  res("bad flags", splice(p[0], NULL, fd, NULL, 5, 0x10));
  res("bad fd", splice(99, NULL, p[1], NULL, 5, 0));
  res("neither pipe", splice(fd, NULL, fd, NULL, 5, 0));
  res("offset on pipe in", splice(p[0], &off, fd, NULL, 5, 0));
  res("offset on pipe out", splice(fd, &off, p[1], &off, 5, 0));
  res("offset on write end", splice(p[1], &off, fd, NULL, 5, 0));
  res("write end as input", splice(p[1], NULL, fd, NULL, 5, 0));
  res("read end as output", splice(fd, NULL, p[0], NULL, 5, 0));
  res("same pipe", splice(p[0], NULL, p[1], NULL, 5, 0));
  off = -1;
  res("negative offset", splice(fd, &off, p[1], NULL, 5, 0));
  res("bad offset pointer", splice(fd, (loff_t *)8, p[1], NULL, 5, 0));
  int ro = open("data", O_RDONLY);
  res("read-only output", splice(p[0], NULL, ro, NULL, 5, 0));
  int ap = open("data", O_WRONLY | O_APPEND);
  if (write(p[1], "Q", 1) != 1) return 7;
  res("O_APPEND output", splice(p[0], NULL, ap, NULL, 5, 0));
  int dir = open(".", O_RDONLY | O_DIRECTORY);
  res("directory input", splice(dir, NULL, p[1], NULL, 5, 0));
  int opath = open("data", O_PATH);
  res("O_PATH input", splice(opath, NULL, p[1], NULL, 5, 0));
  res("tee bad flags", tee(p[0], q[1], 0, 0x100));
  res("tee len 0", tee(-1, -1, 0, 0));
  res("tee file", tee(fd, q[1], 5, 0));
  res("tee same pipe", tee(p[0], p[1], 5, 0));
  res("tee bad fd", tee(p[0], 99, 5, 0));
  res("vmsplice bad flags", vmsplice(p[1], iov, 1, 0x20));
  res("vmsplice not a pipe", vmsplice(fd, iov, 1, 0));
  res("vmsplice too many", vmsplice(p[1], iov, 1025, 0));
  res("vmsplice bad fd", vmsplice(99, iov, 1, 0));
  drain("p", p[0]);

  /* a full pipe, then no reader, then no writer */
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  static char big[70000];
  ssize_t w = write(p[1], big, sizeof big);
  printf("filled %zd\n", w);
  res("full NONBLOCK vmsplice", vmsplice(p[1], iov, 1, SPLICE_F_NONBLOCK));
  res("full O_NONBLOCK file->pipe", splice(fd, NULL, p[1], NULL, 5, 0));
  close(p[0]);
  res("no reader", splice(fd, NULL, p[1], NULL, 5, 0));
  res("tee no reader", tee(q[0], p[1], 5, 0));
  close(p[1]);
  close(q[1]);
  res("no writer", splice(q[0], NULL, fd, NULL, 5, 0));
  res("tee no writer", tee(q[0], ap, 5, 0));

  /* big file through a pipe: capped at the pipe's room */
  int bf = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (write(bf, big, sizeof big) != sizeof big) return 8;
  if (pipe(p)) return 9;
  off = 0;
  res("big file->pipe", splice(bf, &off, p[1], NULL, sizeof big, 0));
  printf("off now %lld\n", (long long)off);
  res("pipe->big file", splice(p[0], NULL, bf, &off, sizeof big, 0));
  printf("off now %lld\n", (long long)off);
  struct stat st;
  fstat(bf, &st);
  printf("size %lld\n", (long long)st.st_size);
  /* a length past 2^63 is just large */
  if (write(p[1], "len", 3) != 3) return 10;
  res("pipe->pipe len -1", splice(p[0], NULL, q[1] >= 0 && pipe(q) == 0 ? q[1] : -1, NULL, (size_t)-1, 0));
  drain("q", q[0]);
  if (write(p[1], "tee", 3) != 3) return 11;
  res("tee len -1", tee(p[0], q[1], (size_t)-1, 0));
  drain("q", q[0]);
  /* Event descriptors have no splice: EINVAL at once, even from an empty pipe (LTP splice07). */
  int empty[2];
  if (pipe(empty) < 0) return 12;
  int efd = eventfd(0, 0), ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, 0);
  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGUSR1);
  int sfd = signalfd(-1, &ss, 0);
  int pfd = syscall(SYS_pidfd_open, getpid(), 0);
  int fds[] = {efd, ep, tfd, sfd, pfd};
  const char *names[] = {"eventfd", "epoll", "timerfd", "signalfd", "pidfd"};
  for (int i = 0; i < 5; i++) {
    char label[64];
    snprintf(label, sizeof label, "empty pipe->%s", names[i]);
    res(label, splice(empty[0], NULL, fds[i], NULL, 1, 0));
    snprintf(label, sizeof label, "%s->pipe", names[i]);
    res(label, splice(fds[i], NULL, empty[1], NULL, 1, 0));
  }
  /* Nor have userfaultfd, /proc/PID/mem, /proc/PID/pagemap and a message queue (splice07 hung on userfaultfd). */
  int ufd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  int mem = open("/proc/self/mem", O_RDWR);
  int pm = open("/proc/self/pagemap", O_RDONLY);
  struct mq_attr qa = {.mq_maxmsg = 2, .mq_msgsize = 16};
  mqd_t mq = mq_open("/splicetest", O_RDWR | O_CREAT, 0600, &qa);
  mq_unlink("/splicetest");
  int more[] = {ufd, mem, pm, (int)mq};
  const char *more_names[] = {"userfaultfd", "proc mem", "pagemap", "mqueue"};
  for (int i = 0; i < 4; i++) {
    char label[64];
    if (more[i] < 0) {
      printf("%s: open failed %s\n", more_names[i], strerror(errno));
      continue;
    }
    snprintf(label, sizeof label, "empty pipe->%s", more_names[i]);
    res(label, splice(empty[0], NULL, more[i], NULL, 1, 0));
    snprintf(label, sizeof label, "%s->pipe", more_names[i]);
    res(label, splice(more[i], NULL, empty[1], NULL, 1, 0));
  }
  printf("done\n");
  return 0;
}
