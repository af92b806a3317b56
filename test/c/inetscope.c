/* inetscope: the interface a socket is tied to, as Linux keeps it
 * (sk_bound_dev_if): SO_BINDTODEVICE and SO_BINDTOIFINDEX set and read back
 * (lengths, unknown names and indexes, unbinding, rebinding without
 * CAP_NET_RAW), traffic over a socket bound to lo, and IPv6 scope ids:
 * bind, connect and sendto to a link-local address need one (EINVAL), an
 * unknown one is ENODEV, connect and bind set the bound interface, and
 * getsockname/getpeername report it for link-local addresses only.
 * Run in a fresh network namespace with lo up (natively), in the sandbox
 * with --network none, and with --network host in such a namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

static const char *en(int r) { return r < 0 ? strerrorname_np(errno) : "OK"; }

static void getdev(const char *what, int s, socklen_t len) {
  char name[64];
  memset(name, 'x', sizeof name);
  socklen_t l = len;
  int r = getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &l);
  if (r < 0) printf("%s: getsockopt(SO_BINDTODEVICE, %u): %s\n", what, (unsigned)len, en(r));
  else printf("%s: getsockopt(SO_BINDTODEVICE, %u): len %u name '%.*s'\n", what, (unsigned)len, (unsigned)l, (int)(l ? l - 1 : 0), name);
  int idx = -7;
  l = sizeof idx;
  r = getsockopt(s, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, &l);
  printf("%s: getsockopt(SO_BINDTOIFINDEX): %s %d len %u\n", what, en(r), idx, (unsigned)l);
}

static void setdev(const char *what, int s, const char *name, socklen_t len) {
  int r = setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, len);
  printf("%s: setsockopt(SO_BINDTODEVICE, '%s', %u): %s\n", what, name ? name : "(null)", (unsigned)len, en(r));
}

static void setidx(const char *what, int s, int idx, socklen_t len) {
  int r = setsockopt(s, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, len);
  printf("%s: setsockopt(SO_BINDTOIFINDEX, %d, %u): %s\n", what, idx, (unsigned)len, en(r));
}

static struct sockaddr_in6 a6(const char *ip, int port, unsigned scope) {
  struct sockaddr_in6 s;
  memset(&s, 0, sizeof s);
  s.sin6_family = AF_INET6;
  s.sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &s.sin6_addr);
  s.sin6_scope_id = scope;
  return s;
}

static void names(const char *what, int s) {
  struct sockaddr_in6 a;
  socklen_t l = sizeof a;
  memset(&a, 0, sizeof a);
  int r = getsockname(s, (struct sockaddr *)&a, &l);
  char buf[64];
  inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
  printf("%s: getsockname %s %s scope %u\n", what, en(r), buf, a.sin6_scope_id);
  memset(&a, 0, sizeof a);
  l = sizeof a;
  r = getpeername(s, (struct sockaddr *)&a, &l);
  inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
  printf("%s: getpeername %s %s scope %u\n", what, en(r), r < 0 ? "-" : buf, a.sin6_scope_id);
}

static void dropNetRaw(void) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capget, &h, d) < 0) { perror("capget"); exit(1); }
  d[0].effective &= ~(1u << CAP_NET_RAW);
  if (syscall(SYS_capset, &h, d) < 0) { perror("capset"); exit(1); }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  unsigned lo = if_nametoindex("lo");
  printf("lo index %u\n", lo);
  const int types[] = { SOCK_STREAM, SOCK_DGRAM };
  for (int fi = 0; fi < 2; fi++) for (int ti = 0; ti < 2; ti++) {
    int fam = fi ? AF_INET6 : AF_INET;
    char what[32];
    snprintf(what, sizeof what, "%s/%s", fi ? "inet6" : "inet", ti ? "udp" : "tcp");
    int s = socket(fam, types[ti], 0);
    getdev(what, s, 64);
    getdev(what, s, 15);
    setdev(what, s, "lo", 3);
    getdev(what, s, 16);
    getdev(what, s, 64);
    getdev(what, s, 15); /* bound: shorter than IFNAMSIZ is EINVAL */
    setdev(what, s, "lo", 2); /* no NUL: the name is the bytes given */
    setdev(what, s, "lo\0garbage-after-nul", 21); /* cut at IFNAMSIZ-1 */
    setdev(what, s, "nosuchif0", 10);
    setdev(what, s, "averyveryverylongname", 22);
    getdev(what, s, 16);
    setdev(what, s, "", 0); /* unbinds */
    getdev(what, s, 16);
    setdev(what, s, "lo", 3);
    setdev(what, s, "", 1); /* "" unbinds too */
    getdev(what, s, 16);
    setidx(what, s, (int)lo, 4);
    getdev(what, s, 16);
    setidx(what, s, 99, 4);
    setidx(what, s, -1, 4);
    setidx(what, s, (int)lo, 3);
    setidx(what, s, (int)lo, 8);
    setidx(what, s, 0, 4);
    getdev(what, s, 16);
    int r = setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, NULL, 3);
    printf("%s: SO_BINDTODEVICE from NULL: %s\n", what, en(r));
    close(s);
  }

  /* Traffic over sockets bound to lo. */
  {
    int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
    setdev("udp4 lo", u, "lo", 3);
    setdev("udp4 lo", v, "lo", 3);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    printf("udp4 lo: bind %s\n", en(bind(u, (struct sockaddr *)&a, sizeof a)));
    socklen_t l = sizeof a;
    getsockname(u, (struct sockaddr *)&a, &l);
    printf("udp4 lo: sendto %s\n", en((int)sendto(v, "hi", 2, 0, (struct sockaddr *)&a, sizeof a)));
    char buf[8];
    printf("udp4 lo: recv %s\n", en((int)recv(u, buf, sizeof buf, MSG_DONTWAIT)));
    close(u);
    close(v);
    int ls = socket(AF_INET6, SOCK_STREAM, 0), c = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 s6 = a6("::1", 0, 0);
    setdev("tcp6 lo", ls, "lo", 3);
    printf("tcp6 lo: bind %s\n", en(bind(ls, (struct sockaddr *)&s6, sizeof s6)));
    listen(ls, 4);
    l = sizeof s6;
    getsockname(ls, (struct sockaddr *)&s6, &l);
    setidx("tcp6 lo", c, (int)lo, 4);
    printf("tcp6 lo: connect %s\n", en(connect(c, (struct sockaddr *)&s6, sizeof s6)));
    int a2 = accept(ls, NULL, NULL);
    printf("tcp6 lo: accept %s\n", en(a2));
    getdev("tcp6 lo accepted", a2, 16);
    names("tcp6 lo", c);
    close(a2);
    close(c);
    close(ls);
  }

  /* Scope ids. */
  {
    const char *ll = "fe80::1";
    for (int ti = 0; ti < 2; ti++) {
      const char *what = ti ? "udp6" : "tcp6";
      int s = socket(AF_INET6, types[ti], 0);
      struct sockaddr_in6 a = a6(ll, 0, 0);
      printf("%s: bind fe80::1 no scope: %s\n", what, en(bind(s, (struct sockaddr *)&a, sizeof a)));
      printf("%s: bind fe80::1 24 bytes: %s\n", what, en(bind(s, (struct sockaddr *)&a, 24)));
      a.sin6_scope_id = 99;
      printf("%s: bind fe80::1%%99: %s\n", what, en(bind(s, (struct sockaddr *)&a, sizeof a)));
      getdev(what, s, 16);
      a.sin6_scope_id = lo;
      printf("%s: bind fe80::1%%lo: %s\n", what, en(bind(s, (struct sockaddr *)&a, sizeof a)));
      getdev(what, s, 16);
      close(s);
      s = socket(AF_INET6, types[ti], 0);
      struct sockaddr_in6 b = a6("::1", 0, 77);
      printf("%s: bind ::1 scope 77: %s\n", what, en(bind(s, (struct sockaddr *)&b, sizeof b)));
      getdev(what, s, 16);
      names(what, s);
      close(s);
      s = socket(AF_INET6, types[ti], 0);
      a = a6(ll, 9, 0);
      printf("%s: connect fe80::1 no scope: %s\n", what, en(connect(s, (struct sockaddr *)&a, sizeof a)));
      a.sin6_scope_id = 99;
      printf("%s: connect fe80::1%%99: %s\n", what, en(connect(s, (struct sockaddr *)&a, sizeof a)));
      close(s);
      if (ti == 1) {
        s = socket(AF_INET6, SOCK_DGRAM, 0);
        a = a6(ll, 9, 0);
        printf("udp6: sendto fe80::1 no scope: %s\n", en((int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a)));
        a.sin6_scope_id = 99;
        printf("udp6: sendto fe80::1%%99: %s\n", en((int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a)));
        names("udp6 after sendto", s);
        getdev("udp6 after sendto", s, 16);
        close(s);
        s = socket(AF_INET6, SOCK_DGRAM, 0);
        a = a6(ll, 9, lo);
        printf("udp6: connect fe80::1%%lo: %s\n", en(connect(s, (struct sockaddr *)&a, sizeof a)));
        getdev("udp6 connected", s, 16);
        names("udp6 connected", s);
        a.sin6_scope_id = 99;
        printf("udp6: connect again fe80::1%%99: %s\n", en(connect(s, (struct sockaddr *)&a, sizeof a)));
        close(s);
        s = socket(AF_INET6, SOCK_DGRAM, 0);
        setdev("udp6 bound lo", s, "lo", 3);
        a = a6(ll, 9, 0);
        printf("udp6 bound lo: connect fe80::1 no scope: %s\n", en(connect(s, (struct sockaddr *)&a, sizeof a)));
        names("udp6 bound lo", s);
        close(s);
      }
    }
  }

  /* Without CAP_NET_RAW: a first binding is allowed, changing one is not. */
  dropNetRaw();
  {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    setdev("nocap", s, "lo", 3);
    setdev("nocap", s, "lo", 3);
    setdev("nocap", s, "", 0);
    setidx("nocap", s, 0, 4);
    getdev("nocap", s, 16);
    close(s);
    s = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = a6("fe80::1", 9, 1);
    printf("nocap: connect fe80::1%%lo: %s\n", en(connect(s, (struct sockaddr *)&a, sizeof a)));
    getdev("nocap connected", s, 16);
    close(s);
  }
  printf("done\n");
  return 0;
}
