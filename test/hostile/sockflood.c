// A hostile program against the socket layer: it makes socket pairs and
// fills each until the kernel refuses (EAGAIN at a full send buffer, ENOBUFS
// or ENOMEM once the sandbox's kernel memory budget is spent, EMFILE at the
// descriptor limit), passes descriptors in flight in circles, then frees
// everything and checks that sockets still work. The sandbox must survive.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXPAIRS 20000

static int fds[MAXPAIRS][2];

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct rlimit rl = {2 * MAXPAIRS + 64, 2 * MAXPAIRS + 64};
  setrlimit(RLIMIT_NOFILE, &rl);
  static char buf[65536];
  memset(buf, 'h', sizeof buf);
  int n = 0, sendErr = 0, pairErr = 0;
  long bytes = 0;
  for (; n < MAXPAIRS; n++) {
    if (socketpair(AF_UNIX, n % 2 ? SOCK_DGRAM : SOCK_STREAM, 0, fds[n]) < 0) {
      pairErr = errno;
      break;
    }
    for (;;) {
      long r = send(fds[n][0], buf, n % 2 ? 1000 : sizeof buf, MSG_DONTWAIT);
      if (r < 0) {
        if (errno != EAGAIN) sendErr = errno;
        break;
      }
      bytes += r;
    }
    if (sendErr) break;
  }
  printf("pairs %d, MiB queued %ld, socketpair: %s, send: %s\n", n, bytes >> 20, strerrorname_np(pairErr), strerrorname_np(sendErr));
  int stopped = pairErr == ENOBUFS || pairErr == ENOMEM || pairErr == EMFILE || pairErr == ENFILE || sendErr == ENOBUFS || sendErr == ENOMEM;
  printf("stopped by a resource errno: %d\n", stopped);
  // Descriptors in flight: each socket carries the other end of its pair.
  int inflight = 0;
  for (int i = 0; i < n && i < 1000; i++) {
    char c[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {"x", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = c;
    m.msg_controllen = sizeof c;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fds[i][0], sizeof(int));
    if (sendmsg(fds[i][1], &m, MSG_DONTWAIT) == 1) inflight++;
  }
  printf("some in flight: %d\n", inflight > 0);
  for (int i = 0; i < n; i++) {
    close(fds[i][0]);
    close(fds[i][1]);
  }
  // Cycles: each pair's ends sent over each other, then closed. Nothing can
  // reach them; the collector must give their memory back.
  int cyc = 0;
  for (; cyc < 20000; cyc++) {
    int p[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, p) < 0) break;
    for (int k = 0; k < 2; k++) {
      char c[CMSG_SPACE(sizeof(int))];
      struct iovec iov = {"y", 1};
      struct msghdr m = {0};
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = c;
      m.msg_controllen = sizeof c;
      struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(cm), &p[k], sizeof(int));
      sendmsg(p[1 - k], &m, 0);
    }
    close(p[0]);
    close(p[1]);
  }
  printf("unreachable cycles made: %d (%s)\n", cyc, cyc == 20000 ? "all" : strerrorname_np(errno));
  int sv[2];
  char out[8] = {0};
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[0], "alive", 5) != 5 || read(sv[1], out, sizeof out) != 5) {
    printf("sockets broken afterwards: %s\n", strerrorname_np(errno));
    return 1;
  }
  printf("after freeing: %s\n", out);
  return 0;
}
