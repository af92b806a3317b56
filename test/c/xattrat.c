/* xattrat: setxattrat, getxattrat, listxattrat and removexattrat (Linux
 * 6.13) against native, and the legacy calls beside them: a file by dirfd
 * and relative path, a symlink followed and not (AT_SYMLINK_NOFOLLOW: user.
 * attributes are EPERM on symlinks), AT_EMPTY_PATH on an ordinary and an
 * O_PATH descriptor (and a NULL path with it), struct xattr_args sizes
 * (too small EINVAL, larger with zero tail accepted, non-zero tail E2BIG,
 * beyond a page E2BIG), getxattrat's flags (must be 0), the size probe,
 * ERANGE, bad pointers (EFAULT) and unknown AT_ flags (EINVAL). Run with a
 * scratch directory as argv[1]. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#define NR_SETXATTRAT 463
#define NR_GETXATTRAT 464
#define NR_LISTXATTRAT 465
#define NR_REMOVEXATTRAT 466

struct xargs {
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};

static void res(const char *what, long r) {
  if (r < 0) printf("%-44s -1 %s\n", what, ename(errno));
  else printf("%-44s %ld\n", what, r);
}

static long setat(int d, const char *p, unsigned at, const char *name, const char *val, unsigned flags) {
  struct xargs x = {(uintptr_t)val, val ? (uint32_t)strlen(val) : 0, flags};
  return syscall(NR_SETXATTRAT, d, p, at, name, &x, sizeof x);
}

static char got[256];
static long getat(int d, const char *p, unsigned at, const char *name) {
  memset(got, 0, sizeof got);
  struct xargs x = {(uintptr_t)got, sizeof got - 1, 0};
  return syscall(NR_GETXATTRAT, d, p, at, name, &x, sizeof x);
}

static int cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void show_list(const char *what, int d, const char *p, unsigned at) {
  char buf[512];
  long n = syscall(NR_LISTXATTRAT, d, p, at, buf, sizeof buf);
  if (n < 0) {
    printf("%-44s -1 %s\n", what, ename(errno));
    return;
  }
  /* Only user.* names, sorted: the host may add security.* ones of its own, in its own order. */
  const char *names[32];
  int k = 0;
  for (long i = 0; i < n && k < 32; i += strlen(buf + i) + 1)
    if (strncmp(buf + i, "user.", 5) == 0) names[k++] = buf + i;
  qsort(names, k, sizeof names[0], cmp);
  printf("%-44s", what);
  for (int i = 0; i < k; i++) printf(" %s", names[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  int d = open(argv[1], O_DIRECTORY | O_RDONLY);
  if (d < 0) DIE("open dir");
  int f = openat(d, "file", O_CREAT | O_RDWR, 0644);
  if (f < 0) DIE("create");
  if (symlinkat("file", d, "link") != 0) DIE("symlink");

  res("setxattrat relative", setat(d, "file", 0, "user.a", "one", 0));
  res("getxattrat relative", getat(d, "file", 0, "user.a"));
  printf("  value %s\n", got);
  res("setxattrat through the symlink", setat(d, "link", 0, "user.b", "two", 0));
  res("setxattrat NOFOLLOW symlink", setat(d, "link", AT_SYMLINK_NOFOLLOW, "user.c", "three", 0));
  res("getxattrat NOFOLLOW symlink", getat(d, "link", AT_SYMLINK_NOFOLLOW, "user.a"));
  res("getxattrat through symlink", getat(d, "link", 0, "user.b"));
  printf("  value %s\n", got);
  res("XATTR_CREATE existing", setat(d, "file", 0, "user.a", "x", XATTR_CREATE));
  res("XATTR_REPLACE missing", setat(d, "file", 0, "user.z", "x", XATTR_REPLACE));
  res("XATTR_REPLACE existing", setat(d, "file", 0, "user.a", "uno", XATTR_REPLACE));
  res("xattr flags 4", setat(d, "file", 0, "user.a", "x", 4));
  res("empty value", setat(d, "file", 0, "user.e", NULL, 0));
  res("getxattrat empty", getat(d, "file", 0, "user.e"));
  res("AT_EMPTY_PATH on fd", setat(f, "", AT_EMPTY_PATH, "user.fd", "f", 0));
  res("AT_EMPTY_PATH NULL path", getat(f, NULL, AT_EMPTY_PATH, "user.fd"));
  res("empty path without the flag", getat(f, "", 0, "user.fd"));
  res("NULL path without the flag", getat(f, NULL, 0, "user.fd"));
  int p = openat(d, "file", O_PATH);
  res("O_PATH fd AT_EMPTY_PATH get", getat(p, "", AT_EMPTY_PATH, "user.a"));
  res("O_PATH fd AT_EMPTY_PATH set", setat(p, "", AT_EMPTY_PATH, "user.p", "p", 0));
  res("fgetxattr on O_PATH", fgetxattr(p, "user.a", got, sizeof got));
  res("fsetxattr on O_PATH", fsetxattr(p, "user.q", "q", 1, 0));
  res("flistxattr on O_PATH", flistxattr(p, got, sizeof got));
  res("fremovexattr on O_PATH", fremovexattr(p, "user.q"));
  res("AT_FDCWD empty path", getat(AT_FDCWD, "", AT_EMPTY_PATH, "user.a"));
  res("bad dirfd", getat(999, "file", 0, "user.a"));
  res("bad fd AT_EMPTY_PATH", getat(999, "", AT_EMPTY_PATH, "user.a"));
  res("relative path, file as dirfd", getat(f, "x", 0, "user.a"));
  res("unknown at flag", getat(d, "file", 0x800, "user.a"));
  res("AT_REMOVEDIR", getat(d, "file", AT_REMOVEDIR, "user.a"));
  res("set unknown at flag", setat(d, "file", 0x800, "user.a", "x", 0));
  res("missing file", getat(d, "none", 0, "user.a"));
  res("missing attribute", getat(d, "file", 0, "user.none"));
  res("unknown namespace", getat(d, "file", 0, "foo.a"));
  res("empty name", getat(d, "file", 0, ""));
  res("bad name pointer", getat(d, "file", 0, (char *)8));
  res("bad path pointer", getat(d, (char *)8, 0, "user.a"));
  res("bad name and path", getat(d, (char *)8, 0, (char *)8));
  res("missing file and bad name", getat(d, "none", 0, (char *)8));
  res("unknown at flag and bad name", getat(d, "file", 0x800, (char *)8));

  /* struct xattr_args itself. */
  struct xargs x = {(uintptr_t)got, sizeof got, 0};
  res("args NULL", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", NULL, sizeof x));
  res("args bad pointer", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", (void *)8, sizeof x));
  res("args size 0", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, 0));
  res("args size 8", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, 8));
  struct { struct xargs x; uint64_t tail; } big = {{(uintptr_t)got, sizeof got, 0}, 0};
  res("args size 24 zero tail", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &big, sizeof big));
  big.tail = 1;
  res("args size 24 non-zero tail", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &big, sizeof big));
  res("set args size 24 non-zero tail", syscall(NR_SETXATTRAT, d, "file", 0, "user.a", &big, sizeof big));
  static char page[8192];
  memcpy(page, &x, sizeof x);
  res("args size page", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", page, 4096));
  res("args size page+1", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", page, 4097));
  res("set args size page+1", syscall(NR_SETXATTRAT, d, "file", 0, "user.a", page, 4097));
  res("set args size 0", syscall(NR_SETXATTRAT, d, "file", 0, "user.a", &x, 0));
  res("args huge size", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, (size_t)-1));
  x.flags = 1;
  res("getxattrat args.flags 1", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, sizeof x));
  x.flags = 0;
  x.size = 0;
  res("size probe", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, sizeof x));
  x.size = 1;
  res("too small", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, sizeof x));
  x.size = 64;
  x.value = 8;
  res("bad value pointer get", syscall(NR_GETXATTRAT, d, "file", 0, "user.a", &x, sizeof x));
  res("bad value pointer set", syscall(NR_SETXATTRAT, d, "file", 0, "user.v", &x, sizeof x));
  x.value = (uintptr_t)page;
  x.size = 65537;
  res("set value too large", syscall(NR_SETXATTRAT, d, "file", 0, "user.v", &x, sizeof x));
  x.size = 0xffffffffu;
  res("set value size 4G-1", syscall(NR_SETXATTRAT, d, "file", 0, "user.v", &x, sizeof x));
  x.size = 0;
  x.value = 0;
  res("set NULL value size 0", syscall(NR_SETXATTRAT, d, "file", 0, "user.n", &x, sizeof x));

  /* listxattrat and removexattrat. */
  show_list("listxattrat", d, "file", 0);
  show_list("listxattrat symlink NOFOLLOW", d, "link", AT_SYMLINK_NOFOLLOW);
  show_list("listxattrat EMPTY_PATH O_PATH", p, "", AT_EMPTY_PATH);
  res("listxattrat size probe", syscall(NR_LISTXATTRAT, d, "file", 0, NULL, 0));
  res("listxattrat too small", syscall(NR_LISTXATTRAT, d, "file", 0, got, 1));
  res("listxattrat bad buffer", syscall(NR_LISTXATTRAT, d, "file", 0, (void *)8, 256));
  res("listxattrat unknown flag", syscall(NR_LISTXATTRAT, d, "file", 0x800, got, sizeof got));
  res("listxattrat huge size", syscall(NR_LISTXATTRAT, d, "file", 0, got, (size_t)-1));
  res("removexattrat", syscall(NR_REMOVEXATTRAT, d, "file", 0, "user.b"));
  res("removexattrat again", syscall(NR_REMOVEXATTRAT, d, "file", 0, "user.b"));
  res("removexattrat EMPTY_PATH O_PATH", syscall(NR_REMOVEXATTRAT, p, "", AT_EMPTY_PATH, "user.a"));
  res("removexattrat NOFOLLOW symlink", syscall(NR_REMOVEXATTRAT, d, "link", AT_SYMLINK_NOFOLLOW, "user.e"));
  res("removexattrat unknown flag", syscall(NR_REMOVEXATTRAT, d, "file", 0x800, "user.e"));
  res("removexattrat bad name", syscall(NR_REMOVEXATTRAT, d, "file", 0, (char *)8));
  show_list("listxattrat after removals", d, "file", 0);
  res("legacy getxattr sees it", getxattr(argv[1], "user.none", got, sizeof got));
  char path[4096];
  snprintf(path, sizeof path, "%s/file", argv[1]);
  res("legacy getxattr", getxattr(path, "user.fd", got, sizeof got));
  res("legacy getxattr bad name, missing file", getxattr("/nonexistent/x", (char *)8, got, sizeof got));
  res("legacy setxattr bad name, missing file", setxattr("/nonexistent/x", (char *)8, "v", 1, 0));
  res("legacy removexattr bad name, missing", removexattr("/nonexistent/x", (char *)8));
  printf("done\n");
  return 0;
}
