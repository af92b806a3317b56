// bench/syscall_sites.c: which instruction sequences a program's system calls
// come from, counted natively with ptrace (issue 13: how many calls a
// Sentry that patches `mov $NR,%eax; syscall` sites could take off the
// seccomp-trap path). Runs CMD and every process and thread it starts; at
// each system call entry it reads the 8 bytes before the return address and
// counts the call as "patchable" when they end in b8 imm32 0f 05 (the 7-byte
// form glibc emits for most wrappers) with all 7 bytes in one page, else by
// the 5 bytes before the syscall instruction; and how many patchable calls
// and copied code pages a Sentry that patches a site after its T-th trap in
// a process would see. Build: gcc -O2; run:
// ./syscall_sites CMD ARGS...
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

// Patchable sites by process and address (open addressing), with their calls.
#define MAXSITES (1 << 18)
static struct { pid_t pid; uint64_t at; long n; } sites[MAXSITES];
static int nsites;
// Other forms: the 5 bytes before the syscall instruction, with their counts.
#define MAXFORMS 4096
static uint64_t forms[MAXFORMS];
static long formCount[MAXFORMS];
static int nforms;

static void other(uint64_t five) {
  for (int i = 0; i < nforms; i++) if (forms[i] == five) { formCount[i]++; return; }
  if (nforms < MAXFORMS) { forms[nforms] = five; formCount[nforms++] = 1; }
}

static void site(pid_t pid, uint64_t at) {
  if (nsites >= MAXSITES / 2) return;
  uint64_t h = (at * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)pid * 0xff51afd7ed558ccdULL;
  for (uint64_t i = h >> 46;; i = (i + 1) % MAXSITES) {
    if (sites[i].n == 0) { sites[i].pid = pid; sites[i].at = at; sites[i].n = 1; nsites++; return; }
    if (sites[i].pid == pid && sites[i].at == at) { sites[i].n++; return; }
  }
}

// With a site patched after its T-th trap in its process: the calls that would take the patched path, and the
// distinct code pages patched (each a private copy in its process). Processes are told apart by pid; a fork's
// child inheriting its parent's patches is not counted, so these are lower bounds of the calls.
static void thresholds(long patchable) {
  static const int T[] = { 1, 4, 16, 64 };
  for (unsigned k = 0; k < sizeof T / sizeof T[0]; k++) {
    long fast = 0, npages = 0;
    static struct { pid_t pid; uint64_t page; } seen[MAXSITES];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < MAXSITES; i++) {
      if (sites[i].n <= T[k]) continue;
      fast += sites[i].n - T[k];
      uint64_t page = (sites[i].at - 7) >> 12;
      uint64_t h = (page * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)sites[i].pid * 0xff51afd7ed558ccdULL;
      for (uint64_t j = h >> 46;; j = (j + 1) % MAXSITES) {
        if (seen[j].page == 0) { seen[j].pid = sites[i].pid; seen[j].page = page; npages++; break; }
        if (seen[j].pid == sites[i].pid && seen[j].page == page) break;
      }
    }
    printf("  patched after %2d traps from the site: %ld calls patched (%.1f%% of the patchable), %ld pages copied\n", T[k], fast,
           patchable ? 100.0 * fast / patchable : 0.0, npages);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s CMD ARGS...\n", argv[0]); return 2; }
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int st;
  waitpid(child, &st, 0);
  ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
  ptrace(PTRACE_SYSCALL, child, 0, 0);
  long total = 0, patchable = 0, straddle = 0;
  int live = 1;
  while (live > 0) {
    pid_t p = waitpid(-1, &st, __WALL);
    if (p < 0) { if (errno == EINTR) continue; break; }
    if (WIFEXITED(st) || WIFSIGNALED(st)) { live--; continue; }
    int sig = 0;
    if (WIFSTOPPED(st)) {
      int s = WSTOPSIG(st), ev = st >> 16;
      if (s == (SIGTRAP | 0x80)) {
        struct __ptrace_syscall_info info;
        if (ptrace(PTRACE_GET_SYSCALL_INFO, p, sizeof info, &info) > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY) {
          uint64_t rip = info.instruction_pointer;
          errno = 0;
          long w = ptrace(PTRACE_PEEKDATA, p, rip - 8, 0);
          if (errno == 0) {
            total++;
            uint8_t b[8]; memcpy(b, &w, 8);
            if (b[1] == 0xb8 && b[6] == 0x0f && b[7] == 0x05) {
              if (((rip - 7) >> 12) == ((rip - 1) >> 12)) { patchable++; site(p, rip); } else straddle++;
            } else {
              uint64_t five = 0;
              memcpy(&five, b + 1, 5);
              other(five);
            }
          }
        }
      } else if (s == SIGTRAP && ev != 0) {
        if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) live++;
      } else if (s != SIGSTOP || ev != 0) {
        sig = s;
      }
    }
    ptrace(PTRACE_SYSCALL, p, 0, sig);
  }
  printf("system calls %ld, from b8 imm32 0f 05 in one page %ld (%.1f%%, %d sites by process), straddling a page %ld\n",
         total, patchable, total ? 100.0 * patchable / total : 0.0, nsites, straddle);
  thresholds(patchable);
  printf("other forms, by the 5 bytes before the syscall instruction (the most frequent 6):\n");
  for (int k = 0; k < 6 && k < nforms; k++) {
    int best = k;
    for (int i = k + 1; i < nforms; i++) if (formCount[i] > formCount[best]) best = i;
    uint64_t f = forms[best]; long c = formCount[best];
    forms[best] = forms[k]; formCount[best] = formCount[k]; forms[k] = f; formCount[k] = c;
    uint8_t b[5]; memcpy(b, &f, 5);
    printf("  %02x %02x %02x %02x %02x 0f 05: %ld\n", b[0], b[1], b[2], b[3], b[4], c);
  }
  return 0;
}
