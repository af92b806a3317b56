#define _GNU_SOURCE
// UDP over the loopback: ping-pong between two processes on 127.0.0.1 and
// ::1, message boundaries, MSG_TRUNC, MSG_PEEK, connect filtering, ECONNREFUSED
// on a connected socket, names, sendmmsg/recvmmsg. Compared with a native run.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL %d %s errno=%s\n", __LINE__, #x, strerrorname_np(errno)); exit(1); } } while (0)

static socklen_t mkaddr(int fam, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (fam == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  a->sin6_addr = in6addr_loopback;
  return sizeof *a;
}

static int bound(int fam) {
  int s = socket(fam, SOCK_DGRAM, 0);
  CHECK(s >= 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(fam, 0, &ss);
  CHECK(bind(s, (struct sockaddr *)&ss, l) == 0);
  return s;
}

static int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  CHECK(getsockname(fd, (struct sockaddr *)&ss, &l) == 0);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void pingpong(int fam) {
  int s = bound(fam);
  int port = port_of(s);
  pid_t pid = fork();
  if (pid == 0) {
    char buf[2048];
    for (int i = 0; i < 100; i++) {
      struct sockaddr_storage from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
      CHECK(n >= 0);
      CHECK(sendto(s, buf, n, 0, (struct sockaddr *)&from, fl) == n);
    }
    _exit(0);
  }
  int c = socket(fam, SOCK_DGRAM, 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(fam, port, &ss);
  CHECK(connect(c, (struct sockaddr *)&ss, l) == 0);
  int ok = 0;
  for (int i = 0; i < 100; i++) {
    char msg[1500], back[2048];
    int len = 1 + i * 13;
    memset(msg, 'a' + i % 26, len);
    CHECK(send(c, msg, len, 0) == len);
    ssize_t n = recv(c, back, sizeof back, 0);
    if (n == len && memcmp(msg, back, len) == 0) ok++;
  }
  int st;
  waitpid(pid, &st, 0);
  printf("pingpong fam %d: %d/100, server %d\n", fam, ok, WEXITSTATUS(st));
  close(c);
  close(s);
}

static void semantics(int fam) {
  int a = bound(fam), b = bound(fam);
  struct sockaddr_storage sa;
  socklen_t la = mkaddr(fam, port_of(a), &sa);
  CHECK(sendto(b, "first", 5, 0, (struct sockaddr *)&sa, la) == 5);
  CHECK(sendto(b, "second!", 7, 0, (struct sockaddr *)&sa, la) == 7);
  CHECK(sendto(b, "", 0, 0, (struct sockaddr *)&sa, la) == 0);
  int avail = -1;
  ioctl(a, FIONREAD, &avail);
  printf("FIONREAD %d\n", avail);
  char buf[64];
  ssize_t n = recv(a, buf, 3, MSG_PEEK);
  printf("peek %zd %.3s\n", n, buf);
  n = recv(a, buf, 3, MSG_TRUNC);
  printf("trunc recv %zd\n", n);
  struct iovec iov = {buf, 4};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  n = recvmsg(a, &mh, 0);
  printf("recvmsg %zd flags %#x %.4s\n", n, mh.msg_flags, buf);
  n = recv(a, buf, sizeof buf, MSG_DONTWAIT);
  printf("empty datagram %zd\n", n);
  n = recv(a, buf, sizeof buf, MSG_DONTWAIT);
  printf("nothing left %zd %s\n", n, strerrorname_np(errno));
  // A connected socket takes only its peer's datagrams.
  int c = bound(fam);
  struct sockaddr_storage sb;
  socklen_t lb = mkaddr(fam, port_of(b), &sb);
  CHECK(connect(a, (struct sockaddr *)&sb, lb) == 0);
  struct sockaddr_storage sa2;
  socklen_t la2 = mkaddr(fam, port_of(a), &sa2);
  CHECK(sendto(c, "stranger", 8, 0, (struct sockaddr *)&sa2, la2) == 8);
  CHECK(sendto(b, "friend", 6, 0, (struct sockaddr *)&sa2, la2) == 6);
  n = recv(a, buf, sizeof buf, MSG_DONTWAIT);
  printf("connected receives %zd %.6s\n", n, buf);
  n = recv(a, buf, sizeof buf, MSG_DONTWAIT);
  printf("then %zd %s\n", n, strerrorname_np(errno));
  // To a closed port: the connected socket learns ECONNREFUSED.
  int port = port_of(c);
  close(c);
  int d = socket(fam, SOCK_DGRAM, 0);
  struct sockaddr_storage sc;
  socklen_t lc = mkaddr(fam, port, &sc);
  CHECK(connect(d, (struct sockaddr *)&sc, lc) == 0);
  n = send(d, "x", 1, 0);
  printf("send to closed port %zd\n", n);
  n = recv(d, buf, sizeof buf, MSG_DONTWAIT);
  printf("recv after: %zd %s\n", n, strerrorname_np(errno));
  n = recv(d, buf, sizeof buf, MSG_DONTWAIT);
  printf("recv again: %zd %s\n", n, strerrorname_np(errno));
  n = send(d, "x", 1, 0);
  n = send(d, "x", 1, 0);
  printf("send twice more: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
  // Unconnected send without an address, and getpeername.
  int e = socket(fam, SOCK_DGRAM, 0);
  n = send(e, "x", 1, 0);
  printf("send unconnected: %zd %s\n", n, strerrorname_np(errno));
  struct sockaddr_storage ps;
  socklen_t pl = sizeof ps;
  int r = getpeername(e, (struct sockaddr *)&ps, &pl);
  printf("getpeername unconnected: %d %s\n", r, strerrorname_np(errno));
  r = listen(e, 1);
  printf("listen on UDP: %d %s\n", r, strerrorname_np(errno));
  // sendmmsg / recvmmsg.
  struct mmsghdr mm[3];
  struct iovec iv[3];
  char bufs[3][16];
  for (int i = 0; i < 3; i++) {
    iv[i].iov_base = bufs[i];
    iv[i].iov_len = snprintf(bufs[i], 16, "mmsg-%d", i);
    memset(&mm[i], 0, sizeof mm[i]);
    mm[i].msg_hdr.msg_iov = &iv[i];
    mm[i].msg_hdr.msg_iovlen = 1;
    mm[i].msg_hdr.msg_name = &sa2;
    mm[i].msg_hdr.msg_namelen = la2;
  }
  int f = bound(fam);
  struct sockaddr_storage sf;
  socklen_t lf = mkaddr(fam, port_of(f), &sf);
  for (int i = 0; i < 3; i++) {
    mm[i].msg_hdr.msg_name = &sf;
    mm[i].msg_hdr.msg_namelen = lf;
  }
  printf("sendmmsg %d\n", sendmmsg(e, mm, 3, 0));
  for (int i = 0; i < 3; i++) {
    iv[i].iov_len = 16;
    memset(bufs[i], 0, 16);
    mm[i].msg_hdr.msg_name = NULL;
  }
  int k = recvmmsg(f, mm, 3, MSG_DONTWAIT, NULL);
  printf("recvmmsg %d: %s %s %s lens %u %u %u\n", k, bufs[0], bufs[1], bufs[2], mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
  struct pollfd p = {f, POLLIN | POLLOUT, 0};
  poll(&p, 1, 0);
  printf("poll empty UDP: %#x\n", p.revents);
  close(a);
  close(b);
  close(d);
  close(e);
  close(f);
}

/* MSG_ERRQUEUE reads the error queue only: empty, it is EAGAIN, even with data queued (LTP recv01). */
static void errqueue(int fam) {
  int a = bound(fam), b = bound(fam);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(fam, port_of(b), &ss);
  CHECK(sendto(a, "data", 4, 0, (struct sockaddr *)&ss, l) == 4);
  struct pollfd p = {b, POLLIN, 0};
  CHECK(poll(&p, 1, 5000) == 1);
  char buf[16];
  errno = 0;
  ssize_t n = recv(b, buf, sizeof buf, MSG_ERRQUEUE);
  printf("fam %d: MSG_ERRQUEUE with data queued: %zd %s\n", fam, n, n < 0 ? strerror(errno) : "");
  n = recv(b, buf, sizeof buf, MSG_ERRQUEUE | MSG_DONTWAIT);
  printf("fam %d: MSG_ERRQUEUE|MSG_DONTWAIT: %zd %s\n", fam, n, n < 0 ? strerror(errno) : "");
  n = recv(b, buf, sizeof buf, 0);
  printf("fam %d: the datagram is still there: %zd\n", fam, n);
  close(a);
  close(b);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  errqueue(AF_INET);
  errqueue(AF_INET6);
  pingpong(AF_INET);
  pingpong(AF_INET6);
  semantics(AF_INET);
  semantics(AF_INET6);
  printf("done\n");
  return 0;
}
