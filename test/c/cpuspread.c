/* cpuspread.c MODE [SCALE]: a compute-bound process (about 2 ms of
 * arithmetic per system call, 300 * SCALE times), a system-call-bound one
 * (200000 * SCALE getppid calls), or two threads computing without any
 * system call (threads: 2 * 10^8 * SCALE steps each); SCALE defaults to 1.
 * The CPU policy test runs them under `tsvisor do --stats` and checks that
 * only the compute-bound ones are let off the tracer's CPU. */
#include "common.h"
#include <pthread.h>
#include <sys/syscall.h>

static long scale_of_threads;
static void *spin(void *arg) {
  volatile unsigned long x = (unsigned long)arg;
  for (long i = 0; i < 200000000L * scale_of_threads; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) return 2;
  long scale = argc == 3 ? atol(argv[2]) : 1;
  volatile unsigned long x = 1;
  if (strcmp(argv[1], "threads") == 0) {
    scale_of_threads = scale;
    pthread_t a, b;
    pthread_create(&a, NULL, spin, (void *)1);
    pthread_create(&b, NULL, spin, (void *)2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
  } else if (strcmp(argv[1], "compute") == 0) {
    for (long round = 0; round < 300 * scale; round++) {
      for (long i = 0; i < 2000000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
      syscall(SYS_getppid);
    }
  } else {
    for (long i = 0; i < 200000 * scale; i++) syscall(SYS_getppid);
  }
  printf("ok %s\n", argv[1]);
  return 0;
}
