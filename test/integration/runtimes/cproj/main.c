#include <stdio.h>
#include "work.h"

int main(void) {
  printf("contend: %ld\n", contend(4, 100000));
  printf("pipeline: %ld\n", pipeline(20000));
  printf("checksum: %lx\n", checksum("built inside the sandbox"));
  return 0;
}
