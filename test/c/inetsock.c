/* inetsock: TCP and UDP over the loopback (::1, or 127.0.0.1 with argument
 * "4"; "auto": ::1 if the host has it, else 127.0.0.1), the calls servers and clients make, and the errors Linux gives for
 * bad arguments. Run natively and in the sandbox with --network=host (the
 * sockets are host sockets there); ports are random, so only relations
 * between them are printed. */
#define _GNU_SOURCE
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <unistd.h>

static int fam = AF_INET6;

static const char *en(int r) { return r < 0 ? strerrorname_np(errno) : "OK"; }

static socklen_t loaddr(struct sockaddr_storage *ss, int port) {
  memset(ss, 0, sizeof *ss);
  if (fam == AF_INET6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_loopback;
    s6->sin6_port = htons(port);
    return sizeof *s6;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  s4->sin_family = AF_INET;
  s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s4->sin_port = htons(port);
  return sizeof *s4;
}

static int portof(int fd, int peer) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &l) : getsockname(fd, (struct sockaddr *)&ss, &l)) < 0) return -errno;
  return ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
}

static int listener(void) {
  int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_storage ss;
  socklen_t l = loaddr(&ss, 0);
  if (bind(s, (struct sockaddr *)&ss, l) < 0 || listen(s, 16) < 0) {
    printf("listener: %s\n", en(-1));
    exit(1);
  }
  return s;
}

static void on_alarm(int sig) { (void)sig; }

static void tcp(void) {
  int l = listener();
  int lport = portof(l, 0);
  printf("listener port set: %d\n", lport > 0);
  int optv;
  socklen_t ol = sizeof optv;
  getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &optv, &ol);
  printf("SO_ACCEPTCONN %d\n", optv);

  /* A non-blocking connect: EINPROGRESS or at once, then writable and SO_ERROR 0. */
  int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_storage ss;
  socklen_t sl = loaddr(&ss, lport);
  int r = connect(c, (struct sockaddr *)&ss, sl);
  printf("nonblocking connect: %s\n", r == 0 || errno == EINPROGRESS ? "OK or EINPROGRESS" : en(r));
  struct pollfd p = {c, POLLOUT, 0};
  printf("poll writable: %d\n", poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT) != 0);
  int err = -1;
  ol = sizeof err;
  getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &ol);
  printf("SO_ERROR %d\n", err);
  printf("peer port matches: %d\n", portof(c, 1) == lport);

  struct sockaddr_storage pa;
  socklen_t pl = sizeof pa;
  int a = accept4(l, (struct sockaddr *)&pa, &pl, SOCK_CLOEXEC);
  printf("accept4: %s family ok %d len %d\n", en(a), pa.ss_family == fam, pl == (fam == AF_INET6 ? 28 : 16));
  printf("accepted peer is the client: %d\n", portof(a, 1) == portof(c, 0));
  printf("fcntl cloexec: %d\n", (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);

  /* Data both ways, FIONREAD, MSG_PEEK, SIOCOUTQ. */
  const char msg[] = "hello over tcp";
  printf("send: %zd\n", send(c, msg, sizeof msg, 0));
  poll(&(struct pollfd){a, POLLIN, 0}, 1, 5000);
  int avail = 0;
  ioctl(a, FIONREAD, &avail);
  printf("FIONREAD %d\n", avail);
  char buf[256];
  printf("peek: %zd\n", recv(a, buf, 5, MSG_PEEK));
  ssize_t n = recv(a, buf, sizeof buf, 0);
  printf("recv: %zd %s\n", n, buf);
  int outq = -1;
  printf("SIOCOUTQ: %s %d\n", en(ioctl(c, SIOCOUTQ, &outq)), outq >= 0);
  printf("recv nothing (MSG_DONTWAIT): %s\n", en(recv(a, buf, 1, MSG_DONTWAIT)));

  /* A big transfer through a blocking socket: the sender parks, the reader drains. */
  pid_t kid = fork();
  if (kid == 0) {
    char *big = malloc(4 << 20);
    memset(big, 'x', 4 << 20);
    int fl = fcntl(c, F_GETFL);
    fcntl(c, F_SETFL, fl & ~O_NONBLOCK);
    ssize_t s = send(c, big, 4 << 20, 0);
    _exit(s == 4 << 20 ? 0 : 1);
  }
  long total = 0;
  char *rb = malloc(1 << 16);
  while (total < (4 << 20)) {
    n = recv(a, rb, 1 << 16, MSG_WAITALL);
    if (n <= 0) break;
    total += n;
  }
  int st;
  waitpid(kid, &st, 0);
  printf("4 MiB through: %ld, sender status %d\n", total, WEXITSTATUS(st));

  /* Options: allowed ones round-trip, unknown ones are ENOPROTOOPT. */
  int one = 1;
  printf("TCP_NODELAY set: %s\n", en(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)));
  ol = sizeof optv;
  getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &optv, &ol);
  printf("TCP_NODELAY get: %d len %d\n", optv != 0, ol);
  printf("SO_KEEPALIVE set: %s\n", en(setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one)));
  printf("TCP_KEEPIDLE short: %s\n", en(setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &one, 2)));
  struct linger lg = {1, 5};
  printf("SO_LINGER set: %s\n", en(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)));
  struct tcp_info ti;
  ol = sizeof ti;
  memset(&ti, 0, sizeof ti);
  r = getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &ol);
  printf("TCP_INFO: %s state %d len>=104 %d\n", en(r), ti.tcpi_state, ol >= 104);
  printf("unknown TCP option: %s\n", en(setsockopt(c, IPPROTO_TCP, 9999, &one, sizeof one)));
  ol = sizeof optv;
  printf("unknown SOL_SOCKET get: %s\n", en(getsockopt(c, SOL_SOCKET, 9999, &optv, &ol)));
  struct timeval tv = {0, 200000};
  printf("SO_RCVTIMEO: %s\n", en(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
  int fl = fcntl(a, F_GETFL);
  fcntl(a, F_SETFL, fl & ~O_NONBLOCK);
  printf("recv times out: %s\n", en(recv(a, buf, 1, 0)));
  tv.tv_usec = 2000000;
  printf("SO_RCVTIMEO bad usec: %s\n", en(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
  tv.tv_usec = 0;
  setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  /* A blocking recv interrupted by a signal without SA_RESTART. */
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  ualarm(100000, 0);
  printf("interrupted recv: %s\n", en(recv(a, buf, 1, 0)));
  /* With SA_RESTART but a receive timeout set, Linux does not restart: EINTR. */
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  tv.tv_sec = 5;
  setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ualarm(100000, 0);
  printf("interrupted recv with a timeout and SA_RESTART: %s\n", en(recv(a, buf, 1, 0)));
  tv.tv_sec = 0;
  setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  /* Shutdown: the reader sees end of file; a write after SHUT_WR is EPIPE (MSG_NOSIGNAL). */
  printf("shutdown WR: %s\n", en(shutdown(c, SHUT_WR)));
  printf("recv after peer shutdown: %zd\n", recv(a, buf, sizeof buf, 0));
  printf("send after shutdown: %s\n", en(send(c, "x", 1, MSG_NOSIGNAL)));
  printf("shutdown bad how: %s\n", en(shutdown(c, 7)));
  close(a);
  close(c);

  /* Refused: connect to a port nobody listens on (the listener's, once closed). */
  close(l);
  c = socket(fam, SOCK_STREAM, 0);
  sl = loaddr(&ss, lport);
  printf("connect refused: %s\n", en(connect(c, (struct sockaddr *)&ss, sl)));
  close(c);
}

static void udp(void) {
  int s = socket(fam, SOCK_DGRAM, 0);
  int c = socket(fam, SOCK_DGRAM, IPPROTO_UDP);
  struct sockaddr_storage ss;
  socklen_t sl = loaddr(&ss, 0);
  printf("udp bind: %s\n", en(bind(s, (struct sockaddr *)&ss, sl)));
  int port = portof(s, 0);
  sl = loaddr(&ss, port);
  printf("sendto: %zd\n", sendto(c, "datagram one", 12, 0, (struct sockaddr *)&ss, sl));
  char buf[64];
  struct sockaddr_storage from;
  socklen_t fl = sizeof from;
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 5000);
  /* A short buffer: truncated; MSG_TRUNC returns the real length. */
  printf("recv truncated with MSG_TRUNC: %zd\n", recvfrom(s, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &fl));
  printf("from client: %d\n", ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&from)->sin6_port : ((struct sockaddr_in *)&from)->sin_port) == portof(c, 0));

  /* recvmsg reports MSG_TRUNC in msg_flags. */
  sendto(c, "0123456789", 10, 0, (struct sockaddr *)&ss, sl);
  poll(&p, 1, 5000);
  struct iovec iov = {buf, 3};
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  ssize_t n = recvmsg(s, &mh, 0);
  printf("recvmsg: %zd flags trunc %d\n", n, (mh.msg_flags & MSG_TRUNC) != 0);

  /* sendmmsg / recvmmsg on a connected pair. */
  printf("connect udp: %s\n", en(connect(c, (struct sockaddr *)&ss, sl)));
  struct mmsghdr mm[3];
  struct iovec iv[3];
  char bufs[3][16];
  for (int i = 0; i < 3; i++) {
    snprintf(bufs[i], sizeof bufs[i], "msg %d", i);
    iv[i].iov_base = bufs[i];
    iv[i].iov_len = strlen(bufs[i]);
    memset(&mm[i], 0, sizeof mm[i]);
    mm[i].msg_hdr.msg_iov = &iv[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  printf("sendmmsg: %d\n", sendmmsg(c, mm, 3, 0));
  usleep(50000);
  char rbufs[3][16];
  for (int i = 0; i < 3; i++) {
    memset(rbufs[i], 0, 16);
    iv[i].iov_base = rbufs[i];
    iv[i].iov_len = 15;
    mm[i].msg_len = 0;
  }
  int got = recvmmsg(s, mm, 3, MSG_DONTWAIT, NULL);
  printf("recvmmsg: %d", got);
  for (int i = 0; i < got; i++) printf(" [%s %u]", rbufs[i], mm[i].msg_len);
  printf("\n");
  int avail = -1;
  printf("FIONREAD empty: %s %d\n", en(ioctl(s, FIONREAD, &avail)), avail);
  close(s);
  close(c);
}

static void errors(void) {
  int s = socket(fam, SOCK_STREAM, 0);
  struct sockaddr_storage ss;
  socklen_t sl = loaddr(&ss, 0);
  printf("bind short len: %s\n", en(bind(s, (struct sockaddr *)&ss, 8)));
  ss.ss_family = fam == AF_INET6 ? AF_INET : AF_INET6;
  printf("bind wrong family: %s\n", en(bind(s, (struct sockaddr *)&ss, sl)));
  ss.ss_family = AF_UNIX;
  printf("connect wrong family: %s\n", en(connect(s, (struct sockaddr *)&ss, sl)));
  printf("connect len 1: %s\n", en(connect(s, (struct sockaddr *)&ss, 1)));
  printf("bind len 200: %s\n", en(bind(s, (struct sockaddr *)&ss, 200)));
  printf("bind bad pointer: %s\n", en(bind(s, (struct sockaddr *)8, sl)));
  printf("listen on unbound then getsockname: %s port>0 %d\n", en(listen(s, 1)), portof(s, 0) > 0);
  printf("getpeername unconnected: %s\n", strerrorname_np(-portof(s, 1)));
  close(s);
  printf("socket stream/udp: %s\n", en(socket(fam, SOCK_STREAM, IPPROTO_UDP)));
  printf("socket seqpacket: %s\n", en(socket(fam, SOCK_SEQPACKET, 0)));
  printf("socket bad flags: %s\n", en(socket(fam, SOCK_STREAM | 0x10000000, 0)));
  int sv[2];
  printf("socketpair inet: %s\n", en(socketpair(fam, SOCK_STREAM, 0, sv)));
  s = socket(fam, SOCK_DGRAM, 0);
  printf("listen on udp: %s\n", en(listen(s, 1)));
  printf("accept on udp: %s\n", en(accept(s, NULL, NULL)));
  /* SCM_RIGHTS over an inet socket is refused. */
  sl = loaddr(&ss, 9);
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  struct iovec iov = {"x", 1};
  struct msghdr mh = {.msg_name = &ss, .msg_namelen = sl, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  *(int *)CMSG_DATA(cm) = 1;
  printf("sendmsg SCM_RIGHTS: %s\n", en(sendmsg(s, &mh, 0)));
  close(s);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && strcmp(argv[1], "4") == 0) fam = AF_INET;
  if (argc > 1 && strcmp(argv[1], "auto") == 0) {
    /* ::1 unless the host has IPv6 disabled: then 127.0.0.1. */
    struct sockaddr_storage ss;
    socklen_t l = loaddr(&ss, 0);
    int t = socket(AF_INET6, SOCK_DGRAM, 0);
    if (t < 0 || bind(t, (struct sockaddr *)&ss, l) < 0) fam = AF_INET;
    close(t);
  }
  printf("family %s\n", fam == AF_INET6 ? "inet6" : "inet");
  tcp();
  udp();
  errors();
  printf("done\n");
  return 0;
}
