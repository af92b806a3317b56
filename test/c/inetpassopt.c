/* inetpassopt: options Linux 6.16 and later refuse on inet sockets.
 * SO_PASSCRED, SO_PASSPIDFD and SO_PASSSEC are EOPNOTSUPP (get and set;
 * a short value EINVAL and a bad pointer EFAULT first) on UDP, TCP and raw
 * ICMP sockets of both families, so a UDP or TCP recvmsg carries no
 * SCM_CREDENTIALS or SCM_PIDFD; on a netlink socket SO_PASSPIDFD is
 * EOPNOTSUPP. IPV6_PKTINFO with a NULL value is EINVAL (IPv6 options read
 * nothing from NULL: an int option takes 0), with a bad pointer EFAULT. Runs natively in a fresh
 * network namespace with its loopback up. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSSEC
#define SO_PASSSEC 34
#endif

static void pr(const char *w, int r) { printf("%s: %d %s\n", w, r, r < 0 ? strerror(errno) : ""); }

static void recv_cmsgs(int fd) {
  char buf[8], cb[256];
  struct iovec io = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
  pr("recvmsg", (int)recvmsg(fd, &m, 0));
  printf(" controllen %zu flags %d\n", (size_t)m.msg_controllen, m.msg_flags);
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) printf(" cmsg %d %d\n", h->cmsg_level, h->cmsg_type);
}

int main(void) {
  int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
  pr("IPV6_PKTINFO NULL 20", setsockopt(s6, IPPROTO_IPV6, IPV6_PKTINFO, NULL, 20));
  pr("IPV6_PKTINFO NULL 0", setsockopt(s6, IPPROTO_IPV6, IPV6_PKTINFO, NULL, 0));
  pr("IPV6_PKTINFO NULL 4", setsockopt(s6, IPPROTO_IPV6, IPV6_PKTINFO, NULL, 4));
  pr("IPV6_PKTINFO bad 20", setsockopt(s6, IPPROTO_IPV6, IPV6_PKTINFO, (void *)8, 20));
  pr("IPV6_PKTINFO bad 19", setsockopt(s6, IPPROTO_IPV6, IPV6_PKTINFO, (void *)8, 19));
  int on = 1, v6 = -1;
  socklen_t vl = sizeof v6;
  setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  pr("IPV6_V6ONLY NULL 4", setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, NULL, 4));
  getsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &v6, &vl);
  printf(" V6ONLY now %d\n", v6);
  pr("IPV6_V6ONLY NULL 2", setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, NULL, 2));
  close(s6);

  int opts[3] = {SO_PASSCRED, SO_PASSPIDFD, SO_PASSSEC};
  const char *names[3] = {"SO_PASSCRED", "SO_PASSPIDFD", "SO_PASSSEC"};
  int fams[2] = {AF_INET, AF_INET6}, types[3] = {SOCK_DGRAM, SOCK_STREAM, SOCK_RAW};
  for (int f = 0; f < 2; f++)
    for (int ty = 0; ty < 3; ty++) {
      int s = socket(fams[f], types[ty], ty == 2 ? (f ? IPPROTO_ICMPV6 : IPPROTO_ICMP) : 0);
      if (s < 0) { printf("socket %d %d: %s\n", f, ty, strerror(errno)); continue; }
      for (int o = 0; o < 3; o++) {
        int v = 7, one = 1;
        socklen_t l = sizeof v;
        printf("family %d type %d %s\n", fams[f], types[ty], names[o]);
        pr(" get", getsockopt(s, SOL_SOCKET, opts[o], &v, &l));
        pr(" set", setsockopt(s, SOL_SOCKET, opts[o], &one, sizeof one));
        pr(" set short", setsockopt(s, SOL_SOCKET, opts[o], &one, 2));
        pr(" set NULL", setsockopt(s, SOL_SOCKET, opts[o], NULL, 4));
      }
      close(s);
    }

  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  setsockopt(u, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one);
  setsockopt(u, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  bind(u, (void *)&a, sizeof a);
  getsockname(u, (void *)&a, &al);
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  sendto(c, "hi", 2, 0, (void *)&a, sizeof a);
  printf("udp\n");
  recv_cmsgs(u);
  close(u);
  close(c);

  int L = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0;
  bind(L, (void *)&a, sizeof a);
  getsockname(L, (void *)&a, &al);
  listen(L, 1);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (void *)&a, sizeof a);
  int A = accept(L, 0, 0);
  setsockopt(A, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one);
  write(c, "hi", 2);
  printf("tcp\n");
  recv_cmsgs(A);

  int n = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  int v = 7;
  socklen_t l = sizeof v;
  pr("netlink get SO_PASSPIDFD", getsockopt(n, SOL_SOCKET, SO_PASSPIDFD, &v, &l));
  pr("netlink set SO_PASSPIDFD", setsockopt(n, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one));
  pr("netlink set SO_PASSCRED", setsockopt(n, SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
  printf("done\n");
  return 0;
}
