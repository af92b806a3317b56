/* nlfuzz: hostile NETLINK_ROUTE traffic. Random bytes, short and oversized
 * headers, lengths past the datagram, every message type with random
 * bodies, table changes (EPERM), dumps piled up without reading (EBUSY, then
 * ENOBUFS when the replies outgrow the receive buffer), sends bigger than
 * the send buffer (EMSGSIZE), and bad addresses. Every call must return; the
 * Sentry must answer a plain dump correctly afterwards. Prints a summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)rng;
}

static void drain(int fd) {
  static char b[65536];
  while (recv(fd, b, sizeof b, MSG_DONTWAIT) >= 0 || errno == ENOBUFS) {
  }
}

static int dump_links(int fd) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {{sizeof req, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, 0}, {0}};
  if (send(fd, &req, sizeof req, 0) < 0) return -1;
  static char b[65536];
  int links = 0;
  for (;;) {
    ssize_t n = recv(fd, b, sizeof b, 0);
    if (n < 0) return -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)b; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != 7) continue;
      if (h->nlmsg_type == NLMSG_DONE) return links;
      if (h->nlmsg_type == RTM_NEWLINK) links++;
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (fd < 0) return 1;
  static char buf[300000];
  int errs = 0, oks = 0;
  for (int i = 0; i < 20000; i++) {
    int len = rnd() % 600;
    for (int k = 0; k < len; k++) buf[k] = (char)rnd();
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (len >= 16) {
      switch (i % 5) {
      case 0: h->nlmsg_len = len; break;
      case 1: h->nlmsg_len = 0xffffffffu - (rnd() % 64); break;
      case 2: h->nlmsg_len = rnd() % 16; break;
      default: h->nlmsg_len = 16 + rnd() % (len - 15); break;
      }
      h->nlmsg_type = (i % 3) ? (unsigned short)(16 + rnd() % 112) : (unsigned short)rnd();
      h->nlmsg_flags = (unsigned short)(rnd() | NLM_F_REQUEST);
    }
    if (send(fd, buf, len, MSG_DONTWAIT) < 0) errs++;
    else oks++;
    if (i % 16 == 0) drain(fd);
  }
  drain(fd);
  printf("random sends returned: %d\n", oks + errs == 20000);

  /* A change to the table: EPERM in the ack. */
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {{sizeof req, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 1, 0}, {0}};
  send(fd, &req, sizeof req, 0);
  char rb[256];
  ssize_t n = recv(fd, rb, sizeof rb, 0);
  struct nlmsghdr *eh = (struct nlmsghdr *)rb;
  int err = n >= 20 && eh->nlmsg_type == NLMSG_ERROR ? ((struct nlmsgerr *)NLMSG_DATA(eh))->error : 1;
  printf("RTM_NEWLINK: %s\n", err < 0 ? strerrorname_np(-err) : "no error");

  /* Too big for the send buffer. */
  memset(buf, 0, sizeof buf);
  printf("oversized send: %s\n", send(fd, buf, sizeof buf, 0) < 0 ? strerrorname_np(errno) : "OK");

  /* Dumps piled up without reading: the second is EBUSY; the replies stay bounded. */
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  int busy = 0;
  for (int i = 0; i < 5000; i++) {
    req.h.nlmsg_seq = 1000 + i;
    if (send(fd, &req, sizeof req, 0) < 0) break;
  }
  static char big[65536];
  for (;;) {
    n = recv(fd, big, sizeof big, MSG_DONTWAIT);
    if (n < 0 && errno != ENOBUFS) break;
    for (struct nlmsghdr *h = (struct nlmsghdr *)big; n > 0 && NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
      if (h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error == -EBUSY) busy++;
  }
  printf("piled-up dumps refused with EBUSY: %d\n", busy > 0);

  /* Bad addresses. */
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_pid = 12345};
  printf("send to a user port: %s\n", sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0 ? strerrorname_np(errno) : "OK");
  printf("send bad pointer: %s\n", send(fd, (void *)16, 64, 0) < 0 ? strerrorname_np(errno) : "OK");
  printf("bind bad pointer: %s\n", bind(fd, (struct sockaddr *)16, sizeof sa) < 0 ? strerrorname_np(errno) : "OK");

  /* Many sockets: each gets its own port. */
  int socks[200], made = 0;
  for (int i = 0; i < 200; i++) {
    socks[i] = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    if (socks[i] >= 0) made++;
    struct sockaddr_nl z = {.nl_family = AF_NETLINK};
    bind(socks[i], (struct sockaddr *)&z, sizeof z);
  }
  for (int i = 0; i < 200; i++) close(socks[i]);
  printf("sockets made: %d\n", made);

  drain(fd);
  printf("links after all that: %d\n", dump_links(fd) > 0);
  printf("done\n");
  return 0;
}
