// ptrace(2) requests, options and wait status decoding (linux/ptrace.h, sys/wait.h).

export const PTRACE_POKEUSER = 6;
export const PTRACE_CONT = 7;
export const PTRACE_GETREGS = 12;
export const PTRACE_SETREGS = 13;
export const PTRACE_GETFPREGS = 14;
export const PTRACE_SETFPREGS = 15;
export const PTRACE_SYSEMU = 31;
export const PTRACE_GETREGSET = 0x4204;
export const PTRACE_SETREGSET = 0x4205;
export const NT_X86_XSTATE = 0x202;
export const PTRACE_SETOPTIONS = 0x4200;
export const PTRACE_GETEVENTMSG = 0x4201;
export const PTRACE_GETSIGINFO = 0x4202;

export const PTRACE_O_TRACESYSGOOD = 1;
export const PTRACE_O_TRACEFORK = 2;
export const PTRACE_O_TRACECLONE = 8;
export const PTRACE_O_EXITKILL = 0x100000;
export const PTRACE_EVENT_FORK = 1;
export const PTRACE_EVENT_CLONE = 3;

export const WALL = 0x40000000;

export const SIGTRAP = 5;
export const SIGKILL = 9;

export const stopped = (s: number) => (s & 0xff) === 0x7f;
export const stopSig = (s: number) => (s >> 8) & 0xff;
export const stopEvent = (s: number) => (s >> 16) & 0xff;
