/* twobox: kernel objects that two sandboxes in one Sentry process must keep
 * apart (test/integration/two_sandboxes.test.js runs it in two at once).
 *
 *   twobox all          futex ping-pong between two processes over a
 *                       MAP_SHARED|MAP_ANONYMOUS page, a private futex,
 *                       interval timers, POSIX timers, record locks, flock
 *                       and a FIFO, all on fixed addresses and names
 *   twobox futex-wait   a child waits 1.5 s on a shared futex nobody in its
 *                       own system wakes: it must time out
 *   twobox futex-wake   a child wakes the same futex (same address, and the
 *                       same memory-file frame when both run the same way)
 *                       for 1.5 s: nobody may be woken
 *   twobox spin         spins in user code, no system call, until killed
 *   twobox ids          mount and device numbers the sandbox hands out
 *                       (/proc/self/mountinfo, st_dev, pipe inode): the same
 *                       in every sandbox (not compared with Linux)
 *
 * The shared page is mapped first, at a fixed address, so that both modes
 * reach it with the same allocation history. */
#include "common.h"
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>

#define SHARED_ADDR ((void *)0x200000000000UL)
#define WAKE_PAGES 256

static long futex(volatile uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static volatile uint32_t *map_shared(size_t pages) {
  void *p = mmap(SHARED_ADDR, pages * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != SHARED_ADDR) {
    perror("mmap");
    exit(1);
  }
  for (size_t i = 0; i < pages; i++) ((volatile uint32_t *)p)[i * 1024] = 0;
  return p;
}

static const char *err(int e) {
  return e == ETIMEDOUT ? "ETIMEDOUT" : ename(e);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int reap(pid_t p) {
  int st;
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Two processes hand a token back and forth through one shared futex word. */
static void pingpong(volatile uint32_t *w) {
  enum { ROUNDS = 300 };
  *w = 0;
  fflush(stdout);
  pid_t p = fork();
  int me = p == 0 ? 1 : 0;
  int waits = 0;
  for (int i = 0; i < ROUNDS; i++) {
    while (__atomic_load_n(w, __ATOMIC_SEQ_CST) != (uint32_t)me) {
      futex(w, FUTEX_WAIT, !me, NULL);
      waits++;
    }
    __atomic_store_n(w, !me, __ATOMIC_SEQ_CST);
    futex(w, FUTEX_WAKE, 1, NULL);
  }
  if (p == 0) _exit(0);
  printf("pingpong: %d rounds, child status %d\n", ROUNDS, reap(p));
  (void)waits;
}

static void private_futex(void) {
  static uint32_t word;
  struct timespec ts = {0, 20 * 1000 * 1000};
  long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts);
  printf("private wait: %ld %s\n", r, r < 0 ? err(errno) : "");
  printf("private wake: %ld\n", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL));
}

static volatile sig_atomic_t ticks;
static void on_tick(int sig) {
  (void)sig;
  ticks++;
}

static void timers(void) {
  enum { TICKS = 10 };
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  sigaddset(&block, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &block, &old);
  signal(SIGALRM, on_tick);
  signal(SIGRTMIN, on_tick);

  ticks = 0;
  struct itimerval it = {{0, 5000}, {0, 5000}};
  setitimer(ITIMER_REAL, &it, NULL);
  while (ticks < TICKS) sigsuspend(&old);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("itimer: %d ticks\n", TICKS);

  ticks = 0;
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  timer_t id;
  if (timer_create(CLOCK_MONOTONIC, &sev, &id) != 0) {
    printf("timer_create: %s\n", ename(errno));
    return;
  }
  struct itimerspec its = {{0, 5000000}, {0, 5000000}};
  timer_settime(id, 0, &its, NULL);
  while (ticks < TICKS) sigsuspend(&old);
  timer_delete(id);
  printf("posix timer: %d ticks\n", TICKS);

  struct timespec nap = {0, 30 * 1000 * 1000};
  double t0 = now();
  nanosleep(&nap, NULL);
  printf("nanosleep 30 ms: %s\n", now() - t0 >= 0.029 ? "slept" : "too short");
  sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The parent holds a record lock and a flock on /tmp/twobox.lock for a while; a child sees both held. */
static void locks(void) {
  int fd = open("/tmp/twobox.lock", O_RDWR | O_CREAT | O_TRUNC, 0644);
  struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  printf("parent F_SETLK: %s\n", fcntl(fd, F_SETLK, &l) == 0 ? "OK" : ename(errno));
  printf("parent flock: %s\n", flock(fd, LOCK_EX | LOCK_NB) == 0 ? "OK" : ename(errno));
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int fd2 = open("/tmp/twobox.lock", O_RDWR);
    struct flock c = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    printf("child F_SETLK: %s\n", fcntl(fd2, F_SETLK, &c) == 0 ? "OK" : ename(errno));
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    fcntl(fd2, F_GETLK, &q);
    printf("child F_GETLK: %s by %s\n", q.l_type == F_WRLCK ? "write-locked" : "unlocked", q.l_pid == getppid() ? "parent" : "someone else");
    printf("child flock: %s\n", flock(fd2, LOCK_EX | LOCK_NB) == 0 ? "OK" : ename(errno));
    fflush(stdout);
    _exit(0);
  }
  reap(p);
  struct timespec hold = {0, 200 * 1000 * 1000};
  nanosleep(&hold, NULL);
  close(fd);
  int fd3 = open("/tmp/twobox.lock", O_RDWR);
  printf("after close F_SETLK: %s\n", fcntl(fd3, F_SETLK, &l) == 0 ? "OK" : ename(errno));
  close(fd3);
  unlink("/tmp/twobox.lock");
}

static void fifo(void) {
  enum { LINES = 200 };
  unlink("/tmp/twobox.fifo");
  if (mkfifo("/tmp/twobox.fifo", 0600) != 0) {
    printf("mkfifo: %s\n", ename(errno));
    return;
  }
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int w = open("/tmp/twobox.fifo", O_WRONLY);
    for (int i = 0; i < LINES; i++) dprintf(w, "line %03d\n", i);
    _exit(0);
  }
  int r = open("/tmp/twobox.fifo", O_RDONLY);
  char buf[4096];
  long total = 0, sum = 0, n;
  while ((n = read(r, buf, sizeof buf)) > 0) {
    total += n;
    for (long i = 0; i < n; i++) sum += (unsigned char)buf[i];
  }
  close(r);
  printf("fifo: %ld bytes, checksum %ld, writer status %d\n", total, sum, reap(p));
  unlink("/tmp/twobox.fifo");
}

static void ids(void) {
  char buf[8192];
  int fd = open("/proc/self/mountinfo", O_RDONLY);
  long n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  printf("%s", buf);
  const char *paths[] = {"/", "/tmp", "/dev", "/dev/null", "/proc", "/dev/shm"};
  for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
    struct stat st = {0};
    if (stat(paths[i], &st) != 0) printf("%s: %s\n", paths[i], ename(errno));
    printf("%s: dev %u:%u ino %lu\n", paths[i], major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
  }
  int pfd[2];
  if (pipe(pfd) != 0) return;
  char link[64], target[64] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", pfd[0]);
  if (readlink(link, target, sizeof target - 1) < 0) strcpy(target, ename(errno));
  struct stat ps;
  fstat(pfd[0], &ps);
  printf("pipe: %s dev %u:%u\n", target, major(ps.st_dev), minor(ps.st_dev));
}

/* A child waits on the shared word; 0 when it timed out as it must. */
static int futex_wait_mode(volatile uint32_t *w) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    struct timespec ts = {1, 500 * 1000 * 1000};
    long r = futex(w, FUTEX_WAIT, 0, &ts);
    printf("futex-wait: %ld %s\n", r, r < 0 ? err(errno) : "woken");
    fflush(stdout);
    _exit(0);
  }
  return reap(p);
}

/* A child wakes word 0 of every shared page for 1.5 s; nobody of its own waits there. */
static int futex_wake_mode(volatile uint32_t *w) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    long woken = 0;
    double end = now() + 1.5;
    while (now() < end)
      for (int i = 0; i < WAKE_PAGES; i++) woken += futex(w + i * 1024, FUTEX_WAKE, 1, NULL);
    printf("futex-wake: woke %ld\n", woken);
    fflush(stdout);
    _exit(0);
  }
  return reap(p);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc > 1 ? argv[1] : "all";
  int wake = strcmp(mode, "futex-wake") == 0;
  volatile uint32_t *w = map_shared(wake ? WAKE_PAGES : 1);
  if (strcmp(mode, "futex-wait") == 0) return futex_wait_mode(w);
  if (wake) return futex_wake_mode(w);
  if (strcmp(mode, "spin") == 0) {
    printf("spinning\n");
    for (volatile unsigned long x = 0;; x++) {
    }
  }
  if (strcmp(mode, "ids") == 0) {
    ids();
    return 0;
  }
  pingpong(w);
  private_futex();
  timers();
  locks();
  fifo();
  printf("done\n");
  return 0;
}
