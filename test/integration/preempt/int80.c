/* int80: the 32-bit system call entry (int $0x80) from a 64-bit program.
 * eax=20 is getpid for i386 but writev for x86-64; with ebx=1, ecx=iov and
 * edx=1 a wrong dispatch would write "WRONG" to stdout. There is no 32-bit
 * ABI in the sandbox: the call must fail with -ENOSYS and nothing else happen. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/uio.h>

int main(void) {
  /* int $0x80 takes 32-bit pointers: put the iovec and its data below 4 GiB. */
  char *low = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (low == MAP_FAILED) return 99;
  struct iovec *iov = (struct iovec *)low;
  iov->iov_base = low + 64;
  iov->iov_len = 6;
  __builtin_memcpy(low + 64, "WRONG\n", 6);
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L), "b"(1L), "c"(iov), "d"(1L) : "memory");
  printf("int $0x80 (eax=20) = %ld\n", r);
  /* i386 exit(7) is 64-bit write: eax=1, ebx=7 must not exit or write. */
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(1L), "b"(7L), "c"(iov), "d"(1L) : "memory");
  printf("int $0x80 (eax=1) = %ld\n", r);
  fflush(stdout);
  return 0;
}
