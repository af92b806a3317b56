// inotify(7): event sequences for changes in a watched directory, rename
// cookies, IN_ONESHOT, inotify_rm_watch and IN_IGNORED, nonblocking reads,
// epoll and poll, a buffer too small, FIONREAD, coalescing, queue overflow,
// the flags and errors of the calls. Cookies are shown as letters in the
// order they first appear (their values are the kernel's own counter).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *base;
static char P[4][4096];
static int pnext;

// Several at once: rename(path(a), path(b)).
static const char *path(const char *name) {
  char *p = P[pnext++ & 3];
  snprintf(p, sizeof P[0], "%s/%s", base, name);
  return p;
}

static const char *en(int e) {
  switch (e) {
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case ENOENT: return "ENOENT";
  case ENOTDIR: return "ENOTDIR";
  case EEXIST: return "EEXIST";
  case EACCES: return "EACCES";
  case EAGAIN: return "EAGAIN";
  case ENOSPC: return "ENOSPC";
  case EMFILE: return "EMFILE";
  case EFAULT: return "EFAULT";
  case ELOOP: return "ELOOP";
  case ESPIPE: return "ESPIPE";
  case ENOTTY: return "ENOTTY";
  default: return strerror(e);
  }
}

#define CHECK(x)                                                        \
  do {                                                                  \
    if ((x) < 0) {                                                      \
      printf("FAIL %s:%d %s: %s\n", __FILE__, __LINE__, #x, en(errno)); \
      exit(1);                                                          \
    }                                                                   \
  } while (0)

static void res(const char *what, long r) {
  if (r < 0) printf("%s = -1 %s\n", what, en(errno));
  else printf("%s = %ld\n", what, r);
}

static const struct {
  unsigned bit;
  const char *name;
} NAMES[] = {
    {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"},
    {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
    {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"}, {IN_MOVE_SELF, "MOVE_SELF"},
    {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
};

static unsigned cookies[64];
static int ncookies;

static char cookieName(unsigned c) {
  if (!c) return '0';
  for (int i = 0; i < ncookies; i++)
    if (cookies[i] == c) return 'A' + i;
  if (ncookies < 64) cookies[ncookies++] = c;
  return 'A' + ncookies - 1;
}

static void printMask(unsigned m) {
  int first = 1;
  for (unsigned i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
    if (m & NAMES[i].bit) {
      printf("%s%s", first ? "" : "|", NAMES[i].name);
      first = 0;
      m &= ~NAMES[i].bit;
    }
  }
  if (m) printf("%s0x%x", first ? "" : "|", m);
}

// wds are printed as given by the caller's table: index into wdNames.
static int wdv[16];
static const char *wdn[16];
static int nwd;

static void nameWd(int wd, const char *n) {
  wdv[nwd] = wd;
  wdn[nwd++] = n;
}

static const char *wdName(int wd) {
  if (wd == -1) return "-1";
  for (int i = nwd - 1; i >= 0; i--)
    if (wdv[i] == wd) return wdn[i];
  return "?";
}

// Read and print every queued event (nonblocking fd).
static int drain(int fd, const char *label) {
  char buf[65536] __attribute__((aligned(8)));
  int n = 0;
  printf("-- %s\n", label);
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno != EAGAIN) printf("read: %s\n", en(errno));
      break;
    }
    for (char *p = buf; p < buf + r;) {
      struct inotify_event *e = (struct inotify_event *)p;
      printf("  %s ", wdName(e->wd));
      printMask(e->mask);
      printf(" cookie=%c", cookieName(e->cookie));
      if (e->len) printf(" len=%u name=%s", e->len, e->name);
      printf("\n");
      p += sizeof *e + e->len;
      n++;
    }
  }
  return n;
}

static void touch(const char *name) {
  int fd = open(path(name), O_CREAT | O_WRONLY, 0644);
  CHECK(fd);
  close(fd);
}

static void sequences(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  CHECK(mkdir(path("d"), 0755));
  int wd = inotify_add_watch(fd, path("d"), IN_ALL_EVENTS);
  CHECK(wd);
  nameWd(wd, "d");

  // create, write, close
  int f = open(path("d/a"), O_CREAT | O_WRONLY, 0644);
  CHECK(f);
  CHECK(write(f, "hello", 5));
  CHECK(write(f, "hello", 5));
  CHECK(write(f, "", 0));
  close(f);
  drain(fd, "create write write close");

  // read, access
  f = open(path("d/a"), O_RDONLY);
  char b[16];
  CHECK(read(f, b, sizeof b));
  CHECK(read(f, b, sizeof b));
  CHECK(pread(f, b, 2, 0));
  close(f);
  drain(fd, "open read read(eof) pread close");

  // truncation at open, O_RDWR close
  f = open(path("d/a"), O_RDWR | O_TRUNC);
  CHECK(f);
  close(f);
  f = open(path("d/a"), O_WRONLY | O_TRUNC);
  close(f);
  drain(fd, "open(O_TRUNC) twice");

  // attributes
  CHECK(chmod(path("d/a"), 0600));
  CHECK(chown(path("d/a"), -1, -1));
  CHECK(truncate(path("d/a"), 3));
  CHECK(utimes(path("d/a"), NULL));
  struct timespec ts[2] = {{0, UTIME_OMIT}, {5, 0}};
  CHECK(utimensat(AT_FDCWD, path("d/a"), ts, 0));
  struct timespec ts2[2] = {{5, 0}, {0, UTIME_OMIT}};
  CHECK(utimensat(AT_FDCWD, path("d/a"), ts2, 0));
  if (setxattr(path("d/a"), "user.x", "1", 1, 0) == 0) {
    CHECK(removexattr(path("d/a"), "user.x"));
    printf("xattr ok\n");
  }
  drain(fd, "chmod chown truncate utimes utimensat(mtime) utimensat(atime)");

  // rename inside, in and out, over another file
  CHECK(mkdir(path("other"), 0755));
  CHECK(rename(path("d/a"), path("d/b")));
  drain(fd, "rename d/a d/b");
  CHECK(rename(path("d/b"), path("other/b")));
  CHECK(rename(path("other/b"), path("d/c")));
  drain(fd, "rename d/b out, back as d/c");
  touch("d/e");
  int we = inotify_add_watch(fd, path("d/e"), IN_ALL_EVENTS);
  CHECK(we);
  nameWd(we, "e");
  int wc = inotify_add_watch(fd, path("d/c"), IN_ALL_EVENTS);
  CHECK(wc);
  nameWd(wc, "c");
  CHECK(rename(path("d/c"), path("d/e")));
  drain(fd, "create e, rename c over e (both watched)");
  CHECK(renameat2(AT_FDCWD, path("d/e"), AT_FDCWD, path("other/x"), 0));
  touch("d/g");
  CHECK(renameat2(AT_FDCWD, path("d/g"), AT_FDCWD, path("other/x"), RENAME_EXCHANGE));
  drain(fd, "move e out, exchange");

  // links and deletion
  CHECK(link(path("d/g"), path("d/h")));
  CHECK(symlink("g", path("d/s")));
  CHECK(mknod(path("d/fifo"), S_IFIFO | 0644, 0));
  drain(fd, "link symlink mknod");
  CHECK(unlink(path("d/h")));
  CHECK(unlink(path("d/s")));
  CHECK(unlink(path("d/fifo")));
  int wg = inotify_add_watch(fd, path("d/g"), IN_ALL_EVENTS);
  CHECK(wg);
  nameWd(wg, "g");
  CHECK(unlink(path("d/g")));
  drain(fd, "unlink h s fifo, watched g");

  // an unlinked file still open: delete-self comes at the close
  touch("d/k");
  int wk = inotify_add_watch(fd, path("d/k"), IN_ALL_EVENTS);
  nameWd(wk, "k");
  f = open(path("d/k"), O_RDWR);
  CHECK(unlink(path("d/k")));
  drain(fd, "open k, unlink k");
  CHECK(write(f, "x", 1));
  close(f);
  drain(fd, "write and close unlinked k");

  // directories
  CHECK(mkdir(path("d/sub"), 0755));
  int ws = inotify_add_watch(fd, path("d/sub"), IN_ALL_EVENTS);
  nameWd(ws, "sub");
  int df = open(path("d/sub"), O_RDONLY | O_DIRECTORY);
  CHECK(df);
  char dents[4096];
  CHECK(syscall(217, df, dents, sizeof dents));
  close(df);
  CHECK(rename(path("d/sub"), path("d/sub2")));
  CHECK(rmdir(path("d/sub2")));
  drain(fd, "mkdir, open, getdents, rename, rmdir a watched sub");
  df = open(path("d"), O_RDONLY | O_DIRECTORY);
  close(df);
  drain(fd, "open the watched dir itself");
  close(fd);
}

// sendfile, copy_file_range and splice report what they read and wrote.
static void transfers(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  CHECK(mkdir(path("t"), 0755));
  int src = open(path("t/src"), O_CREAT | O_RDWR, 0644);
  CHECK(write(src, "0123456789", 10));
  int dst = open(path("t/dst"), O_CREAT | O_RDWR, 0644);
  int w = inotify_add_watch(fd, path("t"), IN_ACCESS | IN_MODIFY);
  nameWd(w, "t");
  off_t off = 0;
  res("sendfile", sendfile(dst, src, &off, 4));
  drain(fd, "sendfile src -> dst");
  loff_t o1 = 0, o2 = 20;
  res("copy_file_range", copy_file_range(src, &o1, dst, &o2, 4, 0));
  drain(fd, "copy_file_range src -> dst");
  int p[2];
  CHECK(pipe(p));
  loff_t o3 = 2;
  res("splice file to pipe", splice(src, &o3, p[1], NULL, 3, 0));
  drain(fd, "splice src -> pipe");
  res("splice pipe to file", splice(p[0], NULL, dst, NULL, 3, 0));
  drain(fd, "splice pipe -> dst");
  off = 100;
  res("sendfile at the end", sendfile(dst, src, &off, 4));
  drain(fd, "sendfile of nothing");
  close(p[0]);
  close(p[1]);
  close(src);
  close(dst);
  close(fd);
}

static void exclUnlink(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  CHECK(mkdir(path("x"), 0755));
  int w = inotify_add_watch(fd, path("x"), IN_ALL_EVENTS | IN_EXCL_UNLINK);
  nameWd(w, "x");
  int f = open(path("x/f"), O_CREAT | O_RDWR, 0644);
  CHECK(unlink(path("x/f")));
  CHECK(write(f, "a", 1));
  close(f);
  drain(fd, "IN_EXCL_UNLINK: write and close after unlink");
  close(fd);
}

static void flagsAndErrors(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  touch("file");
  res("inotify_init1(bad flag)", inotify_init1(1));
  res("inotify_init1(O_RDWR)", inotify_init1(O_RDWR));
  int c = inotify_init1(IN_CLOEXEC);
  printf("cloexec: %d\n", fcntl(c, F_GETFD));
  printf("flags: 0%o\n", fcntl(c, F_GETFL));
  close(c);
  c = inotify_init();
  printf("init flags: 0%o, fd cloexec %d\n", fcntl(c, F_GETFL), fcntl(c, F_GETFD));
  close(c);
  res("add_watch mask 0", inotify_add_watch(fd, path("file"), 0));
  res("add_watch flags only", inotify_add_watch(fd, path("file"), IN_ONESHOT));
  res("add_watch unknown bit only", inotify_add_watch(fd, path("file"), 0x00010000));
  res("add_watch bad fd", inotify_add_watch(99, path("file"), IN_OPEN));
  res("add_watch not inotify", inotify_add_watch(0, path("file"), IN_OPEN));
  res("add_watch ENOENT", inotify_add_watch(fd, path("nothere"), IN_OPEN));
  res("add_watch ONLYDIR on file", inotify_add_watch(fd, path("file"), IN_OPEN | IN_ONLYDIR));
  res("add_watch ADD|CREATE", inotify_add_watch(fd, path("file"), IN_OPEN | IN_MASK_ADD | IN_MASK_CREATE));
  res("add_watch EFAULT", inotify_add_watch(fd, (char *)1, IN_OPEN));
  int w = inotify_add_watch(fd, path("file"), IN_OPEN);
  res("add_watch again (same wd)", inotify_add_watch(fd, path("file"), IN_CLOSE) == w);
  res("add_watch MASK_CREATE existing", inotify_add_watch(fd, path("file"), IN_OPEN | IN_MASK_CREATE));
  res("add_watch MASK_ADD", inotify_add_watch(fd, path("file"), IN_ATTRIB | IN_MASK_ADD) == w);
  nameWd(w, "file");
  CHECK(symlink("file", path("link")));
  int wl = inotify_add_watch(fd, path("link"), IN_ATTRIB | IN_DONT_FOLLOW);
  res("DONT_FOLLOW gives another wd", wl != w);
  nameWd(wl, "link");
  res("follow gives the file's wd", inotify_add_watch(fd, path("link"), IN_ATTRIB | IN_MASK_ADD) == w);
  int f = open(path("file"), O_RDONLY);
  close(f);
  CHECK(chmod(path("file"), 0640));
  drain(fd, "open close chmod: mask is CLOSE|ATTRIB");
  res("rm_watch bad wd", inotify_rm_watch(fd, 12345));
  res("rm_watch bad fd", inotify_rm_watch(99, w));
  res("rm_watch not inotify", inotify_rm_watch(0, w));
  res("rm_watch", inotify_rm_watch(fd, w));
  res("rm_watch twice", inotify_rm_watch(fd, w));
  drain(fd, "after rm_watch");
  // A new watch gets a new number (wds are not reused at once).
  int w2 = inotify_add_watch(fd, path("file"), IN_OPEN);
  res("new wd differs", w2 != w && w2 > wl);
  // Permission: a file without read permission (not for root).
  if (geteuid() != 0) {
    touch("noread");
    chmod(path("noread"), 0);
    res("add_watch without read permission", inotify_add_watch(fd, path("noread"), IN_OPEN));
  } else {
    printf("add_watch without read permission = -1 EACCES\n");
  }
  // Other operations on an inotify fd.
  char b[64];
  res("write", write(fd, "x", 1));
  res("lseek", lseek(fd, 0, SEEK_SET));
  res("ioctl TCGETS", ioctl(fd, 0x5401, b));
  struct stat st;
  CHECK(fstat(fd, &st));
  printf("fstat mode %o\n", st.st_mode);
  close(fd);
}

// /proc/self/fdinfo shows one line per watch; its inode and device are the file's.
static void fdinfo(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  touch("info");
  CHECK(mkdir(path("infodir"), 0755));
  int w1 = inotify_add_watch(fd, path("info"), IN_MODIFY | IN_ONESHOT);
  int w2 = inotify_add_watch(fd, path("infodir"), IN_ALL_EVENTS | IN_EXCL_UNLINK);
  CHECK(w1);
  CHECK(w2);
  struct stat st[2];
  CHECK(stat(path("info"), &st[0]));
  CHECK(stat(path("infodir"), &st[1]));
  char link[64], target[256];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n >= 0) target[n] = 0;
  printf("fd link: %s\n", n >= 0 ? target : en(errno));
  char name[64];
  snprintf(name, sizeof name, "/proc/self/fdinfo/%d", fd);
  FILE *f = fopen(name, "r");
  if (!f) {
    printf("fdinfo: %s\n", en(errno));
    return;
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned wd, sdev, mask, ign;
    unsigned long ino;
    if (sscanf(line, "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x", &wd, &ino, &sdev, &mask, &ign) != 5) continue;
    int i = wd == (unsigned)w1 ? 0 : 1;
    unsigned kdev = (major(st[i].st_dev) << 20) | minor(st[i].st_dev);
    printf("watch %s: ino %s sdev %s mask %x ignored_mask %x\n", i ? "infodir" : "info", ino == st[i].st_ino ? "ok" : "WRONG",
           sdev == kdev ? "ok" : "WRONG", mask, ign);
  }
  fclose(f);
  close(fd);
}

static void oneshotAndIgnored(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  touch("one");
  int w = inotify_add_watch(fd, path("one"), IN_OPEN | IN_ONESHOT);
  nameWd(w, "one");
  int f = open(path("one"), O_RDONLY);
  close(f);
  f = open(path("one"), O_RDONLY);
  close(f);
  drain(fd, "oneshot: two opens");
  res("rm_watch after oneshot", inotify_rm_watch(fd, w));
  close(fd);
}

static void readRules(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  CHECK(mkdir(path("r"), 0755));
  int w = inotify_add_watch(fd, path("r"), IN_CREATE | IN_ATTRIB);
  nameWd(w, "r");
  char buf[4096] __attribute__((aligned(8)));
  res("read empty nonblocking", read(fd, buf, sizeof buf));
  int avail = -1;
  CHECK(ioctl(fd, FIONREAD, &avail));
  printf("FIONREAD empty %d\n", avail);
  touch("r/abc");
  touch("r/0123456789abcdef");
  CHECK(ioctl(fd, FIONREAD, &avail));
  printf("FIONREAD %d\n", avail);
  res("read 0 bytes", read(fd, buf, 0));
  res("read 16 bytes", read(fd, buf, 16));
  res("read 31 bytes", read(fd, buf, 31));
  res("read 32 bytes", read(fd, buf, 32));
  struct inotify_event *e = (struct inotify_event *)buf;
  printf("  len=%u name=%s pad=%d%d%d\n", e->len, e->name, buf[16 + 3], buf[16 + 15], buf[16 + 8]);
  res("read 47 bytes", read(fd, buf, 47));
  res("read all", read(fd, buf, sizeof buf));
  printf("  len=%u name=%s\n", e->len, e->name);
  // A bad buffer: EFAULT, the event stays.
  touch("r/z");
  res("read into NULL", syscall(0, fd, 0L, 64L));
  CHECK(ioctl(fd, FIONREAD, &avail));
  printf("FIONREAD after EFAULT %d\n", avail);
  // Coalescing: identical events back to back are one; not when another comes between.
  for (int i = 0; i < 3; i++) CHECK(chmod(path("r"), 0755));
  CHECK(chmod(path("r/z"), 0600));
  CHECK(chmod(path("r/z"), 0600));
  CHECK(chmod(path("r"), 0755));
  CHECK(chmod(path("r/z"), 0600));
  drain(fd, "z created, chmod r x3, z x2, r, z");
  // Two reads of a long queue: several events per read.
  for (int i = 0; i < 5; i++) {
    char n[32];
    snprintf(n, sizeof n, "r/f%d", i);
    touch(n);
  }
  res("read 100 bytes (several events)", read(fd, buf, 100));
  res("read rest", read(fd, buf, sizeof buf));
  close(fd);
}

static void polling(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  CHECK(mkdir(path("p"), 0755));
  int w = inotify_add_watch(fd, path("p"), IN_CREATE);
  nameWd(w, "p");
  struct pollfd pfd = {fd, POLLIN | POLLOUT, 0};
  res("poll empty", poll(&pfd, 1, 0));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 7};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  struct epoll_event out[4];
  res("epoll_wait empty", epoll_wait(ep, out, 4, 0));
  touch("p/one");
  res("poll", poll(&pfd, 1, 0));
  printf("revents %x\n", pfd.revents);
  int n = epoll_wait(ep, out, 4, 0);
  printf("epoll_wait %d events %x data %u\n", n, n > 0 ? out[0].events : 0, n > 0 ? out[0].data.u32 : 0);
  res("epoll_wait again (edge)", epoll_wait(ep, out, 4, 0));
  touch("p/two");
  res("epoll_wait after a new event", epoll_wait(ep, out, 4, 0));
  drain(fd, "two creates");
  // A blocked reader is woken by a child's change; epoll_wait with a timeout too.
  int bfd = inotify_init();
  int bw = inotify_add_watch(bfd, path("p"), IN_CREATE);
  nameWd(bw, "p(blocking)");
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50000);
    touch("p/late");
    _exit(0);
  }
  char buf[256] __attribute__((aligned(8)));
  ssize_t r = read(bfd, buf, sizeof buf);
  struct inotify_event *e = (struct inotify_event *)buf;
  printf("blocking read %zd: %s ", r, wdName(e->wd));
  printMask(e->mask);
  printf(" %s\n", e->name);
  waitpid(pid, NULL, 0);
  pid = fork();
  if (pid == 0) {
    usleep(50000);
    touch("p/later");
    _exit(0);
  }
  n = epoll_wait(ep, out, 4, 5000);
  printf("epoll_wait with timeout %d\n", n);
  waitpid(pid, NULL, 0);
  drain(fd, "later");
  // select
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(fd, &rs);
  struct timeval tv = {0, 0};
  res("select empty", select(fd + 1, &rs, NULL, NULL, &tv));
  touch("p/sel");
  FD_ZERO(&rs);
  FD_SET(fd, &rs);
  res("select", select(fd + 1, &rs, NULL, NULL, &tv));
  close(ep);
  close(bfd);
  close(fd);
}

static void onAlarm(int sig) {
  (void)sig;
}

// A blocked read and a signal: EINTR without SA_RESTART, restarted with it.
static void interrupted(void) {
  int fd = inotify_init();
  CHECK(fd);
  nwd = 0;
  CHECK(mkdir(path("i"), 0755));
  int w = inotify_add_watch(fd, path("i"), IN_CREATE);
  nameWd(w, "i");
  char buf[256] __attribute__((aligned(8)));
  for (int restart = 0; restart < 2; restart++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = onAlarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    pid_t pid = 0;
    if (restart) {
      pid = fork();
      if (pid == 0) {
        usleep(150000);
        touch("i/late");
        _exit(0);
      }
    }
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) printf("read with %s: -1 %s\n", restart ? "SA_RESTART" : "no SA_RESTART", en(errno));
    else printf("read with %s: %zd %s\n", restart ? "SA_RESTART" : "no SA_RESTART", r, ((struct inotify_event *)buf)->name);
    if (pid) waitpid(pid, NULL, 0);
  }
  signal(SIGALRM, SIG_DFL);
  close(fd);
}

static void overflow(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  int max = 0;
  FILE *mf = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
  if (!mf || fscanf(mf, "%d", &max) != 1) max = 16384;
  if (mf) fclose(mf);
  CHECK(mkdir(path("o"), 0755));
  int w = inotify_add_watch(fd, path("o"), IN_ATTRIB);
  nameWd(w, "o");
  touch("o/a");
  touch("o/b");
  // Alternate two files so that no event merges with the one before.
  for (int i = 0; i < max + 10; i++) CHECK(chmod(path(i & 1 ? "o/a" : "o/b"), 0600 | (i & 1)));
  int avail = 0;
  CHECK(ioctl(fd, FIONREAD, &avail));
  printf("FIONREAD %d (max %d)\n", avail, max);
  char buf[65536] __attribute__((aligned(8)));
  int count = 0, overflows = 0, lastwd = 0;
  unsigned lastmask = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) break;
    for (char *p = buf; p < buf + r;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if (e->mask & IN_Q_OVERFLOW) overflows++;
      else count++;
      lastwd = e->wd;
      lastmask = e->mask;
      p += sizeof *e + e->len;
    }
  }
  printf("events %d overflow %d last wd %d mask ", count, overflows, lastwd);
  printMask(lastmask);
  printf("\n");
  // After draining, events queue again.
  CHECK(chmod(path("o/a"), 0600));
  drain(fd, "after overflow");
  close(fd);
}

// Files that exist before the program starts (in the sandbox: host files
// under the overlay root, not yet copied up): unlinked, replaced by a rename,
// written and renamed while watched.
static void existing(void) {
  int fd = inotify_init1(IN_NONBLOCK);
  CHECK(fd);
  nwd = 0;
  const char *names[] = {"pre1", "pre2", "pre3", "pre4", "predir"};
  for (int i = 0; i < 5; i++) {
    int w = inotify_add_watch(fd, path(names[i]), IN_ALL_EVENTS);
    CHECK(w);
    nameWd(w, names[i]);
  }
  int wb = inotify_add_watch(fd, base, IN_ALL_EVENTS);
  nameWd(wb, "base");
  CHECK(unlink(path("pre1")));
  drain(fd, "unlink pre1");
  CHECK(rename(path("pre2"), path("pre3")));
  drain(fd, "rename pre2 over pre3");
  int f = open(path("pre4"), O_WRONLY | O_APPEND);
  CHECK(write(f, "more", 4));
  close(f);
  CHECK(rename(path("pre4"), path("pre5")));
  drain(fd, "append to pre4, rename it");
  CHECK(rmdir(path("predir")));
  drain(fd, "rmdir predir");
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  base = argv[1];
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 2 && strcmp(argv[2], "existing") == 0) {
    existing();
    printf("done\n");
    return 0;
  }
  umask(022);
  sequences();
  transfers();
  exclUnlink();
  flagsAndErrors();
  fdinfo();
  oneshotAndIgnored();
  readRules();
  polling();
  interrupted();
  overflow();
  printf("done\n");
  return 0;
}
