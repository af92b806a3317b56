/* tstamping: SO_TIMESTAMPING with software stamps on loopback, UDP and TCP:
 * SCM_TIMESTAMPING on receive (three timespecs, only the first set), TX
 * stamps on the error queue (sock_extended_err from SO_EE_ORIGIN_TIMESTAMPING
 * with OPT_ID's counter; OPT_TSONLY without the data; OPT_CMSG's IP_PKTINFO),
 * and the option read back. Times are printed as set or zero only. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifndef SO_TIMESTAMPING_OLD
#define SO_TIMESTAMPING_OLD 37
#endif
static void show(const char *what, struct msghdr *m, ssize_t n) {
  printf("%s: %zd bytes, flags %x\n", what, n, m->msg_flags);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    size_t len = c->cmsg_len - CMSG_LEN(0);
    printf("  cmsg %d/%d len %zu", c->cmsg_level, c->cmsg_type, len);
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING_OLD && len == 48) {
      struct timespec *ts = (void *)CMSG_DATA(c);
      struct timespec now; clock_gettime(CLOCK_REALTIME, &now);
      for (int i = 0; i < 3; i++) printf(" ts%d=%s", i, ts[i].tv_sec == 0 && ts[i].tv_nsec == 0 ? "0" : (ts[i].tv_sec <= now.tv_sec && ts[i].tv_sec > now.tv_sec - 10 ? "now" : "odd"));
    } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) || (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      struct sock_extended_err *e = (void *)CMSG_DATA(c);
      printf(" errno %u origin %u type %u code %u info %u data %u", e->ee_errno, e->ee_origin, e->ee_type, e->ee_code, e->ee_info, e->ee_data);
      struct sockaddr *off = SO_EE_OFFENDER(e);
      printf(" offender family %u", len > sizeof *e ? off->sa_family : 999);
    } else if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo *p = (void *)CMSG_DATA(c);
      printf(" ifindex %d addr %s", p->ipi_ifindex, inet_ntoa(p->ipi_addr));
    } else {
      for (size_t i = 0; i < len && i < 32; i++) printf(" %02x", CMSG_DATA(c)[i]);
    }
    printf("\n");
  }
}
static void rcv(const char *what, int s, int flags) {
  char data[64], ctl[512];
  struct iovec iov = { data, sizeof data };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(s, &m, flags | MSG_DONTWAIT);
  if (n < 0) { printf("%s: errno %d\n", what, errno); return; }
  show(what, &m, n);
}
static void errq(const char *what, int s) {
  struct pollfd p = { s, 0, 0 };
  int n = poll(&p, 1, 1000);
  printf("%s poll: %d revents %x\n", what, n, p.revents);
  rcv(what, s, MSG_ERRQUEUE);
}
static void setts(int s, int flags) {
  int rc = setsockopt(s, SOL_SOCKET, SO_TIMESTAMPING_OLD, &flags, sizeof flags);
  printf("set %x: %d errno %d\n", flags, rc, rc < 0 ? errno : 0);
  int v = -1; socklen_t vl = sizeof v;
  rc = getsockopt(s, SOL_SOCKET, SO_TIMESTAMPING_OLD, &v, &vl);
  printf("  get: %d %x len %u\n", rc, v, vl);
}
static void run(int family) {
  struct sockaddr_storage ss = { 0 };
  socklen_t al;
  if (family == AF_INET) {
    struct sockaddr_in *a = (void *)&ss; a->sin_family = AF_INET; a->sin_addr.s_addr = htonl(INADDR_LOOPBACK); al = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (void *)&ss; a->sin6_family = AF_INET6; a->sin6_addr = in6addr_loopback; al = sizeof *a;
  }
  printf("== family %d\n", family);
  int r = socket(family, SOCK_DGRAM, 0), s = socket(family, SOCK_DGRAM, 0);
  bind(r, (void *)&ss, al); getsockname(r, (void *)&ss, &al);
  setts(r, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
  sendto(s, "a", 1, 0, (void *)&ss, al);
  rcv("udp rx", r, 0);
  setts(r, SOF_TIMESTAMPING_RX_SOFTWARE);
  sendto(s, "b", 1, 0, (void *)&ss, al);
  rcv("udp rx without SOFTWARE", r, 0);
  setts(r, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE);
  sendto(s, "c", 1, 0, (void *)&ss, al);
  rcv("udp rx hardware asked", r, 0);
  setts(s, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID);
  sendto(s, "d1", 2, 0, (void *)&ss, al);
  sendto(s, "d2", 2, 0, (void *)&ss, al);
  errq("udp tx 1", s);
  errq("udp tx 2", s);
  errq("udp tx empty", s);
  setts(s, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY | SOF_TIMESTAMPING_OPT_CMSG);
  sendto(s, "e", 1, 0, (void *)&ss, al);
  errq("udp tx tsonly cmsg", s);
  setts(s, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_CMSG);
  sendto(s, "f", 1, 0, (void *)&ss, al);
  errq("udp tx cmsg", s);
  setts(s, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED);
  sendto(s, "g", 1, 0, (void *)&ss, al);
  errq("udp tx sched 1", s);
  errq("udp tx sched 2", s);
  setts(s, SOF_TIMESTAMPING_OPT_ID);
  setts(s, 1 << 30);
  /* Per-message: SO_TIMESTAMPING as a control message asks for TX stamps of this datagram only. */
  setts(s, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY);
  char cbuf[CMSG_SPACE(4)] = { 0 };
  struct iovec iov = { "h", 1 };
  struct msghdr m = { .msg_name = &ss, .msg_namelen = al, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET; c->cmsg_type = SO_TIMESTAMPING_OLD; c->cmsg_len = CMSG_LEN(4);
  *(int *)CMSG_DATA(c) = SOF_TIMESTAMPING_TX_SOFTWARE;
  printf("sendmsg cmsg: %zd\n", sendmsg(s, &m, 0));
  errq("udp tx per message", s);
  *(int *)CMSG_DATA(c) = SOF_TIMESTAMPING_RX_SOFTWARE;
  ssize_t sr = sendmsg(s, &m, 0);
  printf("sendmsg rx flag: %zd errno %d\n", sr, sr < 0 ? errno : 0);
  errq("udp tx none", s);
  for (int i = 0; i < 8; i++) rcv("drain", r, 0);
  close(r); close(s);
  /* TCP */
  int l = socket(family, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET) ((struct sockaddr_in *)&ss)->sin_port = 0; else ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
  bind(l, (void *)&ss, al); getsockname(l, (void *)&ss, &al); listen(l, 1);
  int cl = socket(family, SOCK_STREAM, 0);
  connect(cl, (void *)&ss, al);
  int sv = accept(l, NULL, NULL);
  setsockopt(cl, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setts(sv, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
  setts(cl, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY);
  write(cl, "xyz", 3);
  usleep(20000);
  rcv("tcp rx", sv, 0);
  errq("tcp tx", cl);
  write(cl, "uvwxyz", 6);
  usleep(20000);
  errq("tcp tx 2", cl);
  setts(cl, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_TX_ACK);
  write(cl, "ab", 2);
  usleep(20000);
  errq("tcp ack 1", cl);
  errq("tcp ack 2", cl);
  rcv("tcp rx 2", sv, 0);
  close(cl); close(sv); close(l);
}
int main(void) {
  /* Linux stamps arriving packets only while some socket wants stamps (a
   * switch it flips in the background): one that keeps it on throughout
   * makes the first reads' stamps certain. */
  int keep = socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
  setsockopt(keep, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one);
  usleep(50000);
  run(AF_INET);
  run(AF_INET6);
  printf("done\n");
  return 0;
}
