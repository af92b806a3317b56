/* tap: a TAP device (IFF_TAP | IFF_NO_PI) in a namespace of its own.
 * Its Ethernet address (locally administered), type and flags; an address
 * and up; a UDP datagram to a neighbour starts with an ARP request read
 * from the fd (fields checked), the crafted ARP reply written back lets the
 * datagram out as a frame to the neighbour's address; a crafted reply frame
 * is received on the socket, a frame to another host's address is not; an
 * ARP request for the device's address is answered; short frames are
 * EINVAL. Frames that are neither ARP nor IPv4 (Linux's IPv6
 * autoconfiguration) are skipped. Runs natively in a fresh namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define P(w, e) do { errno = 0; long r_ = (long)(e); printf("%s: %ld %s\n", w, r_, r_ < 0 ? strerror(errno) : ""); } while (0)

static const unsigned char PEER[6] = {0x02, 0, 0, 0, 0, 0x22};
static unsigned char mine[6];

/* The next frame of type (ARP 0x806 or IPv4 0x800), others skipped. */
static int next(int fd, unsigned char *b, int room, int type) {
  for (int i = 0; i < 64; i++) {
    int n = read(fd, b, room);
    if (n < 0) { usleep(10000); continue; }
    if (n >= 14 && ((b[12] << 8) | b[13]) == type) return n;
  }
  return -1;
}

static uint16_t csum(const void *p, int len, uint32_t sum) {
  const uint8_t *b = p;
  for (int i = 0; i + 1 < len; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (len & 1) sum += b[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

static void arp_show(const char *what, unsigned char *f) {
  char spa[16], tpa[16];
  inet_ntop(AF_INET, f + 28, spa, sizeof spa);
  inet_ntop(AF_INET, f + 38, tpa, sizeof tpa);
  printf("%s: dst %s src mine %d op %d sha mine %d spa %s tha %02x%02x%02x%02x%02x%02x tpa %s\n", what,
         memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0 ? "broadcast" : memcmp(f, PEER, 6) == 0 ? "peer" : "other", memcmp(f + 6, mine, 6) == 0,
         (f[20] << 8) | f[21], memcmp(f + 22, mine, 6) == 0, spa, f[32], f[33], f[34], f[35], f[36], f[37], tpa);
}

int main(void) {
  if (unshare(CLONE_NEWNET) < 0) { perror("unshare"); return 1; }
  int sock = socket(AF_INET, SOCK_DGRAM, 0);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "tap%d");
  r.ifr_flags = IFF_TAP | IFF_NO_PI;
  P("TUNSETIFF tap", ioctl(fd, TUNSETIFF, &r));
  printf("name %s\n", r.ifr_name);
  struct ifreq g;
  memset(&g, 0, sizeof g);
  ioctl(fd, TUNGETIFF, &g);
  printf("TUNGETIFF flags %#x\n", (unsigned short)g.ifr_flags);
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, r.ifr_name);
  ioctl(sock, SIOCGIFHWADDR, &q);
  memcpy(mine, q.ifr_hwaddr.sa_data, 6);
  printf("hwaddr type %d local %d unicast %d\n", q.ifr_hwaddr.sa_family, (mine[0] & 2) != 0, (mine[0] & 1) == 0);
  ioctl(sock, SIOCGIFFLAGS, &q);
  printf("flags %#x\n", q.ifr_flags & 0xffff);
  struct sockaddr_in *a = (void *)&q.ifr_addr;
  a->sin_family = AF_INET;
  inet_pton(AF_INET, "10.11.0.1", &a->sin_addr);
  P("SIOCSIFADDR", ioctl(sock, SIOCSIFADDR, &q));
  inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
  P("SIOCSIFNETMASK", ioctl(sock, SIOCSIFNETMASK, &q));
  ioctl(sock, SIOCGIFFLAGS, &q);
  q.ifr_flags |= IFF_UP;
  P("SIOCSIFFLAGS up", ioctl(sock, SIOCSIFFLAGS, &q));
  ioctl(sock, SIOCGIFFLAGS, &q);
  printf("flags up %#x\n", q.ifr_flags & 0xffff);

  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(4242)};
  inet_pton(AF_INET, "10.11.0.1", &me.sin_addr);
  bind(u, (void *)&me, sizeof me);
  struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9999)};
  inet_pton(AF_INET, "10.11.0.2", &peer.sin_addr);
  while (read(fd, (char[2048]){0}, 2048) > 0) {}
  P("sendto 10.11.0.2", sendto(u, "hello", 6, 0, (void *)&peer, sizeof peer));
  unsigned char b[2048];
  int n = next(fd, b, sizeof b, 0x806);
  printf("arp request len %d\n", n);
  if (n > 0) arp_show("arp request", b);

  unsigned char rep[42];
  memcpy(rep, mine, 6); memcpy(rep + 6, PEER, 6); rep[12] = 8; rep[13] = 6;
  unsigned char arp[28] = {0, 1, 8, 0, 6, 4, 0, 2};
  memcpy(arp + 8, PEER, 6);
  inet_pton(AF_INET, "10.11.0.2", arp + 14);
  memcpy(arp + 18, mine, 6);
  inet_pton(AF_INET, "10.11.0.1", arp + 24);
  memcpy(rep + 14, arp, 28);
  P("write arp reply", write(fd, rep, sizeof rep));
  n = next(fd, b, sizeof b, 0x800);
  if (n > 0) {
    char s[16], d[16];
    inet_ntop(AF_INET, b + 26, s, sizeof s);
    inet_ntop(AF_INET, b + 30, d, sizeof d);
    printf("ip frame: len %d dst peer %d src mine %d proto %d %s -> %s payload %s\n", n, memcmp(b, PEER, 6) == 0, memcmp(b + 6, mine, 6) == 0, b[23], s, d, (char *)b + 42);
  } else printf("ip frame: none\n");

  /* The reply frame. */
  unsigned char f[64];
  memset(f, 0, sizeof f);
  memcpy(f, mine, 6); memcpy(f + 6, PEER, 6); f[12] = 8; f[13] = 0;
  unsigned char *ip = f + 14;
  int plen = 20 + 8 + 7;
  ip[0] = 0x45; ip[3] = plen; ip[8] = 64; ip[9] = 17;
  inet_pton(AF_INET, "10.11.0.2", ip + 12);
  inet_pton(AF_INET, "10.11.0.1", ip + 16);
  uint16_t c = csum(ip, 20, 0);
  ip[10] = c >> 8; ip[11] = c & 255;
  unsigned char *udp = ip + 20;
  udp[0] = 9999 >> 8; udp[1] = 9999 & 255; udp[2] = 4242 >> 8; udp[3] = 4242 & 255; udp[5] = 15;
  memcpy(udp + 8, "reply!", 7);
  unsigned char ph[12];
  memcpy(ph, ip + 12, 8); ph[8] = 0; ph[9] = 17; ph[10] = 0; ph[11] = 15;
  uint32_t sum = 0;
  for (int i = 0; i < 12; i += 2) sum += (ph[i] << 8) | ph[i + 1];
  c = csum(udp, 15, sum);
  udp[6] = c >> 8; udp[7] = c & 255;
  P("write reply frame", write(fd, f, 14 + plen));
  char got[32] = {0};
  n = recvfrom(u, got, sizeof got, MSG_DONTWAIT, NULL, NULL);
  printf("recvfrom: %d %s\n", n, n > 0 ? got : strerror(errno));
  f[5] ^= 0x40;
  P("write frame for another host", write(fd, f, 14 + plen));
  n = recvfrom(u, got, sizeof got, MSG_DONTWAIT, NULL, NULL);
  printf("recvfrom after another host's frame: %d\n", n);

  /* An ARP request for 10.11.0.1 from a new neighbour: answered. */
  while (read(fd, b, sizeof b) > 0) {}
  unsigned char req[42];
  memcpy(req, "\xff\xff\xff\xff\xff\xff", 6); memcpy(req + 6, PEER, 6); req[12] = 8; req[13] = 6;
  unsigned char arq[28] = {0, 1, 8, 0, 6, 4, 0, 1};
  memcpy(arq + 8, PEER, 6);
  inet_pton(AF_INET, "10.11.0.3", arq + 14);
  inet_pton(AF_INET, "10.11.0.1", arq + 24);
  memcpy(req + 14, arq, 28);
  P("write arp request", write(fd, req, sizeof req));
  n = next(fd, b, sizeof b, 0x806);
  if (n > 0) arp_show("arp answer", b);
  else printf("arp answer: none\n");
  P("write 13 bytes", write(fd, f, 13));
  P("write 14 bytes", write(fd, f, 14));
  printf("done\n");
  return 0;
}
