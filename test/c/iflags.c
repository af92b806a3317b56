/* iflags: inode flags on tmpfs (ioctl_iflags(2); LTP setxattr03), compared
 * with Linux: FS_IOC_GETFLAGS/SETFLAGS and FS_IOC_FSGETXATTR/FSSETXATTR,
 * which flags tmpfs keeps, who may change them (the owner; immutable and
 * append-only need CAP_LINUX_IMMUTABLE), and what they forbid: an immutable
 * file is not opened for writing, changed, linked, renamed or removed, an
 * immutable directory gets no new or fewer entries; an append-only file is
 * written only with O_APPEND (which F_SETFL cannot clear), not truncated,
 * linked, renamed or removed, an append-only directory loses no entries;
 * noatime stops atime updates. Runs in a fresh directory of /dev/shm (a
 * tmpfs natively and in the sandbox). Runs as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <utime.h>

static int setfl(const char *p, int fl) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) return -1;
  int r = ioctl(fd, FS_IOC_SETFLAGS, &fl);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static void getfl(const char *label, const char *p) {
  int fd = open(p, O_RDONLY), fl = -1;
  if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &fl) < 0) printf("%s: flags %s\n", label, ename(errno));
  else printf("%s: flags %#x\n", label, fl);
  if (fd >= 0) close(fd);
}

static void requests(void) {
  for (int b = 0; b < 32; b++) {
    int r = setfl("f", 1 << b);
    if (r == 0) getfl("settable bit", "f");
    else if (errno != EOPNOTSUPP) printf("bit %#x: %s\n", 1 << b, ename(errno));
    setfl("f", 0);
  }
  int fd = open("f", O_RDONLY), x = 0;
  SHOW("32-bit FS_IOC32_GETFLAGS", ioctl(fd, _IOR('f', 1, int), &x));
  SHOW("GETFLAGS to a bad address", ioctl(fd, FS_IOC_GETFLAGS, (void *)8));
  SHOW("SETFLAGS from a bad address", ioctl(fd, FS_IOC_SETFLAGS, (void *)8));
  struct fsxattr fx;
  memset(&fx, 0, sizeof fx);
  fx.fsx_xflags = FS_XFLAG_NODUMP | FS_XFLAG_NOATIME;
  SHOW("FSSETXATTR nodump|noatime", ioctl(fd, FS_IOC_FSSETXATTR, &fx));
  getfl("after FSSETXATTR", "f");
  memset(&fx, 0xff, sizeof fx);
  SHOW("FSGETXATTR", ioctl(fd, FS_IOC_FSGETXATTR, &fx));
  printf("xflags %#x extsize %u projid %u\n", fx.fsx_xflags, fx.fsx_extsize, fx.fsx_projid);
  memset(&fx, 0, sizeof fx);
  fx.fsx_projid = 7;
  SHOW("FSSETXATTR with a project id", ioctl(fd, FS_IOC_FSSETXATTR, &fx));
  fx.fsx_projid = 0;
  fx.fsx_xflags = FS_XFLAG_REALTIME;
  SHOW("FSSETXATTR realtime", ioctl(fd, FS_IOC_FSSETXATTR, &fx));
  close(fd);
  setfl("f", 0);
  fd = open("/proc/self/status", O_RDONLY);
  SHOW("GETFLAGS on procfs", ioctl(fd, FS_IOC_GETFLAGS, &x));
  close(fd);
  int p[2];
  if (pipe(p) < 0) DIE("pipe");
  SHOW("GETFLAGS on a pipe", ioctl(p[0], FS_IOC_GETFLAGS, &x));
  close(p[0]);
  close(p[1]);
}

static void immutable(void) {
  SHOW("set immutable", setfl("f", FS_IMMUTABLE_FL));
  getfl("f", "f");
  SHOW("open O_WRONLY", open("f", O_WRONLY));
  SHOW("open O_RDONLY|O_TRUNC", open("f", O_RDONLY | O_TRUNC));
  SHOW("access W_OK", access("f", W_OK));
  SHOW("access R_OK", access("f", R_OK));
  SHOW("chmod", chmod("f", 0600));
  SHOW("chown", chown("f", 0, 0));
  SHOW("utime now", utime("f", NULL));
  struct utimbuf ub = {1, 1};
  SHOW("utime explicit", utime("f", &ub));
  SHOW("truncate", truncate("f", 0));
  SHOW("setxattr", setxattr("f", "user.a", "b", 1, 0));
  SHOW("removexattr", removexattr("f", "user.a"));
  SHOW("link", link("f", "g"));
  SHOW("rename", rename("f", "h"));
  SHOW("unlink", unlink("f"));
  SHOW("set immutable on d", setfl("d", FS_IMMUTABLE_FL));
  SHOW("create in d", open("d/new", O_CREAT | O_WRONLY, 0644));
  SHOW("mkdir in d", mkdir("d/x", 0755));
  SHOW("unlink in d", unlink("d/in"));
  int fd = open("d/in", O_WRONLY);
  SHOW("write-open of a file in d", fd);
  if (fd >= 0) close(fd);
  SHOW("rmdir d", rmdir("d"));
  SHOW("clear d", setfl("d", 0));
  SHOW("clear f", setfl("f", 0));
}

static void append_only(void) {
  SHOW("set append-only on d", setfl("d", FS_APPEND_FL));
  int fd = open("d/new", O_CREAT | O_WRONLY, 0644);
  SHOW("create in d", fd);
  if (fd >= 0) close(fd);
  SHOW("unlink in d", unlink("d/in"));
  SHOW("rename within d", rename("d/new", "d/new2"));
  SHOW("rename into d over an entry", rename("f", "d/new"));
  SHOW("clear d", setfl("d", 0));
  SHOW("set append-only", setfl("f", FS_APPEND_FL));
  SHOW("open O_WRONLY", open("f", O_WRONLY));
  int a = open("f", O_WRONLY | O_APPEND);
  SHOW("open O_WRONLY|O_APPEND", a);
  SHOW("write", write(a, "x", 1));
  SHOW("F_SETFL without O_APPEND", fcntl(a, F_SETFL, 0));
  SHOW("F_SETFL keeping O_APPEND", fcntl(a, F_SETFL, O_APPEND | O_NONBLOCK));
  SHOW("ftruncate", ftruncate(a, 0));
  SHOW("fallocate", fallocate(a, 0, 0, 10));
  SHOW("fallocate KEEP_SIZE", fallocate(a, FALLOC_FL_KEEP_SIZE, 0, 10));
  SHOW("fallocate PUNCH_HOLE", fallocate(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1));
  SHOW("open O_APPEND|O_TRUNC", open("f", O_WRONLY | O_APPEND | O_TRUNC));
  SHOW("truncate", truncate("f", 0));
  SHOW("chmod", chmod("f", 0600));
  SHOW("utime now", utime("f", NULL));
  struct utimbuf ub = {1, 1};
  SHOW("utime explicit", utime("f", &ub));
  SHOW("setxattr", setxattr("f", "user.a", "b", 1, 0));
  SHOW("link", link("f", "g"));
  SHOW("unlink", unlink("f"));
  SHOW("rename", rename("f", "h"));
  SHOW("set both", setfl("f", FS_APPEND_FL | FS_IMMUTABLE_FL));
  SHOW("write through a descriptor opened before", write(a, "y", 1));
  SHOW("fallocate KEEP_SIZE when immutable", fallocate(a, FALLOC_FL_KEEP_SIZE, 0, 10));
  close(a);
  SHOW("clear f", setfl("f", 0));
  struct stat st;
  if (stat("f", &st) < 0) DIE("stat");
  printf("size %ld\n", (long)st.st_size);
}

static long atime_after_read(void) {
  struct timespec ts[2] = {{1, 0}, {UTIME_OMIT, 0}};
  if (utimensat(AT_FDCWD, "f", ts, 0) < 0) DIE("utimensat");
  char c;
  int fd = open("f", O_RDONLY);
  if (fd < 0 || read(fd, &c, 1) != 1) DIE("read");
  close(fd);
  struct stat st;
  if (stat("f", &st) < 0) DIE("stat");
  return (long)st.st_atime;
}

static void noatime(void) {
  printf("atime moved by a read: %d\n", atime_after_read() != 1);
  SHOW("set noatime", setfl("f", FS_NOATIME_FL));
  printf("with noatime, atime moved by a read: %d\n", atime_after_read() != 1);
  setfl("f", 0);
}

static void unprivileged(void) {
  pid_t pid = xfork();
  if (pid == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) DIE("capget");
    d[0].effective &= ~(1u << CAP_LINUX_IMMUTABLE);
    if (syscall(SYS_capset, &h, d) < 0) DIE("capset");
    SHOW("immutable without CAP_LINUX_IMMUTABLE", setfl("f", FS_IMMUTABLE_FL));
    SHOW("append-only without it", setfl("f", FS_APPEND_FL));
    SHOW("nodump without it", setfl("f", FS_NODUMP_FL));
    getfl("f", "f");
    setfl("f", 0);
    if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) DIE("drop");
    SHOW("nodump by another user", setfl("f", FS_NODUMP_FL));
    getfl("f as nobody", "f");
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
}

int main(void) {
  line_buffered();
  char dir[] = "/dev/shm/tsvisor-iflags-XXXXXX";
  if (!mkdtemp(dir) || chmod(dir, 0755) < 0 || chdir(dir) < 0) DIE("mkdtemp");
  int fd = open("f", O_CREAT | O_WRONLY, 0644);
  if (fd < 0 || write(fd, "data", 4) != 4) DIE("create f");
  close(fd);
  if (mkdir("d", 0755) < 0) DIE("mkdir d");
  fd = open("d/in", O_CREAT | O_WRONLY, 0644);
  if (fd < 0) DIE("create d/in");
  close(fd);
  getfl("new file", "f");
  getfl("new directory", "d");
  requests();
  immutable();
  append_only();
  noatime();
  unprivileged();
  /* Nothing is left immutable: the directory can go. */
  unlink("f");
  unlink("d/in");
  unlink("d/new");
  unlink("d/new2");
  rmdir("d");
  if (chdir("/") < 0 || rmdir(dir) < 0) DIE("cleanup");
  printf("done\n");
  return 0;
}
