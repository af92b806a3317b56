/* hostrw: the edge cases of writing a host directory, run in DIR (argv[1]),
 * natively on a host temporary directory and in the sandbox on a read-write
 * bind mount of another one (test/integration/hostrw.test.js): creation
 * flags, writes, truncation, directories, renames with their flags, links,
 * FIFOs, modes, times, fallocate, xattrs, an unlinked open file and a
 * MAP_SHARED mapping. Output is deterministic: no inode numbers or times
 * that the host picks. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>

static char dir[512];

static const char *P(const char *name) {
  static char bufs[4][600];
  static int k;
  char *b = bufs[k++ % 4];
  snprintf(b, 600, "%s/%s", dir, name);
  return b;
}

static void st(const char *label, const char *name) {
  struct stat s;
  if (lstat(P(name), &s) < 0) {
    printf("%s: lstat %s\n", label, ename(errno));
    return;
  }
  printf("%s: mode=%o nlink=%lu size=%lld uid=%u gid=%u\n", label, s.st_mode, (unsigned long)s.st_nlink, (long long)s.st_size, s.st_uid, s.st_gid);
}

static void cat(const char *label, const char *name) {
  char buf[256];
  int fd = open(P(name), O_RDONLY);
  if (fd < 0) {
    printf("%s: open %s\n", label, ename(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) n = 0;
  buf[n] = 0;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == 0) buf[i] = '0';
  printf("%s: [%s]\n", label, buf);
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void ls(const char *label, const char *name) {
  DIR *d = opendir(P(name));
  if (!d) {
    printf("%s: opendir %s\n", label, ename(errno));
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, cmpstr);
  printf("%s:", label);
  for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  snprintf(dir, sizeof dir, "%s", argv[1]);
  umask(022);

  /* creation */
  int fd = open(P("f"), O_CREAT | O_EXCL | O_RDWR, 0640);
  SHOW("create excl", fd);
  SHOW("create excl again", open(P("f"), O_CREAT | O_EXCL | O_RDWR, 0640));
  SHOW("symlink dangling", symlink("target", P("dangle")));
  SHOW("create excl on dangling symlink", open(P("dangle"), O_CREAT | O_EXCL | O_WRONLY, 0600));
  int t = open(P("dangle"), O_CREAT | O_WRONLY, 0600);
  SHOW("create through dangling symlink", t);
  close(t);
  st("target", "target");
  SHOW("open nofollow symlink", open(P("dangle"), O_RDONLY | O_NOFOLLOW));
  SHOW("mode odd bits", open(P("setgid"), O_CREAT | O_WRONLY, 02755));
  st("setgid", "setgid");

  /* writes */
  SHOW("write", write(fd, "hello world\n", 12));
  SHOW("pwrite", pwrite(fd, "HELLO", 5, 0));
  struct iovec iov[2] = {{"ab", 2}, {"cd\n", 3}};
  SHOW("writev", writev(fd, iov, 2));
  SHOW("pwrite past end", pwrite(fd, "Z", 1, 20));
  struct stat s;
  fstat(fd, &s);
  printf("fstat size=%lld\n", (long long)s.st_size);
  cat("f", "f");
  SHOW("ftruncate 8", ftruncate(fd, 8));
  cat("f after shrink", "f");
  SHOW("truncate 12", truncate(P("f"), 12));
  st("f grown", "f");
  int a = open(P("f"), O_WRONLY | O_APPEND);
  SHOW("append", write(a, "++", 2));
  close(a);
  cat("f appended", "f");
  int tr = open(P("f"), O_WRONLY | O_TRUNC);
  SHOW("O_TRUNC", tr);
  close(tr);
  st("f truncated", "f");
  SHOW("write on O_RDONLY", (close(fd), fd = open(P("f"), O_RDONLY), write(fd, "x", 1)));
  close(fd);

  /* directories */
  SHOW("mkdir", mkdir(P("d"), 0750));
  SHOW("mkdir again", mkdir(P("d"), 0750));
  SHOW("mkdir under file", mkdir(P("f/x"), 0755));
  close(open(P("d/in"), O_CREAT | O_WRONLY, 0644));
  SHOW("rmdir non-empty", rmdir(P("d")));
  SHOW("rmdir file", rmdir(P("f")));
  SHOW("unlink dir", unlink(P("d")));
  SHOW("unlink missing", unlink(P("nope")));
  st("d", "d");

  /* renames */
  close(open(P("r1"), O_CREAT | O_WRONLY, 0644));
  close(open(P("r2"), O_CREAT | O_WRONLY, 0644));
  SHOW("noreplace", syscall(SYS_renameat2, AT_FDCWD, P("r1"), AT_FDCWD, P("r2"), RENAME_NOREPLACE));
  SHOW("rename over file", rename(P("r1"), P("r2")));
  SHOW("exchange file/dir", syscall(SYS_renameat2, AT_FDCWD, P("r2"), AT_FDCWD, P("d"), RENAME_EXCHANGE));
  st("r2 now", "r2");
  st("d now", "d");
  SHOW("rename dir into itself", rename(P("r2"), P("r2/sub")));
  SHOW("mkdir e", mkdir(P("e"), 0755));
  SHOW("rename dir over non-empty", rename(P("e"), P("r2")));
  SHOW("rename dir over empty", rename(P("r2"), P("e")));
  SHOW("rename file over dir", rename(P("d"), P("e")));
  ls("after renames", ".");
  cat("moved dir content", "e/in");

  /* links, symlinks, fifos */
  SHOW("link", link(P("f"), P("f2")));
  st("f linked", "f");
  SHOW("link dir", link(P("e"), P("e2")));
  SHOW("link existing", link(P("f"), P("f2")));
  char lb[64] = {0};
  SHOW("symlink", symlink("../x/y", P("sl")));
  SHOW("readlink", readlink(P("sl"), lb, sizeof lb));
  printf("link=%s\n", lb);
  SHOW("mkfifo", mkfifo(P("fifo"), 0600));
  st("fifo", "fifo");

  /* attributes */
  SHOW("chmod", chmod(P("f"), 04751));
  st("f chmod", "f");
  SHOW("chown", chown(P("f"), 1000, 1001));
  st("f chown", "f");
  SHOW("lchown symlink", lchown(P("sl"), 1002, 1003));
  st("sl", "sl");
  struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
  SHOW("utimensat", utimensat(AT_FDCWD, P("f"), ts, 0));
  stat(P("f"), &s);
  printf("times %lld.%09ld %lld.%09ld\n", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
  struct timespec omit[2] = {{0, UTIME_OMIT}, {2000000000, 5}};
  SHOW("utimensat omit", utimensat(AT_FDCWD, P("f"), omit, 0));
  stat(P("f"), &s);
  printf("times %lld.%09ld %lld.%09ld\n", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
  SHOW("lutimes symlink", utimensat(AT_FDCWD, P("sl"), ts, AT_SYMLINK_NOFOLLOW));
  lstat(P("sl"), &s);
  printf("sl mtime %lld\n", (long long)s.st_mtim.tv_sec);

  /* fallocate */
  fd = open(P("g"), O_CREAT | O_RDWR, 0644);
  SHOW("fallocate", fallocate(fd, 0, 0, 8192));
  SHOW("write g", pwrite(fd, "abcdefgh", 8, 4096));
  SHOW("punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4));
  char gb[8];
  SHOW("pread g", pread(fd, gb, 8, 4096));
  printf("g: %d %d %d %d %c%c%c%c\n", gb[0], gb[1], gb[2], gb[3], gb[4], gb[5], gb[6], gb[7]);
  fstat(fd, &s);
  printf("g size=%lld\n", (long long)s.st_size);
  SHOW("fsync", fsync(fd));
  SHOW("fdatasync", fdatasync(fd));
  close(fd);

  /* xattrs */
  SHOW("setxattr", setxattr(P("g"), "user.k", "v1", 2, 0));
  SHOW("setxattr create existing", setxattr(P("g"), "user.k", "v2", 2, XATTR_CREATE));
  SHOW("setxattr replace missing", setxattr(P("g"), "user.m", "v2", 2, XATTR_REPLACE));
  char xb[64] = {0};
  SHOW("getxattr", getxattr(P("g"), "user.k", xb, sizeof xb));
  printf("xattr=%s\n", xb);
  SHOW("listxattr size", listxattr(P("g"), NULL, 0));
  SHOW("removexattr", removexattr(P("g"), "user.k"));
  SHOW("removexattr again", removexattr(P("g"), "user.k"));
  SHOW("getxattr gone", getxattr(P("g"), "user.k", xb, sizeof xb));
  SHOW("user xattr on symlink", lsetxattr(P("sl"), "user.k", "v", 1, 0));

  /* an open file whose last name goes */
  fd = open(P("u"), O_CREAT | O_RDWR, 0644);
  write(fd, "0123456789", 10);
  SHOW("unlink open", unlink(P("u")));
  fstat(fd, &s);
  printf("unlinked: nlink=%lu size=%lld\n", (unsigned long)s.st_nlink, (long long)s.st_size);
  SHOW("write unlinked", pwrite(fd, "abcdefghijklmnop", 16, 8));
  fstat(fd, &s);
  printf("unlinked: nlink=%lu size=%lld\n", (unsigned long)s.st_nlink, (long long)s.st_size);
  char ub[32] = {0};
  SHOW("read unlinked", pread(fd, ub, sizeof ub - 1, 0));
  printf("unlinked: [%s]\n", ub);
  SHOW("ftruncate unlinked", ftruncate(fd, 4));
  fstat(fd, &s);
  printf("unlinked: size=%lld\n", (long long)s.st_size);
  SHOW("fchmod unlinked", fchmod(fd, 0600));
  fstat(fd, &s);
  printf("unlinked: mode=%o\n", s.st_mode);
  close(fd);
  SHOW("same name again", access(P("u"), F_OK));

  /* MAP_SHARED writes reach the file */
  fd = open(P("m"), O_CREAT | O_RDWR, 0644);
  ftruncate(fd, 8192);
  char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) DIE("mmap");
  memcpy(m + 10, "mapped", 6);
  memcpy(m + 4096, "page2", 5);
  char mb[8] = {0};
  SHOW("pread sees mapping", pread(fd, mb, 6, 10));
  printf("m: %s\n", mb);
  SHOW("write under mapping", pwrite(fd, "WR", 2, 12));
  printf("mapping sees write: %.6s\n", m + 10);
  SHOW("msync", msync(m, 8192, MS_SYNC));
  memcpy(m + 20, "late", 4);
  munmap(m, 8192);
  close(fd);
  int m2 = open(P("m"), O_RDONLY);
  char mc[32] = {0};
  SHOW("read after unmap", pread(m2, mc, 4, 20));
  printf("m: %s\n", mc);
  SHOW("read page 2", pread(m2, mc, 5, 4096));
  printf("m: %.5s\n", mc);
  close(m2);

  /* the file system */
  struct statfs sf;
  SHOW("statfs", statfs(dir, &sf));
  printf("statfs type=%lx namelen=%ld\n", (unsigned long)sf.f_type, (long)sf.f_namelen);

  /* cleanup, as rm -r would */
  SHOW("rmdir e after unlink", (unlink(P("e/in")), rmdir(P("e"))));
  ls("end", ".");
  return 0;
}
