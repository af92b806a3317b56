/* unmaprace: a thread reads a page over and over while another thread of
 * the process unmaps it and a second process fills fresh memory with a
 * pattern. The reader must fault (SIGSEGV) once the unmap returned and must
 * never see the other process's bytes through a host mapping the Sentry
 * forgot to remove before munmap returned and its frame went to someone else. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 100
#define PAGES 64

static volatile unsigned char *volatile page;
static atomic_int phase; /* 1: reading, 2: unmapped, 3: reader saw the fault */
static atomic_int leaked, late;
static sigjmp_buf jb;

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(jb, 1);
}

static void *reader(void *arg) {
  (void)arg;
  struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
  sigaction(SIGSEGV, &sa, NULL);
  for (;;) {
    while (atomic_load(&phase) == 0) { }
    if (atomic_load(&phase) < 0) return NULL;
    if (sigsetjmp(jb, 1) == 0) {
      for (;;) {
        int unmapped = atomic_load(&phase) == 2;
        for (int i = 0; i < PAGES * 4096; i += 512) {
          unsigned char c = page[i];
          if (c == 0xab) atomic_store(&leaked, 1);
        }
        /* Read fine after munmap returned: the host mapping outlived the call. */
        if (unmapped) atomic_fetch_add(&late, 1);
      }
    }
    atomic_store(&phase, 3);
    while (atomic_load(&phase) == 3) { }
  }
}

int main(void) {
  fflush(stdout);
  pid_t filler = fork();
  if (filler == 0) {
    /* Keeps asking for fresh frames and writing the pattern into them. */
    for (;;) {
      unsigned char *m = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) _exit(1);
      memset(m, 0xab, PAGES * 4096);
      munmap(m, PAGES * 4096);
    }
  }
  pthread_t th;
  pthread_create(&th, NULL, reader, NULL);
  for (int r = 0; r < ROUNDS; r++) {
    unsigned char *m = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 0x11, PAGES * 4096);
    page = m;
    atomic_store(&phase, 1);
    usleep(200);
    munmap(m, PAGES * 4096);
    atomic_store(&phase, 2);
    while (atomic_load(&phase) != 3) { }
    atomic_store(&phase, 0);
  }
  atomic_store(&phase, -1);
  pthread_join(th, NULL);
  kill(filler, SIGKILL);
  waitpid(filler, NULL, 0);
  printf("rounds %d leaked %d late reads %d\n", ROUNDS, atomic_load(&leaked), atomic_load(&late));
  return 0;
}
