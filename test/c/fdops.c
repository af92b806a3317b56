/* fdops: the fd table and per-descriptor calls as Linux orders them
 * (LTP dup3_02, close_range02, fsync03, fdatasync02, ioctl01):
 * dup3(fd, fd) is EINVAL before the descriptor is looked up;
 * close_range(CLOSE_RANGE_UNSHARE) in a child sharing the table (CLONE_FILES)
 * closes only its own copy; fsync/fdatasync on pipes, FIFOs, sockets and
 * character devices are EINVAL; the old TCGETA/TCSETA termio requests on a
 * pty (16-bit flags, EFAULT for a bad address); random(4)'s ioctls on
 * /dev/random and /dev/urandom (LTP ioctl07: RNDGETENTCNT agrees with
 * /proc/sys/kernel/random/entropy_avail), EINVAL for any other request
 * there, the privileged ones EPERM without CAP_SYS_ADMIN. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/capability.h>
#include <linux/random.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE 2
#endif

struct old_termio {
  unsigned short c_iflag, c_oflag, c_cflag, c_lflag;
  unsigned char c_line;
  unsigned char c_cc[8];
};

static void dups(void) {
  SHOW("dup3(closed 40, 40, O_CLOEXEC)", dup3(40, 40, O_CLOEXEC));
  SHOW("dup3(0, 0, 0)", dup3(0, 0, 0));
  SHOW("dup3(closed 40, 41, 0)", dup3(40, 41, 0));
  SHOW("dup3(0, 0, bad flag)", dup3(0, 0, 1));
  SHOW("close_range(4, 3, 0)", syscall(SYS_close_range, 4, 3, 0));
  SHOW("close_range(3, ~0, ~0)", syscall(SYS_close_range, 3, ~0U, ~0U));
  SHOW("close_range(~0, ~0, 0)", syscall(SYS_close_range, ~0U, ~0U, 0));

  int fd = open("/", O_PATH);
  if (fd < 0) DIE("open /");
  fflush(stdout);
  /* A child sharing the table (clone with CLONE_FILES, no new stack: like fork). */
  long pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) DIE("clone");
  if (pid == 0) {
    long r = syscall(SYS_close_range, fd, fd, CLOSE_RANGE_UNSHARE);
    int gone = fcntl(fd, F_GETFD) < 0 && errno == EBADF;
    printf("child: close_range(UNSHARE) = %ld, closed in the child: %d\n", r, gone);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("parent: still open after the child's unshared close: %d\n", fcntl(fd, F_GETFD) >= 0);
  pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    syscall(SYS_close_range, fd, fd, 0);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("parent: open after the child's shared close: %d\n", fcntl(fd, F_GETFD) >= 0);
}

static void syncs(const char *dir) {
  int p[2], sv[2];
  if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) DIE("pipe");
  char fifo[512], file[512];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  snprintf(file, sizeof file, "%s/file", dir);
  if (mkfifo(fifo, 0600)) DIE("mkfifo");
  int fr = open(fifo, O_RDONLY | O_NONBLOCK), fw = open(fifo, O_WRONLY);
  int dn = open("/dev/null", O_RDONLY), f = open(file, O_CREAT | O_RDWR, 0600), d = open(dir, O_RDONLY);
  if (fr < 0 || fw < 0 || dn < 0 || f < 0 || d < 0) DIE("open");
  SHOW("fsync(pipe)", fsync(p[1]));
  SHOW("fdatasync(pipe)", fdatasync(p[0]));
  SHOW("fsync(socket)", fsync(sv[0]));
  SHOW("fsync(fifo)", fsync(fw));
  SHOW("fdatasync(/dev/null)", fdatasync(dn));
  SHOW("fsync(file)", fsync(f));
  SHOW("fdatasync(file)", fdatasync(f));
  SHOW("fsync(directory)", fsync(d));
  SHOW("fsync(closed)", fsync(60));
}

static void termio(void) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  if (m < 0 || grantpt(m) || unlockpt(m)) DIE("posix_openpt");
  int s = open(ptsname(m), O_RDWR | O_NOCTTY);
  if (s < 0) DIE("open slave");
  struct old_termio o;
  struct termios t;
  SHOW("TCGETA", ioctl(s, TCGETA, &o));
  tcgetattr(s, &t);
  printf("TCGETA matches TCGETS: %d %d %d %d %d %d\n", o.c_iflag == (t.c_iflag & 0xffff), o.c_oflag == (t.c_oflag & 0xffff),
         o.c_cflag == (t.c_cflag & 0xffff), o.c_lflag == (t.c_lflag & 0xffff), o.c_line == t.c_line,
         memcmp(o.c_cc, t.c_cc, 8) == 0);
  SHOW("TCGETA bad address", ioctl(s, TCGETA, (void *)-1));
  SHOW("TCGETA NULL", ioctl(s, TCGETA, NULL));
  SHOW("TCGETA on the master", ioctl(m, TCGETA, &o));
  o.c_lflag &= ~ECHO;
  o.c_cc[VINTR] = 7;
  SHOW("TCSETA", ioctl(s, TCSETA, &o));
  tcgetattr(s, &t);
  printf("after TCSETA: echo %d, VINTR %d, VMIN %d\n", (t.c_lflag & ECHO) != 0, t.c_cc[VINTR], t.c_cc[VMIN]);
  SHOW("TCSETAF", ioctl(s, TCSETAF, &o));
  SHOW("TCSETAW bad address", ioctl(s, TCSETAW, (void *)8));
  int f = open("/dev/null", O_RDONLY);
  SHOW("TCGETA on /dev/null", ioctl(f, TCGETA, &o));
}

static void randoms(const char *dev) {
  int fd = open(dev, O_RDONLY);
  if (fd < 0) DIE("open random");
  int cnt = -1, avail = -2;
  SHOW("RNDGETENTCNT", ioctl(fd, RNDGETENTCNT, &cnt));
  FILE *f = fopen("/proc/sys/kernel/random/entropy_avail", "r");
  if (!f || fscanf(f, "%d", &avail) != 1) DIE("entropy_avail");
  fclose(f);
  printf("  count agrees with entropy_avail: %d\n", cnt == avail);
  SHOW("RNDGETENTCNT to a bad address", ioctl(fd, RNDGETENTCNT, (void *)8));
  struct termios tio;
  SHOW("TCGETS (isatty)", ioctl(fd, TCGETS, &tio));
  SHOW("FIONREAD", ioctl(fd, FIONREAD, &cnt));
  SHOW("unknown request", ioctl(fd, _IO('R', 0x77), 0));
  int neg = -1, zero = 0;
  SHOW("RNDADDTOENTCNT -1", ioctl(fd, RNDADDTOENTCNT, &neg));
  SHOW("RNDADDTOENTCNT 0", ioctl(fd, RNDADDTOENTCNT, &zero));
  SHOW("RNDADDTOENTCNT from a bad address", ioctl(fd, RNDADDTOENTCNT, (void *)8));
  struct { int bits, size; char buf[8]; } add = {8, 8, "abcdefg"};
  SHOW("RNDADDENTROPY", ioctl(fd, RNDADDENTROPY, &add));
  add.bits = -1;
  SHOW("RNDADDENTROPY, negative count", ioctl(fd, RNDADDENTROPY, &add));
  add.bits = 8;
  add.size = -1;
  SHOW("RNDADDENTROPY, negative size", ioctl(fd, RNDADDENTROPY, &add));
  SHOW("RNDZAPENTCNT", ioctl(fd, RNDZAPENTCNT, 0));
  SHOW("RNDCLEARPOOL", ioctl(fd, RNDCLEARPOOL, 0));
  SHOW("RNDRESEEDCRNG", ioctl(fd, RNDRESEEDCRNG, 0));
  close(fd);
  fd = open("/dev/null", O_RDONLY);
  SHOW("/dev/null TCGETS", ioctl(fd, TCGETS, &tio));
  SHOW("/dev/null RNDGETENTCNT", ioctl(fd, RNDGETENTCNT, &cnt));
  close(fd);
}

/* random(4) as root, then in a child without CAP_SYS_ADMIN. */
static void random_ioctls(void) {
  printf("random ioctls:\n");
  randoms("/dev/urandom");
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) DIE("fork");
  if (pid == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) DIE("capget");
    d[0].effective &= ~(1u << CAP_SYS_ADMIN);
    if (syscall(SYS_capset, &h, d) < 0) DIE("capset");
    printf("without CAP_SYS_ADMIN:\n");
    randoms("/dev/random");
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  dups();
  syncs(argv[1]);
  termio();
  random_ioctls();
  printf("done\n");
  return 0;
}
