/* oflags: open flags validated as Linux validates them (directories with
 * write access or O_TRUNC, access mode 3, O_CREAT|O_DIRECTORY, O_TMPFILE,
 * O_PATH with other flags, unknown bits), and fchown/fchmod/flock on pipes. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static void op(const char *label, const char *path, int flags) {
  errno = 0;
  int fd = open(path, flags, 0644);
  if (fd < 0) {
    printf("%s = -1 %s\n", label, ename(errno));
    return;
  }
  printf("%s = ok, F_GETFL & (O_ACCMODE|O_APPEND|O_NONBLOCK|O_DIRECT|O_NOATIME|O_PATH|O_LARGEFILE) = %#o\n", label,
         fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_PATH | O_LARGEFILE));
  close(fd);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  if (chdir(argv[1]) < 0) DIE("chdir");
  if (mkdir("d", 0755) < 0) DIE("mkdir");
  int f = open("f", O_CREAT | O_WRONLY, 0644);
  if (f < 0 || write(f, "data", 4) != 4) DIE("f");
  close(f);
  op("dir O_RDONLY", "d", O_RDONLY);
  op("dir O_WRONLY", "d", O_WRONLY);
  op("dir O_RDWR", "d", O_RDWR);
  op("dir O_TRUNC|O_WRONLY", "d", O_TRUNC | O_WRONLY);
  op("dir O_TRUNC|O_RDONLY", "d", O_TRUNC | O_RDONLY);
  op("dir O_CREAT", "d", O_CREAT | O_RDONLY);
  op("dir O_CREAT|O_EXCL", "d", O_CREAT | O_EXCL | O_RDONLY);
  op("dir O_WRONLY|O_RDWR", "d", O_WRONLY | O_RDWR);
  op("dir O_PATH|O_RDWR", "d", O_PATH | O_RDWR);
  op("dir O_DIRECTORY|O_WRONLY", "d", O_DIRECTORY | O_WRONLY);
  op("file O_WRONLY|O_RDWR", "f", O_WRONLY | O_RDWR);
  op("file O_DIRECTORY", "f", O_DIRECTORY);
  op("file O_CREAT|O_DIRECTORY", "f", O_CREAT | O_DIRECTORY);
  op("new O_CREAT|O_DIRECTORY", "new", O_CREAT | O_DIRECTORY);
  op("new O_PATH|O_CREAT", "new2", O_PATH | O_CREAT);
  op("file O_PATH|O_TRUNC|O_WRONLY", "f", O_PATH | O_TRUNC | O_WRONLY);
  struct stat st;
  stat("f", &st);
  printf("  size still %ld\n", (long)st.st_size);
  op("file with unknown bits", "f", O_RDONLY | 0x40000000 | 0x4000000);
  op("file O_NOATIME|O_DIRECT|O_APPEND|O_NONBLOCK", "f", O_RDWR | O_NOATIME | O_APPEND | O_NONBLOCK);
  op("O_TMPFILE|O_RDONLY", ".", O_TMPFILE | O_RDONLY);
  op("O_TMPFILE without O_DIRECTORY bit", ".", (O_TMPFILE & ~O_DIRECTORY) | O_RDWR);
  op("O_TMPFILE on a file", "f", O_TMPFILE | O_RDWR);
  op("O_TMPFILE|O_CREAT", ".", O_TMPFILE | O_RDWR | O_CREAT);
  op("O_TRUNC|O_RDONLY on a file", "f", O_TRUNC | O_RDONLY);
  stat("f", &st);
  printf("  size now %ld\n", (long)st.st_size);

  int three = open("f", 3);
  char b[4];
  SHOW("mode 3: read", read(three, b, 1));
  SHOW("mode 3: write", write(three, b, 1));
  SHOW("mode 3: fchmod", fchmod(three, 0644));
  close(three);

  int p[2];
  if (pipe(p) < 0) DIE("pipe");
  SHOW("pipe fchown -1 -1", fchown(p[0], -1, -1));
  SHOW("pipe fchown 1234 5678", fchown(p[0], 1234, 5678));
  fstat(p[1], &st);
  printf("  owner seen on the other end %d %d\n", (int)st.st_uid, (int)st.st_gid);
  SHOW("pipe fchmod 0600", fchmod(p[0], 0600));
  fstat(p[1], &st);
  printf("  mode seen on the other end %o\n", (unsigned)st.st_mode);
  SHOW("pipe flock LOCK_EX", flock(p[0], LOCK_EX));
  SHOW("pipe flock LOCK_EX|LOCK_NB other end", flock(p[1], LOCK_EX | LOCK_NB));
  int again = dup(p[0]);
  SHOW("pipe flock LOCK_SH dup", flock(again, LOCK_SH));
  SHOW("pipe flock LOCK_UN", flock(p[0], LOCK_UN));
  SHOW("pipe flock LOCK_EX|LOCK_NB other end now", flock(p[1], LOCK_EX | LOCK_NB));
  SHOW("pipe flock bad op", flock(p[0], 77));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  SHOW("pipe F_SETLK", fcntl(p[1], F_SETLK, &fl));
  SHOW("pipe ftruncate", ftruncate(p[1], 0));
  SHOW("pipe fsync", fsync(p[1]));
  /* stdout (a pipe from the test harness, natively and in the sandbox). */
  SHOW("stdout flock LOCK_EX", flock(1, LOCK_EX));
  SHOW("stdout flock LOCK_UN", flock(1, LOCK_UN));
  printf("done\n");
  return 0;
}
