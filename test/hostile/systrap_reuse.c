/* systrap_reuse: nothing of an ended process reaches the next one through a
 * reused systrap stub's shared areas (src/platform/systrap/process.ts,
 * retire). The areas are mapped in every stub and readable (and writable)
 * by the application; a stub, its held thread and its areas go to the next
 * fork. Driven by test/integration/systrap.test.js:
 *
 *   systrap_reuse AREAS_BASE ROUNDS
 *
 * Each round a hostile child A writes a secret word over every area it can
 * reach (the state page past its words, the alternate stack below the
 * frame), has a second thread do the same in its own area first (in odd
 * rounds), and ends with the secret in r15 and xmm15, so that its last
 * trap's frame holds it too. Then the next child B (forked, or in every
 * third round a vfork+exec of this program, which builds a new image in
 * the reused stub) reads every area mapped in its stub, word by word, and
 * counts the secret. B never holds the secret itself: it compares
 * word ^ KEY with SECRET ^ KEY. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define AREA_SIZE 0x10000UL
#define SLOTS 32
#define KEY_XOR_SECRET 0x5345435245543432UL /* "24TERCES" */

static volatile uint64_t key = 0x1122334455667788UL;
static unsigned long areas;
static sigjmp_buf jb;

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(jb, 1);
}

static void guard(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
}

/* Is the slot's area mapped in this stub? (A read faults where it is not.) */
static int mapped(unsigned long slot) {
  if (sigsetjmp(jb, 1) != 0) return 0;
  (void)*(volatile char *)(areas + slot * AREA_SIZE);
  return 1;
}

/* The parts of an area a thread can write without wedging itself: the state page past its words, the alternate stack's low half. */
static void soil(unsigned long area, uint64_t secret) {
  for (unsigned long off = 0x100; off < 0x1000; off += 8) *(volatile uint64_t *)(area + off) = secret;
  for (unsigned long off = 0x1000; off < 0x8000; off += 8) *(volatile uint64_t *)(area + off) = secret;
}

static void *soil_mine(void *arg) {
  (void)arg;
  uint64_t secret = key ^ KEY_XOR_SECRET;
  /* Its own area: the one its trap frames are in, found from a local's address is not possible (the app stack), so all of them. */
  for (unsigned long s = 0; s < SLOTS; s++)
    if (mapped(s)) soil(areas + s * AREA_SIZE, secret);
  return NULL;
}

static void hostile(int with_thread) {
  guard();
  if (with_thread) {
    pthread_t t;
    if (pthread_create(&t, NULL, soil_mine, NULL) != 0) _exit(3);
    pthread_join(t, NULL);
  }
  soil_mine(NULL);
  uint64_t secret = key ^ KEY_XOR_SECRET;
  /* The last trap (exit_group) with the secret in r15 and xmm15: its frame is in the area. */
  __asm__ volatile("movq %0, %%xmm15\n\t"
                   "mov %0, %%r15\n\t"
                   "mov $231, %%eax\n\t"
                   "xor %%edi, %%edi\n\t"
                   "syscall\n\t"
                   :
                   : "r"(secret)
                   : "rax", "rdi", "r15", "xmm15", "memory");
  _exit(4);
}

/* Words of every mapped area equal to the secret. */
static int scan(void) {
  guard();
  uint64_t k = key;
  int hits = 0;
  for (unsigned long s = 0; s < SLOTS; s++) {
    if (!mapped(s)) continue;
    const volatile uint64_t *w = (const volatile uint64_t *)(areas + s * AREA_SIZE);
    for (unsigned long i = 0; i < AREA_SIZE / 8; i++)
      if ((w[i] ^ k) == KEY_XOR_SECRET) hits++;
  }
  return hits;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && !strcmp(argv[1], "scan")) {
    areas = strtoul(argv[2], NULL, 16);
    printf("%d\n", scan());
    return 0;
  }
  if (argc < 3) return 2;
  areas = strtoul(argv[1], NULL, 16);
  int rounds = atoi(argv[2]), dirty = 0;
  for (int r = 0; r < rounds; r++) {
    pid_t a = fork();
    if (a == 0) hostile(r % 2);
    int st;
    waitpid(a, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      printf("round %d: the hostile child ended with status %x\n", r, st);
      return 1;
    }
    /* The ended stub empties itself while the Sentry goes on; a fork that finds it still at it takes a new one. */
    usleep(50000);
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t b = r % 3 == 2 ? vfork() : fork();
    if (b == 0) {
      dup2(p[1], 1);
      if (r % 3 == 2) {
        execl("/proc/self/exe", argv[0], "scan", argv[1], (char *)NULL);
        _exit(5);
      }
      printf("%d\n", scan());
      _exit(0);
    }
    close(p[1]);
    char buf[32] = {0};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    waitpid(b, &st, 0);
    int hits = n > 0 ? atoi(buf) : -1;
    if (hits != 0) {
      printf("round %d (%s): %d words of the ended process's secret\n", r, r % 3 == 2 ? "exec" : "fork", hits);
      dirty++;
    }
  }
  printf("rounds with nothing left over: %d of %d\n", rounds - dirty, rounds);
  return 0;
}
