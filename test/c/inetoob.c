#define _GNU_SOURCE
// TCP urgent data as Linux does it (tcp(7) "Out-of-band data"): one byte,
// the last of a send(MSG_OOB), taken out of the stream unless SO_OOBINLINE;
// reads stop at the mark, SIOCATMARK, FIONREAD up to the mark, POLLPRI and
// select's exception set, EPOLLPRI, recv(MSG_OOB) with MSG_PEEK and with no
// room, a newer urgent byte turning the older one into ordinary data, SIGURG
// to the F_SETOWN owner, and the errors of MSG_OOB where it means nothing.
// Over 127.0.0.1 and ::1; output compared with a native run in a network
// namespace with lo up.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

static int lsock = -1;
static int lfam = 0;

/* A connected pair: c (the client) and *a (accepted), with TCP_NODELAY on c. */
static int pair(int fam, int *a) {
  if (lfam != fam) {
    if (lsock >= 0) close(lsock);
    lsock = socket(fam, SOCK_STREAM, 0);
    CHECK(lsock >= 0);
    struct sockaddr_storage ss;
    socklen_t l = mkaddr(fam, 0, &ss);
    CHECK(bind(lsock, (struct sockaddr *)&ss, l) == 0);
    CHECK(listen(lsock, 8) == 0);
    lfam = fam;
  }
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  CHECK(getsockname(lsock, (struct sockaddr *)&ss, &l) == 0);
  int c = socket(fam, SOCK_STREAM, 0);
  CHECK(c >= 0);
  CHECK(connect(c, (struct sockaddr *)&ss, l) == 0);
  *a = accept(lsock, NULL, NULL);
  CHECK(*a >= 0);
  int one = 1;
  CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
  return c;
}

/* Wait until fd has urgent data pending (POLLPRI), or 2 s. */
static void wait_pri(int fd) {
  struct pollfd p = {fd, POLLPRI, 0};
  poll(&p, 1, 2000);
}

/* Wait until fd has n bytes before the mark or to read. */
static void wait_bytes(int fd, int n) {
  for (int i = 0; i < 200; i++) {
    int q = 0;
    ioctl(fd, FIONREAD, &q);
    if (q >= n) return;
    usleep(10000);
  }
}

static void show_recv(const char *what, int fd, size_t len, int flags) {
  char buf[64];
  ssize_t n = recv(fd, buf, len, flags);
  if (n < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: %zd \"%.*s\"\n", what, n, (int)n, buf);
}

static void show_send(const char *what, int fd, const char *buf, size_t len, int flags) {
  ssize_t n = send(fd, buf, len, flags);
  if (n < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: %zd\n", what, n);
}

static void show_mark(const char *what, int fd) {
  int m = -1, q = -1;
  int r1 = ioctl(fd, SIOCATMARK, &m);
  int r2 = ioctl(fd, FIONREAD, &q);
  printf("%s: atmark %d%s inq %d%s\n", what, m, r1 < 0 ? " (failed)" : "", q, r2 < 0 ? " (failed)" : "");
}

static void show_poll(const char *what, int fd) {
  struct pollfd p = {fd, POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND, 0};
  poll(&p, 1, 0);
  printf("%s: poll %#x\n", what, p.revents);
}

static void basic(int fam) {
  printf("-- basic %s\n", fam == AF_INET ? "ipv4" : "ipv6");
  int a, c = pair(fam, &a);
  show_mark("fresh", a);
  show_recv("recv OOB with none", a, 1, MSG_OOB);
  show_recv("recv OOB|DONTWAIT with none", a, 1, MSG_OOB | MSG_DONTWAIT);
  CHECK(send(c, "abc", 3, 0) == 3);
  show_send("send OOB", c, "X", 1, MSG_OOB);
  CHECK(send(c, "def", 3, 0) == 3);
  wait_pri(a);
  wait_bytes(a, 3);
  usleep(20000);
  show_poll("urgent pending", a);
  show_mark("before reading", a);
  show_recv("recv stops at the mark", a, 64, 0);
  show_mark("at the mark", a);
  show_poll("at the mark", a);
  show_recv("recv OOB|PEEK", a, 1, MSG_OOB | MSG_PEEK);
  show_recv("recv OOB", a, 1, MSG_OOB);
  show_recv("recv OOB again", a, 1, MSG_OOB);
  show_poll("after OOB read", a);
  show_mark("after OOB read", a);
  show_recv("recv the rest", a, 64, 0);
  show_mark("after the rest", a);
  close(c);
  close(a);
}

/* The urgent byte not read out of band: a read at the mark skips it. */
static void skipped(void) {
  printf("-- skipped\n");
  int a, c = pair(AF_INET, &a);
  CHECK(send(c, "ab", 2, 0) == 2);
  CHECK(send(c, "Y", 1, MSG_OOB) == 1);
  CHECK(send(c, "cd", 2, 0) == 2);
  wait_pri(a);
  wait_bytes(a, 2);
  usleep(20000);
  show_recv("first read", a, 64, 0);
  show_recv("second read", a, 64, 0);
  show_mark("past the mark", a);
  show_recv("recv OOB after passing it", a, 1, MSG_OOB);
  close(c);
  close(a);
}

/* Only the last byte of a MSG_OOB send is urgent. */
static void multibyte(void) {
  printf("-- multibyte\n");
  int a, c = pair(AF_INET, &a);
  show_send("send OOB hello", c, "hello", 5, MSG_OOB);
  wait_pri(a);
  wait_bytes(a, 4);
  usleep(20000);
  show_mark("after hello", a);
  show_recv("read", a, 64, 0);
  show_mark("at the mark", a);
  show_recv("recv OOB", a, 8, MSG_OOB);
  show_poll("drained", a);
  close(c);
  close(a);
}

/* SO_OOBINLINE: the byte stays in the stream, MSG_OOB is EINVAL, reads still stop at the mark. */
static void inline_mode(void) {
  printf("-- inline\n");
  int a, c = pair(AF_INET, &a);
  int one = 1;
  CHECK(setsockopt(a, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one) == 0);
  CHECK(send(c, "abc", 3, 0) == 3);
  CHECK(send(c, "X", 1, MSG_OOB) == 1);
  CHECK(send(c, "def", 3, 0) == 3);
  wait_pri(a);
  wait_bytes(a, 7);
  usleep(20000);
  show_poll("inline pending", a);
  show_mark("inline before", a);
  show_recv("recv OOB inline", a, 1, MSG_OOB);
  show_recv("inline read", a, 64, 0);
  show_mark("inline at the mark", a);
  show_recv("inline read 2", a, 64, 0);
  show_mark("inline after", a);
  close(c);
  close(a);
}

/* A second urgent byte before the first was read: the first becomes ordinary data. */
static void newer(void) {
  printf("-- newer\n");
  int a, c = pair(AF_INET, &a);
  CHECK(send(c, "a", 1, 0) == 1);
  CHECK(send(c, "1", 1, MSG_OOB) == 1);
  CHECK(send(c, "b", 1, 0) == 1);
  CHECK(send(c, "2", 1, MSG_OOB) == 1);
  CHECK(send(c, "c", 1, 0) == 1);
  wait_pri(a);
  wait_bytes(a, 3);
  usleep(20000);
  show_mark("two marks", a);
  show_recv("read", a, 64, 0);
  show_mark("at the second mark", a);
  show_recv("recv OOB", a, 1, MSG_OOB);
  show_recv("read rest", a, 64, 0);
  close(c);
  close(a);
}

/* At the mark with the urgent byte read: another read that finds nothing beyond. */
static void markonly(void) {
  printf("-- mark only\n");
  int a, c = pair(AF_INET, &a);
  CHECK(send(c, "Z", 1, MSG_OOB) == 1);
  wait_pri(a);
  usleep(20000);
  show_poll("only urgent", a);
  show_mark("only urgent", a);
  show_recv("read DONTWAIT", a, 64, MSG_DONTWAIT);
  show_mark("after the read", a);
  show_recv("recv OOB", a, 1, MSG_OOB);
  CHECK(send(c, "q", 1, 0) == 1);
  wait_bytes(a, 1);
  show_recv("read after", a, 64, 0);
  close(c);
  close(a);
}

/* recvmsg(MSG_OOB) into no room: MSG_TRUNC; and the flags it reports. */
static void truncated(void) {
  printf("-- truncated\n");
  int a, c = pair(AF_INET, &a);
  CHECK(send(c, "W", 1, MSG_OOB) == 1);
  wait_pri(a);
  usleep(20000);
  struct msghdr m;
  memset(&m, 0, sizeof m);
  ssize_t n = recvmsg(a, &m, MSG_OOB | MSG_PEEK);
  printf("recvmsg OOB|PEEK no iov: %zd flags %#x\n", n, m.msg_flags);
  char ch = 0;
  struct iovec iov = {&ch, 1};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_flags = 0;
  n = recvmsg(a, &m, MSG_OOB);
  printf("recvmsg OOB: %zd '%c' flags %#x\n", n, ch, m.msg_flags);
  close(c);
  close(a);
}

static volatile sig_atomic_t urgs;
static void on_urg(int s) {
  (void)s;
  urgs++;
}

/* SIGURG goes to the owner F_SETOWN named, without O_ASYNC; select and epoll report it. */
static void signals(void) {
  printf("-- sigurg\n");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_urg;
  sigaction(SIGURG, &sa, NULL);
  int a, c = pair(AF_INET, &a);
  CHECK(send(c, "A", 1, MSG_OOB) == 1);
  wait_pri(a);
  usleep(20000);
  printf("SIGURG without an owner: %d\n", (int)urgs);
  CHECK(recv(a, &(char){0}, 1, MSG_OOB) == 1);
  CHECK(fcntl(a, F_SETOWN, getpid()) == 0);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLPRI | EPOLLET, .data.u32 = 7};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) == 0);
  CHECK(send(c, "B", 1, MSG_OOB) == 1);
  wait_pri(a);
  usleep(20000);
  printf("SIGURG with an owner: %d\n", (int)urgs);
  struct epoll_event got;
  int k = epoll_wait(ep, &got, 1, 1000);
  printf("epoll: %d events %#x data %u\n", k, k > 0 ? got.events : 0, k > 0 ? got.data.u32 : 0);
  fd_set r, w, x;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&x);
  FD_SET(a, &r);
  FD_SET(a, &x);
  struct timeval tv = {0, 0};
  k = select(a + 1, &r, &w, &x, &tv);
  printf("select: %d read %d except %d\n", k, FD_ISSET(a, &r) != 0, FD_ISSET(a, &x) != 0);
  CHECK(recv(a, &(char){0}, 1, MSG_OOB) == 1);
  FD_ZERO(&x);
  FD_SET(a, &x);
  k = select(a + 1, NULL, NULL, &x, &tv);
  printf("select after OOB read: %d\n", k);
  close(ep);
  close(c);
  close(a);
  signal(SIGURG, SIG_DFL);
}

/* Urgent data after EOF, from the other direction, and on sockets where MSG_OOB means nothing. */
static void errors(void) {
  printf("-- errors\n");
  int a, c = pair(AF_INET, &a);
  CHECK(send(a, "R", 1, MSG_OOB) == 1);
  wait_pri(c);
  usleep(20000);
  show_mark("client side", c);
  show_recv("client recv OOB", c, 1, MSG_OOB);
  CHECK(shutdown(c, SHUT_WR) == 0);
  show_send("send OOB after SHUT_WR", c, "x", 1, MSG_OOB | MSG_NOSIGNAL);
  show_recv("server reads EOF", a, 64, 0);
  show_recv("server recv OOB after EOF", a, 1, MSG_OOB);
  show_send("send OOB empty", a, "", 0, MSG_OOB);
  close(c);
  close(a);
  int m = -1;
  int r = ioctl(lsock, SIOCATMARK, &m);
  printf("SIOCATMARK on a listener: %d %s %d\n", r, r < 0 ? strerrorname_np(errno) : "", m);
  show_recv("recv OOB on a listener", lsock, 1, MSG_OOB);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_storage ss;
  socklen_t l = mkaddr(AF_INET, 9, &ss);
  CHECK(connect(u, (struct sockaddr *)&ss, l) == 0);
  show_send("udp send OOB", u, "x", 1, MSG_OOB);
  // UDP ignores MSG_OOB on receive: an ordinary (here non-blocking) read.
  show_recv("udp recv OOB", u, 1, MSG_OOB | MSG_DONTWAIT);
  r = ioctl(u, SIOCATMARK, &m);
  printf("udp SIOCATMARK: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
  close(u);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  show_recv("unconnected recv OOB", t, 1, MSG_OOB);
  show_send("unconnected send OOB", t, "x", 1, MSG_OOB | MSG_NOSIGNAL);
  r = ioctl(t, SIOCATMARK, &m);
  printf("unconnected SIOCATMARK: %d %d\n", r, m);
  close(t);
}

/* Through a forked peer that blocks in read: the urgent byte wakes nothing by itself but POLLPRI. */
static void forked(void) {
  printf("-- forked\n");
  int a, c = pair(AF_INET6, &a);
  pid_t pid = fork();
  if (pid == 0) {
    close(a);
    for (int i = 0; i < 3; i++) {
      char b[8];
      snprintf(b, sizeof b, "%d", i);
      CHECK(send(c, "data", 4, 0) == 4);
      CHECK(send(c, b, 1, MSG_OOB) == 1);
      usleep(20000);
    }
    _exit(0);
  }
  close(c);
  int got = 0;
  char stream[64];
  int sl = 0;
  for (int tries = 0; tries < 100 && got < 3; tries++) {
    struct pollfd p = {a, POLLPRI | POLLIN, 0};
    poll(&p, 1, 2000);
    int mark = 0;
    ioctl(a, SIOCATMARK, &mark);
    if (mark) {
      char ch;
      if (recv(a, &ch, 1, MSG_OOB) == 1) {
        printf("oob %c\n", ch);
        got++;
        continue;
      }
    }
    ssize_t n = recv(a, stream + sl, sizeof stream - sl, MSG_DONTWAIT);
    if (n > 0) sl += n;
  }
  ssize_t n;
  while ((n = recv(a, stream + sl, sizeof stream - sl, 0)) > 0) sl += n;
  printf("stream: %.*s\n", sl, stream);
  int st;
  waitpid(pid, &st, 0);
  close(a);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  basic(AF_INET);
  basic(AF_INET6);
  skipped();
  multibyte();
  inline_mode();
  newer();
  markonly();
  truncated();
  signals();
  errors();
  forked();
  printf("done\n");
  return 0;
}
