// Unix domain sockets as Linux answers them: socketpair of each type, data
// with its boundaries, shutdown (EOF, EPIPE and SIGPIPE), MSG_PEEK, DONTWAIT,
// WAITALL, TRUNC, NOSIGNAL; bind/listen/connect/accept on paths and abstract
// names with the sockaddr lengths Linux gives; the backlog; SCM_RIGHTS across
// processes and SCM_CREDENTIALS; socket options; poll and epoll readiness.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static volatile int sigpipes;
static void onpipe(int s) { (void)s; sigpipes++; }

static int pev(int fd) {
  struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  poll(&p, 1, 0);
  return p.revents;
}

static void pairs(void) {
  int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  const char *names[] = {"stream", "dgram", "seqpacket"};
  for (int i = 0; i < 3; i++) {
    int sv[2];
    char buf[64];
    printf("-- %s\n", names[i]);
    show("socketpair", socketpair(AF_UNIX, types[i], 0, sv));
    show("write a", write(sv[0], "hello", 5));
    show("write b", write(sv[0], "world!", 6));
    printf("poll %x %x\n", pev(sv[0]), pev(sv[1]));
    show("peek 3", recv(sv[1], buf, 3, MSG_PEEK));
    show("read 64", read(sv[1], buf, 64));
    show("recv 2 trunc", recv(sv[1], buf, 2, MSG_TRUNC | MSG_DONTWAIT));
    show("recv dontwait", recv(sv[1], buf, 64, MSG_DONTWAIT));
    struct iovec iov = {buf, 3};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    show("send 5", send(sv[1], "abcde", 5, 0));
    show("recvmsg 3", recvmsg(sv[0], &m, 0));
    printf("msg_flags %x namelen %d\n", m.msg_flags, m.msg_namelen);
    int t = 0;
    socklen_t tl = sizeof t;
    show("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &tl));
    printf("type %d len %d\n", t, tl);
    show("shutdown wr", shutdown(sv[0], SHUT_WR));
    printf("poll after shut %x %x\n", pev(sv[0]), pev(sv[1]));
    show("recv after peer shut", recv(sv[1], buf, 64, MSG_DONTWAIT));
    sigpipes = 0;
    show("write after shut", write(sv[0], "x", 1));
    show("send nosignal", send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("sigpipes %d\n", sigpipes);
    show("shutdown bad", shutdown(sv[0], 7));
    close(sv[1]);
    printf("poll after close %x\n", pev(sv[0]));
    show("recv after close", recv(sv[0], buf, 64, MSG_DONTWAIT));
    close(sv[0]);
  }
  int sv[2];
  show("socketpair bad family", socketpair(4242, SOCK_STREAM, 0, sv));
  show("socketpair bad type", socketpair(AF_UNIX, 4, 0, sv));
  show("socketpair bad proto", socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
  show("socketpair flags", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
  printf("cloexec %d nonblock %d\n", fcntl(sv[0], F_GETFD) & FD_CLOEXEC, !!(fcntl(sv[1], F_GETFL) & O_NONBLOCK));
  static char big[300000];
  memset(big, 'z', sizeof big);
  long total = 0, r;
  while ((r = write(sv[0], big, 100000)) > 0) total += r;
  printf("filled: %s, some %d\n", strerrorname_np(errno), total > 0);
  printf("poll full %x\n", pev(sv[0]) & POLLOUT);
  int n = 0;
  char rb[4096];
  while (read(sv[1], rb, sizeof rb) > 0) n++;
  printf("drained: %s\n", strerrorname_np(errno));
  printf("poll drained %x\n", pev(sv[0]) & POLLOUT);
  show("waitall child", 0);
  pid_t c = fork();
  if (c == 0) {
    for (int i = 0; i < 4; i++) { write(sv[1], "0123456789", 10); usleep(20000); }
    _exit(0);
  }
  int fl = fcntl(sv[0], F_GETFL);
  fcntl(sv[0], F_SETFL, fl & ~O_NONBLOCK);
  show("recv waitall 40", recv(sv[0], rb, 40, MSG_WAITALL));
  waitpid(c, NULL, 0);
  close(sv[0]);
  close(sv[1]);
  // Datagram: boundaries kept, zero-length datagrams, EMSGSIZE.
  show("dgram pair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  show("send empty", send(sv[0], "", 0, 0));
  show("recv empty", recv(sv[1], rb, 10, MSG_DONTWAIT));
  show("send huge", send(sv[0], big, 250000, MSG_DONTWAIT));
  close(sv[0]);
  close(sv[1]);
}

static socklen_t addrof(struct sockaddr_un *a, const char *path, int abstract) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (abstract) {
    memcpy(a->sun_path + 1, path, strlen(path));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
  }
  strcpy(a->sun_path, path);
  return sizeof *a;
}

static void names(const char *dir, int abstract) {
  char path[200];
  struct sockaddr_un a, b;
  if (abstract) snprintf(path, sizeof path, "tsvisor-test-%d", (int)getpid());
  else snprintf(path, sizeof path, "%s/sock", dir);
  printf("-- names %s\n", abstract ? "abstract" : "path");
  socklen_t al = addrof(&a, path, abstract);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  socklen_t bl = sizeof b;
  show("getsockname unbound", getsockname(l, (struct sockaddr *)&b, &bl));
  printf("len %d family %d\n", bl, b.sun_family);
  show("listen unbound", listen(l, 1));
  int c0 = socket(AF_UNIX, SOCK_STREAM, 0);
  show("connect nobody", connect(c0, (struct sockaddr *)&a, al));
  show("bind", bind(l, (struct sockaddr *)&a, al));
  show("bind again", bind(l, (struct sockaddr *)&a, al));
  bl = sizeof b;
  show("getsockname", getsockname(l, (struct sockaddr *)&b, &bl));
  printf("len %d same %d\n", bl - (int)strlen(path), memcmp(&a, &b, bl) == 0);
  if (!abstract) {
    struct stat st;
    stat(path, &st);
    printf("node is socket %d\n", S_ISSOCK(st.st_mode));
    show("open node", open(path, O_RDONLY));
  }
  int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
  show("bind in use", bind(l2, (struct sockaddr *)&a, al));
  show("connect not listening", connect(c0, (struct sockaddr *)&a, al));
  int v = 1;
  socklen_t vl = sizeof v;
  getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
  printf("acceptconn before %d\n", v);
  show("listen 0", listen(l, 0));
  getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
  printf("acceptconn after %d\n", v);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  show("connect wrong type", connect(d, (struct sockaddr *)&a, al));
  show("connect 1", connect(c0, (struct sockaddr *)&a, al));
  int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  show("connect 2", connect(c1, (struct sockaddr *)&a, al));
  int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  show("connect 3 (backlog full)", connect(c2, (struct sockaddr *)&a, al));
  printf("poll listener %x\n", pev(l));
  bl = sizeof b;
  int s0 = accept4(l, (struct sockaddr *)&b, &bl, SOCK_CLOEXEC);
  show("accept", s0 >= 0 ? 0 : -1);
  printf("accepted addr len %d\n", bl);
  show("connect 2 again", connect(c1, (struct sockaddr *)&a, al));
  bl = sizeof b;
  show("getpeername client", getpeername(c0, (struct sockaddr *)&b, &bl));
  printf("len %d same %d\n", bl - (int)strlen(path), memcmp(&a, &b, bl) == 0);
  bl = sizeof b;
  show("getsockname accepted", getsockname(s0, (struct sockaddr *)&b, &bl));
  printf("len %d\n", bl - (int)strlen(path));
  bl = sizeof b;
  show("getpeername unconnected", getpeername(c2, (struct sockaddr *)&b, &bl));
  struct ucred uc;
  socklen_t ul = sizeof uc;
  show("SO_PEERCRED", getsockopt(s0, SOL_SOCKET, SO_PEERCRED, &uc, &ul));
  printf("peer is me %d uid %d len %d\n", uc.pid == getpid(), uc.uid == geteuid(), ul);
  show("send", send(c0, "ping", 4, 0));
  char buf[16];
  show("recv", recv(s0, buf, 16, 0));
  int s1 = accept(l, NULL, NULL);
  show("accept 2", s1 >= 0 ? 0 : -1);
  fcntl(l, F_SETFL, O_NONBLOCK);
  int s2 = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  show("accept empty", s2);
  show("accept bad flags", accept4(l, NULL, NULL, 1));
  show("accept on connected", accept(c0, NULL, NULL));
  close(s0);
  show("recv after server close", recv(c0, buf, 16, 0));
  close(l);
  show("connect after close", connect(c2, (struct sockaddr *)&a, al));
  if (!abstract) {
    unlink(path);
    show("connect unlinked", connect(c2, (struct sockaddr *)&a, al));
  }
  close(c0); close(c1); close(c2); close(s1); close(l2); close(d);
  // Datagrams by address, autobind, ECONNREFUSED.
  int r = socket(AF_UNIX, SOCK_DGRAM, 0);
  show("dgram bind", bind(r, (struct sockaddr *)&a, al));
  int w = socket(AF_UNIX, SOCK_DGRAM, 0);
  show("sendto", sendto(w, "dg1", 3, 0, (struct sockaddr *)&a, al));
  bl = sizeof b;
  show("recvfrom", recvfrom(r, buf, 16, 0, (struct sockaddr *)&b, &bl));
  printf("from len %d\n", bl);
  sa_family_t fam = AF_UNIX;
  show("autobind", bind(w, (struct sockaddr *)&fam, sizeof fam));
  bl = sizeof b;
  getsockname(w, (struct sockaddr *)&b, &bl);
  printf("autobind len %d abstract %d\n", bl, b.sun_path[0] == 0);
  show("sendto bound", sendto(w, "dg2", 3, 0, (struct sockaddr *)&a, al));
  bl = sizeof b;
  show("recvfrom", recvfrom(r, buf, 16, 0, (struct sockaddr *)&b, &bl));
  printf("from len %d\n", bl);
  show("send unconnected", send(w, "x", 1, 0));
  show("connect dgram", connect(w, (struct sockaddr *)&a, al));
  show("send connected", send(w, "x", 1, 0));
  int qn = 0;
  while (send(w, "q", 1, MSG_DONTWAIT) == 1 && qn < 10000) qn++;
  printf("queue full: %s, several %d\n", strerrorname_np(errno), qn > 3);
  close(r);
  if (!abstract) unlink(path);
  show("send to closed", send(w, "x", 1, 0));
  show("send again", send(w, "x", 1, 0));
  close(w);
}

static void rights(void) {
  printf("-- rights\n");
  int sv[2], p[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pipe(p);
  pid_t c = fork();
  if (c == 0) {
    close(sv[0]);
    char data[8];
    char cbuf[CMSG_SPACE(sizeof(int) * 2)];
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    long n = recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    printf("child got %ld, cmsg level %d type %d len %zu controllen %zu\n", n, cm->cmsg_level, cm->cmsg_type, (size_t)cm->cmsg_len, (size_t)m.msg_controllen);
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    printf("received fd cloexec %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    write(fd, "via passed fd", 13);
    _exit(0);
  }
  close(sv[1]);
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {"x", 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
  long sent = sendmsg(sv[0], &m, 0);
  close(p[1]); // the fd in flight keeps the pipe's write end alive
  char buf[32] = {0};
  long n = read(p[0], buf, sizeof buf - 1);
  waitpid(c, NULL, 0);
  show("sendmsg rights", sent);
  printf("parent read %ld: %s\n", n, buf);
  show("read eof", read(p[0], buf, sizeof buf));
  int bad = 999;
  memcpy(CMSG_DATA(cm), &bad, sizeof bad);
  show("sendmsg bad fd", sendmsg(sv[0], &m, 0));
  cm->cmsg_type = 77;
  show("sendmsg bad type", sendmsg(sv[0], &m, 0));
  close(sv[0]);
  // Too many fds; truncation with a small control buffer; in flight when closed.
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  char big[CMSG_SPACE(sizeof(int) * 254)];
  m.msg_control = big;
  m.msg_controllen = CMSG_SPACE(sizeof(int) * 254);
  cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * 254);
  for (int i = 0; i < 254; i++) memcpy(CMSG_DATA(cm) + 4 * i, &p[0], 4);
  show("sendmsg 254 fds", sendmsg(sv[0], &m, 0));
  cm->cmsg_len = CMSG_LEN(sizeof(int) * 3);
  m.msg_controllen = CMSG_SPACE(sizeof(int) * 3);
  show("sendmsg 3 fds", sendmsg(sv[0], &m, 0));
  char small[CMSG_SPACE(sizeof(int))];
  char data[4];
  struct iovec iv = {data, 4};
  struct msghdr r = {0};
  r.msg_iov = &iv;
  r.msg_iovlen = 1;
  r.msg_control = small;
  r.msg_controllen = sizeof small;
  int before = fcntl(100, F_GETFD);
  show("recvmsg small ctl", recvmsg(sv[1], &r, 0));
  printf("flags ctrunc %d controllen %zu fd100 %d\n", !!(r.msg_flags & MSG_CTRUNC), (size_t)r.msg_controllen, before);
  show("sendmsg 3 fds again", sendmsg(sv[0], &m, 0));
  // The receiver's RLIMIT_NOFILE applies when descriptors arrive: one fits.
  pid_t lc = fork();
  if (lc == 0) {
    int f = dup(0);
    close(f);
    struct rlimit rl = {f + 1, f + 1};
    setrlimit(RLIMIT_NOFILE, &rl);
    char lb[CMSG_SPACE(sizeof(int) * 3)];
    r.msg_control = lb;
    r.msg_controllen = sizeof lb;
    long got = recvmsg(sv[1], &r, 0);
    struct cmsghdr *lm = CMSG_FIRSTHDR(&r);
    printf("limited recvmsg %ld: fds %d ctrunc %d\n", got, lm ? (int)((lm->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0, !!(r.msg_flags & MSG_CTRUNC));
    _exit(0);
  }
  waitpid(lc, NULL, 0);
  close(sv[1]);
  close(sv[0]);
  // Credentials.
  printf("-- credentials\n");
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  int one = 1;
  show("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
  send(sv[0], "c", 1, 0);
  char cb[CMSG_SPACE(sizeof(struct ucred))];
  r.msg_control = cb;
  r.msg_controllen = sizeof cb;
  show("recvmsg creds", recvmsg(sv[1], &r, 0));
  cm = CMSG_FIRSTHDR(&r);
  struct ucred uc;
  memcpy(&uc, CMSG_DATA(cm), sizeof uc);
  printf("type %d pid ok %d uid ok %d controllen %zu\n", cm->cmsg_type, uc.pid == getpid(), uc.uid == getuid(), (size_t)r.msg_controllen);
  char sc[CMSG_SPACE(sizeof(struct ucred))];
  m.msg_control = sc;
  m.msg_controllen = sizeof sc;
  cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_CREDENTIALS;
  cm->cmsg_len = CMSG_LEN(sizeof uc);
  uc.pid = getpid();
  memcpy(CMSG_DATA(cm), &uc, sizeof uc);
  show("send own creds", sendmsg(sv[0], &m, 0));
  uc.pid = 1;
  memcpy(CMSG_DATA(cm), &uc, sizeof uc);
  if (getuid() == 0) printf("send other pid: allowed to root\n");
  else show("send other pid", sendmsg(sv[0], &m, 0));
  r.msg_controllen = 0;
  show("recvmsg no ctl", recvmsg(sv[1], &r, 0));
  printf("ctrunc %d\n", !!(r.msg_flags & MSG_CTRUNC));
  close(sv[0]);
  close(sv[1]);
}

static void options(void) {
  printf("-- options\n");
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  int opts[] = {SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_SNDBUF, SO_RCVBUF, SO_PASSCRED, SO_REUSEADDR, SO_KEEPALIVE + 1000};
  for (unsigned i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    int v = -7;
    socklen_t l = sizeof v;
    int r = getsockopt(s, SOL_SOCKET, opts[i], &v, &l);
    if (r < 0) printf("opt %d: %s\n", opts[i], strerrorname_np(errno));
    else printf("opt %d: %d len %d\n", opts[i], opts[i] == SO_SNDBUF || opts[i] == SO_RCVBUF ? v > 0 : v, l);
  }
  int v = 10000;
  show("set SO_SNDBUF", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  socklen_t l = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l);
  printf("sndbuf %d\n", v);
  v = 1;
  show("set SO_SNDBUF 1", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l);
  printf("sndbuf %d\n", v);
  v = 3000;
  show("set SO_RCVBUF", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
  getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l);
  printf("rcvbuf %d\n", v);
  show("set SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
  show("set short", setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, 2));
  show("set unknown", setsockopt(s, SOL_SOCKET, 1234, &v, sizeof v));
  char c = 0;
  l = 1;
  show("get short", getsockopt(s, SOL_SOCKET, SO_TYPE, &c, &l));
  printf("c %d l %d\n", c, l);
  struct ucred uc;
  l = sizeof uc;
  show("peercred unconnected", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
  printf("pid %d uid %d gid %d\n", uc.pid, uc.uid, uc.gid);
  int np[2];
  pipe(np);
  show("not a socket", getsockopt(np[0], SOL_SOCKET, SO_TYPE, &v, &l));
  close(np[0]);
  close(np[1]);
  show("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
  show("recv unconnected", recv(s, &c, 1, MSG_DONTWAIT));
  show("shutdown unconnected", shutdown(s, SHUT_RD));
  printf("poll fresh %x\n", pev(s));
  int ep = epoll_create1(0);
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  struct epoll_event ev = {EPOLLIN | EPOLLET, {.fd = sv[1]}};
  show("epoll add", epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev));
  show("epoll none", epoll_wait(ep, &ev, 1, 0));
  write(sv[0], "e", 1);
  show("epoll in", epoll_wait(ep, &ev, 1, 100));
  printf("events %x\n", ev.events);
  show("epoll edge", epoll_wait(ep, &ev, 1, 0));
  pid_t c2 = fork();
  if (c2 == 0) { usleep(50000); write(sv[0], "f", 1); _exit(0); }
  show("epoll wakes", epoll_wait(ep, &ev, 1, 5000));
  waitpid(c2, NULL, 0);
  close(ep); close(sv[0]); close(sv[1]); close(s);
}

static void batches(void) {
  printf("-- batches\n");
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  struct mmsghdr mm[3];
  struct iovec iov[3];
  char bufs[3][16];
  const char *words[] = {"alpha", "be", "gamma!"};
  memset(mm, 0, sizeof mm);
  for (int i = 0; i < 3; i++) {
    iov[i].iov_base = (void *)words[i];
    iov[i].iov_len = strlen(words[i]);
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  show("sendmmsg", sendmmsg(sv[0], mm, 3, 0));
  printf("lens %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
  int avail = -1;
  show("FIONREAD dgram", ioctl(sv[1], FIONREAD, &avail));
  printf("avail %d\n", avail);
  memset(mm, 0, sizeof mm);
  for (int i = 0; i < 3; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = 4;
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  show("recvmmsg", recvmmsg(sv[1], mm, 3, MSG_DONTWAIT, NULL));
  for (int i = 0; i < 3; i++) printf("msg %d len %u flags %x\n", i, mm[i].msg_len, mm[i].msg_hdr.msg_flags);
  close(sv[0]);
  close(sv[1]);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  write(sv[0], "12345", 5);
  write(sv[0], "678", 3);
  show("FIONREAD stream", ioctl(sv[1], FIONREAD, &avail));
  printf("avail %d\n", avail);
  struct iovec g[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
  struct msghdr gm = {0};
  gm.msg_iov = g;
  gm.msg_iovlen = 3;
  show("sendmsg gathered", sendmsg(sv[0], &gm, 0));
  struct iovec v2[2] = {{bufs[0], 3}, {bufs[1], 11}};
  show("readv", readv(sv[1], v2, 2));
  printf("%.3s %.11s\n", bufs[0], bufs[1]);
  // 4 MiB in one write, read by another process: order and sum kept.
  pid_t c = fork();
  if (c == 0) {
    static unsigned char big[4 << 20];
    for (unsigned i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 7 + (i >> 12));
    printf("big write: %ld\n", (long)write(sv[0], big, sizeof big));
    _exit(0);
  }
  unsigned long sum = 0, total = 0, pos = 0;
  unsigned char rb[65536];
  int ok = 1;
  while (total < (4u << 20)) {
    long n = read(sv[1], rb, sizeof rb);
    if (n <= 0) break;
    for (long i = 0; i < n; i++, pos++) {
      sum += rb[i];
      if (rb[i] != (unsigned char)(pos * 7 + (pos >> 12))) ok = 0;
    }
    total += n;
  }
  waitpid(c, NULL, 0);
  printf("big read: %lu in order %d sum %lu\n", total, ok, sum);
  close(sv[0]);
  close(sv[1]);
}

static void wakeups(void) {
  printf("-- wakeups\n");
  struct sockaddr_un a;
  char name[64];
  snprintf(name, sizeof name, "tsvisor-wake-%d", (int)getpid());
  socklen_t al = addrof(&a, name, 1);
  // A datagram sender blocked on a full receiver resumes when it is read.
  int r = socket(AF_UNIX, SOCK_DGRAM, 0);
  bind(r, (struct sockaddr *)&a, al);
  int w = socket(AF_UNIX, SOCK_DGRAM, 0);
  while (sendto(w, "d", 1, MSG_DONTWAIT, (struct sockaddr *)&a, al) == 1) {}
  printf("full: %s\n", strerrorname_np(errno));
  pid_t c = fork();
  if (c == 0) {
    char b;
    usleep(50000);
    recv(r, &b, 1, 0);
    _exit(0);
  }
  show("blocked sendto", sendto(w, "d", 1, 0, (struct sockaddr *)&a, al));
  waitpid(c, NULL, 0);
  close(r);
  close(w);
  // A connect waiting for room in a backlog fails when the listener goes.
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (struct sockaddr *)&a, al);
  listen(l, 0);
  int c0 = socket(AF_UNIX, SOCK_STREAM, 0);
  show("first connect", connect(c0, (struct sockaddr *)&a, al));
  c = fork();
  if (c == 0) {
    close(l);
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0);
    show("blocked connect", connect(c1, (struct sockaddr *)&a, al));
    _exit(0);
  }
  usleep(100000);
  close(l);
  waitpid(c, NULL, 0);
  char b;
  show("recv on unaccepted", recv(c0, &b, 1, 0));
  close(c0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, onpipe);
  pairs();
  names(argc > 1 ? argv[1] : "/tmp", 0);
  names(argv[0], 1);
  rights();
  options();
  batches();
  wakeups();
  printf("done\n");
  return 0;
}
