/* xattr: extended attributes: get/set/list/remove, XATTR_CREATE and
 * XATTR_REPLACE, the size probe, ERANGE, unknown namespaces. argv[1]: a scratch dir. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/xattr.h>
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  char p[4096]; snprintf(p, sizeof p, "%s/f", argv[1]);
  close(open(p, O_CREAT|O_WRONLY, 0644));
  char buf[256];
  ssize_t r = getxattr(p, "user.x", buf, sizeof buf); printf("get missing: %zd %s\n", r, strerror(errno));
  r = setxattr(p, "user.x", "hello", 5, XATTR_REPLACE); printf("replace missing: %zd %s\n", r, strerror(errno));
  r = setxattr(p, "user.x", "hello", 5, 0); printf("set: %zd\n", r);
  r = setxattr(p, "user.x", "hello", 5, XATTR_CREATE); printf("create existing: %zd %s\n", r, strerror(errno));
  r = getxattr(p, "user.x", NULL, 0); printf("size probe: %zd\n", r);
  r = getxattr(p, "user.x", buf, 2); printf("small buffer: %zd %s\n", r, strerror(errno));
  r = getxattr(p, "user.x", buf, sizeof buf); printf("get: %zd %.*s\n", r, (int)r, buf);
  r = listxattr(p, buf, sizeof buf); printf("list: %zd %s\n", r, buf);
  r = getxattr(p, "bogus.x", buf, sizeof buf); printf("bad namespace: %zd %s\n", r, strerror(errno));
  r = removexattr(p, "user.x"); printf("remove: %zd\n", r);
  r = removexattr(p, "user.x"); printf("remove again: %zd %s\n", r, strerror(errno));
  r = listxattr(p, buf, sizeof buf); printf("list empty: %zd\n", r);
  r = getxattr("/nonexistent", "user.x", buf, sizeof buf); printf("missing file: %zd %s\n", r, strerror(errno));
  printf("done\n");
  return 0;
}
