// exitrace: exit_group racing with threads in clone. Each of 30 children
// runs three threads that make short-lived threads as fast as they can;
// once 40 have been made, a thread (the main one in even rounds, a
// spawner in odd ones) calls exit_group. Every child must end with the
// exit's status, whatever its threads were doing (in clone, starting,
// exiting), and nothing may be left for the parent but the 30 children.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int made;
static int exiter;

static void *nothing(void *arg) {
  return arg;
}

static void *spawner(void *arg) {
  int id = (int)(long)arg;
  for (;;) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, nothing, NULL) == 0) {
      if (__atomic_add_fetch(&made, 1, __ATOMIC_SEQ_CST) >= 40 && exiter == id) syscall(SYS_exit_group, 7);
    }
    pthread_attr_destroy(&a);
  }
  return NULL;
}

static void round_child(int round) {
  // Even rounds: the main thread exits; odd ones: spawner 1.
  exiter = round % 2 ? 1 : -1;
  pthread_t t[3];
  for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, spawner, (void *)i);
  if (exiter == -1) {
    while (__atomic_load_n(&made, __ATOMIC_SEQ_CST) < 40) sched_yield();
    exit(7);
  }
  for (;;) pause();
}

int main(void) {
  int good = 0, others = 0;
  for (int round = 0; round < 30; round++) {
    pid_t c = fork();
    if (c == 0) round_child(round);
    int st;
    if (waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7) good++;
    else printf("round %d: status %#x\n", round, st);
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) others++;
  printf("%d of 30 exited with status 7; %d other children\n", good, others);
  printf("done\n");
  return 0;
}
