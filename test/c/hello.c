/* hello: the smallest check: stdout, argv, exit status. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  printf("hello, world\n");
  printf("argc=%d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  fflush(stdout);
  const char msg[] = "written with write(2)\n";
  if (write(1, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) return 2;
  return 0;
}
