// The interface between the kernel and the machinery that runs application code.
// The kernel never issues ptrace itself: it asks a Platform for address spaces
// and contexts, switches a context to the application, and gets back a Stop.
// A faster platform (seccomp trap, KVM) can replace ptrace behind this interface.

import type { MemoryFile } from './memfile';


/** Why a context came back from the application. */
export type Stop =
  | { kind: 'syscall' }
  /**
   * A system call through a 32-bit entry (int $0x80, sysenter, or from a
   * 32-bit code segment): its number and arguments follow the i386 ABI, which
   * the kernel does not implement; the registers are as for 'syscall'.
   */
  | { kind: 'syscall32' }
  /**
   * The context came back because interrupt() asked it to (or for another
   * reason that is not the application's: a spurious one is harmless). The
   * registers are the application's at the point it was stopped; no system
   * call or fault is in progress.
   */
  | { kind: 'interrupted' }
  /**
   * A hardware fault or trap: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP with siginfo fields.
   * A call into the vsyscall page is reported as the execute fault it would
   * be without the host's emulation: SIGSEGV with addr and rip the entry point
   * and the return address still on the stack (the kernel emulates it).
   */
  | { kind: 'fault'; signo: number; code: number; addr: number }
  /** The host process died under us (killed from outside, OOM). */
  | { kind: 'gone'; status: number };

export interface CpuTime {
  userNs: number;
  sysNs: number;
}

/** General-purpose registers in user_regs_struct order (sys/user.h). */
export const enum Reg {
  R15 = 0, R14, R13, R12, RBP, RBX, R11, R10, R9, R8, RAX, RCX, RDX, RSI, RDI, ORIG_RAX,
  RIP, CS, EFLAGS, RSP, SS, FS_BASE, GS_BASE, DS, ES, FS, GS,
}
export const NREGS = 27;

export interface Registers {
  /** The register as a signed 64-bit value, exact within +-2^53. */
  get(r: Reg): number;
  set(r: Reg, v: number): void;
  getU64(r: Reg): bigint;
  setU64(r: Reg, v: bigint): void;
  /** A copy of all registers (for fork, signal frames, vfork save/restore). */
  snapshot(): Buffer;
  restore(b: Buffer): void;
}

export interface Context {
  readonly regs: Registers;
  /** Opaque owner set by the kernel (its Task). */
  owner: unknown;
  /** Resume the application; the platform reports the next Stop through Platform.wait(). */
  resume(): void;
  /**
   * Make the context come back from the application soon with an
   * 'interrupted' stop, even if it never makes a system call (a signal became
   * pending, a group stop). Only a context running application code is
   * affected: one whose stop the kernel holds (serving a syscall, parked) is
   * left alone, since the kernel looks for pending work before it resumes it.
   * Repeated calls before the stop arrives give one stop; none is lost.
   */
  interrupt(): void;
  /** FPU/SSE/AVX state (XSAVE layout when available, else FXSAVE) and its format. */
  getFpState(): Buffer;
  setFpState(b: Buffer): void;
  /**
   * End the thread backing this context; its address space stays (an
   * application thread exits while others live on). A context the kernel
   * holds ends at once; one running application code ends at its next stop,
   * which is never reported. Releasing the address space ends every context.
   */
  release(): void;
  /**
   * Weigh this context on the host as a nice value (0, the Sentry's own, to
   * 19); platforms without per-context host threads may leave it out.
   */
  setHostNice?(nice: number): void;
  /**
   * The application's CPU affinity for this context (host CPU numbers; null:
   * any): a platform with a host thread per context keeps it on those CPUs.
   */
  setAppCpus?(cpus: number[] | null): void;
  /**
   * Make rdtsc (and rdtscp) in this context raise SIGSEGV (SI_KERNEL), or
   * allow it again: prctl(PR_SET_TSC) on the host thread that runs the
   * application. Set before the context next runs application code.
   */
  setTsc?(sigsegv: boolean): void;
  /** The host thread id backing the context (for debugging and isolation tests). */
  readonly hostTid: number;
  /**
   * CPU time the application has used on this context so far (user and
   * system, ns); precise asks for the best resolution the platform has (clock
   * reads), otherwise clock-tick resolution is enough (accounting at exit).
   */
  cpuTime(precise?: boolean): CpuTime;
}

/**
 * What a platform may ask of an address space's memory, which the memory
 * manager owns (systrap's instruction patching, platform/systrap/patch.ts):
 * every write goes through its copy-on-write, as a debugger's would.
 */
export interface AppText {
  /**
   * The bytes at [addr, addr+len) when they lie in one private, executable,
   * not writable mapping with the page present (null otherwise); with
   * `restore`, a writable one too (putting back what the platform wrote).
   */
  readText(addr: number, len: number, restore?: boolean): Buffer | null;
  /**
   * Replace the 8-byte-aligned word at addr in such a mapping by repl if it
   * still holds expect, atomically (other threads may execute it); the page
   * gets a private copy first when shared (a file's page). False: refused.
   */
  patchWord(addr: number, expect: bigint, repl: bigint, restore?: boolean): boolean;
  /**
   * Map [start, start+len) as the platform's table: private, read and
   * execute, sealed (never unmapped, remapped or made writable by the
   * application), named. 'made', 'there' when the table is already there
   * (a fork's child), or 'taken' when anything else is mapped there (or,
   * without `create`, when no table is there).
   */
  mapTable(start: number, len: number, name: string, create: boolean): 'made' | 'there' | 'taken';
  /** Write into the table (a private copy first where fork shares it). False: out of memory. */
  writeTable(addr: number, data: Buffer): boolean;
  /** Read from the table. */
  readTable(addr: number, len: number): Buffer;
}

export interface AddressSpace {
  /** The memory manager's side of this address space, given when it is made (and again at execve). */
  attachText?(text: AppText): void;
  /** Map npages frames of the memory file starting at frame at address addr, replacing what was there. */
  mapFrames(addr: number, npages: number, frame: number, prot: number): void;
  unmap(addr: number, len: number): void;
  protect(addr: number, len: number, prot: number): void;
  /** The context of the address space's first thread. */
  mainContext(): Context;
  /**
   * A new context in this address space (an application thread, or a process
   * created with CLONE_VM), made through via: a context of this address space
   * that the kernel holds now (the thread calling clone). Its registers start
   * as via's; the kernel sets them before resuming it.
   */
  newContext(via: Context): Context;
  /** Ranges the application may not map over (the stub's code, the vDSO). */
  readonly reserved: ReadonlyArray<{ start: number; end: number; name: string }>;
  /**
   * The end of the application's part of the address space: at or below the
   * start of every reserved range under 2^47. Mapping calls beyond it are
   * refused as a Sentry bug.
   */
  readonly top: number;
  /** How many mappings the host lets the application have (its max_map_count less the stub's own). */
  readonly maxMappings: number;
  readonly vdsoBase: number;
  /**
   * Bytes of the host's vDSO as the application sees it at addr (a tracer's
   * read: gdb loads its symbols from memory), or null when [addr, addr+len)
   * is not inside it. The vDSO is never written.
   */
  readVdso(addr: number, len: number): Buffer | null;
  /**
   * Take the host's vDSO and vvar pages out of this address space for good
   * (a process in a time namespace of its own: the host's clock pages hold
   * no offsets). A call into the vDSO then faults at its entry point, which
   * the kernel emulates; the address space is never given to another
   * process. Queued like a mapping change.
   */
  hideVdso(): void;
  /** Whether hideVdso was called. */
  readonly vdsoHidden: boolean;
  /**
   * Which of pages pages from addr (at most 512) the application touched
   * in its host mappings since they were mapped (1 each), or null when the
   * platform cannot tell: mincore's answer for pages the Sentry cannot
   * tell apart (a frame of zeros).
   */
  touchedPages(addr: number, pages: number): Uint8Array | null;
  /** Kill the backing process(es). */
  release(): void;
  /**
   * Make room for n more host mappings now, so that the changes of one fault
   * are not dropped halfway through. To stay within the host's own mapping
   * limit the platform may drop every host mapping of the application: a
   * page that has a frame then faults with SEGV_MAPERR and only needs
   * mapping again.
   */
  reserveMappings(n: number): void;
  /** Apply mapping changes queued so far (before work that may have to be abandoned). */
  flushPending(): void;
  /** Forget mapping changes queued since the last flush (an execve that failed). */
  discardPending(): void;
  /** Queue the removal of every application mapping (execve reusing the address space). */
  unmapAllUser(): void;
}

/**
 * Counts of what the platform did, for tests and benchmarks: stops are the
 * application's trips into the Sentry, injections and batches are extra host
 * round trips the Sentry made on its own account. Plain numbers, bumped on
 * the hot path at the cost of an increment.
 */
export interface PlatformStats {
  syscallStops: number;
  faultStops: number;
  /** Single host calls run in a stub (fork of a stub, control page set-up). */
  injections: number;
  /** Batches of queued mapping changes run in one round trip each. */
  batches: number;
  /** Host calls run by those batches (each an mmap, munmap or mprotect of the stub). */
  batchCalls?: number;
  /** Times a compute-bound stub was let run on every CPU, and put back on the tracer's. */
  cpuSpreads: number;
  cpuPins: number;
  /** Spreads that moved the thread off its CPU at once (others computed there): see platform/ptrace/affinity.ts. */
  cpuSpreadsAway?: number;
  /** Host threads kept parked after their thread ended, and taken by a new thread instead of making one. */
  threadsParked?: number;
  threadsReused?: number;
  /** Stubs of ended processes taken by a fork instead of forking the master. */
  stubsReused?: number;
  /** Stubs forked from the master for an address space (none reused was ready). */
  stubsForked?: number;
  /** Times wait() came back for host events (fd readiness, the timer) rather than a stop. */
  hostEvents: number;
  /**
   * Host mapping budget upkeep: how often a stub's mappings were counted on
   * the host (only when an upper bound passed the budget), the most counted,
   * and how often all were dropped to stay under the budget.
   */
  hostMappingCounts: number;
  hostMappingsPeak: number;
  hostEvictions: number;
  /** systrap: traps the Sentry caught while spinning, and times it slept in epoll_wait for one. */
  spinHits: number;
  sleeps: number;
  /** systrap: answers that had to wake a stub thread asleep in its futex (one host call each; the rest found it spinning). */
  stubWakes?: number;
  /** systrap: traps taken with the threads apart from the Sentry's CPU, placements switched, probes that lost (placement.ts). */
  apartTraps?: number;
  placementSwitches?: number;
  placementProbesLost?: number;
  /** systrap: host threads given a new mask by the placement (a sched_setaffinity each; never one per trap). */
  placementMoves?: number;
  /** systrap: probes of apart not tried because the other CPUs were busy. */
  placementProbesSkipped?: number;
  /** systrap: system calls that came through a patched site (no SIGSYS; also counted in syscallStops), sites patched, and patched calls run as a trap (gs not the area yet). */
  patchedCalls?: number;
  sitesPatched?: number;
  patchFallbacks?: number;
}

export function newPlatformStats(): PlatformStats {
  return { syscallStops: 0, faultStops: 0, injections: 0, batches: 0, cpuSpreads: 0, cpuPins: 0, hostMappingCounts: 0, hostMappingsPeak: 0, hostEvictions: 0, hostEvents: 0, spinHits: 0, sleeps: 0 };
}

/** Host poll bits for watch() (the same values as EPOLLIN, EPOLLOUT, ...). */
export const HOST_IN = 0x001;
/** Urgent data (EPOLLPRI). */
export const HOST_PRI = 0x002;
export const HOST_OUT = 0x004;
export const HOST_ERR = 0x008;
export const HOST_HUP = 0x010;

/** A registration made by watch(); only unwatch() ends it. */
export interface HostWatch {
  readonly fd: number;
  /** False once unwatched: a callback never runs after that. */
  readonly live: boolean;
}

export interface WatchOptions {
  /**
   * Edge-triggered: the callback runs when the fd becomes ready (new data,
   * new room), not again and again while it stays ready. The owner must
   * check readiness itself after registering what it waits for, as a wait
   * queue user does anyway. Default: level-triggered.
   */
  edge?: boolean;
}

/**
 * The host event service: readiness of host fds reaches the kernel through
 * the same wait() that reports stops. Registrations persist until unwatch();
 * callbacks run inside dispatchHostEvents(), on the kernel's thread.
 * Unwatch before closing the fd: a registration must never outlive the fd
 * number it was made for (the number may be reused for another file).
 */
export interface HostEvents {
  /**
   * Call cb(revents) when fd has one of events (HOST_* bits; HOST_ERR and
   * HOST_HUP are always reported). Throws HostWatchError when the host
   * refuses the fd (closed, or a kind that is always ready: regular files).
   */
  watch(fd: number, events: number, cb: (revents: number) => void, opts?: WatchOptions): HostWatch;
  unwatch(w: HostWatch): void;
}

/** The host refused a watch (errno of epoll_ctl). */
export class HostWatchError extends Error {
  constructor(readonly errno: number, fd: number) {
    super(`cannot watch host fd ${fd}: errno ${errno}`);
  }
}

/**
 * 'yield': other sandboxes share the thread (platform/thread.ts); let them
 * run, then call wait() again. idle: nothing of ours was ready, so wait a
 * little rather than spin; else only a turn is handed on after a run of stops.
 */
export type PlatformEvent = { kind: 'stop'; ctx: Context; stop: Stop } | { kind: 'host' } | { kind: 'none' } | { kind: 'yield'; idle: boolean };

export interface Platform extends HostEvents {
  readonly memfile: MemoryFile;
  readonly stats: PlatformStats;
  newAddressSpace(): AddressSpace;
  /** Block until a context stops or a host event (fd readiness, timer) arrives; with other sandboxes on the thread, 'yield' instead of blocking. */
  wait(): PlatformEvent;
  /**
   * After wait() returned 'host': run the callbacks of the watches that are
   * ready, without blocking. Returns whether the timer expired.
   */
  dispatchHostEvents(): boolean;
  /**
   * Call cb when the JavaScript runtime's own event loop has work (its I/O,
   * a signal its handler caught): the kernel then yields to it. Edge-triggered.
   */
  watchRuntime(cb: () => void): HostWatch;
  /** When the kernel must next yield to the runtime's own timers (monotonic ns), or 0 if it has none. Never later than its next timer; may be earlier. */
  runtimeDeadline(): number;
  /**
   * A host clock (CLOCK_REALTIME, a COARSE one, MONOTONIC_RAW, BOOTTIME) as
   * [seconds, nanoseconds], read at the call: the application's vDSO reads
   * the same clocks without a system call, so the two must agree to the
   * nanosecond (a double holds ns since 1970 only to about 256 ns, hence
   * the pair).
   */
  clock(id: number): [number, number];
  /** Arm the host timer for the earliest kernel deadline (monotonic ns; 0 disarms). */
  setTimer(deadlineNs: number): void;
  shutdown(): void;
}
