// Controlling terminals and job control on a pty: setsid + TIOCSCTTY,
// /dev/tty, TIOCGPGRP/TIOCSPGRP/TIOCGSID, ^C/^Z/^\ to the foreground group,
// SIGWINCH, background reads (SIGTTIN, EIO when ignored), background writes
// with TOSTOP and tcsetattr (SIGTTOU), TIOCNOTTY, and hangups: the master
// closing (SIGHUP to the session leader) and the controlling process exiting
// (SIGHUP to the foreground group).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define SHOW(label, call) do { long r_ = (long)(call); int e_ = errno; printf("%s: %s\n", label, r_ < 0 ? strerror(e_) : "ok"); } while (0)

static int m, s;
static char spath[64];
static volatile sig_atomic_t got;

static void on_sig(int sig) { got = sig; }

static void status(const char *who, int st) {
  if (WIFEXITED(st)) printf("%s: exit %d\n", who, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", who, WTERMSIG(st));
  else if (WIFSTOPPED(st)) printf("%s: stopped by %d\n", who, WSTOPSIG(st));
}

static void openpair(void) {
  m = posix_openpt(O_RDWR | O_NOCTTY);
  grantpt(m);
  unlockpt(m);
  snprintf(spath, sizeof spath, "%s", ptsname(m));
  s = open(spath, O_RDWR | O_NOCTTY);
}

/* Linux hands pty output to the master through a work queue: what a child
 * wrote just before may be a moment late, so read until 50 ms pass with nothing. */
static void drain(const char *what) {
  char buf[256];
  struct pollfd p = {m, POLLIN, 0};
  ssize_t n = 0;
  while (n < (ssize_t)sizeof buf && poll(&p, 1, 50) > 0 && (p.revents & POLLIN)) {
    ssize_t r = read(m, buf + n, sizeof buf - n);
    if (r <= 0) break;
    n += r;
  }
  printf("%s: \"", what);
  for (ssize_t i = 0; i < n; i++) printf(buf[i] >= 0x20 && buf[i] < 0x7f ? "%c" : "\\x%02x", (unsigned char)buf[i]);
  printf("\"\n");
}

/* A background child of the session leader: its own process group, doing fn. */
static int background(void (*fn)(void)) {
  pid_t c = fork();
  if (c == 0) {
    setpgid(0, 0);
    fn();
    _exit(0);
  }
  setpgid(c, c);
  int st;
  waitpid(c, &st, WUNTRACED);
  if (WIFSTOPPED(st)) {
    kill(c, SIGKILL);
    int st2;
    waitpid(c, &st2, 0);
  }
  return st;
}

static void bg_read(void) {
  char b[8];
  ssize_t r = read(s, b, sizeof b);
  printf("bg read: %zd %s\n", r, r < 0 ? strerror(errno) : "");
}
static void bg_read_ignored(void) {
  signal(SIGTTIN, SIG_IGN);
  bg_read();
}
static void bg_write(void) {
  ssize_t r = write(s, "w", 1);
  printf("bg write: %zd\n", r);
}
static void bg_tcsetattr(void) {
  struct termios t;
  tcgetattr(s, &t);
  int r = tcsetattr(s, TCSANOW, &t);
  printf("bg tcsetattr: %d\n", r);
}
static void bg_tcsetattr_ignored(void) {
  signal(SIGTTOU, SIG_IGN);
  bg_tcsetattr();
}

/* The session leader: takes the slave as its controlling terminal. */
static void leader(int ready) {
  setsid();
  SHOW("/dev/tty before TIOCSCTTY", open("/dev/tty", O_RDWR));
  SHOW("TIOCSCTTY", ioctl(s, TIOCSCTTY, 0));
  int g = -1, sid = -1;
  ioctl(s, TIOCGPGRP, &g);
  ioctl(s, TIOCGSID, &sid);
  printf("pgrp is me: %d sid is me: %d tcgetsid: %d\n", g == getpid(), sid == getpid(), tcgetsid(s) == getpid());
  int tty = open("/dev/tty", O_RDWR);
  struct stat st;
  fstat(tty, &st);
  printf("/dev/tty: %s rdev %d:%d\n", tty >= 0 ? "ok" : strerror(errno), major(st.st_rdev), minor(st.st_rdev));
  write(tty, "via tty\n", 8);
  close(tty);

  // Background jobs.
  status("bg read", background(bg_read));
  status("bg read, SIGTTIN ignored", background(bg_read_ignored));
  status("bg write", background(bg_write));
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag |= TOSTOP;
  tcsetattr(s, TCSANOW, &t);
  status("bg write TOSTOP", background(bg_write));
  t.c_lflag &= ~TOSTOP;
  tcsetattr(s, TCSANOW, &t);
  status("bg tcsetattr", background(bg_tcsetattr));
  status("bg tcsetattr, SIGTTOU ignored", background(bg_tcsetattr_ignored));

  signal(SIGINT, on_sig);
  signal(SIGWINCH, on_sig);
  char c = 'r';
  write(ready, &c, 1);
  while (got != SIGINT) pause();
  printf("leader got SIGINT\n");
  got = 0;
  write(ready, &c, 1);
  while (got != SIGWINCH) pause();
  struct winsize w;
  ioctl(s, TIOCGWINSZ, &w);
  printf("leader got SIGWINCH %dx%d\n", w.ws_row, w.ws_col);

  // A foreground job stopped by ^Z: the leader ignores SIGTTOU to take the terminal back, as shells do.
  signal(SIGTTOU, SIG_IGN);
  pid_t fg = fork();
  if (fg == 0) {
    setpgid(0, 0);
    tcsetpgrp(s, getpid());
    char b[16];
    ssize_t r = read(s, b, sizeof b);
    printf("fg read: %zd\n", r);
    r = read(s, b, sizeof b); // stopped here by ^Z, then killed
    _exit(1);
  }
  setpgid(fg, fg);
  write(ready, &c, 1);
  int st2;
  waitpid(fg, &st2, WUNTRACED);
  status("fg job", st2);
  printf("fg pgrp was the job: %d\n", tcgetpgrp(s) == fg);
  SHOW("tcsetpgrp back", tcsetpgrp(s, getpgrp()));
  SHOW("tcsetpgrp to nobody", tcsetpgrp(s, 99999));
  kill(fg, SIGKILL);
  waitpid(fg, &st2, 0);

  // A job left in the foreground gets SIGHUP when the controlling process exits.
  int q[2];
  pipe(q);
  pid_t hj = fork();
  if (hj == 0) {
    setpgid(0, 0);
    signal(SIGHUP, on_sig);
    tcsetpgrp(s, getpid());
    write(q[1], "h", 1);
    while (got != SIGHUP) pause();
    write(ready, "H", 1);
    _exit(0);
  }
  char x;
  read(q[0], &x, 1);
  write(ready, &x, 1);
  _exit(0);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(10);
  openpair();
  // (The sandbox's first process is a session leader: the refusal is shown by a child, as natively.)
  pid_t nl = fork();
  if (nl == 0) {
    SHOW("TIOCSCTTY not a leader", ioctl(s, TIOCSCTTY, 0));
    _exit(0);
  }
  waitpid(nl, NULL, 0);
  int p[2];
  pipe(p);
  pid_t l = fork();
  if (l == 0) leader(p[1]);
  char c;
  read(p[0], &c, 1);
  drain("output");
  write(m, "\x03", 1);
  read(p[0], &c, 1);
  drain("echo of ^C");
  struct winsize w = {30, 100, 0, 0};
  ioctl(m, TIOCSWINSZ, &w);
  read(p[0], &c, 1);
  usleep(100000);
  write(m, "line\n", 5);
  usleep(100000);
  write(m, "\x1a", 1);
  read(p[0], &c, 1); // the hangup job is ready
  int st;
  waitpid(l, &st, 0);
  status("leader", st);
  read(p[0], &c, 1);
  printf("job after leader exit: %c\n", c);
  drain("output");

  // The master closing hangs up the session: its leader gets SIGHUP.
  close(m);
  close(s);
  openpair();
  pid_t h = fork();
  if (h == 0) {
    close(m);
    setsid();
    ioctl(s, TIOCSCTTY, 0);
    signal(SIGHUP, on_sig);
    write(p[1], "r", 1);
    while (got != SIGHUP) pause();
    int tty = open("/dev/tty", O_RDWR);
    printf("after hangup /dev/tty: %s\n", tty >= 0 ? "ok" : strerror(errno));
    _exit(7);
  }
  read(p[0], &c, 1);
  close(m);
  waitpid(h, &st, 0);
  status("hung up leader", st);
  close(s);

  // TIOCNOTTY by the session leader: no controlling terminal afterwards.
  openpair();
  pid_t n = fork();
  if (n == 0) {
    setsid();
    ioctl(s, TIOCSCTTY, 0);
    signal(SIGHUP, SIG_IGN);
    SHOW("TIOCNOTTY", ioctl(s, TIOCNOTTY));
    SHOW("/dev/tty after TIOCNOTTY", open("/dev/tty", O_RDWR));
    SHOW("TIOCNOTTY again", ioctl(s, TIOCNOTTY));
    _exit(0);
  }
  waitpid(n, &st, 0);
  status("notty", st);

  // A session leader's open without O_NOCTTY takes the terminal; with it, not.
  pid_t o = fork();
  if (o == 0) {
    close(s);
    setsid();
    int fd = open(spath, O_RDWR | O_NOCTTY);
    SHOW("O_NOCTTY open: TIOCGSID", ioctl(fd, TIOCGSID, &(int){0}));
    close(fd);
    fd = open(spath, O_RDWR);
    int sid = -1;
    ioctl(fd, TIOCGSID, &sid);
    printf("plain open: controlling terminal of my session %d\n", sid == getpid());
    SHOW("/dev/tty", open("/dev/tty", O_RDWR));
    _exit(0);
  }
  waitpid(o, &st, 0);
  status("open leader", st);
  printf("done\n");
  return 0;
}
