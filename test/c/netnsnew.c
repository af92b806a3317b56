/* netnsnew: unshare(CLONE_NEWNET) and setns back. A new network namespace
 * has only a loopback, down (no address, connect is ENETUNREACH) until
 * SIOCSIFFLAGS or RTM_NEWLINK brings it up; its ports and abstract AF_UNIX
 * names are its own; setns returns to the first namespace, whose listeners
 * answer again; net.ipv4.conf.lo.tag is each namespace's own; without
 * CAP_SYS_ADMIN a new one is EPERM. Runs natively in a
 * fresh namespace (unshare --net, loopback up) as the sandbox runs it with
 * --network none. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int r) {
  static char b[64];
  if (r == 0) return "ok";
  snprintf(b, sizeof b, "%s", errno == ENETUNREACH ? "ENETUNREACH" : errno == ECONNREFUSED ? "ECONNREFUSED" : errno == EPERM ? "EPERM"
           : errno == EADDRINUSE ? "EADDRINUSE" : strerror(errno));
  return b;
}

static ino_t ns_ino(void) {
  struct stat st;
  if (stat("/proc/self/ns/net", &st) < 0) { perror("stat"); exit(1); }
  return st.st_ino;
}

/* net.ipv4.conf.lo.tag: each namespace's own (a new one's starts as the first namespace's default). */
static void tag(const char *when, int set) {
  FILE *f = fopen("/proc/sys/net/ipv4/conf/lo/tag", set >= 0 ? "w" : "r");
  int v = -1;
  if (!f) { perror("tag"); exit(1); }
  if (set >= 0) fprintf(f, "%d\n", set);
  else if (fscanf(f, "%d", &v) != 1) v = -2;
  fclose(f);
  if (set < 0) printf("%s: lo tag %d\n", when, v);
}

static int tcp_to(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int r = connect(s, (struct sockaddr *)&a, sizeof a);
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static socklen_t abstract(struct sockaddr_un *u, const char *name) {
  memset(u, 0, sizeof *u);
  u->sun_family = AF_UNIX;
  strcpy(u->sun_path + 1, name);
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int unix_to(const char *name) {
  struct sockaddr_un u;
  socklen_t len = abstract(&u, name);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  int r = connect(s, (struct sockaddr *)&u, len);
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static void lo_flags(const char *when) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &r) < 0) { perror("SIOCGIFFLAGS"); exit(1); }
  printf("%s: lo up=%d loopback=%d running=%d\n", when, !!(r.ifr_flags & IFF_UP), !!(r.ifr_flags & IFF_LOOPBACK), !!(r.ifr_flags & IFF_RUNNING));
  close(s);
}

static void lo_set(int up) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "lo");
  ioctl(s, SIOCGIFFLAGS, &r);
  r.ifr_flags = up ? (r.ifr_flags | IFF_UP) : (r.ifr_flags & ~IFF_UP);
  printf("SIOCSIFFLAGS up=%d: %s\n", up, err(ioctl(s, SIOCSIFFLAGS, &r)));
  close(s);
}

/* `ip link set lo up|down`: RTM_NEWLINK with the up bit in ifi_change; the answer is the ack's error. */
static void lo_netlink(int up) {
  int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  struct { struct nlmsghdr h; struct ifinfomsg i; } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_NEWLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.h.nlmsg_seq = 7;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = if_nametoindex("lo");
  req.i.ifi_flags = up ? IFF_UP : 0;
  req.i.ifi_change = IFF_UP;
  if (send(s, &req, sizeof req, 0) < 0) { perror("send"); exit(1); }
  char buf[4096];
  ssize_t n = recv(s, buf, sizeof buf, 0);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (n < (ssize_t)sizeof *h || h->nlmsg_type != NLMSG_ERROR) { printf("netlink: no ack\n"); exit(1); }
  printf("RTM_NEWLINK up=%d: error %d\n", up, ((struct nlmsgerr *)NLMSG_DATA(h))->error);
  close(s);
}

static void interfaces(const char *when) {
  struct if_nameindex *l = if_nameindex(), *p;
  printf("%s: interfaces", when);
  for (p = l; p && p->if_index; p++) printf(" %s", p->if_name);
  printf("\n");
  if_freenameindex(l);
  FILE *f = fopen("/proc/net/dev", "r");
  char line[512];
  int n = 0;
  while (f && fgets(line, sizeof line, f)) n++;
  if (f) fclose(f);
  printf("%s: /proc/net/dev has %d lines\n", when, n);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  /* A listener and an abstract name in the first namespace. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&a, &al) < 0) { perror("listen"); return 1; }
  int port = ntohs(a.sin_port);
  struct sockaddr_un u;
  socklen_t ul = abstract(&u, "tsvisor-netnsnew");
  int ul_s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(ul_s, (struct sockaddr *)&u, ul) < 0 || listen(ul_s, 4) < 0) { perror("unix listen"); return 1; }
  printf("first: tcp connect %s, unix connect %s\n", err(tcp_to(port)), err(unix_to("tsvisor-netnsnew")));
  tag("first", 7);
  int first = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ino_t first_ino = ns_ino();

  printf("unshare(CLONE_NEWNET): %s\n", err(unshare(CLONE_NEWNET)));
  printf("namespace changed: %s\n", ns_ino() != first_ino ? "yes" : "no");
  interfaces("new");
  tag("new", -1);
  lo_flags("new");
  printf("new, lo down: tcp connect %s\n", err(tcp_to(port)));
  /* The port is free here: the first namespace's listener is not in this one. */
  int b = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in same = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  printf("new: bind the same port %s\n", err(bind(b, (struct sockaddr *)&same, sizeof same)));
  lo_set(1);
  lo_flags("after SIOCSIFFLAGS");
  printf("new, lo up: tcp connect %s, unix connect %s\n", err(tcp_to(port)), err(unix_to("tsvisor-netnsnew")));
  int ul2 = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("new: bind the same abstract name %s\n", err(bind(ul2, (struct sockaddr *)&u, ul)));
  listen(b, 4);
  printf("new: tcp connect to its own listener %s\n", err(tcp_to(port)));
  lo_netlink(0);
  lo_flags("after RTM_NEWLINK down");
  lo_netlink(1);
  lo_flags("after RTM_NEWLINK up");

  printf("setns(first): %s\n", err(setns(first, CLONE_NEWNET)));
  printf("back in the first: %s\n", ns_ino() == first_ino ? "yes" : "no");
  interfaces("first");
  tag("first", -1);
  printf("first again: tcp connect %s, unix connect %s\n", err(tcp_to(port)), err(unix_to("tsvisor-netnsnew")));

  /* Without CAP_SYS_ADMIN (and CAP_NET_ADMIN), neither a new namespace nor a change of the loopback. */
  pid_t c = fork();
  if (c == 0) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) < 0) { perror("capset"); _exit(1); }
    printf("no caps: unshare(CLONE_NEWNET) %s\n", err(unshare(CLONE_NEWNET)));
    printf("no caps: setns(first) %s\n", err(setns(first, CLONE_NEWNET)));
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    ioctl(s, SIOCGIFFLAGS, &r);
    printf("no caps: SIOCSIFFLAGS %s\n", err(ioctl(s, SIOCSIFFLAGS, &r)));
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  printf("done\n");
  return 0;
}
