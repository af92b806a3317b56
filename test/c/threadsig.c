/* threadsig: signals and process events in multi-threaded processes: a POSIX
 * timer aimed at one thread (SIGEV_THREAD_ID), SA_RESTART against EINTR in a
 * thread, a group stop and continue of a process whose threads spin and
 * block, execve and fork from a thread while others run, exit_group from a
 * thread while others are blocked. */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile pid_t handled_on;
static volatile int handled;
static void on_sig(int sig) {
  (void)sig;
  handled_on = (pid_t)syscall(SYS_gettid);
  handled++;
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

static volatile pid_t worker_tid;
static volatile int stop_worker;
static void *idle_worker(void *arg) {
  (void)arg;
  worker_tid = (pid_t)syscall(SYS_gettid);
  while (!stop_worker) usleep(1000);
  return NULL;
}

static void test_thread_timer(void) {
  signal(SIGRTMIN, on_sig);
  pthread_t th;
  worker_tid = 0;
  stop_worker = 0;
  pthread_create(&th, NULL, idle_worker, NULL);
  while (!worker_tid) usleep(1000);
  struct sigevent sev = { 0 };
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGRTMIN;
  sev._sigev_un._tid = worker_tid;
  timer_t tm;
  if (timer_create(CLOCK_MONOTONIC, &sev, &tm) != 0) {
    printf("timer_create: %s\n", ename(errno));
    return;
  }
  struct itimerspec its = { .it_value = { 0, 10 * 1000 * 1000 } };
  timer_settime(tm, 0, &its, NULL);
  while (!handled) usleep(1000);
  printf("SIGEV_THREAD_ID timer: handled on the chosen thread=%d\n", handled_on == worker_tid);
  timer_delete(tm);
  stop_worker = 1;
  pthread_join(th, NULL);
}

static int pfd[2];
static volatile ssize_t read_result;
static volatile int read_errno;
static void *reader(void *arg) {
  (void)arg;
  worker_tid = (pid_t)syscall(SYS_gettid);
  char c;
  read_result = read(pfd[0], &c, 1);
  read_errno = errno;
  return NULL;
}

static void restart_case(int flags) {
  struct sigaction sa = { .sa_handler = on_sig, .sa_flags = flags };
  sigaction(SIGUSR2, &sa, NULL);
  if (pipe(pfd) != 0) return;
  handled = 0;
  worker_tid = 0;
  pthread_t th;
  pthread_create(&th, NULL, reader, NULL);
  while (!worker_tid) usleep(1000);
  usleep(20000); /* let it block in read */
  syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR2);
  while (!handled) usleep(1000);
  usleep(20000);
  if (write(pfd[1], "x", 1) != 1) return;
  pthread_join(th, NULL);
  printf("read in a thread, handler %s SA_RESTART: result=%zd %s\n", flags ? "with" : "without", read_result,
         read_result < 0 ? ename(read_errno) : "OK");
  close(pfd[0]);
  close(pfd[1]);
}

static volatile long *shared;
static void *spin_count(void *arg) {
  (void)arg;
  for (;;) __atomic_add_fetch(&shared[0], 1, __ATOMIC_RELAXED);
  return NULL;
}
static void *block_count(void *arg) {
  (void)arg;
  for (;;) {
    usleep(1000);
    __atomic_add_fetch(&shared[1], 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static void test_group_stop(void) {
  shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    pthread_t a, b;
    pthread_create(&a, NULL, spin_count, NULL);
    pthread_create(&b, NULL, block_count, NULL);
    for (;;) pause();
  }
  while (shared[0] == 0 || shared[1] == 0) usleep(1000);
  kill(p, SIGSTOP);
  int st;
  waitpid(p, &st, WUNTRACED);
  printf("group stop: stopped=%d by %s\n", WIFSTOPPED(st), WSTOPSIG(st) == SIGSTOP ? "SIGSTOP" : "?");
  usleep(20000);
  long a0 = shared[0], b0 = shared[1];
  usleep(50000);
  printf("group stop: spinning thread still=%d blocking thread still=%d\n", shared[0] == a0, shared[1] == b0);
  kill(p, SIGCONT);
  waitpid(p, &st, WCONTINUED);
  printf("continued=%d\n", WIFCONTINUED(st));
  usleep(50000);
  printf("after SIGCONT: both run again=%d\n", shared[0] != a0 && shared[1] != b0);
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
  printf("killed: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
}

static char self_pid_arg[32];
static void *exec_from_thread(void *arg) {
  (void)arg;
  usleep(20000);
  char *argv[] = { "threadsig", "after-exec", self_pid_arg, NULL };
  execv("/proc/self/exe", argv);
  printf("execv: %s\n", ename(errno));
  return NULL;
}

static void *block_in_pipe(void *arg) {
  (void)arg;
  int p[2];
  if (pipe(p) != 0) return NULL;
  char c;
  if (read(p[0], &c, 1) < 0) return NULL;
  return NULL;
}

static void test_exec_from_thread(void) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    snprintf(self_pid_arg, sizeof self_pid_arg, "%d", getpid());
    pthread_t a, b, c;
    pthread_create(&a, NULL, spin_count, NULL);
    pthread_create(&b, NULL, block_in_pipe, NULL);
    pthread_create(&c, NULL, exec_from_thread, NULL);
    for (;;) pause();
  }
  int st;
  waitpid(p, &st, 0);
  printf("exec from a thread: exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
}

static void *fork_from_thread(void *arg) {
  (void)arg;
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("fork from a thread: child has %d task(s)\n", count_tasks());
    fflush(stdout);
    _exit(4);
  }
  int st;
  waitpid(p, &st, 0);
  printf("fork from a thread: child status %d\n", WEXITSTATUS(st));
  return NULL;
}

static void test_fork_from_thread(void) {
  pthread_t th, idle;
  stop_worker = 0;
  worker_tid = 0;
  pthread_create(&idle, NULL, idle_worker, NULL);
  pthread_create(&th, NULL, fork_from_thread, NULL);
  pthread_join(th, NULL);
  stop_worker = 1;
  pthread_join(idle, NULL);
}

static void *exit_group_thread(void *arg) {
  (void)arg;
  usleep(20000);
  exit(9);
  return NULL;
}

static void test_exit_group(void) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    pthread_t a, b, c;
    pthread_create(&a, NULL, block_in_pipe, NULL);
    pthread_create(&b, NULL, spin_count, NULL);
    pthread_create(&c, NULL, exit_group_thread, NULL);
    for (;;) pause();
  }
  int st;
  waitpid(p, &st, 0);
  printf("exit_group from a thread: exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && !strcmp(argv[1], "after-exec")) {
    printf("after exec: same pid=%d tasks=%d\n", getpid() == atoi(argv[2]), count_tasks());
    printf("after exec: tid is pid=%d\n", (pid_t)syscall(SYS_gettid) == getpid());
    return 6;
  }
  test_thread_timer();
  restart_case(SA_RESTART);
  restart_case(0);
  test_group_stop();
  test_exec_from_thread();
  test_fork_from_thread();
  test_exit_group();
  printf("done\n");
  return 0;
}
