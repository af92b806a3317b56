// System V message queues as Linux answers them: sending and receiving by
// type (first, exact, MSG_EXCEPT, lowest up to a bound), E2BIG and
// MSG_NOERROR truncation, IPC_NOWAIT, a full queue, a receiver woken by
// another process, MSG_COPY, IPC_STAT counters, IPC_SET of msg_qbytes,
// IPC_RMID waking waiters with EIDRM, permissions, and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct m { long type; char text[64]; };

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static int snd(int q, long type, const char *s, int flags) {
  struct m b = {type, ""};
  strcpy(b.text, s);
  return msgsnd(q, &b, strlen(s), flags);
}

static void rcv(const char *what, int q, long type, size_t size, int flags) {
  struct m b = {0, ""};
  long n = msgrcv(q, &b, size, type, flags);
  if (n < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld type %ld '%.*s'\n", what, n, b.type, (int)n, b.text);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  key_t key = 0x4d4d0000 + (getpid() & 0xffff);
  int q = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  show("msgget", q >= 0 ? 0 : -1);
  show("same key", msgget(key, 0) == q ? 0 : -1);
  snd(q, 3, "three", 0);
  snd(q, 1, "one", 0);
  snd(q, 2, "two", 0);
  snd(q, 5, "five", 0);
  struct msqid_ds ds;
  msgctl(q, IPC_STAT, &ds);
  printf("qnum %lu cbytes %lu qbytes %lu\n", ds.msg_qnum, ds.__msg_cbytes, ds.msg_qbytes);
  rcv("copy index 1", q, 1, 64, MSG_COPY | IPC_NOWAIT);
  rcv("copy without NOWAIT", q, 1, 64, MSG_COPY);
  rcv("type 2", q, 2, 64, 0);
  rcv("lowest up to 4", q, -4, 64, 0);
  rcv("except 3", q, 3, 64, MSG_EXCEPT);
  rcv("too small", q, 0, 2, 0);
  rcv("truncated", q, 0, 2, MSG_NOERROR);
  rcv("empty, nowait", q, 0, 64, IPC_NOWAIT);
  show("type 0", snd(q, 0, "x", 0));
  show("too big", msgsnd(q, &(struct m){1, ""}, 9000, 0));

  // Fill the queue.
  int sent = 0;
  char big[4000];
  memset(big, 'b', sizeof big);
  struct { long type; char text[4000]; } bm = {7, {0}};
  memcpy(bm.text, big, sizeof big);
  while (msgsnd(q, &bm, sizeof bm.text, IPC_NOWAIT) == 0) sent++;
  printf("full after %d: %s\n", sent, strerrorname_np(errno));
  while (msgrcv(q, &bm, sizeof bm.text, 0, IPC_NOWAIT) >= 0) {}

  // A receiver woken by another process.
  pid_t c = fork();
  if (c == 0) {
    rcv("child received", q, 9, 64, 0);
    _exit(0);
  }
  usleep(100000);
  snd(q, 8, "not this", 0);
  snd(q, 9, "this", 0);
  waitpid(c, NULL, 0);
  rcv("left", q, 0, 64, 0);

  // msg_qbytes: lowering is allowed, raising past msgmnb needs CAP_SYS_RESOURCE.
  msgctl(q, IPC_STAT, &ds);
  ds.msg_qbytes = 100;
  show("IPC_SET qbytes 100", msgctl(q, IPC_SET, &ds));
  show("101 bytes", msgsnd(q, &bm, 101, IPC_NOWAIT));
  c = fork();
  if (c == 0) {
    if (setuid(65534)) _exit(1);
    show("other user send", snd(q, 1, "x", 0));
    show("other user RMID", msgctl(q, IPC_RMID, NULL));
    _exit(0);
  }
  waitpid(c, NULL, 0);

  // IPC_RMID wakes a waiting receiver.
  c = fork();
  if (c == 0) {
    rcv("waiter on a removed queue", q, 0, 64, 0);
    _exit(0);
  }
  usleep(100000);
  long rm = msgctl(q, IPC_RMID, NULL);
  waitpid(c, NULL, 0);
  show("RMID", rm);
  show("stat after RMID", msgctl(q, IPC_STAT, &ds));
  show("bad cmd", msgctl(msgget(IPC_PRIVATE, 0600), 99, &ds));
  struct msginfo mi;
  show("IPC_INFO", msgctl(0, IPC_INFO, (struct msqid_ds *)&mi) >= 0 ? 0 : -1);
  printf("msgmax %d msgmnb %d\n", mi.msgmax, mi.msgmnb);
  printf("done\n");
  return 0;
}
