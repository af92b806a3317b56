/* kversion: what the reported kernel release promises. The release is at
 * least 6.1 (LTP and other programs choose features by it), UNAME26 shows
 * a 2.6.6x release, and the interfaces of the releases up to 6.1 answer as
 * Linux: the nsfs ioctls (NS_GET_USERNS, NS_GET_PARENT, NS_GET_NSTYPE,
 * NS_GET_OWNER_UID, 4.9 and 4.11), process_mrelease (5.15) and
 * set_mempolicy_home_node (5.17). Run as root in the initial namespaces. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define NS_GET_USERNS 0xb701
#define NS_GET_PARENT 0xb702
#define NS_GET_NSTYPE 0xb703
#define NS_GET_OWNER_UID 0xb704
#define MPOL_BIND 2
#define MPOL_PREFERRED 1

static ino_t ino_of(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) DIE("fstat");
  return st.st_ino;
}

static ino_t ino_path(const char *p) {
  struct stat st;
  if (stat(p, &st) < 0) DIE(p);
  return st.st_ino;
}

/* An ioctl that returns a descriptor: says whether it names the namespace at want. */
static void show_nsfd(const char *label, int fd, unsigned long cmd, const char *want) {
  errno = 0;
  int r = ioctl(fd, cmd);
  if (r < 0) {
    printf("%s = -1 %s\n", label, ename(errno));
    return;
  }
  int fl = fcntl(r, F_GETFD);
  int acc = fcntl(r, F_GETFL) & O_ACCMODE;
  printf("%s: is %s %d, cloexec %d, rdonly %d\n", label, want, ino_of(r) == ino_path(want), (fl & FD_CLOEXEC) != 0, acc == O_RDONLY);
  close(r);
}

static void release(void) {
  struct utsname u;
  if (uname(&u) < 0) DIE("uname");
  unsigned a = 0, b = 0;
  sscanf(u.release, "%u.%u", &a, &b);
  printf("release at least 6.1: %d\n", a > 6 || (a == 6 && b >= 1));
  char proc[256] = "";
  FILE *f = fopen("/proc/sys/kernel/osrelease", "r");
  if (!f || !fgets(proc, sizeof proc, f)) DIE("osrelease");
  fclose(f);
  proc[strcspn(proc, "\n")] = 0;
  printf("osrelease is uname's: %d\n", strcmp(proc, u.release) == 0);
  if (personality(PER_LINUX | UNAME26) < 0) DIE("personality");
  if (uname(&u) < 0) DIE("uname");
  unsigned c = 0;
  int n = sscanf(u.release, "2.6.%u", &c);
  printf("UNAME26: 2.6.x with x >= 60: %d\n", n == 1 && c >= 60);
  personality(PER_LINUX);
}

static void nsfs(void) {
  static const char *kinds[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"};
  for (unsigned i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/ns/%s", kinds[i]);
    int fd = open(p, O_RDONLY);
    if (fd < 0) DIE(p);
    printf("%s: NS_GET_NSTYPE = %#x\n", kinds[i], ioctl(fd, NS_GET_NSTYPE));
    close(fd);
  }
  int uts = open("/proc/self/ns/uts", O_RDONLY);
  int user = open("/proc/self/ns/user", O_RDONLY);
  int pid = open("/proc/self/ns/pid", O_RDONLY);
  if (uts < 0 || user < 0 || pid < 0) DIE("open ns");
  show_nsfd("uts NS_GET_USERNS", uts, NS_GET_USERNS, "/proc/self/ns/user");
  SHOW("uts NS_GET_PARENT", ioctl(uts, NS_GET_PARENT));
  SHOW("pid NS_GET_PARENT (initial)", ioctl(pid, NS_GET_PARENT));
  SHOW("user NS_GET_PARENT (initial)", ioctl(user, NS_GET_PARENT));
  SHOW("user NS_GET_USERNS (initial)", ioctl(user, NS_GET_USERNS));
  uid_t owner = 12345;
  SHOW("user NS_GET_OWNER_UID", ioctl(user, NS_GET_OWNER_UID, &owner));
  printf("  owner %u\n", owner);
  SHOW("uts NS_GET_OWNER_UID", ioctl(uts, NS_GET_OWNER_UID, &owner));
  SHOW("user NS_GET_OWNER_UID bad pointer", ioctl(user, NS_GET_OWNER_UID, (void *)8));
  SHOW("user unknown request", ioctl(user, 0xb7ff));
  int status = open("/proc/self/status", O_RDONLY);
  SHOW("proc file NS_GET_NSTYPE", ioctl(status, NS_GET_NSTYPE));
  close(status);

  /* A child in a new user namespace (created by uid 1000): its namespace's
   * parent is ours, seen from here; from inside, ours is out of reach. */
  int pipefd[2], back[2];
  if (pipe(pipefd) < 0 || pipe(back) < 0) DIE("pipe");
  pid_t c = xfork();
  if (c == 0) {
    if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) DIE("setresuid");
    if (unshare(CLONE_NEWUSER) < 0) DIE("unshare");
    int own = open("/proc/self/ns/user", O_RDONLY);
    if (own < 0) DIE("open own");
    SHOW("child: own user NS_GET_PARENT", ioctl(own, NS_GET_PARENT));
    SHOW("child: own user NS_GET_USERNS", ioctl(own, NS_GET_USERNS));
    uid_t o = 1;
    SHOW("child: own user NS_GET_OWNER_UID", ioctl(own, NS_GET_OWNER_UID, &o));
    printf("  child: owner %u\n", o);
    fflush(stdout);
    char x = 'r';
    if (write(pipefd[1], &x, 1) != 1) DIE("write");
    if (read(back[0], &x, 1) != 1) DIE("read");
    _exit(0);
  }
  char x;
  if (read(pipefd[0], &x, 1) != 1) DIE("read");
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/user", (int)c);
  int theirs = open(p, O_RDONLY);
  if (theirs < 0) DIE("open child's");
  show_nsfd("child's user NS_GET_PARENT", theirs, NS_GET_PARENT, "/proc/self/ns/user");
  show_nsfd("child's user NS_GET_USERNS", theirs, NS_GET_USERNS, "/proc/self/ns/user");
  SHOW("child's user NS_GET_OWNER_UID", ioctl(theirs, NS_GET_OWNER_UID, &owner));
  printf("  owner %u\n", owner);
  close(theirs);
  if (write(back[1], &x, 1) != 1) DIE("write");
  waitpid(c, NULL, 0);
}

static void mrelease(void) {
  pid_t c = xfork();
  if (c == 0) {
    for (;;) pause();
  }
  int pfd = syscall(SYS_pidfd_open, c, 0);
  if (pfd < 0) DIE("pidfd_open");
  SHOW("process_mrelease live", syscall(448, pfd, 0));
  SHOW("process_mrelease flags 1", syscall(448, pfd, 1));
  SHOW("process_mrelease not a pidfd", syscall(448, 0, 0));
  SHOW("process_mrelease bad fd", syscall(448, 999, 0));
  kill(c, SIGKILL);
  /* 0 while it dies, ESRCH once it is a zombie: either is Linux's answer. */
  long r = syscall(448, pfd, 0);
  printf("process_mrelease killed: 0 or ESRCH %d\n", r == 0 || errno == ESRCH);
  siginfo_t si;
  if (waitid(P_PID, c, &si, WEXITED | WNOWAIT) < 0) DIE("waitid");
  SHOW("process_mrelease zombie", syscall(448, pfd, 0));
  waitpid(c, NULL, 0);
  SHOW("process_mrelease reaped", syscall(448, pfd, 0));
  close(pfd);
}

static void home_node(void) {
  long pg = 4096;
  char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) DIE("mmap");
  unsigned long node0 = 1;
  SHOW("home_node default policy", syscall(450, m, 4 * pg, 0, 0));
  SHOW("home_node flags 1", syscall(450, m, 4 * pg, 0, 1));
  SHOW("home_node node 1024", syscall(450, m, 4 * pg, 1024, 0));
  SHOW("home_node unaligned", syscall(450, m + 1, pg, 0, 0));
  SHOW("home_node length 0", syscall(450, m, 0, 0, 0));
  SHOW("mbind BIND page 0-1", syscall(SYS_mbind, m, 2 * pg, MPOL_BIND, &node0, 2, 0));
  SHOW("home_node over the bind range", syscall(450, m, 2 * pg, 0, 0));
  SHOW("home_node across bind and default", syscall(450, m, 4 * pg, 0, 0));
  SHOW("mbind PREFERRED page 3", syscall(SYS_mbind, m + 3 * pg, pg, MPOL_PREFERRED, &node0, 2, 0));
  SHOW("home_node over the preferred page", syscall(450, m, 4 * pg, 0, 0));
  munmap(m + pg, pg);
  SHOW("home_node over a hole (bind page only)", syscall(450, m, 3 * pg, 0, 0));
  munmap(m, 4 * pg);
  SHOW("home_node unmapped", syscall(450, m, 4 * pg, 0, 0));
}

int main(void) {
  line_buffered();
  release();
  nsfs();
  mrelease();
  home_node();
  printf("done\n");
  return 0;
}
