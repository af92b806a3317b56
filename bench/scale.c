/* scale: workloads whose cost grows with the number of kernel objects
 * (bench/scale.js runs them natively and in the sandbox). Each mode prints
 * "name value unit" lines, measured with CLOCK_MONOTONIC inside the program,
 * so process start-up is not counted.
 *
 *   scale mmap N        N one-page anonymous mmaps (kernel-chosen addresses:
 *                       adjacent, so Linux merges them), then N munmaps
 *   scale mmapsep N     N one-page mmaps with alternating protections (no
 *                       merging: N VMAs), then N munmaps
 *   scale fds N         raise RLIMIT_NOFILE, dup(0) until N descriptors, close
 *   scale fork MiB N    touch a heap of MiB, then N x (fork, child _exit, wait)
 *   scale timers N      N POSIX timers armed at distinct times, then disarmed
 *                       and deleted */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Lines of /proc/self/maps: the process's VMAs (and the vdso/vvar/vsyscall). */
static int maps_lines(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  int n = 0, c;
  while ((c = getc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

static int mmaps(long n, int alternate) {
  char **p = malloc(n * sizeof *p);
  double t0 = now();
  long i;
  for (i = 0; i < n; i++) {
    int prot = alternate && (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE;
    p[i] = mmap(0, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p[i] == MAP_FAILED) break;
  }
  double t1 = now();
  long made = i;
  if (made < n) printf("mmap_failed_at %ld %s\n", made, strerror(errno));
  printf("maps_lines %d count\n", maps_lines());
  double tu = now(); /* reading maps is not part of the munmap figure */
  for (i = 0; i < made; i++) munmap(p[i], 4096);
  double t2 = now();
  printf("mmaps %ld count\n", made);
  printf("mmap_per_call %.0f ns\n", (t1 - t0) / (made ? made : 1));
  printf("munmap_per_call %.0f ns\n", (t2 - tu) / (made ? made : 1));
  return made == n ? 0 : 1;
}

static int fds(long n) {
  struct rlimit rl = {n + 64, n + 64};
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  double t0 = now();
  long i = 0;
  while (i < n && dup(0) >= 0) i++;
  double t1 = now();
  for (long fd = 3; fd < i + 3; fd++) close(fd);
  double t2 = now();
  getrlimit(RLIMIT_NOFILE, &rl);
  printf("fds %ld count\n", i);
  printf("fd_limit %ld count\n", (long)rl.rlim_cur);
  printf("dup_per_call %.0f ns\n", (t1 - t0) / (i ? i : 1));
  printf("close_per_call %.0f ns\n", (t2 - t1) / (i ? i : 1));
  /* Short of n only at a hard limit the program may not raise (no CAP_SYS_RESOURCE). */
  return i == n || (rlim_t)(i + 3) >= rl.rlim_cur - 1 ? 0 : 1;
}

static int forks(long mib, long n) {
  size_t len = (size_t)mib << 20;
  char *heap = malloc(len);
  if (!heap) { printf("malloc failed\n"); return 1; }
  for (size_t off = 0; off < len; off += 4096) heap[off] = 1;
  double t0 = now();
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) { printf("fork: %s\n", strerror(errno)); return 1; }
    waitpid(pid, NULL, 0);
  }
  double t1 = now();
  printf("fork_exit_wait %.0f us\n", (t1 - t0) / n / 1000);
  return 0;
}

static int timers(long n) {
  timer_t *t = malloc(n * sizeof *t);
  struct sigevent ev = {.sigev_notify = SIGEV_NONE};
  double t0 = now();
  long i;
  for (i = 0; i < n; i++) {
    if (timer_create(CLOCK_MONOTONIC, &ev, &t[i]) != 0) break;
    /* Distinct expiries, far in the future and in no particular order. */
    struct itimerspec its = {{0, 0}, {1000 + (i * 7919) % n, 1}};
    if (timer_settime(t[i], 0, &its, NULL) != 0) break;
  }
  double t1 = now();
  long made = i;
  struct itimerspec off = {{0, 0}, {0, 0}};
  for (i = 0; i < made; i++) timer_settime(t[i], 0, &off, NULL);
  for (i = 0; i < made; i++) timer_delete(t[i]);
  double t2 = now();
  printf("timers %ld count\n", made);
  printf("timer_create_arm %.0f ns\n", (t1 - t0) / (made ? made : 1));
  printf("timer_disarm_delete %.0f ns\n", (t2 - t1) / (made ? made : 1));
  return made == n ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long a = atol(argv[2]);
  if (!strcmp(argv[1], "mmap")) return mmaps(a, 0);
  if (!strcmp(argv[1], "mmapsep")) return mmaps(a, 1);
  if (!strcmp(argv[1], "fds")) return fds(a);
  if (!strcmp(argv[1], "fork") && argc > 3) return forks(a, atol(argv[3]));
  if (!strcmp(argv[1], "timers")) return timers(a);
  return 2;
}
