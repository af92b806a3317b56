// landlock6: Landlock ABI 3 to 7 (the rights and rules added after ABI 2,
// which landlock.c covers): TRUNCATE (truncate, ftruncate with the right
// kept at open, open with O_TRUNC), TCP port rules (bind, connect, the
// hook's own address checks), IOCTL_DEV (device ioctls but the always
// allowed commands), the scopes of abstract Unix sockets and signals through
// nested domains and F_SETOWN, ABI 7's errata query and audit flags, and a
// directory disconnected from its bind mount (erratum 3). Each scenario in a
// child of its own; only errno names are printed, so the output is the same
// on any kernel with ABI 7 and errata 1-3 (Linux 6.18). Run as root in DIR.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define A_WRITE_FILE (1ULL << 1)
#define A_READ_FILE (1ULL << 2)
#define A_TRUNCATE (1ULL << 14)
#define A_IOCTL_DEV (1ULL << 15)
#define N_BIND (1ULL << 0)
#define N_CONNECT (1ULL << 1)
#define S_ABSTRACT (1ULL << 0)
#define S_SIGNAL (1ULL << 1)

struct ruleset_attr {
  uint64_t fs, net, scoped;
};
struct path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));
struct net_port {
  uint64_t allowed_access;
  uint64_t port;
};

static long create_ruleset(const void *attr, size_t size, uint32_t flags) { return syscall(444, attr, size, flags); }
static long add_rule(int fd, int type, const void *attr, uint32_t flags) { return syscall(445, fd, type, attr, flags); }
static long restrict_self(int fd, uint32_t flags) { return syscall(446, fd, flags); }

static const char *dir;

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: ok\n", what);
}

static char *at(const char *rel) {
  static char buf[8][512];
  static int n;
  char *b = buf[n++ % 8];
  snprintf(b, 512, "%s/%s", dir, rel);
  return b;
}

static int ruleset(uint64_t fs, uint64_t net, uint64_t scoped) {
  struct ruleset_attr a = {fs, net, scoped};
  int fd = create_ruleset(&a, sizeof a, 0);
  if (fd < 0) {
    perror("create_ruleset");
    exit(1);
  }
  return fd;
}

static void rule(int rs, const char *path, uint64_t access) {
  int pfd = open(path, O_PATH | O_CLOEXEC);
  struct path_beneath pb = {access, pfd};
  if (pfd < 0 || add_rule(rs, 1, &pb, 0) < 0) {
    printf("rule %s: %s\n", path, strerrorname_np(errno));
    exit(1);
  }
  close(pfd);
}

static void port_rule(int rs, int port, uint64_t access) {
  struct net_port np = {access, (uint64_t)port};
  if (add_rule(rs, 2, &np, 0) < 0) {
    printf("port rule %d: %s\n", port, strerrorname_np(errno));
    exit(1);
  }
}

static void enforce(int rs) {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (restrict_self(rs, 0) < 0) {
    perror("restrict_self");
    exit(1);
  }
  close(rs);
}

static void scenario(const char *name, void (*fn)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("== %s\n", name);
    fn();
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child status %#x\n", name, st);
}

/** Run fn in a child and wait for it (a nested step of a scenario). */
static void inchild(void (*fn)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    fn();
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static void args(void) {
  long v = create_ruleset(NULL, 0, 1);
  printf("abi at least 6: %s\n", v >= 6 ? "yes" : "no");
  struct {
    struct ruleset_attr a;
    uint64_t tail;
  } big = {{A_TRUNCATE | A_IOCTL_DEV, 0, 0}, 0};
  show("fs rights of abi 3 and 5", create_ruleset(&big, 24, 0));
  show("abi 1 size", create_ruleset(&big, 8, 0));
  big.a.fs = 0;
  show("abi 1 size, nothing handled", create_ruleset(&big, 8, 0));
  big.a.net = N_BIND | N_CONNECT;
  show("net only, abi 4 size", create_ruleset(&big, 16, 0));
  show("net past a short size", create_ruleset(&big, 8, 0));
  big.a.net = 1ULL << 2;
  show("unknown net right", create_ruleset(&big, 24, 0));
  big.a.net = 0;
  big.a.scoped = S_ABSTRACT | S_SIGNAL;
  show("scopes only", create_ruleset(&big, 24, 0));
  big.a.scoped = 1ULL << 2;
  show("unknown scope", create_ruleset(&big, 24, 0));
  big.a.scoped = S_SIGNAL;
  show("zero tail", create_ruleset(&big, 32, 0));
  big.tail = 1;
  show("non-zero tail", create_ruleset(&big, 32, 0));

  int rs = ruleset(A_READ_FILE | A_TRUNCATE, N_BIND, 0);
  struct net_port np = {N_BIND, 8080};
  show("port rule", add_rule(rs, 2, &np, 0));
  show("port rule again", add_rule(rs, 2, &np, 0));
  np.port = 0;
  show("port 0 rule", add_rule(rs, 2, &np, 0));
  np.port = 65535;
  show("port 65535 rule", add_rule(rs, 2, &np, 0));
  np.port = 65536;
  show("port 65536 rule", add_rule(rs, 2, &np, 0));
  np.port = 80;
  np.allowed_access = 0;
  show("port rule nothing allowed", add_rule(rs, 2, &np, 0));
  np.allowed_access = N_CONNECT;
  show("port rule not handled", add_rule(rs, 2, &np, 0));
  show("port rule NULL attr", add_rule(rs, 2, NULL, 0));
  show("port rule flags", add_rule(rs, 2, &np, 1));
  int fsonly = ruleset(A_READ_FILE, 0, 0);
  np.allowed_access = N_BIND;
  show("port rule on fs-only ruleset", add_rule(fsonly, 2, &np, 0));
  int netonly = ruleset(0, N_BIND, 0);
  int ffd = open(at("t1/f"), O_PATH);
  struct path_beneath pb = {A_READ_FILE, ffd};
  show("path rule on net-only ruleset", add_rule(netonly, 1, &pb, 0));
  pb.allowed_access = A_TRUNCATE;
  show("truncate right on a file", add_rule(rs, 1, &pb, 0));
  int ioc = ruleset(A_IOCTL_DEV, 0, 0);
  pb.allowed_access = A_IOCTL_DEV;
  show("ioctl right on a file", add_rule(ioc, 1, &pb, 0));
  int scoped = ruleset(0, 0, S_SIGNAL);
  pb.allowed_access = A_READ_FILE;
  show("path rule on scope-only ruleset", add_rule(scoped, 1, &pb, 0));
  np.allowed_access = N_BIND;
  show("port rule on scope-only ruleset", add_rule(scoped, 2, &np, 0));

  // ABI 7: the errata query, and restrict_self's audit flags.
  printf("abi at least 7: %s\n", v >= 7 ? "yes" : "no");
  long errata = create_ruleset(NULL, 0, 2);
  printf("errata 1 to 3 fixed: %s\n", errata >= 0 && (errata & 7) == 7 ? "yes" : "no");
  show("errata with a size", create_ruleset(NULL, 8, 2));
  show("version and errata at once", create_ruleset(NULL, 0, 3));
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  show("no ruleset, subdomain logging off", restrict_self(-1, 4));
  show("no ruleset, same-exec logging off", restrict_self(-1, 1));
  show("no ruleset, subdomain logging off and another flag", restrict_self(-1, 5));
  show("unknown restrict flag", restrict_self(scoped, 1u << 31));
  show("all three audit flags", restrict_self(scoped, 7));
  show("signal after the audit-flagged domain", kill(getppid(), 0));
}

static void put(const char *rel, const char *text) {
  int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) {
    perror(rel);
    exit(1);
  }
  close(fd);
}

static off_t size_of(const char *rel) {
  struct stat st;
  return stat(at(rel), &st) < 0 ? -1 : st.st_size;
}

static void truncates(void) {
  int before = open(at("t2/g"), O_WRONLY);
  int rs = ruleset(A_READ_FILE | A_WRITE_FILE | A_TRUNCATE, 0, 0);
  rule(rs, at("t1"), A_READ_FILE | A_WRITE_FILE | A_TRUNCATE);
  rule(rs, at("t2"), A_READ_FILE | A_WRITE_FILE);
  rule(rs, at("t2/h"), A_TRUNCATE);
  enforce(rs);
  show("truncate with the right", truncate(at("t1/f"), 1));
  show("truncate without", truncate(at("t2/f"), 1));
  show("truncate with a rule on the file", truncate(at("t2/h"), 1));
  show("truncate outside the rules", truncate(at("t3"), 1));
  printf("sizes: %ld %ld %ld\n", (long)size_of("t1/f"), (long)size_of("t2/f"), (long)size_of("t2/h"));
  show("open O_TRUNC with the right", open(at("t1/f"), O_WRONLY | O_TRUNC));
  show("open O_TRUNC without", open(at("t2/f"), O_WRONLY | O_TRUNC));
  show("open read-only O_TRUNC without", open(at("t2/f"), O_RDONLY | O_TRUNC));
  show("open O_CREAT O_TRUNC of a new file", open(at("t2/new"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  show("open O_CREAT O_TRUNC of an existing one", open(at("t2/f"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  int a = open(at("t1/f"), O_WRONLY);
  int b = open(at("t2/f"), O_RDWR);
  show("ftruncate, opened with the right", ftruncate(a, 0));
  show("ftruncate, opened without", ftruncate(b, 0));
  show("ftruncate, opened before the domain", ftruncate(before, 0));
  int c = dup(b);
  show("ftruncate through a dup", ftruncate(c, 0));
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", a);
  int d = open(path, O_WRONLY);
  show("ftruncate, reopened through /proc", ftruncate(d, 0));
  int ro = open(at("t2/f"), O_RDONLY);
  show("ftruncate read-only without the right", ftruncate(ro, 0));
  printf("sizes: %ld %ld\n", (long)size_of("t1/f"), (long)size_of("t2/f"));
  // A domain that does not handle TRUNCATE (an ABI 2 ruleset) leaves it allowed.
  int rs2 = ruleset(A_READ_FILE | A_WRITE_FILE, 0, 0);
  rule(rs2, dir, A_READ_FILE | A_WRITE_FILE);
  enforce(rs2);
  int e = open(at("t1/f"), O_WRONLY);
  show("second layer without TRUNCATE, truncate", truncate(at("t1/f"), 2));
  show("second layer without TRUNCATE, ftruncate", ftruncate(e, 0));
}

static void ioctls(void) {
  int before = open("/dev/null", O_RDWR);
  int n;
  show("FIONREAD /dev/null, no domain", ioctl(before, FIONREAD, &n));
  int rs = ruleset(A_READ_FILE | A_WRITE_FILE | A_IOCTL_DEV, 0, 0);
  rule(rs, "/dev/null", A_READ_FILE | A_WRITE_FILE);
  rule(rs, "/dev/zero", A_READ_FILE | A_IOCTL_DEV);
  rule(rs, dir, A_READ_FILE | A_WRITE_FILE);
  enforce(rs);
  int fd = open("/dev/null", O_RDWR);
  show("open /dev/null", fd);
  show("FIONREAD /dev/null", ioctl(fd, FIONREAD, &n));
  struct termios tio;
  show("TCGETS /dev/null", ioctl(fd, TCGETS, &tio));
  show("FIOCLEX", ioctl(fd, FIOCLEX));
  show("FIONCLEX", ioctl(fd, FIONCLEX));
  n = 1;
  show("FIONBIO", ioctl(fd, FIONBIO, &n));
  printf("nonblock: %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  show("FIOQSIZE /dev/null", ioctl(fd, 0x5460, &n));
  show("unknown command /dev/null", ioctl(fd, 0x12345678, &n));
  show("FIONREAD /dev/null opened before", ioctl(before, FIONREAD, &n));
  int z = open("/dev/zero", O_RDONLY);
  show("TCGETS /dev/zero with the right", ioctl(z, TCGETS, &tio));
  int f = open(at("t1/f"), O_RDONLY);
  show("FIONREAD regular file", ioctl(f, FIONREAD, &n));
  int pp[2];
  pipe(pp);
  show("FIONREAD pipe", ioctl(pp[0], FIONREAD, &n));
}

static int lport, cport;

static int tcp(int family) {
  int s = socket(family, SOCK_STREAM, 0);
  if (s < 0) {
    perror("socket");
    exit(1);
  }
  return s;
}

static int connect4(int s, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return connect(s, (struct sockaddr *)&a, sizeof a);
}

static int bind4(int s, int port, uint32_t addr) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};
  return bind(s, (struct sockaddr *)&a, sizeof a);
}

static void nets(void) {
  int rs = ruleset(0, N_BIND | N_CONNECT, 0);
  port_rule(rs, lport, N_CONNECT);
  port_rule(rs, 0, N_BIND);
  enforce(rs);
  show("connect to a port with the right", connect4(tcp(AF_INET), lport));
  show("connect to a port without", connect4(tcp(AF_INET), cport));
  show("bind port 0", bind4(tcp(AF_INET), 0, INADDR_LOOPBACK));
  show("bind a port without the right", bind4(tcp(AF_INET), cport, INADDR_LOOPBACK));
  int s = tcp(AF_INET);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(lport), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  show("connect with a short address", connect(s, (struct sockaddr *)&a, 8));
  show("bind with a family-only address", bind(s, (struct sockaddr *)&a, 2));
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(lport), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  show("connect IPv4 socket to an IPv6 address", connect(s, (struct sockaddr *)&a6, sizeof a6));
  struct sockaddr_in un = {.sin_family = AF_UNSPEC, .sin_port = htons(cport)};
  show("bind AF_UNSPEC any, port without the right", bind(s, (struct sockaddr *)&un, sizeof un));
  un.sin_port = 0;
  un.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  show("bind AF_UNSPEC loopback", bind(s, (struct sockaddr *)&un, sizeof un));
  int s6 = tcp(AF_INET6);
  show("IPv6 connect, a port with the right", connect(s6, (struct sockaddr *)&a6, sizeof a6));
  un.sin_addr.s_addr = 0;
  show("bind AF_UNSPEC on an IPv6 socket", bind(s6, (struct sockaddr *)&un, sizeof un));
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  show("UDP bind, not restricted", bind4(u, cport, INADDR_LOOPBACK) == 0 || errno != EACCES ? 0 : -1);
  int c = tcp(AF_INET);
  show("connect again (allowed)", connect4(c, lport));
  show("connect AF_UNSPEC (disconnect)", connect(c, (struct sockaddr *)&un, sizeof un));
  // A second layer that handles only BIND: connect is still the first layer's to refuse.
  int rs2 = ruleset(0, N_BIND, 0);
  port_rule(rs2, 0, N_BIND);
  enforce(rs2);
  show("two layers, connect with the right", connect4(tcp(AF_INET), lport));
  show("two layers, bind port 0", bind4(tcp(AF_INET), 0, INADDR_LOOPBACK));
}

static void nets_bind_only(void) {
  int rs = ruleset(0, N_BIND, 0);
  port_rule(rs, lport, N_BIND);
  enforce(rs);
  show("bind-only domain, connect refused by nobody", connect4(tcp(AF_INET), cport));
  show("bind-only domain, bind port 0", bind4(tcp(AF_INET), 0, INADDR_LOOPBACK));
  int s = tcp(AF_INET);
  struct sockaddr_in a = {.sin_family = AF_INET};
  show("bind-only domain, short connect address", connect(s, (struct sockaddr *)&a, 8));
  // A file system only domain checks no address.
}

static char abs_stream[108], abs_dgram[108];

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  a->sun_path[0] = 0;
  strcpy(a->sun_path + 1, name);
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int unix_connect(int type, const char *name) {
  struct sockaddr_un a;
  socklen_t len = abstract_addr(&a, name);
  int s = socket(AF_UNIX, type, 0);
  return connect(s, (struct sockaddr *)&a, len);
}

static int unix_sendto(const char *name) {
  struct sockaddr_un a;
  socklen_t len = abstract_addr(&a, name);
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  return sendto(s, "x", 1, 0, (struct sockaddr *)&a, len);
}

static int unix_listen(const char *name) {
  struct sockaddr_un a;
  socklen_t len = abstract_addr(&a, name);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 8) < 0) {
    perror("listen");
    exit(1);
  }
  return s;
}

static char inner[108];

static void same_domain_connect(void) { show("same domain, connect", unix_connect(SOCK_STREAM, inner)); }

static void nested_scoped_connect(void) {
  enforce(ruleset(0, 0, S_ABSTRACT));
  show("nested scoped domain, connect to the parent domain's socket", unix_connect(SOCK_STREAM, inner));
}

static void nested_unscoped_connect(void) {
  enforce(ruleset(0, 0, S_SIGNAL));
  show("nested domain scoped for signals only, connect", unix_connect(SOCK_STREAM, inner));
}

static void unixes(void) {
  int early = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un a;
  socklen_t len = abstract_addr(&a, abs_dgram);
  connect(early, (struct sockaddr *)&a, len);
  struct sockaddr_un p = {.sun_family = AF_UNIX};
  snprintf(p.sun_path, sizeof p.sun_path, "%s", at("sock"));
  int ps = socket(AF_UNIX, SOCK_STREAM, 0);
  unlink(p.sun_path);
  if (bind(ps, (struct sockaddr *)&p, sizeof p) < 0 || listen(ps, 4) < 0) perror("bind path");
  enforce(ruleset(0, 0, S_ABSTRACT));
  show("connect to an outside abstract socket", unix_connect(SOCK_STREAM, abs_stream));
  show("seqpacket to a missing name", unix_connect(SOCK_SEQPACKET, abs_stream));
  show("datagram connect to an outside abstract socket", unix_connect(SOCK_DGRAM, abs_dgram));
  show("sendto an outside abstract socket", unix_sendto(abs_dgram));
  show("send on a socket connected before the domain", send(early, "x", 1, 0));
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  show("connect to a path socket", connect(s, (struct sockaddr *)&p, sizeof p));
  snprintf(inner, sizeof inner, "ll6-inner-%d", getpid());
  int l = unix_listen(inner);
  show("connect to an own abstract socket", unix_connect(SOCK_STREAM, inner));
  inchild(same_domain_connect);
  inchild(nested_scoped_connect);
  inchild(nested_unscoped_connect);
  close(l);
}

static void unix_unscoped(void) {
  enforce(ruleset(0, 0, S_SIGNAL));
  show("signal-scoped domain, connect to an outside abstract socket", unix_connect(SOCK_STREAM, abs_stream));
}

static pid_t outsider;

static void grand_kill(void) { show("same domain, signal its parent", kill(getppid(), 0)); }

static void grand_scoped(void) {
  enforce(ruleset(0, 0, S_SIGNAL));
  show("nested scoped domain, signal the parent domain", kill(getppid(), 0));
  show("nested scoped domain, signal itself", kill(getpid(), 0));
}

static void grand_unscoped(void) {
  enforce(ruleset(0, 0, S_ABSTRACT));
  show("nested domain scoped for sockets only, signal the parent domain", kill(getppid(), 0));
}

static void signals(void) {
  enforce(ruleset(0, 0, S_SIGNAL));
  show("signal 0 to an outside process", kill(outsider, 0));
  show("SIGUSR1 to an outside process", kill(outsider, SIGUSR1));
  show("signal its parent", kill(getppid(), 0));
  show("sigqueue to an outside process", sigqueue(outsider, 0, (union sigval){0}));
  show("tgkill an outside thread", syscall(SYS_tgkill, outsider, outsider, 0));
  show("signal itself", kill(getpid(), 0));
  show("tgkill itself", syscall(SYS_tgkill, getpid(), gettid(), 0));
  inchild(grand_kill);
  inchild(grand_scoped);
  inchild(grand_unscoped);
}

// Threads restrict themselves one by one: a thread in a domain, in a process
// whose leader is not, is reached by a process of that domain when named
// itself (tgkill, kill with its id), not through its leader.
static pid_t leader;
static pid_t thread_tid;

static void *restricted_thread(void *arg) {
  (void)arg;
  thread_tid = gettid();
  enforce(ruleset(0, 0, S_SIGNAL));
  fflush(stdout);
  pid_t c = fork(); // in the thread's domain
  if (c == 0) {
    show("same domain, tgkill the thread that made it", syscall(SYS_tgkill, leader, thread_tid, 0));
    show("same domain, kill the thread by its id", kill(thread_tid, 0));
    show("same domain, signal the thread's process leader", kill(leader, 0));
    show("same domain, tgkill the leader thread", syscall(SYS_tgkill, leader, leader, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  show("restricted thread, signal its own leader thread", syscall(SYS_tgkill, leader, leader, 0));
  return NULL;
}

static void thread_domains(void) {
  leader = getpid();
  pthread_t th;
  pthread_create(&th, NULL, restricted_thread, NULL);
  pthread_join(th, NULL);
}

static void signals_unscoped(void) {
  enforce(ruleset(0, 0, S_ABSTRACT));
  show("socket-scoped domain, signal an outside process", kill(outsider, 0));
}

/** In a child restricted to reading beneath rule_path: open f in directory x. */
static void disconnected_open(const char *what, const char *rule_path, int x) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int rs = ruleset(A_READ_FILE, 0, 0);
    rule(rs, rule_path, A_READ_FILE);
    enforce(rs);
    show(what, openat(x, "f", O_RDONLY));
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

// A directory moved out from under a bind mount while a descriptor holds it
// there: its path no longer leads up to the mount's root. The rights are
// those of its file system ancestors and of the mount's place (Linux's
// erratum 3), not none and not all.
static void disconnected(void) {
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
    perror("unshare");
    return;
  }
  mkdir(at("dc"), 0755);
  mkdir(at("dc/src"), 0755);
  mkdir(at("dc/src/a"), 0755);
  mkdir(at("dc/src/a/x"), 0755);
  mkdir(at("dc/mnt"), 0755);
  put("dc/src/a/x/f", "f");
  if (mount(at("dc/src/a"), at("dc/mnt"), NULL, MS_BIND, NULL) < 0) perror("bind");
  int x = open(at("dc/mnt/x"), O_PATH | O_DIRECTORY);
  if (rename(at("dc/src/a/x"), at("dc/src/y")) < 0) perror("rename");
  disconnected_open("disconnected, no rule on either side", at("t1"), x);
  disconnected_open("disconnected, a rule on the mount's root", at("dc/mnt"), x);
  disconnected_open("disconnected, a rule on its file system parent", at("dc/src"), x);
  umount2(at("dc/mnt"), MNT_DETACH);
}

static volatile sig_atomic_t sigios;

static void on_sigio(int sig) {
  (void)sig;
  sigios++;
}

/** Write a byte into the pipe whose read end is fd r: a signal to r's owner. */
static void poke(int r, int w) {
  char c;
  if (write(w, "x", 1) != 1 || read(r, &c, 1) != 1) perror("poke");
}

// SIGIO goes to an owner that F_SETOWN named: the signal scope counts the
// domain of whoever set the owner, at that time.
static void sigio(void) {
  int p[2];
  if (pipe(p) < 0) exit(1);
  fcntl(p[0], F_SETOWN, getppid());
  fcntl(p[0], F_SETSIG, SIGRTMIN + 1); // queued: every delivery counts
  fcntl(p[0], F_SETFL, O_ASYNC);
  poke(p[0], p[1]);
  enforce(ruleset(0, 0, S_SIGNAL));
  poke(p[0], p[1]); // owner set before the domain: delivered
  fcntl(p[0], F_SETOWN, getppid());
  poke(p[0], p[1]); // set within the domain, to a process outside it: not delivered
  fcntl(p[0], F_SETOWN, getpid());
  poke(p[0], p[1]); // to itself
  printf("own SIGIO count: %d\n", (int)sigios);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : "/tmp";
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(at("t1"), 0755);
  mkdir(at("t2"), 0755);
  put("t1/f", "0123456789");
  put("t2/f", "0123456789");
  put("t2/g", "0123456789");
  put("t2/h", "0123456789");
  put("t3", "0123456789");
  scenario("arguments", args);
  scenario("truncate", truncates);
  printf("outside: g %ld\n", (long)size_of("t2/g"));
  scenario("ioctl", ioctls);
  scenario("disconnected directory", disconnected);

  // A listener, and a bound port nobody listens on (connect is refused there).
  int l = tcp(AF_INET), q = tcp(AF_INET);
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  if (bind4(l, 0, INADDR_LOOPBACK) < 0 || listen(l, 16) < 0 || getsockname(l, (struct sockaddr *)&a, &alen) < 0) perror("listener");
  lport = ntohs(a.sin_port);
  alen = sizeof a;
  if (bind4(q, 0, INADDR_LOOPBACK) < 0 || getsockname(q, (struct sockaddr *)&a, &alen) < 0) perror("bound");
  cport = ntohs(a.sin_port);
  scenario("tcp", nets);
  scenario("tcp, bind only", nets_bind_only);
  close(l);
  close(q);

  snprintf(abs_stream, sizeof abs_stream, "ll6-stream-%d", getpid());
  snprintf(abs_dgram, sizeof abs_dgram, "ll6-dgram-%d", getpid());
  int ls = unix_listen(abs_stream);
  int ds = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un da;
  socklen_t dlen = abstract_addr(&da, abs_dgram);
  if (bind(ds, (struct sockaddr *)&da, dlen) < 0) perror("dgram bind");
  scenario("abstract unix scope", unixes);
  scenario("abstract unix, other scope", unix_unscoped);
  close(ls);
  close(ds);
  unlink(at("sock"));

  outsider = fork();
  if (outsider == 0) {
    signal(SIGUSR1, SIG_IGN);
    pause();
    _exit(0);
  }
  signal(SIGUSR1, SIG_IGN);
  scenario("signal scope", signals);
  scenario("signal, other scope", signals_unscoped);
  scenario("signal scope of one thread", thread_domains);
  struct sigaction sa = {.sa_handler = on_sigio, .sa_flags = SA_RESTART};
  sigaction(SIGRTMIN + 1, &sa, NULL);
  scenario("SIGIO scope", sigio);
  printf("SIGIO count of the outside owner: %d\n", (int)sigios);
  kill(outsider, SIGKILL);
  waitpid(outsider, NULL, 0);
  printf("done\n");
  return 0;
}
