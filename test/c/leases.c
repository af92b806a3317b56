/* leases: the lock manager as Linux keeps it (LTP fcntl11, fcntl17,
 * fcntl21, fcntl23, fcntl27, fcntl33). F_GETLK reports the conflicting lock
 * with the lowest start among the holder's (merged) locks; F_SETLKW that
 * would wait on a process waiting for us is EDEADLK; leases (F_SETLEASE,
 * F_GETLEASE): who may take which, and breaking one by an open or truncate
 * of another process, which waits until the holder (told by SIGIO) gives
 * way. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char file[600];

static const char *tname(int t) { return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?"; }

static int lk(int fd, int cmd, int type, off_t start, off_t len) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
  return fcntl(fd, cmd, &fl);
}

/* F_GETLK from a child (another owner): what conflicts with a write lock at [start, start+len). */
static void getlk(int fd, off_t start, off_t len) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, F_GETLK, &fl)) DIE("F_GETLK");
    printf("F_GETLK(W, %ld, %ld): %s %ld %ld%s\n", (long)start, (long)len, tname(fl.l_type), (long)fl.l_start, (long)fl.l_len,
           fl.l_type == F_UNLCK ? "" : fl.l_pid == getppid() ? " (parent)" : " (other)");
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static void records(void) {
  int fd = open(file, O_RDWR | O_CREAT, 0666);
  if (fd < 0) DIE("open");
  lk(fd, F_SETLK, F_WRLCK, 10, 5);
  lk(fd, F_SETLK, F_RDLCK, 1, 5);
  getlk(fd, 0, 0);
  getlk(fd, 6, 0);
  getlk(fd, 15, 0);
  lk(fd, F_SETLK, F_UNLCK, 0, 0);
  lk(fd, F_SETLK, F_RDLCK, 5, 5);
  lk(fd, F_SETLK, F_RDLCK, 10, 5);
  getlk(fd, 0, 0);
  lk(fd, F_SETLK, F_WRLCK, 7, 2);
  getlk(fd, 0, 0);
  getlk(fd, 9, 0);
  lk(fd, F_SETLK, F_UNLCK, 0, 0);
  close(fd);
}

/* Parent locks byte 0, child byte 1; the child waits for byte 0; the parent asking for byte 1 would deadlock. */
static void deadlock(void) {
  int fd = open(file, O_RDWR);
  int sync[2];
  if (fd < 0 || pipe(sync)) DIE("open");
  lk(fd, F_SETLK, F_WRLCK, 0, 1);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    lk(fd, F_SETLK, F_WRLCK, 1, 1);
    if (write(sync[1], "x", 1) != 1) _exit(1);
    int r = lk(fd, F_SETLKW, F_WRLCK, 0, 1);
    printf("child: F_SETLKW on the parent's byte = %d once the parent let go\n", r);
    fflush(stdout);
    _exit(0);
  }
  char c;
  if (read(sync[0], &c, 1) != 1) DIE("read");
  sleep_ms(100); /* the child is in F_SETLKW by now */
  SHOW("parent: F_SETLKW on the child's byte", lk(fd, F_SETLKW, F_WRLCK, 1, 1));
  lk(fd, F_SETLK, F_UNLCK, 0, 1);
  waitpid(p, NULL, 0);
  close(fd);
}

static volatile sig_atomic_t sigio;
static void on_sigio(int s) { (void)s; sigio++; }

/* A child does op on the file while the parent holds a lease of type lease; the parent gives way on SIGIO. */
static void lease_break(int lease, const char *op) {
  int fd = open(file, O_RDONLY);
  if (fd < 0) DIE("open");
  sigio = 0;
  SHOW("F_SETLEASE", fcntl(fd, F_SETLEASE, lease));
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int r;
    if (strcmp(op, "truncate") == 0) r = truncate(file, 0);
    else r = open(file, strcmp(op, "O_RDONLY") == 0 ? O_RDONLY : strcmp(op, "O_WRONLY") == 0 ? O_WRONLY : O_RDWR);
    _exit(r >= 0 ? 0 : 1);
  }
  int st;
  while (!sigio) pause();
  printf("  SIGIO; F_GETLEASE = %s\n", tname(fcntl(fd, F_GETLEASE)));
  /* An open for reading only wants the write lease downgraded; anything else wants it gone. */
  if (lease == F_WRLCK && strcmp(op, "O_RDONLY") == 0) {
    SHOW("  downgrade to F_RDLCK", fcntl(fd, F_SETLEASE, F_RDLCK));
    waitpid(p, &st, 0);
    printf("  child %s went through: %d\n", op, WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("  F_GETLEASE after = %s\n", tname(fcntl(fd, F_GETLEASE)));
  }
  SHOW("  F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
  if (p > 0 && !(lease == F_WRLCK && strcmp(op, "O_RDONLY") == 0)) {
    waitpid(p, &st, 0);
    printf("  child %s went through: %d\n", op, WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  close(fd);
}

static void leases(void) {
  signal(SIGIO, on_sigio);
  int ro = open(file, O_RDONLY), rw = open(file, O_RDWR);
  SHOW("read lease on O_RDWR", fcntl(rw, F_SETLEASE, F_RDLCK));
  SHOW("read lease while another fd writes", fcntl(ro, F_SETLEASE, F_RDLCK));
  close(rw);
  SHOW("read lease", fcntl(ro, F_SETLEASE, F_RDLCK));
  printf("F_GETLEASE = %s\n", tname(fcntl(ro, F_GETLEASE)));
  int ro2 = open(file, O_RDONLY);
  printf("a second reader opens: %d\n", ro2 >= 0);
  SHOW("write lease with another open fd", fcntl(ro2, F_SETLEASE, F_WRLCK));
  SHOW("second read lease", fcntl(ro2, F_SETLEASE, F_RDLCK));
  SHOW("F_UNLCK", fcntl(ro2, F_SETLEASE, F_UNLCK));
  SHOW("F_UNLCK without a lease", fcntl(ro2, F_SETLEASE, F_UNLCK));
  close(ro2);
  SHOW("upgrade to a write lease", fcntl(ro, F_SETLEASE, F_WRLCK));
  printf("F_GETLEASE = %s\n", tname(fcntl(ro, F_GETLEASE)));
  SHOW("non-blocking open against it", open(file, O_RDONLY | O_NONBLOCK));
  close(ro);
  int p[2];
  if (pipe(p)) DIE("pipe");
  SHOW("lease on a pipe", fcntl(p[0], F_SETLEASE, F_RDLCK));
  SHOW("bad lease type", fcntl(p[0], F_SETLEASE, 7));
  printf("write lease, O_RDONLY open:\n");
  lease_break(F_WRLCK, "O_RDONLY");
  printf("write lease, O_WRONLY open:\n");
  lease_break(F_WRLCK, "O_WRONLY");
  printf("write lease, truncate:\n");
  lease_break(F_WRLCK, "truncate");
  printf("read lease, O_RDWR open:\n");
  lease_break(F_RDLCK, "O_RDWR");
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    if (setresuid(65534, 65534, 65534)) DIE("setresuid");
    int fd = open(file, O_RDONLY);
    SHOW("another user's file", fcntl(fd, F_SETLEASE, F_RDLCK));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

/* Leases on tmpfs (/dev/shm, a tmpfs natively too): Linux's tmpfs has them,
 * though LTP's lease tests decline to run there. */
static void tmpfs_lease(void) {
  char name[64];
  snprintf(name, sizeof name, "/dev/shm/tsvisor-lease-%d", (int)getpid());
  int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (fd < 0) DIE("open /dev/shm file");
  printf("tmpfs write lease: %d\n", fcntl(fd, F_SETLEASE, F_WRLCK));
  printf("tmpfs F_GETLEASE: %s\n", tname(fcntl(fd, F_GETLEASE)));
  printf("tmpfs unlease: %d\n", fcntl(fd, F_SETLEASE, F_UNLCK));
  close(fd);
  unlink(name);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc != 2) return 2;
  if (chmod(argv[1], 0755)) DIE("chmod");
  snprintf(file, sizeof file, "%s/file", argv[1]);
  records();
  deadlock();
  if (chmod(file, 0644)) DIE("chmod");
  leases();
  tmpfs_lease();
  printf("done\n");
  return 0;
}
