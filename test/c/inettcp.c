#define _GNU_SOURCE
// TCP over the loopback: echo through a forked server on 127.0.0.1 and ::1,
// many connections, half-close, RST on close with unread data, SO_LINGER 0,
// ECONNREFUSED, EADDRINUSE, non-blocking connect with epoll, MSG_PEEK,
// MSG_WAITALL, names, and option round trips. Output is compared with a
// native run (in a network namespace with lo up).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL %s:%d %s errno=%s\n", __FILE__, __LINE__, #x, strerrorname_np(errno)); exit(1); } } while (0)

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

static int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  CHECK(getsockname(fd, (struct sockaddr *)&ss, &l) == 0);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int listener(int fam, int backlog) {
  int s = socket(fam, SOCK_STREAM, 0);
  CHECK(s >= 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(fam, 0, &ss);
  CHECK(bind(s, (struct sockaddr *)&ss, l) == 0);
  CHECK(listen(s, backlog) == 0);
  return s;
}

static int connect_to(int fam, int port) {
  int c = socket(fam, SOCK_STREAM, 0);
  CHECK(c >= 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(fam, port, &ss);
  CHECK(connect(c, (struct sockaddr *)&ss, l) == 0);
  return c;
}

static void describe(const char *what, int fd, int peer) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &l) : getsockname(fd, (struct sockaddr *)&ss, &l);
  if (r < 0) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    return;
  }
  char buf[64];
  if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof buf);
  else inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof buf);
  printf("%s: family %d addr %s len %d\n", what, ss.ss_family, buf, (int)l);
}

static void echo_server(int s, int conns) {
  for (int i = 0; i < conns; i++) {
    int c = accept(s, NULL, NULL);
    CHECK(c >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
      ssize_t off = 0;
      while (off < n) {
        ssize_t w = write(c, buf + off, n - off);
        CHECK(w > 0);
        off += w;
      }
    }
    CHECK(n == 0);
    close(c);
  }
}

static void echo(int fam) {
  int s = listener(fam, 16);
  int port = port_of(s);
  pid_t pid = fork();
  if (pid == 0) {
    echo_server(s, 1);
    _exit(0);
  }
  close(s);
  int c = connect_to(fam, port);
  describe("peer", c, 1);
  describe("self", c, 0);
  // 1 MiB through the echo, written and read by two processes at once.
  size_t total = 1 << 20;
  char *out = malloc(total), *in = malloc(total);
  for (size_t i = 0; i < total; i++) out[i] = (char)(i * 7 + i / 251);
  pid_t w = fork();
  if (w == 0) {
    size_t off = 0;
    while (off < total) {
      ssize_t n = write(c, out + off, total - off > 100000 ? 100000 : total - off);
      CHECK(n > 0);
      off += n;
    }
    CHECK(shutdown(c, SHUT_WR) == 0);
    _exit(0);
  }
  size_t got = 0;
  ssize_t n;
  while ((n = read(c, in + got, total - got)) > 0) got += n;
  CHECK(n == 0);
  printf("echo fam %d: %zu bytes, %s\n", fam, got, memcmp(in, out, total) == 0 ? "intact" : "CORRUPT");
  int st;
  waitpid(w, &st, 0);
  waitpid(pid, &st, 0);
  printf("server status %d\n", WEXITSTATUS(st));
  close(c);
  free(out);
  free(in);
}

static void many(int fam, int count) {
  int s = listener(fam, 128);
  int port = port_of(s);
  pid_t pid = fork();
  if (pid == 0) {
    echo_server(s, count);
    _exit(0);
  }
  close(s);
  int ok = 0;
  for (int i = 0; i < count; i++) {
    int c = connect_to(fam, port);
    char msg[32], back[32];
    int len = snprintf(msg, sizeof msg, "hello %d", i);
    CHECK(write(c, msg, len) == len);
    CHECK(shutdown(c, SHUT_WR) == 0);
    int got = 0;
    ssize_t n;
    while ((n = read(c, back + got, sizeof back - got)) > 0) got += n;
    if (got == len && memcmp(msg, back, len) == 0) ok++;
    close(c);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("many fam %d: %d/%d ok, server %d\n", fam, ok, count, WEXITSTATUS(st));
}

static void refused(void) {
  int s = listener(AF_INET, 1);
  int port = port_of(s);
  close(s);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(AF_INET, port, &ss);
  int r = connect(c, (struct sockaddr *)&ss, l);
  printf("connect to closed port: %d %s\n", r, strerrorname_np(errno));
  describe("peer after refusal", c, 1);
  close(c);
  c = socket(AF_INET6, SOCK_STREAM, 0);
  l = mkaddr(AF_INET6, port, &ss);
  r = connect(c, (struct sockaddr *)&ss, l);
  printf("connect6 to closed port: %d %s\n", r, strerrorname_np(errno));
  close(c);
}

static void addrinuse(void) {
  int s = listener(AF_INET, 1);
  int port = port_of(s);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(AF_INET, port, &ss);
  int r = bind(t, (struct sockaddr *)&ss, l);
  printf("bind same port: %d %s\n", r, strerrorname_np(errno));
  int one = 1;
  setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  r = bind(t, (struct sockaddr *)&ss, l);
  printf("bind same port, SO_REUSEADDR on one: %d %s\n", r, strerrorname_np(errno));
  close(t);
  // A dual-stack wildcard overlaps 127.0.0.1.
  t = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
  r = bind(t, (struct sockaddr *)&a6, sizeof a6);
  printf("bind [::] same port: %d %s\n", r, strerrorname_np(errno));
  close(t);
  t = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  r = bind(t, (struct sockaddr *)&a6, sizeof a6);
  printf("bind [::] v6only same port: %d %s\n", r, r ? strerrorname_np(errno) : "");
  close(t);
  // Two SO_REUSEPORT listeners share a port.
  int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  l = mkaddr(AF_INET, 0, &ss);
  CHECK(bind(a, (struct sockaddr *)&ss, l) == 0);
  l = mkaddr(AF_INET, port_of(a), &ss);
  r = bind(b, (struct sockaddr *)&ss, l);
  printf("SO_REUSEPORT second bind: %d\n", r);
  printf("listen both: %d %d\n", listen(a, 1), listen(b, 1));
  close(a);
  close(b);
  // bind to an address this host does not have.
  t = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in far = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = inet_addr("192.0.2.1")};
  r = bind(t, (struct sockaddr *)&far, sizeof far);
  printf("bind 192.0.2.1: %d %s\n", r, strerrorname_np(errno));
  r = connect(t, (struct sockaddr *)&far, sizeof far);
  printf("connect 192.0.2.1: %d %s\n", r, strerrorname_np(errno));
  close(t);
  close(s);
}

static void resets(void) {
  int s = listener(AF_INET, 4);
  int port = port_of(s);
  // Close with unread data: the peer gets a reset.
  int c = connect_to(AF_INET, port);
  int a = accept(s, NULL, NULL);
  CHECK(write(c, "unread", 6) == 6);
  usleep(10000);
  close(a);
  usleep(10000);
  char buf[16];
  ssize_t n = read(c, buf, sizeof buf);
  printf("read after peer closed with unread data: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
  n = read(c, buf, sizeof buf);
  printf("read again: %zd\n", n);
  signal(SIGPIPE, SIG_IGN);
  n = write(c, "x", 1);
  printf("write after reset: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
  close(c);
  // SO_LINGER 0: close sends a reset.
  c = connect_to(AF_INET, port);
  a = accept(s, NULL, NULL);
  struct linger lg = {1, 0};
  CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  close(c);
  usleep(10000);
  n = read(a, buf, sizeof buf);
  printf("read after SO_LINGER 0 close: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
  close(a);
  // Half-close: the peer reads EOF and can still write.
  c = connect_to(AF_INET, port);
  a = accept(s, NULL, NULL);
  CHECK(shutdown(c, SHUT_WR) == 0);
  n = read(a, buf, sizeof buf);
  printf("server reads after client SHUT_WR: %zd\n", n);
  CHECK(write(a, "late", 4) == 4);
  n = read(c, buf, sizeof buf);
  printf("client reads after its SHUT_WR: %zd %.4s\n", n, buf);
  n = write(c, "x", 1);
  printf("client writes after SHUT_WR: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
  struct pollfd p = {a, POLLIN | POLLOUT | POLLRDHUP, 0};
  poll(&p, 1, 0);
  printf("server poll: %#x\n", p.revents);
  close(a);
  usleep(10000);
  p.fd = c;
  poll(&p, 1, 0);
  printf("client poll after both closed: %#x\n", p.revents);
  close(c);
  close(s);
}

static void nonblocking(int fam) {
  int s = listener(fam, 4);
  int port = port_of(s);
  int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(fam, port, &ss);
  int r = connect(c, (struct sockaddr *)&ss, l);
  int e = errno;
  printf("nonblocking connect: %d %s\n", r, r ? strerrorname_np(e) : "");
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.fd = c};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == 0);
  struct epoll_event got;
  int k = epoll_wait(ep, &got, 1, 1000);
  printf("epoll: %d events %#x\n", k, got.events);
  int err = -1;
  socklen_t el = sizeof err;
  getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
  printf("SO_ERROR %d\n", err);
  int a = accept4(s, NULL, NULL, SOCK_NONBLOCK);
  CHECK(a >= 0);
  char buf[64];
  ssize_t n = read(a, buf, sizeof buf);
  printf("read empty nonblocking: %zd %s\n", n, strerrorname_np(errno));
  ev.events = EPOLLIN;
  ev.data.fd = a;
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) == 0);
  CHECK(write(c, "ping", 4) == 4);
  k = epoll_wait(ep, &got, 1, 1000);
  printf("epoll after write: %d fd-is-accepted %d events %#x\n", k, got.data.fd == a, got.events);
  int avail = -1;
  ioctl(a, FIONREAD, &avail);
  printf("FIONREAD %d\n", avail);
  n = recv(a, buf, 2, MSG_PEEK);
  printf("peek %zd %.2s\n", n, buf);
  n = recv(a, buf, sizeof buf, 0);
  printf("recv %zd %.4s\n", n, buf);
  // A nonblocking connect to a closed port.
  close(s);
  int d = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
  r = connect(d, (struct sockaddr *)&ss, l);
  e = errno;
  if (r < 0 && e == EINPROGRESS) {
    struct pollfd pf = {d, POLLOUT, 0};
    poll(&pf, 1, 1000);
    el = sizeof err;
    getsockopt(d, SOL_SOCKET, SO_ERROR, &err, &el);
    printf("nonblocking connect to closed port: EINPROGRESS then SO_ERROR %s, poll %#x\n", strerrorname_np(err), pf.revents);
  } else {
    printf("nonblocking connect to closed port: %d %s\n", r, strerrorname_np(e));
  }
  close(d);
  close(a);
  close(c);
  close(ep);
}

static void waitall(void) {
  int s = listener(AF_INET, 4);
  int port = port_of(s);
  int c = connect_to(AF_INET, port);
  int a = accept(s, NULL, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 5; i++) {
      usleep(2000);
      CHECK(write(c, "abcd", 4) == 4);
    }
    _exit(0);
  }
  char buf[32];
  ssize_t n = recv(a, buf, 20, MSG_WAITALL);
  printf("MSG_WAITALL got %zd\n", n);
  waitpid(pid, NULL, 0);
  close(a);
  close(c);
  close(s);
}

static void options(void) {
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  int v;
  socklen_t l = sizeof v;
#define GET(level, name) (l = sizeof v, v = -1, getsockopt(s, level, name, &v, &l), printf("%s = %d (len %d)\n", #name, v, (int)l))
#define SET(level, name, val) (v = val, printf("set %s %d: %d\n", #name, val, setsockopt(s, level, name, &v, sizeof v)))
  GET(SOL_SOCKET, SO_TYPE);
  GET(SOL_SOCKET, SO_DOMAIN);
  GET(SOL_SOCKET, SO_PROTOCOL);
  GET(SOL_SOCKET, SO_ACCEPTCONN);
  GET(SOL_SOCKET, SO_KEEPALIVE);
  SET(SOL_SOCKET, SO_KEEPALIVE, 1);
  GET(SOL_SOCKET, SO_KEEPALIVE);
  SET(SOL_SOCKET, SO_RCVBUF, 10000);
  GET(SOL_SOCKET, SO_RCVBUF);
  SET(SOL_SOCKET, SO_SNDBUF, 1);
  GET(SOL_SOCKET, SO_SNDBUF);
  GET(IPPROTO_TCP, TCP_NODELAY);
  SET(IPPROTO_TCP, TCP_NODELAY, 1);
  GET(IPPROTO_TCP, TCP_NODELAY);
  SET(IPPROTO_TCP, TCP_CORK, 1);
  GET(IPPROTO_TCP, TCP_CORK);
  GET(IPPROTO_TCP, TCP_KEEPIDLE);
  SET(IPPROTO_TCP, TCP_KEEPIDLE, 30);
  GET(IPPROTO_TCP, TCP_KEEPIDLE);
  SET(IPPROTO_TCP, TCP_KEEPIDLE, 0);
  GET(IPPROTO_TCP, TCP_KEEPINTVL);
  GET(IPPROTO_TCP, TCP_KEEPCNT);
  SET(IPPROTO_TCP, TCP_KEEPCNT, 200);
  SET(IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
  GET(IPPROTO_TCP, TCP_DEFER_ACCEPT);
  GET(IPPROTO_TCP, TCP_MAXSEG);
  GET(IPPROTO_IPV6, IPV6_V6ONLY);
  SET(IPPROTO_IPV6, IPV6_V6ONLY, 1);
  GET(IPPROTO_IPV6, IPV6_V6ONLY);
  SET(IPPROTO_IP, IP_TOS, 0x10);
  GET(IPPROTO_IP, IP_TOS);
  struct linger lg = {1, 7};
  printf("set SO_LINGER: %d\n", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  memset(&lg, 0, sizeof lg);
  l = sizeof lg;
  getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l);
  printf("SO_LINGER %d %d len %d\n", lg.l_onoff, lg.l_linger, (int)l);
  struct timeval tv = {2, 500000};
  printf("set SO_RCVTIMEO: %d\n", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  memset(&tv, 0, sizeof tv);
  l = sizeof tv;
  getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
  printf("SO_RCVTIMEO %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
  close(s);
  s = socket(AF_INET, SOCK_STREAM, 0);
  GET(SOL_SOCKET, SO_SNDBUF);
  GET(SOL_SOCKET, SO_RCVBUF);
  int r = getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l);
  printf("IPV6_V6ONLY on AF_INET: %d %s\n", r, strerrorname_np(errno));
  close(s);
  // Connected: TCP_INFO's state and options, TCP_MAXSEG.
  int ls = listener(AF_INET, 4);
  int c = connect_to(AF_INET, port_of(ls));
  int a = accept(ls, NULL, NULL);
  struct tcp_info ti;
  l = sizeof ti;
  CHECK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0);
  printf("TCP_INFO len %d state %d options %#x\n", (int)l, ti.tcpi_state, ti.tcpi_options);
  s = c;
  GET(IPPROTO_TCP, TCP_MAXSEG);
  GET(SOL_SOCKET, SO_ERROR);
  s = ls;
  GET(SOL_SOCKET, SO_ACCEPTCONN);
  close(a);
  close(c);
  close(ls);
  r = socket(AF_INET, SOCK_SEQPACKET, 0);
  printf("socket(AF_INET, SOCK_SEQPACKET): %d %s\n", r, strerrorname_np(errno));
  r = socket(AF_INET, SOCK_STREAM, IPPROTO_UDP);
  printf("socket(AF_INET, SOCK_STREAM, UDP): %d %s\n", r, strerrorname_np(errno));
  int sv[2];
  r = socketpair(AF_INET, SOCK_STREAM, 0, sv);
  printf("socketpair(AF_INET): %d %s\n", r, strerrorname_np(errno));
}

static void dualstack(void) {
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = 0, .sin6_addr = in6addr_any};
  CHECK(bind(s, (struct sockaddr *)&a6, sizeof a6) == 0);
  CHECK(listen(s, 4) == 0);
  int port = port_of(s);
  int c = connect_to(AF_INET, port);
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  int a = accept(s, (struct sockaddr *)&ss, &l);
  CHECK(a >= 0);
  char buf[64];
  inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof buf);
  printf("dual-stack accept from %s (len %d)\n", buf, (int)l);
  describe("accepted self", a, 0);
  close(a);
  close(c);
  // An AF_INET6 client to a mapped address.
  c = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
  printf("connect to mapped: %d\n", connect(c, (struct sockaddr *)&m, sizeof m));
  describe("mapped self", c, 0);
  a = accept(s, NULL, NULL);
  close(a);
  close(c);
  close(s);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *only = argc > 1 ? argv[1] : "all";
#define RUN(name, call) if (!strcmp(only, "all") || !strcmp(only, name)) call
  RUN("echo", (echo(AF_INET), echo(AF_INET6)));
  RUN("many", (many(AF_INET, 200), many(AF_INET6, 50)));
  RUN("refused", refused());
  RUN("addrinuse", addrinuse());
  RUN("resets", resets());
  RUN("nonblocking", (nonblocking(AF_INET), nonblocking(AF_INET6)));
  RUN("waitall", waitall());
  RUN("options", options());
  RUN("dualstack", dualstack());
  printf("done\n");
  return 0;
}
