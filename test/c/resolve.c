/* resolve: openat2's RESOLVE_* flags (LTP openat201, openat202): no mount
 * crossing, no magic links, no symlinks, staying beneath the directory, the
 * directory as root, and the cached-only lookup that may not create. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int dfd;

static void try(const char *label, int at, const char *path, int flags, unsigned long long resolve) {
  struct open_how how = {.flags = (unsigned)flags, .mode = flags & O_CREAT ? 0600 : 0, .resolve = resolve};
  long r = syscall(SYS_openat2, at, path, &how, sizeof how);
  if (r < 0) printf("%s: -1 %s\n", label, ename(errno));
  else {
    printf("%s: ok\n", label);
    close((int)r);
  }
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc != 2) return 2;
  dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (dfd < 0 || mkdirat(dfd, "sub", 0755) || mkdirat(dfd, "sub/deep", 0755)) DIE("setup");
  int f = openat(dfd, "sub/file", O_CREAT | O_WRONLY, 0644);
  close(f);
  if (symlinkat("file", dfd, "sub/rel") || symlinkat("/etc/hostname", dfd, "sub/abs") || symlinkat("../..", dfd, "sub/deep/up") ||
      symlinkat("/proc/self/exe", dfd, "sub/toexe"))
    DIE("symlink");
  int sub = openat(dfd, "sub", O_RDONLY | O_DIRECTORY);

  try("plain file, all flags but scoping", sub, "file", O_RDONLY, RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
  try("NO_SYMLINKS through a relative symlink", sub, "rel", O_RDONLY, RESOLVE_NO_SYMLINKS);
  try("NO_SYMLINKS, O_NOFOLLOW|O_PATH on the link itself", sub, "rel", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
  try("relative symlink", sub, "rel", O_RDONLY, 0);
  try("NO_MAGICLINKS, /proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, RESOLVE_NO_MAGICLINKS);
  try("NO_MAGICLINKS, /proc/self/fd/N", AT_FDCWD, "/proc/self/fd/0", O_RDONLY, RESOLVE_NO_MAGICLINKS);
  try("NO_MAGICLINKS, a plain symlink", sub, "rel", O_RDONLY, RESOLVE_NO_MAGICLINKS);
  try("NO_XDEV into /proc", AT_FDCWD, "/proc/version", O_RDONLY, RESOLVE_NO_XDEV);
  try("NO_XDEV, /proc/version from /proc", open("/proc", O_RDONLY | O_DIRECTORY), "version", O_RDONLY, RESOLVE_NO_XDEV);
  try("BENEATH, inside", sub, "deep/../file", O_RDONLY, RESOLVE_BENEATH);
  try("BENEATH, ..", sub, "../sub/file", O_RDONLY, RESOLVE_BENEATH);
  try("BENEATH, absolute", sub, "/etc/hostname", O_RDONLY, RESOLVE_BENEATH);
  try("BENEATH, absolute symlink", sub, "abs", O_RDONLY, RESOLVE_BENEATH);
  try("BENEATH, symlink climbing out", sub, "deep/up/x", O_RDONLY, RESOLVE_BENEATH);
  try("BENEATH, magic link", sub, "toexe", O_RDONLY, RESOLVE_BENEATH);
  try("IN_ROOT, absolute path to its own file", sub, "/file", O_RDONLY, RESOLVE_IN_ROOT);
  try("IN_ROOT, .. past the root", sub, "../../file", O_RDONLY, RESOLVE_IN_ROOT);
  try("IN_ROOT, /proc/version", AT_FDCWD, "/proc/version", O_RDONLY, RESOLVE_IN_ROOT);
  try("IN_ROOT, absolute symlink", sub, "abs", O_RDONLY, RESOLVE_IN_ROOT);
  try("BENEATH|IN_ROOT", sub, "file", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  try("unknown resolve bit", sub, "file", O_RDONLY, 0x100);
  try("CACHED with O_CREAT", sub, "new", O_CREAT | O_WRONLY, RESOLVE_CACHED);
  try("CACHED with O_TRUNC", sub, "file", O_TRUNC | O_WRONLY, RESOLVE_CACHED);
  try("BENEATH with O_CREAT inside", sub, "deep/new", O_CREAT | O_WRONLY, RESOLVE_BENEATH);
  try("NO_SYMLINKS with O_CREAT through a symlink", sub, "rel", O_CREAT | O_WRONLY, RESOLVE_NO_SYMLINKS);
  printf("done\n");
  return 0;
}
