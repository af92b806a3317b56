// System V semaphores as Linux answers them: sets by key, semop applying all
// operations or none, waiting for a value or for zero, IPC_NOWAIT, timeouts
// of semtimedop, SEM_UNDO applied when a process exits, GETNCNT/GETZCNT of
// waiters, SETVAL/SETALL/GETALL, IPC_RMID waking waiters with EIDRM, EINTR
// despite SA_RESTART, permissions of another user, and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *__buf; };

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static int op(int id, int num, int o, int flags) {
  struct sembuf b = {(unsigned short)num, (short)o, (short)flags};
  return semop(id, &b, 1);
}

static void on_alarm(int s) { (void)s; }

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  key_t key = 0x5e5e0000 + (getpid() & 0xffff);
  int id = semget(key, 3, IPC_CREAT | IPC_EXCL | 0600);
  show("semget", id >= 0 ? 0 : -1);
  show("again, fewer", semget(key, 2, 0) == id ? 0 : -1);
  show("again, more", semget(key, 4, 0));
  show("exclusive", semget(key, 3, IPC_CREAT | IPC_EXCL | 0600));
  show("create with 0", semget(IPC_PRIVATE, 0, IPC_CREAT));
  show("negative", semget(IPC_PRIVATE, -1, IPC_CREAT));
  show("GETVAL", semctl(id, 0, GETVAL));
  show("op +2", op(id, 0, 2, 0));
  show("op -1", op(id, 0, -1, 0));
  show("GETVAL", semctl(id, 0, GETVAL));
  show("GETPID is me", semctl(id, 0, GETPID) == getpid() ? 0 : -1);
  show("op -5 nowait", op(id, 0, -5, IPC_NOWAIT));
  show("wait-for-zero nowait", op(id, 0, 0, IPC_NOWAIT));
  show("bad number", op(id, 7, 1, 0));
  show("past SEMVMX", op(id, 1, 32767, 0) == 0 ? op(id, 1, 1, 0) : -1);

  // All or none: the second operation cannot proceed, so the first is not applied.
  struct sembuf two[2] = {{2, 5, 0}, {0, -10, IPC_NOWAIT}};
  show("all or none", semop(id, two, 2));
  show("sem 2 untouched", semctl(id, 2, GETVAL));

  // Timeout.
  struct timespec ts = {0, 50000000};
  struct sembuf dec = {2, -1, 0};
  show("semtimedop timeout", semtimedop(id, &dec, 1, &ts));

  // A waiter woken by another process; GETNCNT while it waits.
  pid_t c = fork();
  if (c == 0) {
    show("child waited", op(id, 2, -1, 0));
    _exit(0);
  }
  while (semctl(id, 2, GETNCNT) == 0) usleep(1000);
  long ncnt = semctl(id, 2, GETNCNT);
  op(id, 2, 1, 0);
  waitpid(c, NULL, 0);
  show("GETNCNT", ncnt);
  show("after the child", semctl(id, 2, GETVAL));

  // SEM_UNDO: a child's operations are undone when it exits.
  c = fork();
  if (c == 0) {
    op(id, 2, 3, SEM_UNDO);
    op(id, 2, -1, SEM_UNDO);
    printf("child sees %d\n", semctl(id, 2, GETVAL));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  show("undone at exit", semctl(id, 2, GETVAL));

  // SETALL/GETALL, IPC_STAT.
  unsigned short vals[3] = {1, 2, 3}, got[3];
  union semun u = {.array = vals};
  show("SETALL", semctl(id, 0, SETALL, u));
  u.array = got;
  semctl(id, 0, GETALL, u);
  printf("GETALL %d %d %d\n", got[0], got[1], got[2]);
  u.val = 40000;
  show("SETVAL too big", semctl(id, 0, SETVAL, u));
  struct semid_ds ds;
  u.buf = &ds;
  show("IPC_STAT", semctl(id, 0, IPC_STAT, u));
  printf("nsems %lu mode %o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode);

  // EINTR whatever SA_RESTART says.
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {0, 50000}};
  setitimer(ITIMER_REAL, &it, NULL);
  show("interrupted", op(id, 0, -100, 0));

  // Another user.
  c = fork();
  if (c == 0) {
    if (setuid(65534)) _exit(1);
    show("other user op", op(id, 0, 1, 0));
    show("other user GETVAL", semctl(id, 0, GETVAL));
    show("other user RMID", semctl(id, 0, IPC_RMID));
    _exit(0);
  }
  waitpid(c, NULL, 0);

  // IPC_RMID wakes waiters with EIDRM.
  c = fork();
  if (c == 0) {
    show("waiter on a removed set", op(id, 0, -100, 0));
    _exit(0);
  }
  while (semctl(id, 0, GETNCNT) == 0) usleep(1000);
  long rm = semctl(id, 0, IPC_RMID);
  waitpid(c, NULL, 0);
  show("RMID", rm);
  show("GETVAL after RMID", semctl(id, 0, GETVAL));
  show("bad cmd", semctl(semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), 0, 99));
  struct seminfo si;
  u.__buf = &si;
  show("IPC_INFO", semctl(0, 0, IPC_INFO, u) >= 0 ? 0 : -1);
  printf("semmsl %d semopm %d semvmx %d\n", si.semmsl, si.semopm, si.semvmx);
  printf("done\n");
  return 0;
}
