/* threadmisc: per-thread state and calls: CPU clocks of other threads
 * (pthread_getcpuclockid), affinity per thread, names per thread (/proc and
 * prctl), thread-local storage, rt_tgsigqueueinfo with a value, a
 * SIGEV_THREAD timer (glibc's helper thread), rwlocks, barriers and spin
 * locks, and a robust mutex whose owner thread dies holding it. */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static atomic_int stop_spin;
static void *spin(void *arg) {
  (void)arg;
  volatile unsigned long x = 0;
  while (!atomic_load(&stop_spin)) x++;
  return NULL;
}

static double clock_s(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cpu_clocks(void) {
  pthread_t th;
  pthread_create(&th, NULL, spin, NULL);
  clockid_t cid;
  pthread_getcpuclockid(th, &cid);
  double a = clock_s(cid), mine0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
  usleep(200000);
  double b = clock_s(cid), mine1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
  atomic_store(&stop_spin, 1);
  pthread_join(th, NULL);
  /* The host may be busy: only the order is certain, the spinner ran far more than the sleeper. */
  printf("spinning thread's clock advanced more than the sleeping main thread's: %d\n", b - a > 2 * (mine1 - mine0) && b > a);
  printf("process clock covers both: %d\n", clock_s(CLOCK_PROCESS_CPUTIME_ID) >= b - a);
}

static cpu_set_t seen_in_thread;
static void *affinity_reader(void *arg) {
  (void)arg;
  sched_getaffinity(0, sizeof seen_in_thread, &seen_in_thread);
  return NULL;
}

static void test_affinity(void) {
  cpu_set_t all, one;
  sched_getaffinity(0, sizeof all, &all);
  int first = -1;
  for (int i = 0; i < CPU_SETSIZE; i++) if (CPU_ISSET(i, &all)) { first = i; break; }
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setaffinity_np(&at, sizeof one, &one);
  pthread_t th;
  pthread_create(&th, &at, affinity_reader, NULL);
  pthread_join(th, NULL);
  cpu_set_t mine;
  sched_getaffinity(0, sizeof mine, &mine);
  printf("thread sees its own one-CPU mask: %d\n", CPU_COUNT(&seen_in_thread) == 1 && CPU_ISSET(first, &seen_in_thread));
  printf("main thread keeps its mask: %d\n", CPU_EQUAL(&mine, &all));
}

static __thread int tls_value = 7;
static pthread_barrier_t bar;
static void *named(void *arg) {
  prctl(PR_SET_NAME, "worker-thread");
  tls_value = (int)(long)arg;
  pthread_barrier_wait(&bar);
  pthread_barrier_wait(&bar);
  return (void *)(long)tls_value;
}

static void read_line(const char *path, char *buf, size_t n) {
  FILE *f = fopen(path, "r");
  buf[0] = 0;
  if (!f) return;
  if (!fgets(buf, (int)n, f)) buf[0] = 0;
  fclose(f);
  buf[strcspn(buf, "\n")] = 0;
}

static void test_names_and_tls(void) {
  pthread_barrier_init(&bar, NULL, 2);
  prctl(PR_SET_NAME, "mainname");
  pthread_t th;
  pthread_create(&th, NULL, named, (void *)42);
  pthread_barrier_wait(&bar);
  char name[32], path[96], comm[32];
  pthread_getname_np(th, name, sizeof name);
  read_line("/proc/self/comm", comm, sizeof comm);
  printf("thread name %s, process comm %s\n", name, comm);
  pthread_setname_np(th, "renamed");
  pthread_getname_np(th, name, sizeof name);
  printf("after pthread_setname_np: %s\n", name);
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", getpid());
  read_line(path, comm, sizeof comm);
  printf("leader's task comm %s\n", comm);
  pthread_barrier_wait(&bar);
  void *r;
  pthread_join(th, &r);
  printf("tls: thread had %ld, main still %d\n", (long)r, tls_value);
}

static volatile int got_value = -1;
static volatile pid_t got_tid;
static void on_rt(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  got_value = si->si_value.sival_int;
  got_tid = (pid_t)syscall(SYS_gettid);
}
static atomic_int target_tid;
static void *sig_target(void *arg) {
  (void)arg;
  atomic_store(&target_tid, (int)syscall(SYS_gettid));
  while (got_value < 0) usleep(1000);
  return NULL;
}

static void test_tgsigqueueinfo(void) {
  struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
  sigaction(SIGRTMIN + 1, &sa, NULL);
  pthread_t th;
  pthread_create(&th, NULL, sig_target, NULL);
  while (!atomic_load(&target_tid)) usleep(1000);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGRTMIN + 1;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = 1234;
  long r = syscall(SYS_rt_tgsigqueueinfo, getpid(), atomic_load(&target_tid), SIGRTMIN + 1, &si);
  pthread_join(th, NULL);
  printf("rt_tgsigqueueinfo: %s value %d on target %d\n", r == 0 ? "OK" : ename(errno), got_value, got_tid == atomic_load(&target_tid));
}

static atomic_int timer_fired;
static void timer_thread(union sigval v) {
  atomic_fetch_add(&timer_fired, v.sival_int);
}

static void test_sigev_thread(void) {
  struct sigevent sev = { 0 };
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = timer_thread;
  sev.sigev_value.sival_int = 5;
  timer_t tm;
  if (timer_create(CLOCK_MONOTONIC, &sev, &tm) != 0) {
    printf("timer_create SIGEV_THREAD: %s\n", ename(errno));
    return;
  }
  struct itimerspec its = { .it_value = { 0, 5 * 1000 * 1000 }, .it_interval = { 0, 5 * 1000 * 1000 } };
  timer_settime(tm, 0, &its, NULL);
  while (atomic_load(&timer_fired) < 15) usleep(1000);
  timer_delete(tm);
  printf("SIGEV_THREAD timer ran its function at least 3 times: %d\n", atomic_load(&timer_fired) >= 15);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t sl;
static long rw_total, spin_total;
static void *locker(void *arg) {
  (void)arg;
  for (int i = 0; i < 20000; i++) {
    pthread_rwlock_wrlock(&rw);
    rw_total++;
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_rdlock(&rw);
    pthread_rwlock_unlock(&rw);
    pthread_spin_lock(&sl);
    spin_total++;
    pthread_spin_unlock(&sl);
  }
  return NULL;
}

static void test_locks(void) {
  pthread_spin_init(&sl, PTHREAD_PROCESS_PRIVATE);
  pthread_t th[3];
  for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, locker, NULL);
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  printf("rwlock total %ld, spinlock total %ld\n", rw_total, spin_total);
}

static pthread_mutex_t robust;
static void *die_holding(void *arg) {
  (void)arg;
  pthread_mutex_lock(&robust);
  return NULL; /* exits holding it */
}

static void test_robust(void) {
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&robust, &ma);
  pthread_t th;
  pthread_create(&th, NULL, die_holding, NULL);
  pthread_join(th, NULL);
  int r = pthread_mutex_lock(&robust);
  printf("robust mutex after its owner thread died: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : ename(r));
  if (r == EOWNERDEAD) pthread_mutex_consistent(&robust);
  pthread_mutex_unlock(&robust);
  printf("relock: %s\n", ename(pthread_mutex_lock(&robust)));
  pthread_mutex_unlock(&robust);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_cpu_clocks();
  test_affinity();
  test_names_and_tls();
  test_tgsigqueueinfo();
  test_sigev_thread();
  test_locks();
  test_robust();
  printf("done\n");
  return 0;
}
