/* tunopts: ICMP echo requests with IPv4 options written into a TUN device
 * (hostile packets from outside the stack): well-formed options come back
 * in the reply, echoed with what the stack recorded; malformed, CIPSO and
 * source-routed ones get no reply; random options the same as Linux's.
 * Timestamps print as ts or 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
static int fd;
static unsigned short csum(const unsigned char *p, int n) {
  unsigned sum = 0;
  for (int i = 0; i < n; i += 2) sum += (p[i] << 8) | (i + 1 < n ? p[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}
/* Send an echo request with opts (a multiple of 4 bytes); the reply's options, or -1 when none came. */
static int echo(const unsigned char *opts, int olen, unsigned char *out, int seq) {
  unsigned char b[128] = { 0 };
  int hl = 20 + olen, len = hl + 8;
  b[0] = 0x40 | (hl / 4); b[3] = len; b[5] = seq; b[8] = 64; b[9] = 1;
  inet_pton(AF_INET, "10.5.0.2", b + 12);
  inet_pton(AF_INET, "10.5.0.1", b + 16);
  memcpy(b + 20, opts, olen);
  unsigned short s = csum(b, hl); b[10] = s >> 8; b[11] = s & 255;
  b[hl] = 8; b[hl + 4] = 0x12; b[hl + 5] = 0x34; b[hl + 7] = seq;
  s = csum(b + hl, 8); b[hl + 2] = s >> 8; b[hl + 3] = s & 255;
  unsigned char r[2048];
  while (read(fd, r, sizeof r) > 0) {}
  if (write(fd, b, len) != len) return -2;
  for (int i = 0; i < 20; i++) {
    int n;
    while ((n = read(fd, r, sizeof r)) > 0) {
      int rhl = (r[0] & 15) * 4;
      if (r[0] >> 4 == 4 && r[9] == 1 && n > rhl + 7 && r[rhl] == 0 && r[rhl + 7] == seq) {
        memcpy(out, r + 20, rhl - 20);
        return rhl - 20;
      }
    }
    usleep(5000);
  }
  return -1;
}
static void show(const char *what, const unsigned char *opts, int olen) {
  unsigned char out[64];
  static int seq = 1;
  int n = echo(opts, olen, out, seq++);
  printf("%s:", what);
  if (n < 0) { printf(" no reply\n"); return; }
  for (int i = 0; i < n;) {
    if (out[i] == 0x44 && i + 4 <= n && out[i + 1] >= 4 && i + out[i + 1] <= n) {
      int len = out[i + 1], fl = out[i + 3] & 15, step = fl ? 8 : 4;
      printf(" [ts %02x %02x %02x", out[i + 1], out[i + 2], out[i + 3]);
      for (int j = 4; j + step <= len; j += step) {
        if (fl) printf(" %02x%02x%02x%02x", out[i + j], out[i + j + 1], out[i + j + 2], out[i + j + 3]);
        const unsigned char *t = out + i + j + (fl ? 4 : 0);
        printf(" %s", t[0] | t[1] | t[2] | t[3] ? "ts" : "0");
      }
      printf("]");
      i += len;
      continue;
    }
    printf(" %02x", out[i++]);
  }
  printf("\n");
}
int main(void) {
  if (unshare(CLONE_NEWNET) < 0) { perror("unshare"); return 1; }
  fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strcpy(q.ifr_name, "opts%d");
  q.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (fd < 0 || ioctl(fd, TUNSETIFF, &q) < 0) { perror("tun"); return 1; }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in *a = (void *)&q.ifr_addr;
  a->sin_family = AF_INET;
  inet_pton(AF_INET, "10.5.0.1", &a->sin_addr);
  ioctl(s, SIOCSIFADDR, &q);
  inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
  ioctl(s, SIOCSIFNETMASK, &q);
  ioctl(s, SIOCGIFFLAGS, &q);
  q.ifr_flags |= IFF_UP;
  ioctl(s, SIOCSIFFLAGS, &q);
  show("none", NULL, 0);
  struct { const char *what; unsigned char b[40]; int len; } cases[] = {
    { "rr", { 7, 11, 4 }, 12 },
    { "rr recorded before", { 7, 11, 8, 10, 5, 0, 2 }, 12 },
    { "rr full", { 7, 7, 8, 10, 5, 0, 2, 0 }, 8 },
    { "ts", { 0x44, 12, 5, 0 }, 12 },
    { "ts addr", { 0x44, 20, 5, 1 }, 20 },
    { "ts prespec ours", { 0x44, 12, 5, 3, 10, 5, 0, 1 }, 12 },
    { "ts prespec other", { 0x44, 12, 5, 3, 10, 5, 0, 9 }, 12 },
    { "ts overflow", { 0x44, 8, 9, 0x30 }, 8 },
    { "ts overflow 15", { 0x44, 8, 9, 0xf0 }, 8 },
    { "nops", { 1, 1, 1, 1 }, 4 },
    { "ra", { 0x94, 4, 0, 0 }, 4 },
    { "unknown", { 0x9e, 4, 0, 0 }, 4 },
    { "eol junk", { 0, 7, 7, 7 }, 4 },
    { "rr len past", { 7, 9, 4, 0 }, 4 },
    { "rr len 1", { 7, 1, 0, 0 }, 4 },
    { "rr ptr 3", { 7, 7, 3, 0, 0, 0, 0, 0 }, 8 },
    { "rr no room", { 7, 6, 4, 0, 0, 0, 0, 0 }, 8 },
    { "ts ptr 4", { 0x44, 8, 4, 0 }, 8 },
    { "ts addr no room", { 0x44, 8, 5, 1 }, 8 },
    { "lsrr", { 0x83, 7, 4, 10, 5, 0, 1, 0 }, 8 },
    { "ssrr done", { 0x89, 7, 8, 10, 5, 0, 1, 0 }, 8 },
    { "two rr", { 7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0, 0 }, 16 },
    { "cipso", { 0x86, 4, 0, 0 }, 4 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) show(cases[i].what, cases[i].b, cases[i].len);
  /* Random options: as many replies as Linux gives. */
  srand(7);
  int replies = 0;
  for (int i = 0; i < 300; i++) {
    unsigned char o[40], out[64];
    int len = 4 * (1 + rand() % 10);
    for (int j = 0; j < len; j++) o[j] = rand();
    o[0] = (unsigned char[]){ 7, 0x44, 1, 0x94, 0x83, 0 }[i % 6];
    if (i % 2) o[1] = 3 + rand() % (len - 2);
    if (i % 4 == 1) o[2] = 4 + 4 * (rand() % 3) + (o[0] == 0x44);
    int n = echo(o, len, out, 100 + i % 100);
    if (n >= 0) replies++;
  }
  printf("random: %d replies\n", replies);
  show("after", (const unsigned char[]){ 7, 7, 4, 0, 0, 0, 0, 0 }, 8);
  printf("done\n");
  return 0;
}
