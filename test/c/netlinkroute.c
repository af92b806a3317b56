/* netlinkroute: NETLINK_ROUTE dumps of links, addresses and routes, parsed
 * and printed (without traffic counters), then the protocol's edges: a single
 * link lookup, errors acknowledged with the request echoed, sequence
 * numbers, malformed messages ignored. Compared with native on the host
 * (--network=host) and in a fresh network namespace with lo up (the
 * sandbox's own loopback). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static unsigned seq = 100;

static const char *addrtext(int fam, const void *p, char *buf) {
  return inet_ntop(fam, p, buf, INET6_ADDRSTRLEN) ? buf : "?";
}

static void request(int type, int flags, const void *body, int blen) {
  char buf[256] = {0};
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  h->nlmsg_len = NLMSG_LENGTH(blen);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = ++seq;
  memcpy(NLMSG_DATA(h), body, blen);
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) printf("sendto: %s\n", strerrorname_np(errno));
}

static void link_msg(struct nlmsghdr *h) {
  struct ifinfomsg *i = NLMSG_DATA(h);
  printf("link %d type %d flags %#x", i->ifi_index, i->ifi_type, i->ifi_flags);
  int len = IFLA_PAYLOAD(h);
  for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    unsigned char *d = RTA_DATA(a);
    switch (a->rta_type) {
    case IFLA_IFNAME: printf(" name %s", (char *)d); break;
    case IFLA_MTU: printf(" mtu %u", *(unsigned *)d); break;
    case IFLA_TXQLEN: printf(" qlen %u", *(unsigned *)d); break;
    case IFLA_OPERSTATE: printf(" oper %u", d[0]); break;
    case IFLA_QDISC: printf(" qdisc %s", (char *)d); break;
    case IFLA_ADDRESS:
      printf(" hw");
      for (unsigned k = 0; k < RTA_PAYLOAD(a); k++) printf("%s%02x", k ? ":" : " ", d[k]);
      break;
    }
  }
  printf("\n");
}

static void addr_msg(struct nlmsghdr *h) {
  struct ifaddrmsg *i = NLMSG_DATA(h);
  char b[INET6_ADDRSTRLEN];
  printf("addr if %u family %d /%d scope %d", i->ifa_index, i->ifa_family, i->ifa_prefixlen, i->ifa_scope);
  int len = IFA_PAYLOAD(h);
  for (struct rtattr *a = IFA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
    case IFA_ADDRESS: printf(" address %s", addrtext(i->ifa_family, RTA_DATA(a), b)); break;
    case IFA_LOCAL: printf(" local %s", addrtext(i->ifa_family, RTA_DATA(a), b)); break;
    case IFA_BROADCAST: printf(" brd %s", addrtext(i->ifa_family, RTA_DATA(a), b)); break;
    case IFA_LABEL: printf(" label %s", (char *)RTA_DATA(a)); break;
    case IFA_FLAGS: printf(" flags %#x", *(unsigned *)RTA_DATA(a)); break;
    }
  }
  printf("\n");
}

static void route_msg(struct nlmsghdr *h) {
  struct rtmsg *r = NLMSG_DATA(h);
  char b[INET6_ADDRSTRLEN];
  /* IPv6 multicast and cached routes come and go with traffic: only unicast and local ones. */
  if (r->rtm_type != RTN_UNICAST && r->rtm_type != RTN_LOCAL && r->rtm_type != RTN_BROADCAST) return;
  printf("route family %d table %d type %d proto %d scope %d /%d", r->rtm_family, r->rtm_table, r->rtm_type, r->rtm_protocol, r->rtm_scope, r->rtm_dst_len);
  int len = RTM_PAYLOAD(h);
  for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
    case RTA_DST: printf(" dst %s", addrtext(r->rtm_family, RTA_DATA(a), b)); break;
    case RTA_GATEWAY: printf(" via %s", addrtext(r->rtm_family, RTA_DATA(a), b)); break;
    case RTA_PREFSRC: printf(" src %s", addrtext(r->rtm_family, RTA_DATA(a), b)); break;
    case RTA_OIF: printf(" oif %u", *(unsigned *)RTA_DATA(a)); break;
    case RTA_PRIORITY: printf(" metric %u", *(unsigned *)RTA_DATA(a)); break;
    case RTA_TABLE: printf(" tab %u", *(unsigned *)RTA_DATA(a)); break;
    }
  }
  printf("\n");
}

/* Read replies until DONE or an error/ack; a dump's messages all carry NLM_F_MULTI and our seq. */
static void replies(const char *what) {
  static char buf[32768];
  int msgs = 0, multi = 1, seqok = 1;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      printf("%s: recv %s\n", what, strerrorname_np(errno));
      return;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      seqok &= h->nlmsg_seq == seq;
      if (h->nlmsg_type == NLMSG_DONE) {
        printf("%s: %d messages, multi %d, seq ok %d, done\n", what, msgs, multi, seqok);
        return;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        printf("%s: error %s len %u echoed seq ok %d type %d\n", what, e->error ? strerrorname_np(-e->error) : "0 (ack)", h->nlmsg_len,
               e->msg.nlmsg_seq == seq, e->msg.nlmsg_type);
        return;
      }
      multi &= (h->nlmsg_flags & NLM_F_MULTI) != 0;
      msgs++;
      if (h->nlmsg_type == RTM_NEWLINK) link_msg(h);
      else if (h->nlmsg_type == RTM_NEWADDR) addr_msg(h);
      else if (h->nlmsg_type == RTM_NEWROUTE) route_msg(h);
      if (!(h->nlmsg_flags & NLM_F_MULTI)) {
        printf("%s: single reply seq ok %d\n", what, seqok);
        return;
      }
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  printf("bind short: %s\n", bind(fd, (struct sockaddr *)&sa, 4) < 0 ? strerrorname_np(errno) : "OK");
  sa.nl_family = AF_INET;
  printf("bind wrong family: %s\n", bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? strerrorname_np(errno) : "OK");
  sa.nl_family = AF_NETLINK;
  printf("bind: %s\n", bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? strerrorname_np(errno) : "OK");
  socklen_t sl = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  printf("getsockname: len %u family %d pid is ours %d\n", sl, sa.nl_family, sa.nl_pid == (unsigned)getpid());

  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof ifi);
  replies("links");
  struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
  request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof ifa);
  replies("addrs");
  ifa.ifa_family = AF_INET6;
  request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof ifa);
  replies("inet6 addrs");
  struct rtmsg rt = {.rtm_family = AF_UNSPEC};
  request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, &rt, sizeof rt);
  replies("routes");

  ifi.ifi_index = 1;
  request(RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof ifi);
  replies("link 1");
  ifi.ifi_index = 99999;
  request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi, sizeof ifi);
  replies("link 99999");
  ifa.ifa_family = AF_INET;
  request(RTM_GETADDR, NLM_F_REQUEST, &ifa, sizeof ifa);
  replies("getaddr without dump");
  request(200, NLM_F_REQUEST, &ifa, sizeof ifa);
  replies("type past RTM_MAX");
  request(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, &ifa, sizeof ifa);
  replies("noop with ack");
  request(RTM_GETLINK, NLM_F_ACK | NLM_F_DUMP, &ifi, sizeof ifi);
  replies("not a request, ack asked");

  /* Malformed: a short header, and a length past the datagram: nothing comes back. */
  char junk[64];
  memset(junk, 0xff, sizeof junk);
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  printf("send short: %zd\n", sendto(fd, junk, 8, 0, (struct sockaddr *)&k, sizeof k));
  printf("send huge length: %zd\n", sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&k, sizeof k));
  char rb[64];
  printf("nothing to read: %s\n", recv(fd, rb, sizeof rb, MSG_DONTWAIT) < 0 ? strerrorname_np(errno) : "data");

  /* A dump read with a small buffer: MSG_PEEK|MSG_TRUNC tells the datagram's size. */
  request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof ifi);
  ssize_t want = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
  printf("peeked size positive: %d\n", want > 0);
  replies("links again");

  /* if_nameindex uses netlink in glibc. */
  struct if_nameindex *ni = if_nameindex();
  for (struct if_nameindex *p = ni; p && p->if_index; p++) printf("if_nameindex %u %s\n", p->if_index, p->if_name);
  if_freenameindex(ni);
  printf("if_nametoindex lo %u\n", if_nametoindex("lo"));
  printf("done\n");
  return 0;
}
