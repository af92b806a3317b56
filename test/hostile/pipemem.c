/* pipemem: pipe buffers are memory-file frames counted under the sandbox's
 * memory limit (/proc/meminfo MemFree falls by what the pipes hold, and comes
 * back when they close), not Sentry heap. Prints the drop in KiB. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long memfree(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemFree: %ld kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

int main(void) {
  static char buf[65536];
  memset(buf, 'p', sizeof buf);
  int fds[64][2];
  long before = memfree();
  for (int i = 0; i < 64; i++) {
    if (pipe2(fds[i], O_NONBLOCK)) return perror("pipe"), 1;
    if (write(fds[i][1], buf, sizeof buf) != (ssize_t)sizeof buf) return perror("write"), 1;
  }
  long full = memfree();
  char in[65536];
  for (int i = 0; i < 64; i++) {
    if (read(fds[i][0], in, sizeof in) != (ssize_t)sizeof in || memcmp(in, buf, sizeof in)) return printf("pipe %d data differs\n", i), 1;
    close(fds[i][0]);
    close(fds[i][1]);
  }
  long after = memfree();
  printf("held %ld kB, given back %ld kB\n", before - full, after - full);
  return 0;
}
