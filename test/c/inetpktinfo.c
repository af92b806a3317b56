/* inetpktinfo: IP_PKTINFO and IPV6_RECVPKTINFO/IPV6_PKTINFO on UDP sockets:
 * the options read back, the control message a datagram is read with (the
 * interface it came in on and its destination), and sendmsg's own
 * IP_PKTINFO/IPV6_PKTINFO (the interface and source of one datagram:
 * unknown interfaces, addresses that are not ours, short messages).
 * Run in a fresh network namespace with lo up (natively), in the sandbox with
 * --network none, and with --network host in such a namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *en(long r) { return r < 0 ? strerrorname_np(errno) : "OK"; }

static int udp(int fam, const char *ip, struct sockaddr_storage *ss, socklen_t *len) {
  int s = socket(fam, SOCK_DGRAM, 0);
  memset(ss, 0, sizeof *ss);
  if (fam == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a->sin_addr);
    *len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    *len = sizeof *a;
  }
  if (bind(s, (struct sockaddr *)ss, *len) < 0) { perror("bind"); exit(1); }
  getsockname(s, (struct sockaddr *)ss, len);
  return s;
}

/* Read one datagram and print its sender and control messages. */
static void show(const char *what, int s) {
  char buf[64], cbuf[256], host[64];
  struct sockaddr_storage from;
  struct iovec iov = { buf, sizeof buf };
  struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  long n = recvmsg(s, &m, MSG_DONTWAIT);
  if (n < 0) { printf("%s: recvmsg %s\n", what, en(n)); return; }
  if (from.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, host, sizeof host);
  else inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, host, sizeof host);
  printf("%s: %ld bytes from %s flags %#x\n", what, n, host, m.msg_flags);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      char a[32], b[32];
      inet_ntop(AF_INET, &pi.ipi_spec_dst, a, sizeof a);
      inet_ntop(AF_INET, &pi.ipi_addr, b, sizeof b);
      printf("  IP_PKTINFO len %zu ifindex %d spec_dst %s addr %s\n", (size_t)c->cmsg_len, pi.ipi_ifindex, a, b);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      char a[64];
      inet_ntop(AF_INET6, &pi.ipi6_addr, a, sizeof a);
      printf("  IPV6_PKTINFO len %zu ifindex %d addr %s\n", (size_t)c->cmsg_len, pi.ipi6_ifindex, a);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      int h;
      memcpy(&h, CMSG_DATA(c), sizeof h);
      printf("  IPV6_HOPLIMIT %d\n", h);
    } else {
      printf("  cmsg level %d type %d len %zu\n", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
    }
  }
}

static long sendinfo(int s, struct sockaddr_storage *to, socklen_t tolen, int level, int type, const void *info, size_t infolen) {
  char cbuf[CMSG_SPACE(32)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { "ping", 4 };
  struct msghdr m = { .msg_name = to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(infolen) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(infolen);
  memcpy(CMSG_DATA(c), info, infolen);
  return sendmsg(s, &m, 0);
}

static void opt(const char *what, int s, int level, int name) {
  int v = -1;
  socklen_t l = sizeof v;
  int r = getsockopt(s, level, name, &v, &l);
  printf("%s: getsockopt %s %d\n", what, en(r), v);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sockaddr_storage ra, sa;
  socklen_t rl, sl;
  int one = 1;

  /* IPv4 */
  int r = udp(AF_INET, "0.0.0.0", &ra, &rl);
  int s = udp(AF_INET, "127.0.0.1", &sa, &sl);
  struct sockaddr_in to = *(struct sockaddr_in *)&ra;
  inet_pton(AF_INET, "127.0.0.3", &to.sin_addr);
  opt("IP_PKTINFO before", r, IPPROTO_IP, IP_PKTINFO);
  sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof to);
  show("v4 without IP_PKTINFO", r);
  printf("setsockopt IP_PKTINFO: %s\n", en(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof one)));
  opt("IP_PKTINFO after", r, IPPROTO_IP, IP_PKTINFO);
  sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof to);
  show("v4 to 127.0.0.3", r);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct in_pktinfo pi = { 0 };
  pi.ipi_ifindex = 1;
  inet_pton(AF_INET, "127.0.0.9", &pi.ipi_spec_dst);
  printf("send IP_PKTINFO lo from 127.0.0.9: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to, sizeof to, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi)));
  show("v4 from 127.0.0.9", r);
  pi.ipi_ifindex = 0;
  inet_pton(AF_INET, "10.1.2.3", &pi.ipi_spec_dst);
  printf("send IP_PKTINFO from 10.1.2.3: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to, sizeof to, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi)));
  show("v4 after a foreign source", r);
  pi.ipi_ifindex = 77;
  pi.ipi_spec_dst.s_addr = 0;
  printf("send IP_PKTINFO ifindex 77: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to, sizeof to, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi)));
  printf("send IP_PKTINFO short: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to, sizeof to, IPPROTO_IP, IP_PKTINFO, &pi, 8)));
  show("v4 after errors", r);
  close(u);
  close(s);
  close(r);

  /* IPv6 */
  r = udp(AF_INET6, "::", &ra, &rl);
  s = udp(AF_INET6, "::1", &sa, &sl);
  struct sockaddr_in6 to6 = *(struct sockaddr_in6 *)&ra;
  to6.sin6_addr = in6addr_loopback;
  opt("IPV6_RECVPKTINFO before", r, IPPROTO_IPV6, IPV6_RECVPKTINFO);
  printf("setsockopt IPV6_RECVPKTINFO: %s\n", en(setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)));
  opt("IPV6_RECVPKTINFO after", r, IPPROTO_IPV6, IPV6_RECVPKTINFO);
  sendto(s, "x", 1, 0, (struct sockaddr *)&to6, sizeof to6);
  show("v6 to ::1", r);
  u = socket(AF_INET6, SOCK_DGRAM, 0);
  struct in6_pktinfo p6 = { 0 };
  p6.ipi6_ifindex = 1;
  printf("send IPV6_PKTINFO lo: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to6, sizeof to6, IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof p6)));
  show("v6 via lo", r);
  p6.ipi6_ifindex = 77;
  printf("send IPV6_PKTINFO ifindex 77: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to6, sizeof to6, IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof p6)));
  p6.ipi6_ifindex = 0;
  inet_pton(AF_INET6, "2001:db8::1", &p6.ipi6_addr);
  printf("send IPV6_PKTINFO from 2001:db8::1: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to6, sizeof to6, IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof p6)));
  printf("send IPV6_PKTINFO short: %s\n", en(sendinfo(u, (struct sockaddr_storage *)&to6, sizeof to6, IPPROTO_IPV6, IPV6_PKTINFO, &p6, 16)));
  show("v6 after errors", r);
  /* A dual-stack receiver with IP_PKTINFO too: an IPv4 datagram comes with IP_PKTINFO. */
  printf("setsockopt IP_PKTINFO on v6: %s\n", en(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof one)));
  printf("setsockopt IPV6_RECVHOPLIMIT: %s\n", en(setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one)));
  int s4 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in t4 = { .sin_family = AF_INET, .sin_port = to6.sin6_port };
  inet_pton(AF_INET, "127.0.0.1", &t4.sin_addr);
  sendto(s4, "x", 1, 0, (struct sockaddr *)&t4, sizeof t4);
  show("v4 to a dual-stack socket", r);
  sendto(s, "x", 1, 0, (struct sockaddr *)&to6, sizeof to6);
  show("v6 to a dual-stack socket", r);
  printf("done\n");
  return 0;
}
