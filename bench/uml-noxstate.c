/* uml-noxstate: run a program (User-Mode Linux) with PTRACE_GETREGSET of
 * NT_X86_XSTATE failing with EIO.
 *
 * Usage: uml-noxstate PROGRAM [ARGS...]
 *
 * Why: Debian's UML 6.1 sizes its XSAVE buffer for AVX only. On a host with
 * AVX-512 or AMX the host kernel requires the whole XSAVE area in
 * PTRACE_SETREGSET and answers EFAULT, and UML panics when it starts init
 * ("ptrace set fp regs failed, errno = 14"). UML probes XSAVE support with one
 * PTRACE_GETREGSET at start; when that fails it falls back to the 512-byte
 * FXSAVE area (PTRACE_GETFPREGS/SETFPREGS), which works. The filter is
 * inherited by all of UML's host processes; it only touches that one ptrace
 * request. What is lost: upper halves of the vector registers are not saved
 * when UML switches between threads of one guest address space. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PTRACE_GETREGSET_REQ 0x4204
#define NT_X86_XSTATE_NOTE 0x202

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: uml-noxstate PROGRAM [ARGS...]\n");
    return 2;
  }
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_GETREGSET_REQ, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NT_X86_XSTATE_NOTE, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    perror("uml-noxstate: PR_SET_NO_NEW_PRIVS");
    return 125;
  }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    perror("uml-noxstate: PR_SET_SECCOMP");
    return 125;
  }
  execvp(argv[1], argv + 1);
  perror("uml-noxstate: exec");
  return 127;
}
