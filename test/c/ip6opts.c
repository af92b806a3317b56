/* ip6opts: IPv6 extension headers on UDP over ::1: the sticky IPV6_HOPOPTS,
 * IPV6_DSTOPTS, IPV6_RTHDRDSTOPTS and IPV6_RTHDR set, read back and checked,
 * the same as sendmsg control messages, and IPV6_RECVHOPOPTS,
 * IPV6_RECVDSTOPTS and IPV6_RECVRTHDR on the receiver; CAP_NET_RAW's part.
 * A segment routing header is received only with seg6_enabled (the test sets it). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
static void dump(const char *what, const unsigned char *p, size_t n) { printf("%s:", what); for (size_t i = 0; i < n; i++) printf(" %02x", p[i]); printf("\n"); }
static void recvone(const char *what, int s) {
  char data[64], ctl[1024];
  struct iovec iov = { data, sizeof data };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(s, &m, MSG_DONTWAIT);
  if (n < 0) { printf("%s: recvmsg errno %d\n", what, errno); return; }
  printf("%s: %zd bytes, flags %x\n", what, n, m.msg_flags);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    char t[32]; snprintf(t, sizeof t, "  cmsg %d/%d", c->cmsg_level, c->cmsg_type);
    dump(t, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
  }
}
static void sticky(int s, const char *what, int name, const void *v, socklen_t len) {
  int rc = setsockopt(s, IPPROTO_IPV6, name, v, len);
  printf("set %s len %u: %d errno %d\n", what, len, rc, rc < 0 ? errno : 0);
  unsigned char out[256]; socklen_t ol = sizeof out;
  rc = getsockopt(s, IPPROTO_IPV6, name, out, &ol);
  printf("  get: %d errno %d len %u\n", rc, rc < 0 ? errno : 0, rc < 0 ? 0 : ol);
  if (rc == 0) dump("  value", out, ol);
}
static ssize_t sendctl(int s, struct sockaddr_in6 *a, int type, const void *v, size_t len, size_t clen) {
  char cbuf[512] = { 0 };
  struct iovec iov = { "m", 1 };
  struct msghdr m = { .msg_name = a, .msg_namelen = sizeof *a, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(len) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IPV6; c->cmsg_type = type; c->cmsg_len = CMSG_LEN(clen);
  memcpy(CMSG_DATA(c), v, len);
  ssize_t r = sendmsg(s, &m, 0);
  printf("sendmsg type %d len %zu/%zu: %zd errno %d\n", type, len, clen, r, r < 0 ? errno : 0);
  return r;
}
int main(void) {
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  socklen_t al = sizeof a;
  int r = socket(AF_INET6, SOCK_DGRAM, 0), s = socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
  if (bind(r, (void *)&a, al) < 0) { perror("bind"); return 1; }
  getsockname(r, (void *)&a, &al);
  printf("recvhopopts: %d\n", setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPOPTS, &one, sizeof one));
  printf("recvdstopts: %d\n", setsockopt(r, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &one, sizeof one));
  printf("recvrthdr: %d\n", setsockopt(r, IPPROTO_IPV6, IPV6_RECVRTHDR, &one, sizeof one));
  int v = -1; socklen_t vl = sizeof v;
  getsockopt(r, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &v, &vl); printf("get recvdstopts: %d\n", v);
  /* A hop-by-hop header: next header (ignored), length 0 (8 bytes), PadN of 4. */
  unsigned char hop[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
  /* A destination options header of 16 bytes: length 1, an unknown skippable option (type 0x1e) of 4, PadN of 6 (Linux drops more than 7 bytes of padding in a row), an empty 0x1e. */
  unsigned char dst[16] = { 0, 1, 0x1e, 4, 0xde, 0xad, 0xbe, 0xef, 1, 4, 0, 0, 0, 0, 0x1e, 0 };
  /* A type 0 routing header (deprecated, RFC 5095) and a type 2 one (Mobile IPv6: one address). */
  unsigned char rt0[24] = { 0, 2, 0, 1 }; rt0[23] = 1;
  unsigned char rt2[24] = { 0, 2, 2, 1 }; rt2[23] = 1;
  /* A segment routing header (type 4): one segment, ::1, none left. */
  unsigned char srh[24] = { 0, 2, 4, 0, 0, 0, 0, 0 }; srh[23] = 1;
  static unsigned char huge[2048];
  huge[1] = 255;
  unsigned char lenbad[8] = { 0, 1, 1, 4, 0, 0, 0, 0 };
  unsigned char longer[16] = { 0, 0, 1, 4, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9 };
  unsigned char empty[1] = { 0 };
  sticky(s, "hopopts", IPV6_HOPOPTS, hop, sizeof hop);
  sticky(s, "dstopts", IPV6_DSTOPTS, dst, sizeof dst);
  sticky(s, "rthdrdstopts", IPV6_RTHDRDSTOPTS, hop, sizeof hop);
  sticky(s, "rthdr type 0", IPV6_RTHDR, rt0, sizeof rt0);
  sticky(s, "rthdr type 2", IPV6_RTHDR, rt2, sizeof rt2);
  sticky(s, "hopopts 2048", IPV6_HOPOPTS, huge, sizeof huge);
  sticky(s, "rthdr srh", IPV6_RTHDR, srh, sizeof srh);
  sendto(s, "s", 1, 0, (void *)&a, al);
  recvone("sticky srh, dstopts, hopopts", r);
  sticky(s, "hopopts odd length", IPV6_HOPOPTS, hop, 6);
  sticky(s, "hopopts 4", IPV6_HOPOPTS, hop, 4);
  sticky(s, "hopopts field too long", IPV6_HOPOPTS, lenbad, sizeof lenbad);
  sticky(s, "hopopts longer than its field", IPV6_HOPOPTS, longer, sizeof longer);
  sendto(s, "a", 1, 0, (void *)&a, al);
  recvone("sticky", r);
  sticky(s, "clear hopopts", IPV6_HOPOPTS, NULL, 0);
  sticky(s, "clear dstopts", IPV6_DSTOPTS, empty, 0);
  sticky(s, "clear rthdrdstopts", IPV6_RTHDRDSTOPTS, NULL, 0);
  sticky(s, "clear rthdr", IPV6_RTHDR, NULL, 0);
  sendto(s, "b", 1, 0, (void *)&a, al);
  recvone("cleared", r);
  sendctl(s, &a, IPV6_DSTOPTS, dst, sizeof dst, sizeof dst);
  recvone("per message dstopts", r);
  sendctl(s, &a, IPV6_HOPOPTS, hop, sizeof hop, sizeof hop);
  recvone("per message hopopts", r);
  sendctl(s, &a, IPV6_RTHDRDSTOPTS, hop, sizeof hop, sizeof hop);
  recvone("per message rthdrdstopts", r);
  sendctl(s, &a, IPV6_RTHDR, rt0, sizeof rt0, sizeof rt0);
  sendctl(s, &a, IPV6_RTHDR, rt2, sizeof rt2, sizeof rt2);
  sendctl(s, &a, IPV6_RTHDR, srh, sizeof srh, sizeof srh);
  recvone("per message rthdr", r);
  sendctl(s, &a, IPV6_HOPOPTS, lenbad, sizeof lenbad, sizeof lenbad);
  sendctl(s, &a, IPV6_HOPOPTS, hop, sizeof hop, 1);
  sendctl(s, &a, IPV6_DSTOPTS, longer, sizeof longer, sizeof longer);
  recvone("per message longer", r);
  recvone("nothing left", r);
  /* TCP takes the sticky options too (set and read back). */
  int t = socket(AF_INET6, SOCK_STREAM, 0);
  sticky(t, "tcp dstopts", IPV6_DSTOPTS, dst, sizeof dst);
  int u4 = socket(AF_INET, SOCK_DGRAM, 0);
  int rc = setsockopt(u4, IPPROTO_IPV6, IPV6_DSTOPTS, dst, sizeof dst);
  printf("ipv4 socket dstopts: %d errno %d\n", rc, rc < 0 ? errno : 0);
  /* Without CAP_NET_RAW in the effective set: the options headers are EPERM, the routing header is not. */
  struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct cd[2];
  syscall(SYS_capget, &ch, cd);
  cd[0].effective &= ~(1u << CAP_NET_RAW);
  printf("capset: %ld\n", syscall(SYS_capset, &ch, cd));
  sticky(s, "no raw: hopopts", IPV6_HOPOPTS, hop, sizeof hop);
  sticky(s, "no raw: clear dstopts", IPV6_DSTOPTS, NULL, 0);
  sticky(s, "no raw: rthdr srh", IPV6_RTHDR, srh, sizeof srh);
  sticky(s, "no raw: rthdr bad", IPV6_RTHDR, rt0, 4);
  sendctl(s, &a, IPV6_HOPOPTS, hop, sizeof hop, sizeof hop);
  sendctl(s, &a, IPV6_DSTOPTS, hop, sizeof hop, 1);
  printf("done\n");
  return 0;
}
