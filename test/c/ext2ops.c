/* ext2ops: the sandbox's ext2 (fsimpl/ext2) against Linux's rules.
 *   ext2ops ops MNT DEV   file operations on an ext2 file system mounted at
 *                         MNT from DEV; checks itself, ends with "done".
 *   ext2ops hostile IMG.. binds each image to a free loop device, mounts it
 *                         as ext2 (read-only when the name ends in "-ro"),
 *                         walks and reads everything, removes everything,
 *                         and prints the first error of each step.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok) {
  printf("%s %s\n", ok ? "ok" : "FAIL", name);
  if (!ok) fails++;
}

static void want(const char *name, long r, int want_errno) {
  int e = r < 0 ? errno : 0;
  if (e == want_errno) {
    printf("ok %s\n", name);
  } else {
    printf("FAIL %s: %s, want %s\n", name, strerror(e), strerror(want_errno));
    fails++;
  }
}

static int ops(const char *mnt, const char *devpath) {
  char p[4096], q[4096];
  struct stat st, dev, st2;
  struct statfs sf;
  if (chdir(mnt) < 0 || stat(devpath, &dev) < 0) {
    perror("setup");
    return 2;
  }
  check("statfs", statfs(".", &sf) == 0 && sf.f_type == 0xEF53 && sf.f_namelen == 255 && sf.f_bfree <= sf.f_blocks && sf.f_ffree < sf.f_files);
  check("st_dev is the device", stat(".", &st) == 0 && st.st_dev == dev.st_rdev && st.st_ino == 2);
  /* Data: write, read back, shrink, grow (zeros), a far sparse write. */
  int fd = open("data", O_RDWR | O_CREAT | O_EXCL, 0640);
  char buf[10000], back[10000];
  for (unsigned i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 7 + 3);
  check("write", fd >= 0 && write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
  check("read back", pread(fd, back, sizeof back, 0) == (ssize_t)sizeof back && memcmp(buf, back, sizeof buf) == 0);
  check("shrink", ftruncate(fd, 1500) == 0 && fstat(fd, &st) == 0 && st.st_size == 1500);
  check("grow", ftruncate(fd, 9000) == 0 && pread(fd, back, 9000, 0) == 9000 && memcmp(back, buf, 1500) == 0);
  int zeros = 1;
  for (int i = 1500; i < 9000; i++) zeros &= back[i] == 0;
  check("grown part reads zeros", zeros);
  off_t far = 3LL << 30;
  check("sparse write", pwrite(fd, "end", 3, far) == 3 && fstat(fd, &st) == 0 && st.st_size == far + 3 && st.st_blocks < 64);
  check("sparse hole reads zeros", pread(fd, back, 100, far - 100) == 100 && back[0] == 0 && back[99] == 0);
  check("sparse tail", pread(fd, back, 10, far) == 3 && memcmp(back, "end", 3) == 0);
  check("truncate to 0 frees", ftruncate(fd, 0) == 0 && fstat(fd, &st) == 0 && st.st_blocks == 0);
  /* A shared writable mapping reaches the file; a write reaches the mapping. */
  check("ftruncate for mmap", ftruncate(fd, 8192) == 0);
  char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check("mmap", m != MAP_FAILED);
  if (m != MAP_FAILED) {
    memcpy(m + 4000, "mapped", 6);
    check("msync", msync(m, 8192, MS_SYNC) == 0 && pread(fd, back, 6, 4000) == 6 && memcmp(back, "mapped", 6) == 0);
    check("write seen in mapping", pwrite(fd, "written", 7, 100) == 7 && memcmp(m + 100, "written", 7) == 0);
    munmap(m, 8192);
  }
  close(fd);
  /* Directories and link counts. */
  stat(".", &st);
  nlink_t root_links = st.st_nlink;
  check("mkdir", mkdir("d1", 0755) == 0 && mkdir("d2", 0700) == 0 && mkdir("d1/sub", 0755) == 0);
  check("dir links", stat(".", &st) == 0 && st.st_nlink == root_links + 2 && stat("d1", &st) == 0 && st.st_nlink == 3);
  check("rename dir across", rename("d1/sub", "d2/sub") == 0 && stat("d1", &st) == 0 && st.st_nlink == 2 && stat("d2", &st) == 0 && st.st_nlink == 3);
  check("moved dir's ..", stat("d2/sub/..", &st) == 0 && stat("d2", &st2) == 0 && st.st_ino == st2.st_ino);
  want("rmdir not empty", rmdir("d2"), ENOTEMPTY);
  memset(p, 'n', 256);
  p[256] = 0;
  want("name too long", mkdir(p, 0755), ENAMETOOLONG);
  p[255] = 0;
  check("255-byte name", mkdir(p, 0755) == 0 && rmdir(p) == 0);
  /* Many entries: several directory blocks, then removal of every other one. */
  int many = 1;
  for (int i = 0; i < 400; i++) {
    snprintf(q, sizeof q, "d1/entry-with-a-longish-name-%d", i);
    int f = open(q, O_CREAT | O_WRONLY, 0644);
    many &= f >= 0;
    close(f);
  }
  for (int i = 0; i < 400; i += 2) {
    snprintf(q, sizeof q, "d1/entry-with-a-longish-name-%d", i);
    many &= unlink(q) == 0;
  }
  DIR *d = opendir("d1");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_type == DT_REG;
  if (d) closedir(d);
  check("400 entries, 200 removed", many && n == 200);
  /* Links, symlinks, special files. */
  check("hard link", link("data", "d2/hl") == 0 && stat("data", &st) == 0 && st.st_nlink == 2);
  check("rename over", open("victim", O_CREAT | O_WRONLY, 0600) >= 0 && rename("d2/hl", "victim") == 0 && stat("data", &st) == 0 && st.st_nlink == 2);
  check("exchange", syscall(SYS_renameat2, AT_FDCWD, "d1", AT_FDCWD, "d2", 2) == 0 && stat("d1/sub", &st) == 0 && stat("d1/sub/..", &st2) == 0);
  check("fast symlink", symlink("data", "fast") == 0 && readlink("fast", q, sizeof q) == 4 && memcmp(q, "data", 4) == 0);
  memset(p, 's', 300);
  p[300] = 0;
  ssize_t r = -1;
  check("slow symlink", symlink(p, "slow") == 0 && (r = readlink("slow", q, sizeof q)) == 300 && memcmp(q, p, 300) == 0 && lstat("slow", &st) == 0 && st.st_blocks > 0);
  check("fifo", mknod("fifo", S_IFIFO | 0644, 0) == 0 && stat("fifo", &st) == 0 && S_ISFIFO(st.st_mode));
  check("char device", mknod("chr", S_IFCHR | 0600, makedev(1, 3)) == 0 && stat("chr", &st) == 0 && st.st_rdev == makedev(1, 3));
  check("big device number", mknod("blk", S_IFBLK | 0600, makedev(300, 70000)) == 0 && stat("blk", &st) == 0 && st.st_rdev == makedev(300, 70000));
  check("32-bit owner", chown("data", 100000, 200000) == 0 && stat("data", &st) == 0 && st.st_uid == 100000 && st.st_gid == 200000);
  struct timespec ts[2] = {{1234567890, 123456789}, {-100, 5}};
  check("nanosecond times", utimensat(AT_FDCWD, "data", ts, 0) == 0 && stat("data", &st) == 0 && st.st_atim.tv_nsec == 123456789 && st.st_mtim.tv_sec == -100 && st.st_mtim.tv_nsec == 5);
  /* Another user with write permission may touch the times (NULL, or both UTIME_NOW), not set them (UTIME_NOW with UTIME_OMIT is setting). */
  check("shared file", close(open("shared", O_CREAT | O_WRONLY, 0666)) == 0 && chmod("shared", 0666) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    struct timespec nowomit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}}, nownow[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    if (setuid(65534) < 0) _exit(2);
    int e1 = utimensat(AT_FDCWD, "shared", nowomit, 0) < 0 ? errno : 0;
    int e2 = utimensat(AT_FDCWD, "shared", nownow, 0) < 0 ? errno : 0;
    _exit(e1 == EPERM && e2 == 0 ? 0 : 1);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  check("non-owner: NOW OMIT is EPERM, NOW NOW is allowed", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* An unlinked open file lives until its last close. */
  fd = open("gone", O_CREAT | O_RDWR, 0600);
  check("unlinked open file", fd >= 0 && write(fd, "still", 5) == 5 && unlink("gone") == 0 && pread(fd, q, 5, 0) == 5 && memcmp(q, "still", 5) == 0);
  close(fd);
  /* Extended attributes are not kept (listed in COMPATIBILITY.md): EOPNOTSUPP, as a file system without xattr handlers. */
  want("setxattr", setxattr("data", "user.x", "v", 1, 0), EOPNOTSUPP);
  want("getxattr", getxattr("data", "user.x", q, sizeof q), EOPNOTSUPP);
  check("listxattr empty", listxattr("data", q, sizeof q) == 0);
  struct statx sx;
  check("statx attributes mask (ext2's: compressed, immutable, append, nodump)", statx(AT_FDCWD, "data", 0, STATX_BASIC_STATS, &sx) == 0 &&
        (sx.stx_attributes_mask & (STATX_ATTR_COMPRESSED | STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND | STATX_ATTR_NODUMP)) == (STATX_ATTR_COMPRESSED | STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND | STATX_ATTR_NODUMP));
  int flags = 0;
  fd = open("data", O_RDONLY);
  check("FS_IOC_GETFLAGS", ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0);
  close(fd);
  printf(fails ? "FAILED\n" : "done\n");
  return fails != 0;
}

/* Every entry under path: read files and links; the first error is reported by the caller. */
static int walk(const char *path, int depth) {
  DIR *d = opendir(path);
  if (!d) return -1;
  int rc = 0;
  errno = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[4096], buf[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    struct stat st;
    if (lstat(p, &st) < 0) { rc = -1; break; }
    if (S_ISDIR(st.st_mode) && depth < 8 && walk(p, depth + 1) < 0) { rc = -1; break; }
    if (S_ISLNK(st.st_mode) && readlink(p, buf, sizeof buf) < 0) { rc = -1; break; }
    if (S_ISREG(st.st_mode)) {
      int fd = open(p, O_RDONLY);
      if (fd < 0) { rc = -1; break; }
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) {}
      int e2 = errno;
      close(fd);
      errno = e2;
      if (n < 0) { rc = -1; break; }
    }
    errno = 0;
  }
  int e = errno;
  closedir(d);
  errno = e;
  return rc < 0 || e ? -1 : 0;
}

static int removeAll(const char *path) {
  DIR *d = opendir(path);
  if (!d) return -1;
  int rc = 0;
  errno = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "lost+found")) continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    struct stat st;
    if (lstat(p, &st) < 0 || (S_ISDIR(st.st_mode) ? removeAll(p) < 0 || rmdir(p) < 0 : unlink(p) < 0)) { rc = -1; break; }
    errno = 0;
  }
  int e = errno;
  closedir(d);
  errno = e;
  return rc < 0 || e ? -1 : 0;
}

static const char *res(long r) {
  return r < 0 ? strerrorname_np(errno) : "ok";
}

static int hostile(int argc, char **argv) {
  int ctl = open("/dev/loop-control", O_RDWR);
  if (ctl < 0 || mkdir("/tmp/ext2mnt", 0755) < 0) {
    perror("setup");
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    int ro = strlen(argv[i]) > 3 && !strcmp(argv[i] + strlen(argv[i]) - 3, "-ro");
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/loop%d", ioctl(ctl, LOOP_CTL_GET_FREE));
    int img = open(argv[i], O_RDWR), lfd = open(dev, O_RDWR);
    if (img < 0 || lfd < 0 || ioctl(lfd, LOOP_SET_FD, img) < 0) {
      perror(argv[i]);
      return 2;
    }
    const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
    long r = mount(dev, "/tmp/ext2mnt", "ext2", ro ? MS_RDONLY : 0, NULL);
    printf("%s: mount %s", name, res(r));
    if (r == 0) {
      printf(" walk %s", res(walk("/tmp/ext2mnt", 0)));
      if (!ro) printf(" remove %s", res(removeAll("/tmp/ext2mnt")));
      printf(" umount %s", res(umount("/tmp/ext2mnt")));
    }
    printf("\n");
    ioctl(lfd, LOOP_CLR_FD, 0);
    close(lfd);
    close(img);
  }
  printf("done\n");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc == 4 && !strcmp(argv[1], "ops")) return ops(argv[2], argv[3]);
  if (argc >= 3 && !strcmp(argv[1], "hostile")) return hostile(argc, argv);
  fprintf(stderr, "usage: ext2ops ops MNT DEV | ext2ops hostile IMG...\n");
  return 2;
}
