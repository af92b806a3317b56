/* peerpidfd: SO_PEERPIDFD and SO_PASSPIDFD/SCM_PIDFD on unix sockets (Linux
 * 6.5). Which sockets have a peer process (socketpair, stream connections
 * both ways, a listener its own; not datagram associations), the pidfd's
 * flags (close-on-exec always), optlen handling, the control message's place
 * after SCM_CREDENTIALS and before SCM_RIGHTS, truncation (MSG_CTRUNC),
 * RLIMIT_NOFILE (the message carries -EMFILE), senders and peers that exited
 * and were reaped, autobind of a datagram sender, read(2) installing nothing.
 * A pidfd is identified by PIDFD_GET_INFO's pid, never printed. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#define SO_PEERPIDFD 77
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 4
#endif

struct info {
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
  uint32_t coredump_mask, spare;
};
#define GET_INFO _IOC(_IOC_READ | _IOC_WRITE, 0xFF, 11, sizeof(struct info))
#define PIDFD_INFO_EXIT 8

/* Whose pidfd fd is: "me", "child" (want), another process, or why not. */
static const char *whose(int fd, pid_t want) {
  struct info i;
  memset(&i, 0, sizeof i);
  i.mask = PIDFD_INFO_EXIT;
  if (ioctl(fd, GET_INFO, &i) < 0) return errno == ESRCH ? "gone" : ename(errno);
  if (i.pid == (uint32_t)getpid()) return "me";
  if (want && i.pid == (uint32_t)want) return "child";
  return i.pid ? "other" : "no pid";
}

static void fdflags(int fd) { printf(" cloexec %d rdwr %d", fcntl(fd, F_GETFD) & FD_CLOEXEC, (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR); }

/* SO_PEERPIDFD of s: whose process, flags; closes the fd. */
static void peer(const char *label, int s, pid_t want) {
  int fd = -1;
  socklen_t len = sizeof fd;
  if (getsockopt(s, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) < 0) {
    printf("%s: peerpidfd %s\n", label, ename(errno));
    return;
  }
  printf("%s: peerpidfd %s len %u", label, whose(fd, want), len);
  fdflags(fd);
  printf("\n");
  close(fd);
}

static void peercred(const char *label, int s) {
  struct ucred c;
  socklen_t len = sizeof c;
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0) {
    printf("%s: peercred %s\n", label, ename(errno));
    return;
  }
  printf("%s: peercred pid %s uid %d gid %d\n", label, c.pid == getpid() ? "me" : c.pid ? "other" : "0", (int)c.uid, (int)c.gid);
}

/* The lowest free descriptor: unchanged across a call means it installed nothing. */
static int lowest(void) {
  int fd = dup(0);
  close(fd);
  return fd;
}

/* recvmsg with ctl bytes of control room (0: no buffer); prints what came and closes received fds. */
static void recvit(const char *label, int s, size_t ctl, int flags, pid_t want) {
  char buf[16];
  union {
    char b[256];
    struct cmsghdr align;
  } c;
  struct iovec io = {buf, sizeof buf};
  struct msghdr m = {0};
  m.msg_iov = &io;
  m.msg_iovlen = 1;
  m.msg_control = ctl ? c.b : NULL;
  m.msg_controllen = ctl;
  ssize_t n = recvmsg(s, &m, flags);
  if (n < 0) {
    printf("%s: recvmsg %s\n", label, ename(errno));
    return;
  }
  printf("%s: n %zd flags %#x controllen %zu\n", label, n, m.msg_flags, (size_t)m.msg_controllen);
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
    int v;
    memcpy(&v, CMSG_DATA(h), sizeof v);
    printf("  level %d type %d len %zu", h->cmsg_level, h->cmsg_type, (size_t)h->cmsg_len);
    if (h->cmsg_type == SCM_PIDFD) {
      if (v < 0) printf(" value -%s", ename(-v));
      else {
        printf(" pidfd of %s", whose(v, want));
        fdflags(v);
        close(v);
      }
    } else if (h->cmsg_type == SCM_RIGHTS) {
      printf(" rights %zu", ((size_t)h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (size_t k = 0; k < ((size_t)h->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
        int f;
        memcpy(&f, CMSG_DATA(h) + k * sizeof(int), sizeof f);
        fdflags(f);
        close(f);
      }
    } else if (h->cmsg_type == SCM_CREDENTIALS) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(h), sizeof u);
      printf(" cred pid %s uid %d", u.pid == getpid() ? "me" : u.pid == want ? "child" : "other", (int)u.uid);
    }
    printf("\n");
  }
}

static void setopt(int s, int name, int v) {
  if (setsockopt(s, SOL_SOCKET, name, &v, sizeof v) < 0) printf("setsockopt %d: %s\n", name, ename(errno));
}

static void peerpidfd_cases(void) {
  int sv[2], dg[2], sq[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  socketpair(AF_UNIX, SOCK_DGRAM, 0, dg);
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq);
  peer("stream pair", sv[0], 0);
  peer("dgram pair", dg[0], 0);
  peer("seqpacket pair", sq[0], 0);
  int u = socket(AF_UNIX, SOCK_STREAM, 0);
  peer("unconnected stream", u, 0);
  peercred("unconnected stream", u);
  struct sockaddr_un a = {AF_UNIX, "\0peerpidfd-listen"};
  socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 17;
  bind(u, (struct sockaddr *)&a, alen);
  peer("bound stream", u, 0);
  listen(u, 4);
  peer("listener", u, 0);
  peercred("listener", u);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un b = {AF_UNIX, "\0peerpidfd-dgram"};
  bind(d, (struct sockaddr *)&b, alen - 1);
  int e = socket(AF_UNIX, SOCK_DGRAM, 0);
  printf("dgram connect: %s\n", connect(e, (struct sockaddr *)&b, alen - 1) ? ename(errno) : "OK");
  peer("dgram connected", e, 0);
  peercred("dgram connected", e);
  peer("dgram bound", d, 0);

  /* optlen: shorter than an int copies part (the fd is installed anyway), longer is cut to 4, negative EINVAL. */
  int fd = -1;
  socklen_t len = 8;
  printf("optlen 8: %s", getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) ? ename(errno) : "OK");
  printf(" len %u\n", len);
  close(fd);
  int before = lowest();
  len = 0;
  printf("optlen 0: %s len %u installed %d\n", getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) ? ename(errno) : "OK", len,
         lowest() != before);
  close(before);
  len = (socklen_t)-1;
  printf("optlen -1: %s\n", getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) ? ename(errno) : "OK");
  before = lowest();
  len = 4;
  printf("bad optval: %s installed %d\n", getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, (void *)8, &len) ? ename(errno) : "OK",
         lowest() != before);
  int one = 1;
  int r = setsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &one, sizeof one);
  printf("set SO_PEERPIDFD: %s\n", r == 0 ? "OK" : errno == ENOPROTOOPT ? "ENOPROTOOPT" : ename(errno));

  /* A connection from a child: each end names the other's process, also once the child is a zombie and reaped. */
  int ready[2];
  pipe(ready);
  pid_t c = fork();
  if (c == 0) {
    int cs = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(cs, (struct sockaddr *)&a, alen);
    peer("client", cs, getppid());
    write(ready[1], "x", 1);
    for (;;) pause();
  }
  char x;
  read(ready[0], &x, 1);
  int as = accept(u, NULL, NULL);
  peer("accepted, live", as, c);
  kill(c, SIGKILL);
  siginfo_t si;
  waitid(P_PID, c, &si, WEXITED | WNOWAIT);
  peer("accepted, zombie", as, c);
  waitpid(c, NULL, 0);
  peer("accepted, reaped", as, c);
  close(as);
  close(ready[0]);
  close(ready[1]);
  close(u);
  close(d);
  close(e);
  close(sv[0]);
  close(sv[1]);
  close(dg[0]);
  close(dg[1]);
  close(sq[0]);
  close(sq[1]);
}

static void scm_cases(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  int v = -1;
  socklen_t len = sizeof v;
  getsockopt(sv[1], SOL_SOCKET, SO_PASSPIDFD, &v, &len);
  printf("passpidfd default %d\n", v);
  setopt(sv[1], SO_PASSPIDFD, 7);
  getsockopt(sv[1], SOL_SOCKET, SO_PASSPIDFD, &v, &len);
  printf("passpidfd set %d len %u\n", v, len);

  write(sv[0], "a", 1);
  recvit("full room", sv[1], 256, 0, 0);
  write(sv[0], "b", 1);
  recvit("no control", sv[1], 0, 0, 0);
  write(sv[0], "c", 1);
  recvit("header only", sv[1], CMSG_SPACE(0), 0, 0);
  write(sv[0], "d", 1);
  recvit("CMSG_LEN(4)", sv[1], CMSG_LEN(sizeof(int)), 0, 0);
  write(sv[0], "e", 1);
  recvit("MSG_CMSG_CLOEXEC", sv[1], 256, MSG_CMSG_CLOEXEC, 0);

  setopt(sv[1], SO_PASSCRED, 1);
  write(sv[0], "f", 1);
  recvit("with passcred", sv[1], 256, 0, 0);
  write(sv[0], "g", 1);
  recvit("room for creds only", sv[1], CMSG_SPACE(sizeof(struct ucred)), 0, 0);
  setopt(sv[1], SO_PASSCRED, 0);

  /* With SCM_RIGHTS: the pidfd comes first. */
  {
    char cb[CMSG_SPACE(sizeof(int))];
    struct iovec io = {"h", 1};
    struct msghdr m = {0};
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = cb;
    m.msg_controllen = sizeof cb;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    int zero = 0;
    memcpy(CMSG_DATA(h), &zero, sizeof zero);
    printf("send rights: %s\n", sendmsg(sv[0], &m, 0) < 0 ? ename(errno) : "OK");
    recvit("with rights", sv[1], 256, 0, 0);
    printf("send rights: %s\n", sendmsg(sv[0], &m, 0) < 0 ? ename(errno) : "OK");
    recvit("room for pidfd only", sv[1], CMSG_SPACE(sizeof(int)), 0, 0);
    /* SCM_PIDFD is not something a sender may give. */
    h->cmsg_type = SCM_PIDFD;
    printf("send SCM_PIDFD: %s\n", sendmsg(sv[0], &m, 0) < 0 ? ename(errno) : "OK");
  }

  /* read(2) and recv without a control buffer install nothing. */
  int before = lowest();
  write(sv[0], "i", 1);
  char b;
  read(sv[1], &b, 1);
  write(sv[0], "j", 1);
  recv(sv[1], &b, 1, 0);
  printf("read/recv installed %d\n", lowest() != before);

  /* At RLIMIT_NOFILE the message carries -EMFILE. */
  struct rlimit rl, low;
  getrlimit(RLIMIT_NOFILE, &rl);
  low = rl;
  low.rlim_cur = 32;
  setrlimit(RLIMIT_NOFILE, &low);
  int held[64], k = 0;
  while (k < 64 && (held[k] = dup(0)) >= 0) k++;
  write(sv[0], "k", 1);
  recvit("at the fd limit", sv[1], 256, 0, 0);
  int fd;
  len = sizeof fd;
  printf("peerpidfd at the fd limit: %s\n", getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) ? ename(errno) : "OK");
  for (int i = 0; i < k; i++) close(held[i]);
  setrlimit(RLIMIT_NOFILE, &rl);

  /* A child's message: its pidfd while it runs, peeked, as a zombie and once reaped. */
  pid_t c = fork();
  if (c == 0) {
    write(sv[0], "l", 1);
    _exit(3);
  }
  siginfo_t si;
  waitid(P_PID, c, &si, WEXITED | WNOWAIT);
  recvit("zombie sender, peek", sv[1], 256, MSG_PEEK, c);
  recvit("zombie sender", sv[1], 256, 0, c);
  c = fork();
  if (c == 0) {
    write(sv[0], "m", 1);
    _exit(4);
  }
  waitpid(c, NULL, 0);
  recvit("reaped sender", sv[1], 256, 0, c);
  close(sv[0]);
  close(sv[1]);

  /* Datagrams: a sender that asks for pidfds is autobound; the receiver gets the pidfd per message. */
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un a = {AF_UNIX, "\0peerpidfd-recv"};
  socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 15;
  bind(d, (struct sockaddr *)&a, alen);
  setopt(d, SO_PASSPIDFD, 1);
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  setopt(s, SO_PASSPIDFD, 1);
  sendto(s, "n", 1, 0, (struct sockaddr *)&a, alen);
  struct sockaddr_un from;
  socklen_t flen = sizeof from;
  char cb[256];
  struct iovec io = {&b, 1};
  struct msghdr m = {&from, flen, &io, 1, cb, sizeof cb, 0};
  ssize_t n = recvmsg(d, &m, 0);
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  printf("dgram: n %zd sender named %d cmsg type %d\n", n, m.msg_namelen > offsetof(struct sockaddr_un, sun_path),
         h ? h->cmsg_type : -1);
  if (h) {
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    printf("dgram pidfd of %s\n", whose(fd, 0));
    close(fd);
  }
  close(s);
  close(d);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  peerpidfd_cases();
  scm_cases();
  printf("done\n");
  return 0;
}
