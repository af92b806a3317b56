// /proc/sysvipc/msg and /proc/sysvipc/sem in a fresh IPC namespace: the
// header and one line per object in Linux's widths, after msgsnd, msgrcv
// and semop (times shown as set or not, pids as set or not: they differ
// between runs; the rest is printed as the kernel wrote it).
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

struct msgbuf1 { long type; char text[16]; };

static void show(const char *path, int ntimes, int pidcols) {
  FILE *f = fopen(path, "r");
  if (!f) { printf("%s: cannot open\n", path); return; }
  char line[512];
  int first = 1;
  while (fgets(line, sizeof line, f)) {
    if (first) { printf("%s", line); first = 0; continue; }
    // Columns: widths kept by printing each field back right-aligned in its own width.
    char *fields[32]; int widths[32]; int n = 0;
    char *p = line;
    while (*p && *p != '\n' && n < 32) {
      char *start = p;
      while (*p == ' ') p++;
      char *tok = p;
      while (*p && *p != ' ' && *p != '\n') p++;
      widths[n] = (int)(p - start);
      fields[n] = strndup(tok, (size_t)(p - tok));
      n++;
    }
    for (int i = 0; i < n; i++) {
      const char *v = fields[i];
      int is_time = i >= n - ntimes;
      int is_pid = pidcols && (i == 5 || i == 6);
      if ((is_time || is_pid) && strcmp(v, "0") != 0) v = is_time ? "T" : "P";
      printf("%*s", widths[i], v);
    }
    printf("\n");
  }
  fclose(f);
}

int main(void) {
  int q = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
  int q2 = msgget(0x5eed, IPC_CREAT | 0600);
  struct msgbuf1 m = {1, "hello"};
  msgsnd(q, &m, 5, 0);
  msgsnd(q, &m, 7, 0);
  msgsnd(q2, &m, 3, 0);
  msgrcv(q2, &m, sizeof m.text, 0, 0);
  int s = semget(0x1234, 3, IPC_CREAT | 0666);
  semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  struct sembuf op = {0, 1, 0};
  semop(s, &op, 1);
  show("/proc/sysvipc/msg", 3, 1);
  show("/proc/sysvipc/sem", 2, 0);
  printf("done\n");
  return 0;
}
