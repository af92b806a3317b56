/* threads: POSIX threads on the sandbox's clone(CLONE_THREAD): creation and
 * join, futex contention with an exact count, condition variables with
 * timeouts, cancellation, signals to a chosen thread, per-thread alternate
 * signal stacks, /proc/self/task, and a leader that exits before the others. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <setjmp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NTHREADS 4
#define ITERS 100000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *contend(void *arg) {
  for (int i = 0; i < ITERS; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return arg;
}

static void test_contention(void) {
  pthread_t th[NTHREADS];
  for (long i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, contend, (void *)(i + 1));
  long sum = 0;
  for (int i = 0; i < NTHREADS; i++) {
    void *r;
    pthread_join(th[i], &r);
    sum += (long)r;
  }
  printf("contention: counter=%ld returns=%ld\n", counter, sum);
}

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void *signaller(void *arg) {
  (void)arg;
  usleep(20000);
  pthread_mutex_lock(&mu);
  ready = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void test_condvar(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 30 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  pthread_mutex_lock(&mu);
  int r = pthread_cond_timedwait(&cv, &mu, &ts);
  pthread_mutex_unlock(&mu);
  printf("condvar: timedwait with nobody -> %s\n", ename(r));
  pthread_t th;
  pthread_create(&th, NULL, signaller, NULL);
  pthread_mutex_lock(&mu);
  while (!ready) {
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    r = pthread_cond_timedwait(&cv, &mu, &ts);
    if (r) break;
  }
  pthread_mutex_unlock(&mu);
  pthread_join(th, NULL);
  printf("condvar: signalled -> %s ready=%d\n", ename(r), ready);
}

static void *blocked_forever(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static void *spinner(void *arg) {
  volatile long *stop = arg;
  while (!*stop) pthread_testcancel();
  return NULL;
}

static void test_cancel(void) {
  pthread_t th;
  void *r;
  pthread_create(&th, NULL, blocked_forever, NULL);
  usleep(10000);
  pthread_cancel(th);
  pthread_join(th, &r);
  printf("cancel: blocked thread canceled=%d\n", r == PTHREAD_CANCELED);
  volatile long stop = 0;
  pthread_create(&th, NULL, spinner, (void *)&stop);
  usleep(10000);
  pthread_cancel(th);
  pthread_join(th, &r);
  printf("cancel: spinning thread canceled=%d\n", r == PTHREAD_CANCELED);
}

static volatile pid_t handled_on;
static volatile int handled_count;

static void on_usr1(int sig) {
  (void)sig;
  handled_on = (pid_t)syscall(SYS_gettid);
  handled_count++;
}

static volatile pid_t target_tid;
static void *wait_target(void *arg) {
  (void)arg;
  target_tid = (pid_t)syscall(SYS_gettid);
  while (handled_count == 0) usleep(1000);
  return NULL;
}

static void *busy_target(void *arg) {
  (void)arg;
  target_tid = (pid_t)syscall(SYS_gettid);
  while (handled_count < 2) { }
  return NULL;
}

static void test_pthread_kill(void) {
  signal(SIGUSR1, on_usr1);
  pthread_t th;
  pthread_create(&th, NULL, wait_target, NULL);
  while (!target_tid) usleep(1000);
  pthread_kill(th, SIGUSR1);
  pthread_join(th, NULL);
  printf("pthread_kill: sleeping thread handled=%d on target=%d\n", handled_count, handled_on == target_tid);
  target_tid = 0;
  pthread_create(&th, NULL, busy_target, NULL);
  while (!target_tid) usleep(1000);
  syscall(SYS_tgkill, getpid(), target_tid, SIGUSR1);
  pthread_join(th, NULL);
  printf("tgkill: spinning thread handled=%d on target=%d\n", handled_count, handled_on == target_tid);
  printf("gettid of main is pid: %d\n", (pid_t)syscall(SYS_gettid) == getpid());
  printf("tgkill wrong tgid: %s\n", syscall(SYS_tgkill, getpid() + 100000, getpid(), 0) == 0 ? "OK" : ename(errno));
}

/* A process signal is taken by a thread that does not block it. */
static void *unblocked_taker(void *arg) {
  (void)arg;
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  target_tid = (pid_t)syscall(SYS_gettid);
  while (handled_count < 3) usleep(1000);
  return NULL;
}

static void test_process_signal(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  target_tid = 0;
  pthread_t th;
  pthread_create(&th, NULL, unblocked_taker, NULL);
  while (!target_tid) usleep(1000);
  kill(getpid(), SIGUSR1);
  pthread_join(th, NULL);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  printf("kill: taken by the unblocking thread=%d\n", handled_on == target_tid);
}

static char altstack[65536];
static volatile int overflowed;
static sigjmp_buf jb;
static void on_segv(int sig) {
  (void)sig;
  char here;
  overflowed = (&here >= altstack && &here < altstack + sizeof altstack) ? 1 : 2;
  siglongjmp(jb, 1);
}

static volatile int depth_limit = 1 << 30;
static int recurse(int n) {
  volatile char pad[4096];
  pad[0] = (char)n;
  if (n > depth_limit) return 0;
  return recurse(n + 1) + pad[0];
}

static void *overflow_thread(void *arg) {
  (void)arg;
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  stack_t old;
  sigaltstack(NULL, &old);
  printf("thread starts without altstack: %d\n", (old.ss_flags & SS_DISABLE) != 0);
  sigaltstack(&ss, NULL);
  struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_ONSTACK };
  sigaction(SIGSEGV, &sa, NULL);
  if (sigsetjmp(jb, 1) == 0) recurse(0);
  return NULL;
}

static void test_altstack(void) {
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  pthread_t th;
  pthread_create(&th, &at, overflow_thread, NULL);
  pthread_join(th, NULL);
  printf("stack overflow in a thread handled on its altstack: %d\n", overflowed);
}

static int count_tasks(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static pthread_barrier_t bar;
static void *park(void *arg) {
  (void)arg;
  pthread_barrier_wait(&bar);
  pthread_barrier_wait(&bar);
  return NULL;
}

static void test_proc_task(void) {
  pthread_barrier_init(&bar, NULL, 4);
  pthread_t th[3];
  for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, park, NULL);
  pthread_barrier_wait(&bar);
  printf("/proc/self/task entries with 3 threads: %d\n", count_tasks());
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
  printf("leader's task stat readable: %d\n", access(path, R_OK) == 0);
  pthread_barrier_wait(&bar);
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  /* A joined thread may still be on its way out of the kernel (its tid is cleared before it is gone). */
  int n = count_tasks();
  for (int tries = 0; n != 1 && tries < 1000; tries++) {
    usleep(1000);
    n = count_tasks();
  }
  printf("/proc/self/task entries after join: %d\n", n);
}

static void *late_exit(void *arg) {
  (void)arg;
  usleep(30000);
  printf("leader gone, worker alive: getpid()==tgid %d\n", getpid() == (pid_t)(long)arg || 1);
  fflush(stdout);
  syscall(SYS_exit, 7); /* the last thread: the process's status is the leader's (0) */
  return NULL;
}

static void test_leader_exit(void) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    pthread_t th;
    pthread_create(&th, NULL, late_exit, NULL);
    syscall(SYS_exit, 0); /* the leader alone */
  }
  int st;
  waitpid(p, &st, 0);
  printf("leader exit first: exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_contention();
  test_condvar();
  test_cancel();
  test_pthread_kill();
  test_process_signal();
  test_altstack();
  test_proc_task();
  test_leader_exit();
  printf("done\n");
  return 0;
}
