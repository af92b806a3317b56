// Pseudo-terminals: /dev/ptmx pairs, locking, the slave node, termios round
// trips, the line discipline (canonical editing, echo, input and output
// translation, VMIN/VTIME), window size, hangup. Output is compared with a
// native run, so it prints results, not pty numbers.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void show(const char *what, const char *buf, ssize_t n) {
  printf("%s: %zd \"", what, n);
  for (ssize_t i = 0; i < n; i++) {
    unsigned char c = buf[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') putchar(c);
    else printf("\\x%02x", c);
  }
  printf("\"\n");
}

/* A call's result and errno, printed after it ran (printf's arguments have no order). */
#define SHOW(label, call) do { long r_ = (long)(call); int e_ = errno; printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerror(e_) : "ok"); } while (0)

/* The tty group's id from /etc/group (getgrnam is not for static programs), or -1. */
static int tty_gid(void) {
  FILE *f = fopen("/etc/group", "r");
  char line[512];
  int gid = -1;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "tty:", 4) == 0) {
      char *p = strchr(line + 4, ':');
      if (p) gid = atoi(p + 1);
    }
  }
  if (f) fclose(f);
  return gid;
}

/* Linux moves pty data through a work queue: give it a moment. */
/* The fields the kernel keeps (glibc's struct has padding and spare c_cc slots). */
static int same_termios(const struct termios *a, const struct termios *b) {
  return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
         memcmp(a->c_cc, b->c_cc, 17) == 0 && cfgetospeed(a) == cfgetospeed(b);
}

static int readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  int r = poll(&p, 1, 50);
  return r > 0 ? p.revents : 0;
}

/* Everything the master has to read now (echoes, output). */
static void drain(int m, const char *what) {
  char buf[512];
  ssize_t n = 0;
  if (readable(m) & POLLIN) n = read(m, buf, sizeof buf);
  show(what, buf, n);
}

static void feed(int m, int s, const char *in, const char *what) {
  char buf[512];
  write(m, in, strlen(in));
  ssize_t n = 0;
  if (readable(s) & POLLIN) n = read(s, buf, sizeof buf);
  show(what, buf, n);
}

static int openpair(int *s) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  if (m < 0 || grantpt(m) || unlockpt(m)) return -1;
  *s = open(ptsname(m), O_RDWR | O_NOCTTY);
  return m;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
  printf("ptmx: %s\n", m >= 0 ? "ok" : strerror(errno));
  int n = -1, lck = -1;
  printf("TIOCGPTN: %d\n", ioctl(m, TIOCGPTN, &n));
  ioctl(m, TIOCGPTLCK, &lck);
  printf("locked: %d\n", lck);
  char path[64];
  snprintf(path, sizeof path, "/dev/pts/%d", n);
  printf("ptsname matches: %d\n", strcmp(ptsname(m), path) == 0);
  int s = open(path, O_RDWR | O_NOCTTY);
  printf("open locked slave: %s\n", s >= 0 ? "ok" : strerror(errno));
  int gp = grantpt(m);
  int up = unlockpt(m);
  printf("grantpt: %d unlockpt: %d\n", gp, up);
  ioctl(m, TIOCGPTLCK, &lck);
  printf("locked: %d\n", lck);
  s = open(path, O_RDWR | O_NOCTTY);
  printf("open slave: %s isatty %d\n", s >= 0 ? "ok" : strerror(errno), isatty(s));
  struct stat st, st2;
  stat(path, &st);
  int ttyg = tty_gid();
  // Mode and group come from devpts's mount options (Debian: gid=5,mode=620; some hosts mode=600 without gid).
  int mode = st.st_mode & 07777;
  printf("slave node: chr %d mode ok %d uid-is-euid %d gid ok %d major-pts %d minor-is-n %d\n", S_ISCHR(st.st_mode),
         mode == 0620 || mode == 0600, st.st_uid == geteuid(), (int)st.st_gid == ttyg || st.st_gid == getegid(),
         major(st.st_rdev) >= 136 && major(st.st_rdev) < 144, (int)minor(st.st_rdev) == n % 256);
  fstat(s, &st2);
  printf("fstat same: %d\n", st.st_ino == st2.st_ino && st.st_rdev == st2.st_rdev);
  fstat(m, &st2);
  printf("master: chr %d major %d minor %d\n", S_ISCHR(st2.st_mode), major(st2.st_rdev), minor(st2.st_rdev));
  printf("ttyname matches: %d\n", ttyname(s) && strcmp(ttyname(s), path) == 0);
  int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  fstat(peer, &st2);
  printf("TIOCGPTPEER: %d same rdev %d\n", peer >= 0, st2.st_rdev == st.st_rdev);
  close(peer);
  SHOW("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &n));

  struct termios t, tm;
  tcgetattr(s, &t);
  printf("termios: i %o o %o c %o l %o speed %d\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, (int)cfgetospeed(&t));
  printf("cc:");
  for (int i = 0; i < 17; i++) printf(" %d", t.c_cc[i]);
  printf("\n");
  tcgetattr(m, &tm);
  printf("master sees slave termios: %d\n", same_termios(&t, &tm));

  feed(m, s, "hello\n", "line");
  drain(m, "echo");
  feed(m, s, "abc\x7f\x7f" "d\n", "erase");
  drain(m, "echo");
  feed(m, s, "xyz\x15q\n", "kill");
  drain(m, "echo");
  feed(m, s, "foo bar\x17" "baz\n", "werase");
  drain(m, "echo");
  feed(m, s, "a.b-c  \x17\n", "werase punct");
  drain(m, "echo");
  feed(m, s, "partial", "no line yet");
  int avail = -1;
  ioctl(s, FIONREAD, &avail);
  printf("FIONREAD partial: %d\n", avail);
  feed(m, s, "\x04", "eof ends line");
  feed(m, s, "\x04", "eof alone");
  drain(m, "echo");
  feed(m, s, "\x01\x1b\t\n", "ctl");
  drain(m, "echo");
  feed(m, s, "cr\r", "icrnl");
  drain(m, "echo");
  feed(m, s, "lit\x16\x15\n", "lnext");
  drain(m, "echo");
  feed(m, s, "two\nlines\n", "first of two");
  ioctl(s, FIONREAD, &avail);
  printf("FIONREAD after: %d\n", avail);
  feed(m, s, "", "second of two");
  drain(m, "echo");

  // Echo variants.
  t.c_lflag &= ~ECHOCTL;
  tcsetattr(s, TCSANOW, &t);
  feed(m, s, "\x01\n", "no echoctl");
  drain(m, "echo");
  t.c_lflag &= ~(ECHO | ECHOKE);
  t.c_lflag |= ECHONL | ECHOK;
  tcsetattr(s, TCSANOW, &t);
  feed(m, s, "quiet\n", "echonl");
  drain(m, "echo");
  t.c_lflag |= ECHO;
  tcsetattr(s, TCSANOW, &t);
  feed(m, s, "ab\x15" "c\n", "echok");
  drain(m, "echo");
  t.c_iflag |= IGNCR;
  tcsetattr(s, TCSANOW, &t);
  feed(m, s, "x\ry\n", "igncr");
  drain(m, "echo");
  t.c_iflag &= ~(IGNCR | ICRNL);
  t.c_iflag |= INLCR;
  tcsetattr(s, TCSANOW, &t);
  feed(m, s, "nl\n\r", "inlcr");
  drain(m, "echo");

  // Output processing.
  write(s, "x\ny\r", 4);
  drain(m, "onlcr");
  t.c_oflag |= OCRNL;
  tcsetattr(s, TCSANOW, &t);
  write(s, "p\rq", 3);
  drain(m, "ocrnl");
  t.c_oflag &= ~OPOST;
  tcsetattr(s, TCSANOW, &t);
  write(s, "x\ny", 3);
  drain(m, "no opost");

  // Raw mode and VMIN/VTIME.
  cfmakeraw(&t);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  tcsetattr(s, TCSAFLUSH, &t);
  tcgetattr(s, &tm);
  printf("raw round trip: %d\n", same_termios(&t, &tm));
  char buf[64];
  printf("vmin0 vtime0 empty: %zd\n", read(s, buf, sizeof buf));
  feed(m, s, "a\rb\x03\x7f", "raw");
  drain(m, "no echo");
  t.c_cc[VMIN] = 3;
  tcsetattr(s, TCSANOW, &t);
  write(m, "12", 2);
  printf("vmin3 with 2: poll %x\n", readable(s));
  ioctl(s, FIONREAD, &avail);
  printf("FIONREAD raw: %d\n", avail);
  write(m, "3", 1);
  printf("vmin3 with 3: poll %x\n", readable(s));
  printf("read: %zd\n", read(s, buf, sizeof buf));
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 1;
  tcsetattr(s, TCSANOW, &t);
  printf("vtime1 timeout: %zd\n", read(s, buf, sizeof buf));
  write(m, "z", 1);
  printf("vtime1 data: %zd\n", read(s, buf, sizeof buf));
  t.c_cc[VMIN] = 5;
  tcsetattr(s, TCSANOW, &t);
  write(m, "ab", 2);
  printf("vmin5 vtime1 inter-byte: %zd\n", read(s, buf, sizeof buf));

  // Flushing, flow control, queues.
  write(m, "junk", 4);
  printf("tcflush: %d\n", tcflush(s, TCIFLUSH));
  ioctl(s, FIONREAD, &avail);
  printf("after flush: %d\n", avail);
  int q = -1;
  SHOW("TIOCOUTQ", ioctl(s, TIOCOUTQ, &q));
  printf("outq %d\n", q);
  SHOW("tcflow off", tcflow(s, TCOOFF));
  SHOW("tcflow on", tcflow(s, TCOON));
  SHOW("tcflow bad", tcflow(s, 9));
  SHOW("tcsendbreak", tcsendbreak(s, 0));
  SHOW("tcdrain", tcdrain(s));

  struct winsize w = {24, 80, 0, 0}, w2;
  printf("TIOCSWINSZ master: %d\n", ioctl(m, TIOCSWINSZ, &w));
  ioctl(s, TIOCGWINSZ, &w2);
  printf("slave winsize: %d %d\n", w2.ws_row, w2.ws_col);

  SHOW("TIOCGPGRP no ctty", ioctl(s, TIOCGPGRP, &q));
  SHOW("TIOCGSID no ctty", ioctl(s, TIOCGSID, &q));
  SHOW("TIOCGPGRP master", ioctl(m, TIOCGPGRP, &q));
  printf("pgrp %d\n", q);
  SHOW("TIOCSPGRP no ctty", ioctl(s, TIOCSPGRP, &q));

  // Hangup: the slave of a closed master.
  write(s, "left", 4);
  close(m);
  printf("slave read after master close: %zd\n", read(s, buf, sizeof buf));
  SHOW("slave write", write(s, "x", 1));
  struct pollfd pf = {s, POLLIN | POLLOUT, 0};
  poll(&pf, 1, 0);
  printf("slave poll: %x\n", pf.revents);
  SHOW("tcgetattr", tcgetattr(s, &t));
  SHOW("node after master close", stat(path, &st));
  close(s);

  // The master of a closed slave.
  int s2;
  int m2 = openpair(&s2);
  write(s2, "bye", 3);
  close(s2);
  pf.fd = m2;
  pf.events = POLLIN;
  poll(&pf, 1, 0);
  printf("master poll after slave close: %x\n", pf.revents);
  printf("master read: %zd\n", read(m2, buf, sizeof buf));
  SHOW("master read again", read(m2, buf, sizeof buf));
  close(m2);

  // A pair's number is given again once both ends are closed.
  int a = posix_openpt(O_RDWR | O_NOCTTY), na, nb;
  ioctl(a, TIOCGPTN, &na);
  close(a);
  int b = posix_openpt(O_RDWR | O_NOCTTY);
  ioctl(b, TIOCGPTN, &nb);
  printf("number reused: %d\n", na == nb);
  close(b);

  // epoll and select see the same readiness as poll.
  {
    int s4, m4 = openpair(&s4);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = m4}, out;
    SHOW("epoll_ctl master", epoll_ctl(ep, EPOLL_CTL_ADD, m4, &ev));
    ev.data.fd = s4;
    ev.events = EPOLLIN;
    SHOW("epoll_ctl slave", epoll_ctl(ep, EPOLL_CTL_ADD, s4, &ev));
    printf("epoll idle: %d\n", epoll_wait(ep, &out, 1, 0));
    write(s4, "out", 3);
    int k = epoll_wait(ep, &out, 1, 1000);
    printf("epoll after slave write: %d master %d events %x\n", k, out.data.fd == m4, out.events);
    printf("edge again: %d\n", epoll_wait(ep, &out, 1, 0));
    write(m4, "in\n", 3);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(s4, &rs);
    struct timeval tv = {1, 0};
    printf("select slave: %d\n", select(s4 + 1, &rs, NULL, NULL, &tv));
    struct epoll_event evs[2];
    k = epoll_wait(ep, evs, 2, 1000);
    printf("epoll slave line: %d\n", k > 0 && (evs[0].data.fd == s4 || (k > 1 && evs[1].data.fd == s4)));
    close(ep);
    close(s4);
    close(m4);
  }

  // Nonblocking master read with nothing: EAGAIN; a blocked slave read woken by the master.
  int s3, m3 = openpair(&s3);
  fcntl(m3, F_SETFL, O_NONBLOCK);
  SHOW("nonblock master read", read(m3, buf, sizeof buf));
  pid_t c = fork();
  if (c == 0) {
    ssize_t r = read(s3, buf, sizeof buf);
    printf("child read: %zd \"%.*s\"\n", r, (int)(r > 0 ? r - 1 : 0), buf);
    _exit(0);
  }
  usleep(100000);
  write(m3, "wake\n", 5);
  waitpid(c, NULL, 0);
  printf("done\n");
  return 0;
}
