/* robust: a process-shared robust mutex in shared memory; its owner exits
 * while holding it; the waiter gets EOWNERDEAD (the kernel walked the dead
 * owner's robust list), makes it consistent, and can lock it again. */
#include "common.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_mutex_t *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &a);
  pid_t p = fork();
  if (p == 0) {
    pthread_mutex_lock(m);
    _exit(0); /* dies holding it */
  }
  waitpid(p, NULL, 0);
  int r = pthread_mutex_lock(m);
  printf("lock after owner died: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : r == 0 ? "0" : ename(r));
  printf("consistent: %d\n", pthread_mutex_consistent(m));
  printf("unlock: %d\n", pthread_mutex_unlock(m));
  printf("lock again: %d\n", pthread_mutex_lock(m));
  pthread_mutex_unlock(m);
  printf("done\n");
  return 0;
}
