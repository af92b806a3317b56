/* spin: a program that never makes a system call once started.
 *   spin alarm  - alarm(1), then spin: SIGALRM's default action ends it.
 *   spin term   - print "ready", then spin until SIGTERM; its handler
 *                 prints "got SIGTERM" and exits 0.
 *   spin        - spin until a signal ends it. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long counter;

static void on_term(int sig) {
  (void)sig;
  static const char msg[] = "got SIGTERM\n";
  write(1, msg, sizeof msg - 1);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "alarm") == 0) alarm(1);
  if (argc > 1 && strcmp(argv[1], "term") == 0) {
    signal(SIGTERM, on_term);
    write(1, "ready\n", 6);
  }
  for (;;) counter++;
}
