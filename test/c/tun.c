/* tun: /dev/net/tun in a fresh network namespace. TUNGETFEATURES;
 * TUNSETIFF with a %d name, TUNGETIFF, refused flag sets; the interface's
 * flags, MTU, queue length and type through the SIOCGIF* ioctls; an address
 * and the up flag by SIOCSIFADDR/SIOCSIFNETMASK/SIOCSIFFLAGS; a UDP
 * datagram sent to an address routed to it read from the fd (IP header
 * fields checked), with and without the 4-byte packet information; a crafted
 * reply written to the fd received on the socket; SIOCSIFMTU within Linux's
 * bounds; writes Linux refuses
 * (empty, a version that is neither 4 nor 6) and ones it takes and drops
 * (huge, malformed); poll and a blocking read; TUNSETPERSIST keeping the device after close and a
 * second fd attaching by name; a persistent device deleted by clearing it;
 * without CAP_NET_ADMIN, EPERM for a new device and attaching to one the
 * caller owns (TUNSETOWNER).
 * Packets that are not IPv4 (Linux's IPv6 autoconfiguration sends some)
 * are skipped. Runs natively in a fresh namespace (unshare --net, loopback
 * up) as in the sandbox; it makes a namespace of its own first. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <unistd.h>

#define P(w, e) do { errno = 0; long r_ = (long)(e); printf("%s: %ld %s\n", w, r_, r_ < 0 ? strerror(errno) : ""); } while (0)

static int sock;

static void show_if(const char *name) {
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, name);
  if (ioctl(sock, SIOCGIFFLAGS, &q) < 0) { printf("%s: SIOCGIFFLAGS %s\n", name, strerror(errno)); return; }
  printf("%s: flags %#x", name, q.ifr_flags & 0xffff);
  ioctl(sock, SIOCGIFMTU, &q);
  printf(" mtu %d", q.ifr_mtu);
  ioctl(sock, SIOCGIFTXQLEN, &q);
  printf(" txqlen %d", q.ifr_qlen);
  ioctl(sock, SIOCGIFHWADDR, &q);
  printf(" type %d\n", q.ifr_hwaddr.sa_family);
}

static void q_mtu(const char *name, int mtu) {
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, name);
  q.ifr_mtu = mtu;
  errno = 0;
  int r = ioctl(sock, SIOCSIFMTU, &q);
  printf("SIOCSIFMTU %d: %d %s\n", mtu, r, r < 0 ? strerror(errno) : "");
  if (r == 0) show_if(name);
}

static uint16_t csum(const void *p, int len, uint32_t sum) {
  const uint8_t *b = p;
  for (int i = 0; i + 1 < len; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (len & 1) sum += b[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/* The next IPv4 packet from fd (others skipped), with pi bytes of packet information before it. */
static int next_v4(int fd, unsigned char *b, int room, int pi) {
  for (int i = 0; i < 64; i++) {
    int n = read(fd, b, room);
    if (n < 0) return -1;
    if (n > pi && b[pi] >> 4 == 4) return n;
  }
  return -1;
}

static void check_udp(const char *what, unsigned char *ip, int n) {
  char s[16], d[16];
  inet_ntop(AF_INET, ip + 12, s, sizeof s);
  inet_ntop(AF_INET, ip + 16, d, sizeof d);
  int ihl = (ip[0] & 15) * 4;
  printf("%s: len %d ihl %d totlen %d ttl %d proto %d df %d src %s dst %s hdrsum %s dport %d payload %.*s\n", what, n, ihl,
         (ip[2] << 8) | ip[3], ip[8], ip[9], (ip[6] & 0x40) != 0, s, d, csum(ip, ihl, 0) == 0 ? "ok" : "bad",
         (ip[ihl + 2] << 8) | ip[ihl + 3], n - ihl - 8, (char *)ip + ihl + 8);
}

static int tun_open(const char *name, int flags, char *out) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) { printf("open: %s\n", strerror(errno)); exit(1); }
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, name);
  r.ifr_flags = flags;
  errno = 0;
  int e = ioctl(fd, TUNSETIFF, &r);
  printf("TUNSETIFF %s %#x: %d %s name %s\n", name, flags, e, e < 0 ? strerror(errno) : "", e < 0 ? "-" : r.ifr_name);
  if (out) strcpy(out, r.ifr_name);
  return fd;
}

static void set_addr(const char *name, const char *addr, const char *mask) {
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, name);
  struct sockaddr_in *a = (void *)&q.ifr_addr;
  a->sin_family = AF_INET;
  inet_pton(AF_INET, addr, &a->sin_addr);
  P("SIOCSIFADDR", ioctl(sock, SIOCSIFADDR, &q));
  inet_pton(AF_INET, mask, &a->sin_addr);
  P("SIOCSIFNETMASK", ioctl(sock, SIOCSIFNETMASK, &q));
  ioctl(sock, SIOCGIFFLAGS, &q);
  q.ifr_flags |= IFF_UP;
  P("SIOCSIFFLAGS up", ioctl(sock, SIOCSIFFLAGS, &q));
}

int main(void) {
  /* A namespace of its own: only a loopback (down), so interface indexes start at 2. */
  if (unshare(CLONE_NEWNET) < 0) { perror("unshare"); return 1; }
  sock = socket(AF_INET, SOCK_DGRAM, 0);
  int fd = open("/dev/net/tun", O_RDWR);
  unsigned feat = 0;
  P("TUNGETFEATURES", ioctl(fd, TUNGETFEATURES, &feat));
  printf("features include TUN NO_PI: %d\n", (feat & (IFF_TUN | IFF_NO_PI)) == (IFF_TUN | IFF_NO_PI));
  struct ifreq g;
  memset(&g, 0, sizeof g);
  P("TUNGETIFF before TUNSETIFF", ioctl(fd, TUNGETIFF, &g));
  P("read before TUNSETIFF", read(fd, &g, sizeof g));
  P("write before TUNSETIFF", write(fd, "E", 1));
  close(fd);

  close(tun_open("bad%d", IFF_TUN | IFF_TAP, NULL));
  close(tun_open("bad%d", 0, NULL));

  char name[IFNAMSIZ];
  fd = tun_open("tsv%d", IFF_TUN | IFF_NO_PI, name);
  memset(&g, 0, sizeof g);
  P("TUNGETIFF", ioctl(fd, TUNGETIFF, &g));
  printf("TUNGETIFF flags %#x name %s\n", (unsigned short)g.ifr_flags, g.ifr_name);
  memset(&g, 0, sizeof g);
  strcpy(g.ifr_name, "other");
  g.ifr_flags = IFF_TUN;
  P("TUNSETIFF again", ioctl(fd, TUNSETIFF, &g));
  show_if(name);
  P("SIOCGIFINDEX", ioctl(sock, SIOCGIFINDEX, (strcpy(g.ifr_name, name), &g)) < 0 ? -1 : g.ifr_ifindex);
  set_addr(name, "10.9.0.1", "255.255.255.0");
  show_if(name);
  q_mtu(name, 1280);
  q_mtu(name, 67);
  q_mtu(name, 65536);
  q_mtu(name, 1500);

  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(4242)};
  inet_pton(AF_INET, "10.9.0.1", &me.sin_addr);
  P("bind 10.9.0.1:4242", bind(u, (void *)&me, sizeof me));
  struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9999)};
  inet_pton(AF_INET, "10.9.0.2", &peer.sin_addr);
  P("sendto 10.9.0.2", sendto(u, "hello", 6, 0, (void *)&peer, sizeof peer));
  unsigned char b[2048];
  int n = next_v4(fd, b, sizeof b, 0);
  if (n > 0) check_udp("read", b, n);
  else printf("read: no IPv4 packet\n");

  /* The reply: addresses and ports swapped, checksums made. */
  unsigned char rep[64];
  memset(rep, 0, sizeof rep);
  const char *msg = "reply!";
  int plen = 20 + 8 + 7;
  rep[0] = 0x45; rep[2] = 0; rep[3] = plen; rep[8] = 33; rep[9] = 17;
  inet_pton(AF_INET, "10.9.0.2", rep + 12);
  inet_pton(AF_INET, "10.9.0.1", rep + 16);
  uint16_t c = csum(rep, 20, 0);
  rep[10] = c >> 8; rep[11] = c & 255;
  unsigned char *udp = rep + 20;
  udp[0] = 9999 >> 8; udp[1] = 9999 & 255; udp[2] = 4242 >> 8; udp[3] = 4242 & 255; udp[5] = 15;
  memcpy(udp + 8, msg, 7);
  unsigned char ph[12];
  memcpy(ph, rep + 12, 8); ph[8] = 0; ph[9] = 17; ph[10] = 0; ph[11] = 15;
  uint32_t s = 0;
  for (int i = 0; i < 12; i += 2) s += (ph[i] << 8) | ph[i + 1];
  c = csum(udp, 15, s);
  udp[6] = c >> 8; udp[7] = c & 255;
  P("write reply", write(fd, rep, plen));
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  char got[32] = {0};
  n = recvfrom(u, got, sizeof got, MSG_DONTWAIT, (void *)&from, &fl);
  printf("recvfrom: %d %s from %s:%d\n", n, n > 0 ? got : strerror(errno), inet_ntoa(from.sin_addr), ntohs(from.sin_port));
  /* A bad UDP checksum: taken by the fd, dropped by the stack. */
  udp[7] ^= 1;
  P("write bad checksum", write(fd, rep, plen));
  n = recvfrom(u, got, sizeof got, MSG_DONTWAIT, NULL, NULL);
  P("recvfrom after bad checksum", n);

  char *big = calloc(1, 1 << 20);
  big[0] = 0x45;
  P("write empty", write(fd, big, 0));
  P("write version 0", write(fd, big + 1, 20));
  P("write 1 byte v6", write(fd, "a", 1));
  P("write truncated v4", write(fd, big, 10));
  P("write 1501", write(fd, big, 1501));
  P("write 65536", write(fd, big, 65536));

  /* poll: readable once a packet waits; a blocking read waits for one from a child. */
  while (read(fd, b, sizeof b) > 0) {}
  struct pollfd pf = {.fd = fd, .events = POLLIN | POLLOUT};
  P("poll empty", poll(&pf, 1, 0));
  printf("poll empty revents %#x\n", pf.revents);
  sendto(u, "p", 2, 0, (void *)&peer, sizeof peer);
  P("poll queued", poll(&pf, 1, 0));
  printf("poll queued revents %#x\n", pf.revents);
  while (read(fd, b, sizeof b) > 0) {}
  fcntl(fd, F_SETFL, 0);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    usleep(50000);
    sendto(u, "late", 5, 0, (void *)&peer, sizeof peer);
    _exit(0);
  }
  do n = read(fd, b, sizeof b); while (n > 0 && b[0] >> 4 != 4);
  if (n > 0) check_udp("blocking read", b, n);
  waitpid(child, NULL, 0);
  fcntl(fd, F_SETFL, O_NONBLOCK);

  /* A short read: the rest of the packet is lost. */
  sendto(u, "0123456789", 10, 0, (void *)&peer, sizeof peer);
  for (int i = 0; i < 64; i++) {
    errno = 0;
    n = read(fd, b, 8);
    if (n < 0 || b[0] >> 4 == 4) break;
  }
  printf("short read: %d %s first %#x\n", n, n < 0 ? strerror(errno) : "", b[0]);
  n = read(fd, b, sizeof b);
  while (n > 0 && b[0] >> 4 != 4) n = read(fd, b, sizeof b);
  P("read after short read", n);

  /* TUNSETPERSIST: the device outlives its fd; another fd attaches by name. */
  P("TUNSETPERSIST 1", ioctl(fd, TUNSETPERSIST, 1));
  close(fd);
  P("sendto while detached", sendto(u, "x", 1, 0, (void *)&peer, sizeof peer));
  fd = tun_open(name, IFF_TUN, NULL);
  sendto(u, "withpi", 7, 0, (void *)&peer, sizeof peer);
  n = next_v4(fd, b, sizeof b, 4);
  if (n > 0) {
    printf("pi flags %#x proto %#x\n", (b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    check_udp("read with pi", b + 4, n - 4);
  } else printf("read with pi: no IPv4 packet\n");
  /* Write with packet information: the header's protocol says IPv4. */
  unsigned char pi[4 + 64] = {0, 0, 0x08, 0x00};
  udp[7] ^= 1;
  memcpy(pi + 4, rep, plen);
  P("write with pi", write(fd, pi, 4 + plen));
  n = recvfrom(u, got, sizeof got, MSG_DONTWAIT, NULL, NULL);
  printf("recvfrom pi reply: %d %s\n", n, n > 0 ? got : strerror(errno));
  P("write pi only", write(fd, pi, 3));
  P("TUNSETPERSIST 0", ioctl(fd, TUNSETPERSIST, 0));
  close(fd);
  usleep(100000);
  show_if(name);
  P("sendto after delete", sendto(u, "x", 1, 0, (void *)&peer, sizeof peer));

  /* Without CAP_NET_ADMIN: no new device, but a persistent one whose owner the caller is may be attached. */
  int pfd = tun_open("own%d", IFF_TUN | IFF_NO_PI, name);
  P("TUNSETOWNER 0", ioctl(pfd, TUNSETOWNER, 0));
  P("TUNSETPERSIST own", ioctl(pfd, TUNSETPERSIST, 1));
  close(pfd);
  fflush(stdout);
  child = fork();
  if (child == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    d[0].effective &= ~(1u << CAP_NET_ADMIN);
    if (syscall(SYS_capset, &h, d) < 0) perror("capset");
    close(tun_open("nocap%d", IFF_TUN, NULL));
    int f = tun_open(name, IFF_TUN, NULL);
    P("TUNSETPERSIST 0 as owner", ioctl(f, TUNSETPERSIST, 0));
    close(f);
    fflush(stdout);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  show_if(name);

  /* Many devices: each a new index, all gone with their fds. */
  int fds[8];
  for (int i = 0; i < 8; i++) {
    fds[i] = open("/dev/net/tun", O_RDWR);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "many%d");
    r.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fds[i], TUNSETIFF, &r) < 0) printf("many %d: %s\n", i, strerror(errno));
  }
  show_if("many7");
  for (int i = 0; i < 8; i++) close(fds[i]);
  usleep(100000);
  show_if("many7");
  printf("done\n");
  return 0;
}
