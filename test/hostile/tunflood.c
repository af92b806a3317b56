/* tunflood: what a program can make the Sentry keep through /dev/net/tun.
 * Datagrams routed to a tun device nobody reads (the queue keeps txqlen of
 * them, the rest dropped), garbage written as packets (dropped, counted),
 * huge writes (taken and dropped, the biggest refused), and as many devices
 * as it can make (bounded). Then the device still carries a reply, and the
 * process is alive. Prints counts; its test compares what it can. Runs in a
 * network namespace of its own. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int mktun(const char *pattern, char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) return -1;
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, pattern);
  r.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &r) < 0) { int e = errno; close(fd); errno = e; return -1; }
  if (name) strcpy(name, r.ifr_name);
  return fd;
}

int main(int argc, char **argv) {
  int many = argc > 1 ? atoi(argv[1]) : 1000;
  if (unshare(CLONE_NEWNET) < 0) { perror("unshare"); return 1; }
  char name[IFNAMSIZ];
  int fd = mktun("flood%d", name);
  if (fd < 0) { perror("tun"); return 1; }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, name);
  struct sockaddr_in *a = (void *)&q.ifr_addr;
  a->sin_family = AF_INET;
  inet_pton(AF_INET, "10.5.0.1", &a->sin_addr);
  ioctl(s, SIOCSIFADDR, &q);
  inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
  ioctl(s, SIOCSIFNETMASK, &q);
  ioctl(s, SIOCGIFFLAGS, &q);
  q.ifr_flags |= IFF_UP;
  ioctl(s, SIOCSIFFLAGS, &q);

  /* Nobody reads: the queue holds at most txqlen. */
  struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(7)};
  inet_pton(AF_INET, "10.5.0.2", &peer.sin_addr);
  char payload[1000] = {0};
  int sent = 0;
  for (int i = 0; i < 3000; i++) if (sendto(s, payload, sizeof payload, MSG_DONTWAIT, (void *)&peer, sizeof peer) > 0) sent++;
  int queued = 0;
  unsigned char b[2048];
  while (read(fd, b, sizeof b) > 0) queued++;
  printf("flood: sent %d, queued at most 500: %d\n", sent, queued > 0 && queued <= 500);

  /* Garbage with a plausible version nibble: taken, dropped. */
  srand(1);
  int taken = 0;
  for (int i = 0; i < 20000; i++) {
    int len = 1 + rand() % 1500;
    for (int j = 0; j < len; j++) b[j] = rand();
    b[0] = (b[0] & 0x0f) | (i & 1 ? 0x40 : 0x60);
    if (write(fd, b, len) == len) taken++;
  }
  printf("garbage: %d of 20000 taken\n", taken);
  char *big = calloc(1, 1 << 20);
  big[0] = 0x45;
  printf("write 1 MiB: %zd\n", write(fd, big, 1 << 20));

  /* A good packet still gets through: an ICMP echo request to the device's own address gets a reply out of the fd. */
  unsigned char echo[28] = {0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1};
  inet_pton(AF_INET, "10.5.0.2", echo + 12);
  inet_pton(AF_INET, "10.5.0.1", echo + 16);
  unsigned sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (echo[i] << 8) | echo[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  echo[10] = ~sum >> 8; echo[11] = ~sum & 255;
  echo[20] = 8; echo[24] = 0x12; echo[25] = 0x34; echo[27] = 1;
  sum = 0;
  for (int i = 20; i < 28; i += 2) sum += (echo[i] << 8) | echo[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  echo[22] = ~sum >> 8; echo[23] = ~sum & 255;
  while (read(fd, b, sizeof b) > 0) {}
  printf("write echo: %zd\n", write(fd, echo, sizeof echo));
  int n, got = 0;
  for (int i = 0; i < 50 && !got; i++) {
    while ((n = read(fd, b, sizeof b)) > 0) if (b[0] >> 4 == 4 && b[9] == 1 && b[20] == 0) got = 1;
    if (!got) usleep(10000);
  }
  printf("echo reply: %d\n", got);

  /* A TAP device: garbage frames and ARP requests from thousands of neighbours (the table stays bounded). */
  int tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq tr;
  memset(&tr, 0, sizeof tr);
  strcpy(tr.ifr_name, "ftap%d");
  tr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(tap, TUNSETIFF, &tr) < 0) { perror("tap"); return 1; }
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, tr.ifr_name);
  a->sin_family = AF_INET;
  inet_pton(AF_INET, "10.6.0.1", &a->sin_addr);
  ioctl(s, SIOCSIFADDR, &q);
  inet_pton(AF_INET, "255.255.0.0", &a->sin_addr);
  ioctl(s, SIOCSIFNETMASK, &q);
  ioctl(s, SIOCGIFFLAGS, &q);
  q.ifr_flags |= IFF_UP;
  ioctl(s, SIOCSIFFLAGS, &q);
  taken = 0;
  for (int i = 0; i < 20000; i++) {
    int len = 14 + rand() % 1500;
    for (int j = 0; j < len; j++) b[j] = rand();
    memset(b, 0xff, 6);
    b[12] = 8; b[13] = i & 1 ? 6 : 0;
    if (write(tap, b, len) == len) taken++;
  }
  printf("tap garbage: %d of 20000 taken\n", taken);
  taken = 0;
  for (int i = 0; i < 5000; i++) {
    unsigned char f[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, i >> 8, i & 255, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, i >> 8, i & 255,
                           10, 6, 100 + (i >> 8), i & 255, 0, 0, 0, 0, 0, 0, 10, 6, 0, 1};
    if (write(tap, f, sizeof f) == sizeof f) taken++;
  }
  printf("arp requests: %d of 5000 taken\n", taken);
  int answers = 0;
  while (read(tap, b, sizeof b) > 0) if (b[12] == 8 && b[13] == 6 && b[21] == 2) answers++;
  printf("arp answers: at most 500 queued: %d\n", answers > 0 && answers <= 500);

  /* As many devices as it may: a bound, then an error, and the process alive. */
  int made = 0, err = 0;
  for (int i = 0; i < many; i++) {
    if (mktun("m%d", NULL) < 0) { err = errno; break; }
    made++;
  }
  printf("devices: made %d, then %s\n", made, err ? strerror(err) : "no error");
  printf("after: alive\n");
  return 0;
}
