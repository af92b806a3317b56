/* sticky: personality(2)'s STICKY_TIMEOUTS (LTP personality02): select
 * writes the time left back into its timeout, except for a process with
 * that personality, whose timeout stays as given, an interrupted call
 * included (EINTR, not a restart). */
#define _GNU_SOURCE
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/select.h>
#include <sys/syscall.h>

static void on_alarm(int sig) { (void)sig; }

static void round_of(const char *label) {
  printf("%s: personality %#x\n", label, personality(0xffffffff));
  struct timeval tv = {0, 10};
  SHOW("  select", select(0, NULL, NULL, NULL, &tv));
  printf("  timeout after: %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
  struct timespec ts = {0, 30000};
  SHOW("  ppoll (raw)", syscall(SYS_ppoll, NULL, 0, &ts, NULL, 8));
  printf("  timeout after: %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  if (sigaction(SIGALRM, &sa, NULL) < 0) DIE("sigaction");
  alarm(1);
  tv.tv_sec = 5;
  tv.tv_usec = 0;
  SHOW("  select interrupted by a handled signal", select(0, NULL, NULL, NULL, &tv));
  printf("  timeout moved: %d\n", tv.tv_sec != 5 || tv.tv_usec != 0);
}

int main(void) {
  line_buffered();
  round_of("default");
  if (personality(PER_LINUX | STICKY_TIMEOUTS) < 0) DIE("personality");
  round_of("STICKY_TIMEOUTS");
  printf("done\n");
  return 0;
}
