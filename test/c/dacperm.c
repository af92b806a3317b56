/* dacperm: the permission rules with capabilities dropped. A root process
 * without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH / CAP_FOWNER / CAP_FSETID
 * obeys the mode bits for every path operation; sticky directories, setgid
 * directory inheritance, set-ID bits and security.capability dropped on
 * write and chown. Run as root (natively too). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>

static void drop(unsigned caps) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) DIE("capget");
  d[0].effective &= ~caps;
  if (syscall(SYS_capset, &h, d) < 0) DIE("capset");
}
#define R(label, expr) printf("  %s: %s\n", (label), (expr) < 0 ? ename(errno) : "OK")
static int openc(const char *p, int fl) {
  int fd = open(p, fl, 0644);
  if (fd >= 0) close(fd);
  return fd;
}
static void mode(const char *label, const char *p) {
  struct stat st;
  if (stat(p, &st) < 0) printf("  %s: stat %s\n", label, ename(errno));
  else printf("  %s: mode %o gid %u\n", label, st.st_mode & 07777, st.st_gid);
}
static void mkfile(const char *p, int m) {
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0 || write(fd, "abc", 3) != 3) DIE(p);
  close(fd);
  if (chmod(p, m) < 0) DIE("chmod");
}
static const unsigned char fcap[20] = {0, 0, 0, 2, 0x00, 0x04, 0, 0};
static void hascap(const char *label, const char *p) {
  char v[64];
  ssize_t n = getxattr(p, "security.capability", v, sizeof v);
  printf("  %s: security.capability %s\n", label, n >= 0 ? "present" : errno == ENODATA ? "ENODATA" : ename(errno));
}

/* After execve with DAC_OVERRIDE and DAC_READ_SEARCH out of the bounding set. */
static int after_exec(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) DIE("capget");
  printf("after execve without them in the bounding set: effective DAC_OVERRIDE %d DAC_READ_SEARCH %d\n",
         !!(d[0].effective & 1u << CAP_DAC_OVERRIDE), !!(d[0].effective & 1u << CAP_DAC_READ_SEARCH));
  R("open(ro, O_WRONLY)", openc("ro", O_WRONLY));
  R("creat in 0555 dir", openc("rodir/new2", O_CREAT | O_WRONLY));
  R("chdir into 0600 dir", chdir("nox"));
  R("setuid(1000) then open(ro, O_RDONLY)", setuid(1000) < 0 ? -1 : openc("ro", O_RDONLY));
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[2], "exec") == 0) {
    line_buffered();
    if (chdir(argv[1]) < 0) return 3;
    return after_exec();
  }
  if (argc < 2 || geteuid() != 0) return 2;
  line_buffered();
  if (chdir(argv[1]) < 0) return 3;
  /* The parts run as uid 1000 need to search it (test directories are made 0700). */
  if (chmod(".", 0755) < 0) DIE("chmod");
  mkfile("ro", 0444);
  if (mkdir("rodir", 0755) < 0) DIE("mkdir");
  mkfile("rodir/f", 0644);
  mkfile("rodir/g", 0644);
  if (chmod("rodir", 0555) < 0) DIE("chmod");
  if (mkdir("nox", 0700) < 0 || mkdir("nox/sub", 0755) < 0) DIE("mkdir");
  mkfile("nox/f", 0644);
  if (chmod("nox", 0600) < 0) DIE("chmod");
  if (mkdir("noread", 0300) < 0) DIE("mkdir");
  mkfile("other", 0644);
  if (chown("other", 1000, 1000) < 0) DIE("chown");
  if (mkdir("sticky", 0777) < 0 || chmod("sticky", 01777) < 0 || chown("sticky", 1000, 1000) < 0) DIE("sticky");
  mkfile("sticky/theirs", 0666);
  if (chown("sticky/theirs", 1000, 1000) < 0) DIE("chown");
  mkfile("sticky/mine", 0666);
  if (mkdir("sticky/theirdir", 0777) < 0 || chown("sticky/theirdir", 1000, 1000) < 0) DIE("mkdir");
  mkfile("sticky/private", 0600);
  if (chown("sticky/private", 1000, 1000) < 0) DIE("chown");
  if (mkdir("sgid", 0775) < 0 || chown("sgid", 0, 4321) < 0 || chmod("sgid", 02775) < 0) DIE("sgid");

  printf("with all capabilities\n");
  R("access(ro, W_OK)", access("ro", W_OK));
  R("unlink in sticky dir of another user", unlink("sticky/theirs"));
  mkfile("sticky/theirs", 0666);
  if (chown("sticky/theirs", 1000, 1000) < 0) DIE("chown");

  pid_t p = xfork();
  if (p == 0) {
    drop(1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH | 1u << CAP_FOWNER | 1u << CAP_FSETID);
    printf("without DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID\n");
    R("access(ro, W_OK)", access("ro", W_OK));
    R("access(ro, R_OK)", access("ro", R_OK));
    R("faccessat(ro, W_OK, AT_EACCESS)", faccessat(AT_FDCWD, "ro", W_OK, AT_EACCESS));
    R("open(ro, O_WRONLY)", openc("ro", O_WRONLY));
    R("open(ro, O_RDWR)", openc("ro", O_RDWR));
    R("open(ro, O_RDONLY)", openc("ro", O_RDONLY));
    R("open(ro, O_RDONLY|O_TRUNC)", openc("ro", O_RDONLY | O_TRUNC));
    R("creat(ro)", creat("ro", 0644));
    R("truncate(ro)", truncate("ro", 1));
    R("utimes(ro, NULL)", utimes("ro", NULL));
    R("creat in 0555 dir", openc("rodir/new", O_CREAT | O_WRONLY));
    R("open existing in 0555 dir", openc("rodir/f", O_WRONLY));
    R("mkdir in 0555 dir", mkdir("rodir/d", 0755));
    R("mknod fifo in 0555 dir", mknod("rodir/p", S_IFIFO | 0644, 0));
    R("symlink in 0555 dir", symlink("f", "rodir/l"));
    R("link into 0555 dir", link("ro", "rodir/h"));
    R("unlink in 0555 dir", unlink("rodir/f"));
    R("rename within 0555 dir", rename("rodir/f", "rodir/f2"));
    R("rename out of 0555 dir", rename("rodir/g", "g"));
    R("rename into 0555 dir", rename("other", "rodir/other"));
    R("rmdir in 0555 dir", rmdir("rodir/none"));
    R("chdir into 0600 dir", chdir("nox"));
    R("stat in 0600 dir", access("nox/f", F_OK));
    R("open in 0600 dir", openc("nox/f", O_RDONLY));
    R("chdir below 0600 dir", chdir("nox/sub"));
    int dfd = open("nox", O_RDONLY | O_DIRECTORY);
    R("open 0600 dir", dfd);
    R("fchdir 0600 dir", fchdir(dfd));
    R("openat in 0600 dir", openat(dfd, "f", O_RDONLY));
    close(dfd);
    R("open 0300 dir for reading", openc("noread", O_RDONLY | O_DIRECTORY));
    R("chdir 0300 dir", chdir("noread"));
    R("chdir ..", chdir(".."));
    R("chmod of another user's file", chmod("other", 0600));
    struct timeval tv[2] = {{1, 0}, {2, 0}};
    R("utimes(explicit) of another user's file", utimes("other", tv));
    R("utimes(NULL) of another user's 0644 file", utimes("other", NULL));
    R("open another user's file O_NOATIME", openc("other", O_RDONLY | O_NOATIME));
    int ofd = open("other", O_RDONLY);
    R("F_SETFL O_NOATIME on another user's file", fcntl(ofd, F_SETFL, O_NOATIME));
    R("fchmod another user's file", fchmod(ofd, 0600));
    close(ofd);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    struct timespec mixed[2] = {{0, UTIME_NOW}, {5, 0}};
    R("utimensat OMIT/OMIT another user's file", utimensat(AT_FDCWD, "other", omit, 0));
    R("utimensat NOW/NOW another user's 0644 file", utimensat(AT_FDCWD, "other", now, 0));
    R("utimensat NOW/explicit another user's file", utimensat(AT_FDCWD, "other", mixed, 0));
    R("setxattr user.x on 0444 file", setxattr("ro", "user.x", "1", 1, 0));
    R("setxattr user.x on another user's 0644 file", setxattr("other", "user.x", "1", 1, 0));
    R("unlink another user's file in sticky dir", unlink("sticky/theirs"));
    R("rename another user's file in sticky dir", rename("sticky/theirs", "sticky/x"));
    R("rename own file over another user's in sticky dir", rename("sticky/mine", "sticky/theirs"));
    R("rmdir another user's dir in sticky dir", rmdir("sticky/theirdir"));
    R("unlink own file in sticky dir of another user", unlink("sticky/mine"));
    R("link to another user's 0600 file", link("sticky/private", "sticky/hl"));
    R("creat in sgid dir", openc("sgid/file", O_CREAT | O_WRONLY));
    mode("new file in sgid dir", "sgid/file");
    R("mkdir in sgid dir", mkdir("sgid/dir", 0755));
    mode("new dir in sgid dir", "sgid/dir");
    R("creat 02755 in sgid dir (non-member)", open("sgid/sg", O_CREAT | O_WRONLY, 02755));
    mode("its mode", "sgid/sg");
    R("chmod 02755 of own file of another group", chmod("sgid/file", 02755));
    mode("after chmod", "sgid/file");
    R("chmod 04755 of own file", chmod("sgid/file", 04755));
    mode("after chmod", "sgid/file");
    int fd = open("sgid/file", O_WRONLY);
    if (fd < 0) DIE("open");
    if (fchmod(fd, 06775) < 0) DIE("fchmod");
    mode("06775 before write", "sgid/file");
    R("write", write(fd, "x", 1));
    mode("after write without FSETID", "sgid/file");
    close(fd);
    _exit(0);
  }
  waitpid(p, NULL, 0);

  p = xfork();
  if (p == 0) {
    if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) < 0 || prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) < 0) DIE("prctl");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) DIE("readlink");
    self[n] = 0;
    execl(self, self, argv[1], "exec", (char *)NULL);
    DIE("execl");
  }
  waitpid(p, NULL, 0);

  mkfile("u1000", 0644);
  if (chown("u1000", 1000, 1000) < 0) DIE("chown");
  mkfile("u1000g", 0644);
  if (chown("u1000g", 1000, 3000) < 0) DIE("chown");
  if (mkdir("sgid2", 0777) < 0 || chown("sgid2", 0, 4321) < 0 || chmod("sgid2", 02777) < 0) DIE("sgid2");
  p = xfork();
  if (p == 0) {
    gid_t groups[] = {1000, 2000};
    if (setgroups(2, groups) < 0 || setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) DIE("setresuid");
    printf("as uid 1000, groups 1000 2000\n");
    R("chown own file to group 2000", chown("u1000", -1, 2000));
    R("chown own file to group 3000", chown("u1000", -1, 3000));
    R("chown own file to uid 1001", chown("u1000", 1001, -1));
    R("chown own file to itself", chown("u1000", 1000, -1));
    R("chown(-1, -1) own file", chown("u1000", -1, -1));
    R("chown(-1, -1) root's file", chown("ro", -1, -1));
    R("chmod 02755 own file of group 3000", chmod("u1000g", 02755));
    mode("after it", "u1000g");
    R("chmod 02755 own file of group 2000", chmod("u1000", 02755));
    mode("after it", "u1000");
    R("mknod a character device", mknod("sgid2/dev", S_IFCHR | 0600, makedev(1, 3)));
    R("mknod a fifo", mknod("sgid2/fifo", S_IFIFO | 0600, 0));
    R("creat 02755 in sgid dir of another group", open("sgid2/f", O_CREAT | O_WRONLY, 02755));
    mode("its mode", "sgid2/f");
    R("creat 02745 (no group exec) there", open("sgid2/f2", O_CREAT | O_WRONLY, 02745));
    mode("its mode", "sgid2/f2");
    R("mkdir there", mkdir("sgid2/d", 0755));
    mode("its mode", "sgid2/d");
    int wfd = open("u1000", O_WRONLY);
    if (wfd < 0 || fchmod(wfd, 04755) < 0) DIE("fchmod");
    R("write own set-user-ID file", write(wfd, "x", 1));
    mode("after it", "u1000");
    close(wfd);
    _exit(0);
  }
  waitpid(p, NULL, 0);

  printf("set-ID bits and file capabilities\n");
  mkfile("suid", 06775);
  int fd = open("suid", O_WRONLY);
  if (fd < 0) DIE("open");
  R("write with FSETID", write(fd, "x", 1));
  mode("after write with FSETID", "suid");
  R("chown", chown("suid", 0, 0));
  mode("after chown", "suid");
  mkfile("sg", 02765);
  R("chown", chown("sg", 0, 0));
  mode("setgid without group exec after chown", "sg");
  if (fchmod(fd, 06775) < 0) DIE("fchmod");
  R("fchown(-1, -1)", fchown(fd, -1, -1));
  mode("after fchown(-1, -1)", "suid");
  R("setxattr security.capability", fsetxattr(fd, "security.capability", fcap, sizeof fcap, 0));
  hascap("set", "suid");
  R("write", write(fd, "y", 1));
  hascap("after write", "suid");
  R("setxattr security.capability", fsetxattr(fd, "security.capability", fcap, sizeof fcap, 0));
  R("pwrite", pwrite(fd, "z", 1, 0));
  hascap("after pwrite", "suid");
  R("setxattr security.capability", fsetxattr(fd, "security.capability", fcap, sizeof fcap, 0));
  R("ftruncate", ftruncate(fd, 1));
  hascap("after ftruncate", "suid");
  R("setxattr security.capability", fsetxattr(fd, "security.capability", fcap, sizeof fcap, 0));
  R("chown", chown("suid", 0, 0));
  hascap("after chown", "suid");
  if (fchmod(fd, 06775) < 0) DIE("fchmod");
  pid_t q = xfork();
  if (q == 0) {
    drop(1u << CAP_FSETID);
    R("open O_TRUNC without FSETID", openc("suid", O_WRONLY | O_TRUNC));
    mode("after it", "suid");
    _exit(0);
  }
  waitpid(q, NULL, 0);
  if (fchmod(fd, 06775) < 0) DIE("fchmod");
  q = xfork();
  if (q == 0) {
    drop(1u << CAP_FSETID);
    R("fallocate KEEP_SIZE without FSETID", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8192));
    mode("after it", "suid");
    if (fchmod(fd, 06775) < 0) DIE("fchmod");
    R("fallocate without FSETID", fallocate(fd, 0, 0, 8192));
    mode("after it", "suid");
    if (fchmod(fd, 06775) < 0) DIE("fchmod");
    R("ftruncate without FSETID", ftruncate(fd, 100));
    mode("after it", "suid");
    _exit(0);
  }
  waitpid(q, NULL, 0);
  q = xfork();
  if (q == 0) {
    drop(1u << CAP_SYS_ADMIN);
    R("setxattr security.capability without SYS_ADMIN", fsetxattr(fd, "security.capability", fcap, sizeof fcap, 0));
    R("removexattr security.capability without SYS_ADMIN", fremovexattr(fd, "security.capability"));
    R("setxattr security.other without SYS_ADMIN", fsetxattr(fd, "security.other", "x", 1, 0));
    drop(1u << CAP_SETFCAP);
    R("setxattr security.capability without SETFCAP", fsetxattr(fd, "security.capability", fcap, sizeof fcap, 0));
    _exit(0);
  }
  waitpid(q, NULL, 0);
  close(fd);
  printf("done\n");
  return 0;
}
