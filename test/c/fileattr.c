/* fileattr: file_getattr and file_setattr (Linux 6.17) against native and
 * against FS_IOC_FSGETXATTR on the same file: struct file_attr sizes (below
 * 24 EINVAL, beyond a page E2BIG, a larger struct's non-zero tail E2BIG on
 * set, zero-filled on get), AT_ flags, AT_EMPTY_PATH on an open and an O_PATH
 * descriptor, a symlink followed and not, a directory, a /proc file (no
 * attributes: EOPNOTSUPP), unknown xflags (EINVAL), NODUMP and NOATIME set
 * and read back through the ioctl, extent sizes and project ids (not kept by
 * tmpfs: EOPNOTSUPP), bad pointers. Runs in a fresh directory of /dev/shm
 * (a tmpfs natively and in the sandbox), removed at the end. Run with a scratch
 * */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/fs.h>

#define NR_FILE_GETATTR 468
#define NR_FILE_SETATTR 469

struct fattr {
  uint64_t xflags;
  uint32_t extsize, nextents, projid, cowextsize;
};

static void res(const char *what, long r) {
  if (r < 0) printf("%-44s -1 %s\n", what, ename(errno));
  else printf("%-44s %ld\n", what, r);
}

static long getat(int d, const char *p, void *a, size_t sz, unsigned fl) { return syscall(NR_FILE_GETATTR, d, p, a, sz, fl); }
static long setat(int d, const char *p, void *a, size_t sz, unsigned fl) { return syscall(NR_FILE_SETATTR, d, p, a, sz, fl); }

static void show(const char *what, int d, const char *p, unsigned fl) {
  struct fattr a;
  memset(&a, 0xee, sizeof a);
  long r = getat(d, p, &a, sizeof a, fl);
  if (r < 0) printf("%-44s -1 %s\n", what, ename(errno));
  /* The extent count depends on the file system: only whether it is 0xeeeeeeee (not written). */
  else printf("%-44s xflags %#llx extsize %u projid %u cowextsize %u nextents-set %d\n", what, (unsigned long long)a.xflags, a.extsize, a.projid, a.cowextsize, a.nextents != 0xeeeeeeeeu);
}

int main(void) {
  line_buffered();
  char dir[] = "/dev/shm/tsvisor-fileattr-XXXXXX";
  if (!mkdtemp(dir)) DIE("mkdtemp");
  int d = open(dir, O_DIRECTORY | O_RDONLY);
  if (d < 0) DIE("open dir");
  int f = openat(d, "file", O_CREAT | O_RDWR, 0644);
  if (f < 0) DIE("create");
  if (symlinkat("file", d, "link") != 0) DIE("symlink");
  if (mkdirat(d, "sub", 0755) != 0) DIE("mkdir");

  show("file", d, "file", 0);
  show("through the symlink", d, "link", 0);
  show("symlink NOFOLLOW", d, "link", AT_SYMLINK_NOFOLLOW);
  show("directory", d, "sub", 0);
  show("AT_EMPTY_PATH fd", f, "", AT_EMPTY_PATH);
  show("AT_EMPTY_PATH NULL", f, NULL, AT_EMPTY_PATH);
  int p = openat(d, "file", O_PATH);
  show("AT_EMPTY_PATH O_PATH fd", p, "", AT_EMPTY_PATH);
  show("/proc/self/status", AT_FDCWD, "/proc/self/status", 0);
  show("missing", d, "none", 0);
  show("empty path without the flag", f, "", 0);
  show("bad dirfd", 999, "file", 0);
  show("unknown at flag", d, "file", 0x800);
  show("AT_REMOVEDIR", d, "file", AT_REMOVEDIR);
  struct fattr a = {0};
  res("size 0", getat(d, "file", &a, 0, 0));
  res("size 23", getat(d, "file", &a, 23, 0));
  res("size 4097", getat(d, "file", &a, 4097, 0));
  res("size huge", getat(d, "file", &a, (size_t)-1, 0));
  static unsigned char page[8192];
  memset(page, 0xee, sizeof page);
  res("size 4096 get", getat(d, "file", page, 4096, 0));
  int tail = 1;
  for (int i = 24; i < 4096; i++) if (page[i] != 0) tail = 0;
  printf("%-44s %s\n", "  tail zeroed", tail ? "yes" : "no");
  res("bad pointer get", getat(d, "file", (void *)8, sizeof a, 0));
  res("bad path", getat(d, (char *)8, &a, sizeof a, 0));
  res("unknown flag and bad path", getat(d, (char *)8, &a, sizeof a, 0x800));
  res("size 0 and bad path", getat(d, (char *)8, &a, 0, 0));

  /* Setting. */
  struct fattr s = {FS_XFLAG_NODUMP | FS_XFLAG_NOATIME, 0, 0, 0, 0};
  res("set NODUMP|NOATIME", setat(d, "file", &s, sizeof s, 0));
  show("  read back", d, "file", 0);
  unsigned int fl = 0;
  res("  FS_IOC_GETFLAGS", ioctl(f, FS_IOC_GETFLAGS, &fl));
  printf("  flags %#x\n", fl & (FS_NODUMP_FL | FS_NOATIME_FL | FS_APPEND_FL | FS_IMMUTABLE_FL));
  struct fsxattr fx;
  memset(&fx, 0, sizeof fx);
  res("  FS_IOC_FSGETXATTR", ioctl(f, FS_IOC_FSGETXATTR, &fx));
  printf("  fsx_xflags %#x\n", fx.fsx_xflags);
  s.xflags = FS_XFLAG_APPEND;
  res("set APPEND via O_PATH fd", setat(p, "", &s, sizeof s, AT_EMPTY_PATH));
  res("set APPEND via fd", setat(f, "", &s, sizeof s, AT_EMPTY_PATH));
  show("  read back", d, "file", 0);
  res("  write at offset 0 (append-only)", pwrite(f, "x", 1, 0));
  s.xflags = 0;
  res("clear all", setat(d, "file", &s, sizeof s, 0));
  show("  read back", d, "file", 0);
  s.xflags = 1ULL << 40;
  res("unknown high xflag", setat(d, "file", &s, sizeof s, 0));
  s.xflags = 0x40000000;
  res("unknown xflag bit 30", setat(d, "file", &s, sizeof s, 0));
  s.xflags = 0x4;
  res("undefined xflag 0x4", setat(d, "file", &s, sizeof s, 0));
  s.xflags = FS_XFLAG_HASATTR;
  res("HASATTR (read-only flag)", setat(d, "file", &s, sizeof s, 0));
  show("  read back", d, "file", 0);
  s.xflags = 0;
  s.projid = 5;
  res("project id 5", setat(d, "file", &s, sizeof s, 0));
  s.projid = 0;
  s.extsize = 4096;
  res("extsize without the flag", setat(d, "file", &s, sizeof s, 0));
  s.extsize = 0;
  s.cowextsize = 4096;
  res("cowextsize", setat(d, "file", &s, sizeof s, 0));
  s.cowextsize = 0;
  s.xflags = FS_XFLAG_SYNC;
  res("SYNC (not kept by tmpfs)", setat(d, "file", &s, sizeof s, 0));
  s.xflags = 0;
  s.nextents = 7;
  res("nextents (ignored on set)", setat(d, "file", &s, sizeof s, 0));
  s.nextents = 0;
  res("set symlink NOFOLLOW", setat(d, "link", &s, sizeof s, AT_SYMLINK_NOFOLLOW));
  res("set /proc/self/status", setat(AT_FDCWD, "/proc/self/status", &s, sizeof s, 0));
  res("set size 23", setat(d, "file", &s, 23, 0));
  res("set size 4097", setat(d, "file", &s, 4097, 0));
  memset(page, 0, sizeof page);
  res("set size 4096 zero tail", setat(d, "file", page, 4096, 0));
  page[100] = 1;
  res("set size 4096 non-zero tail", setat(d, "file", page, 4096, 0));
  res("set bad pointer", setat(d, "file", (void *)8, sizeof s, 0));
  res("set bad path", setat(d, (char *)8, &s, sizeof s, 0));
  res("set unknown at flag", setat(d, "file", &s, sizeof s, 0x800));
  res("set unknown xflag, missing file", setat(d, "none", &(struct fattr){1ULL << 40, 0, 0, 0, 0}, sizeof s, 0));
  res("set missing file", setat(d, "none", &s, sizeof s, 0));
  unlinkat(d, "file", 0);
  unlinkat(d, "link", 0);
  unlinkat(d, "sub", AT_REMOVEDIR);
  if (rmdir(dir) != 0) DIE("rmdir");
  printf("done\n");
  return 0;
}
