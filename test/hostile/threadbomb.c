/* threadbomb [nproc]: threads until the sandbox refuses one, then every
 * thread exits; the process must still work (fork, a thread) afterwards.
 * Prints how the creation ended and the count, which the test bounds by the
 * sandbox's task limit. With nproc it first becomes user 65534 with
 * RLIMIT_NPROC 100, which counts threads as on Linux. Stacks are small so
 * memory is not what runs out. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *waiter(void *arg) {
  pthread_mutex_lock(&mu);
  while (!go) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}

static void *quick(void *arg) { return arg; }

int main(int argc, char **argv) {
  static pthread_t th[20000];
  if (argc > 1 && strcmp(argv[1], "nproc") == 0) {
    struct rlimit rl = { 100, 100 };
    if (setrlimit(RLIMIT_NPROC, &rl) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
      perror("dropping to 65534");
      return 1;
    }
  }
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 65536);
  int n = 0, err = 0;
  for (; n < 20000; n++) {
    err = pthread_create(&th[n], &at, waiter, NULL);
    if (err) break;
  }
  printf("created %d then %s\n", n, err ? strerror(err) : "stopped at the program's own cap");
  pthread_mutex_lock(&mu);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  pthread_t q;
  int r = pthread_create(&q, &at, quick, NULL);
  if (r == 0) pthread_join(q, NULL);
  printf("a thread after the bomb: %s\n", r ? strerror(r) : "ok");
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) _exit(7);
  int st = 0;
  waitpid(p, &st, 0);
  printf("fork after the bomb: %d\n", WEXITSTATUS(st));
  return 0;
}
