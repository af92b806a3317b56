// The life of processes and threads: the first process, fork/vfork/clone,
// execve; their end is kernel/exit.ts, waiting for children kernel/wait.ts.

import type { Cgroup } from './cgroup';
import { loadProgram, type ExecFile } from '../loader/load';
import type { VPath } from '../vfs/dentry';
import { MemoryManager } from '../mm/mm';
import { Reg } from '../platform/platform';
import type { FdTable } from '../vfs/fd_table';
import type { FsContext } from '../vfs/fs_context';
import { Credentials, credsForExec, type ExecCreds } from '../auth/creds';
import { E, Errno } from '../abi/errno';
import type { Kernel } from './kernel';
import { KEEP_REGS, VFORK_WAIT } from './runner';
import { initialFxsave } from './signal_frame';
import * as S from '../abi/signals';
import { sampleRss } from './rusage';
import { Task } from './task';
import { Exits } from './exit';
import { isNsInit, pidNsOf, PidNamespace, tidIn } from './pid_ns';
import { type ChildSelector, waitForChild, type WaitResult } from './wait';
import { type PidsGroup, type Rlimit, RLIMIT_NOFILE, RLIMIT_STACK, type TaskLimits, ThreadGroup } from './thread_group';
import { keyringsAtClone } from './keys/process_keys';
import { checkCloneNsFlags, copyNamespaces, NEW_NS_FLAGS } from './namespaces';
import { nsCapable } from '../auth/userns';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_SETTLS, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM } from '../abi/sched';
import { hideVdsoOutsideInitialTime } from './vdso';


/** The VFS operations the process core needs, supplied by whoever boots the kernel. */
export interface ProcessVfs {
  /** path from the cwd (or start), following a final symlink unless follow is false. */
  openForExec(t: Task, path: string, start?: VPath, follow?: boolean): ExecFile;
  /** The file at vp itself (execveat AT_EMPTY_PATH). */
  execFileAt(t: Task, vp: VPath): ExecFile;
}

/**
 * How execveat found the program when not by a plain path: the name the new
 * program sees (/dev/fd/N or /dev/fd/N/name, the script's path and
 * AT_EXECFN) differs from where the file is.
 */
export interface ExecAt {
  openFirst: () => ExecFile;
  /** The fd was close-on-exec: /dev/fd/N will not exist for an interpreter. */
  pathInaccessible: boolean;
  /** AT_EMPTY_PATH: the process is named after the file, as Linux names it after the dentry. */
  nameFromFile: boolean;
}

/**
 * Per-process state kept by syscall families is copied at fork and reset at
 * exec by hooks the family registers on its kernel (`Kernel.hooks`, filled
 * from each family's `hooks` export when the table is installed).
 */
export interface FamilyHooks {
  /** Whether the process may make a thread or child now: throws the errno clone fails with. */
  mayFork?: (parent: Task) => void;
  fork?: (parent: ThreadGroup, child: ThreadGroup) => void;
  exec?: (tg: ThreadGroup, ex: ExecOutcome) => void;
  /** Run for each task as it exits, while its memory is still mapped. */
  taskExit?: (t: Task) => void;
  /** Write a core file for t's process, dying of sig (one family does: sys_coredump.ts); whether one was written. */
  coreDump?: (t: Task, sig: number, info: S.SigInfo) => boolean;
}

/** What an execve decided beyond the new image, for the families' exec hooks. */
export interface ExecOutcome {
  /** The process stays dumpable (no change of IDs or gain of capabilities, every file readable). */
  dumpable: boolean;
  /** The program runs with privileges its caller lacked (AT_SECURE): the parent-death signal is cleared. */
  secure: boolean;
}

export class LifecycleHooks {
  readonly mayFork: Array<NonNullable<FamilyHooks['mayFork']>> = [];
  readonly fork: Array<NonNullable<FamilyHooks['fork']>> = [];
  readonly exec: Array<NonNullable<FamilyHooks['exec']>> = [];
  readonly taskExit: Array<NonNullable<FamilyHooks['taskExit']>> = [];
  coreDump: FamilyHooks['coreDump'] | null = null;

  add(h: FamilyHooks): void {
    if (h.mayFork) this.mayFork.push(h.mayFork);
    if (h.fork) this.fork.push(h.fork);
    if (h.exec) this.exec.push(h.exec);
    if (h.taskExit) this.taskExit.push(h.taskExit);
    if (h.coreDump) this.coreDump = h.coreDump;
  }
}

export interface CloneArgs {
  flags: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
  exitSignal: number;
  /** clone3's CLONE_CLEAR_SIGHAND: the child's handlers are reset to SIG_DFL (ignored signals stay ignored). */
  clearSighand?: boolean;
  /** clone3's set_tid: the child's pids in its namespace and the ones above, innermost first, and who may choose them. */
  setTid?: { tids: number[]; mayChoose: (ns: PidNamespace) => boolean };
  /** clone3's CLONE_INTO_CGROUP: the child's cgroup (checked by the caller). */
  cgroup?: Cgroup;
}

export class Lifecycle {
  execVfs: ProcessVfs | null = null;
  /** Thread and process ends, zombies and reaping. */
  private readonly exits: Exits;

  constructor(private readonly k: Kernel) {
    this.exits = new Exits(k);
  }

  /** Create pid 1 and load its program. Errors (ENOENT, ENOEXEC...) are thrown before anything runs. */
  startInit(opts: { path: string; argv: string[]; envp: string[]; fdTable: FdTable; fs: FsContext; creds?: Credentials; rlimits?: Rlimit[]; limits?: TaskLimits }): Task {
    const p = this.k.allocPid(this.k.rootNs.pid);
    const pid = p.global;
    const tg = new ThreadGroup(pid, pid, pid);
    tg.tgPid = p;
    if (opts.rlimits) tg.rlimits = opts.rlimits.map((r) => ({ ...r }));
    tg.itimers.cpuLimit.watch(this.k);
    // The fd table enforces RLIMIT_NOFILE itself (at most fs.nr_open, 2^20).
    const nofile = tg.rlimits[RLIMIT_NOFILE].cur;
    opts.fdTable.limit = nofile < 0 ? 1 << 20 : Math.min(nofile, 1 << 20);
    const as = this.k.platform.newAddressSpace();
    const mm = new MemoryManager(this.k.memfile, as, this.k.vmSysctl);
    // A pod container's process: charged to its container from its first frame.
    mm.charge = opts.limits?.memory ?? null;
    tg.pids = opts.limits?.pids ?? null;
    tg.freezer = opts.limits?.freezer ?? null;
    // The first process's IDs and capabilities are those of the sandbox's initial user namespace.
    const creds = (opts.creds ?? new Credentials()).clone();
    creds.userns = this.k.rootNs.mnt.owner;
    const t = new Task(this.k, pid, tg, mm, opts.fdTable, opts.fs, creds, as.mainContext());
    t.threadPid = p;
    tg.tasks.add(t);
    tg.startTimeNs = t.startTimeNs;
    try {
      this.loadInto(t, mm, opts.path, opts.argv, opts.envp, null, true);
    } catch (e) {
      mm.release();
      throw e;
    }
    this.k.tasks.set(pid, t);
    this.k.groups.set(pid, tg);
    return t;
  }

  /**
   * nameFromFile: the process is named after the program file loaded (fexecve,
   * execveat AT_EMPTY_PATH), else after the last component of path as given,
   * symlink or #! script included, as Linux does.
   */
  private loadInto(t: Task, mm: MemoryManager, path: string, argv: string[], envp: string[], at: ExecAt | null = null, first = false): ExecCreds | null {
    const vfs = this.execVfs;
    if (!vfs) throw new Error('no VFS for exec');
    let ec: ExecCreds | null = null;
    const credsFor = (file: ExecFile, unreadable: boolean) => {
      const c = t.creds;
      if (first) return { uid: c.uid, euid: c.euid, gid: c.gid, egid: c.egid, secure: false };
      // A tracer gains nothing through its tracee's exec unless it holds CAP_SYS_PTRACE over the tracee's user namespace.
      const tracedByUnprivileged = t.ptrace !== null && !nsCapable(t.ptrace.tracer.creds, c.userns, CAP_SYS_PTRACE);
      const unsafe = { noNewPrivs: t.tg.procState?.noNewPrivs ?? false, sharedFs: this.sharesFs(t), tracedByUnprivileged };
      const subject = { mode: file.mode, uid: file.uid, gid: file.gid, caps: file.caps ?? null, nosuid: file.nosuid === true };
      ec = credsForExec(c, subject, unsafe);
      // Linux judges dumpability by the caller's IDs before the change, and again by the change itself.
      if (unreadable || c.euid !== c.uid || c.egid !== c.gid) ec.privChange = true;
      const n = ec.creds;
      return { uid: n.uid, euid: n.euid, gid: n.gid, egid: n.egid, secure: ec.secure };
    };
    const img = loadProgram(
      mm,
      {
        open: (p) => vfs.openForExec(t, p),
        openFirst: at?.openFirst,
        pathInaccessible: at?.pathInaccessible,
        path,
        argv,
        envp,
        credsFor,
        stackLimit: Math.max(t.tg.rlimits[RLIMIT_STACK].cur < 0 ? 8 << 20 : t.tg.rlimits[RLIMIT_STACK].cur, 128 * 1024),
        cpu: this.k.hostInfo,
      },
      // The host's vDSO reads the host's clocks: a program in another time namespace goes without it (libc then makes the system call, which adds the offsets),
      // and so does one in an address space whose vDSO is gone (an exec reusing it after setns back to the initial namespace).
      t.nsproxy.timeForChildren.initial && !mm.as.vdsoHidden ? mm.as.vdsoBase : 0,
    );
    const ctx = mm.as.mainContext();
    const regs = ctx.regs;
    for (let r = Reg.R15; r <= Reg.RDI; r++) regs.set(r, 0);
    regs.set(Reg.ORIG_RAX, -1);
    regs.set(Reg.RIP, img.entry);
    regs.set(Reg.RSP, img.sp);
    regs.set(Reg.FS_BASE, 0);
    regs.set(Reg.GS_BASE, 0);
    regs.set(Reg.EFLAGS, 0x202);
    ctx.setFpState(initialFxsave());
    const named = at?.nameFromFile ? img.exe.path : path;
    t.tg.comm = named.slice(named.lastIndexOf('/') + 1).slice(0, 15);
    t.tg.exePath = img.exe.path;
    // exec enters the time namespace for children (Linux's exec_task_namespaces).
    t.nsproxy = t.nsproxy.enterTimeForChildren();
    return ec;
  }

  /** Another process shares t's cwd and root (CLONE_FS): exec grants no privilege then. */
  private sharesFs(t: Task): boolean {
    for (const o of this.k.tasks.values()) if (o.fs === t.fs && o.tg !== t.tg && o.state !== 'dead') return true;
    return false;
  }

  /** Start a task's first run in the application (pid 1, or a forked child returning 0). */
  start(t: Task): void {
    // A fork child whose parent waits for a userfaultfd monitor to read the fork (kernel/userfault.ts) starts after.
    const hold = t.mm.uffdHold;
    if (hold !== null) {
      t.mm.uffdHold = null;
      void hold.then(() => {
        try {
          if (t.state !== 'dead') this.start(t);
        } catch (e) {
          this.k.runner.kernelBug(t, e);
        }
      });
      return;
    }
    this.k.runner.returnToUser(t, false);
  }

  // ---- fork / clone -----------------------------------------------------------

  /** The live tasks of a pids controller's processes. */
  private tasksOf(g: PidsGroup): number {
    let n = 0;
    for (const t of this.k.tasks.values()) if (t.tg.pids === g) n++;
    return n;
  }

  clone(t: Task, a: CloneArgs): number | Promise<number> {
    const f = a.flags;
    // Linux's rules: a thread shares the handlers, which need the memory shared.
    if (f & CLONE_THREAD && !(f & CLONE_SIGHAND)) throw new Errno(E.EINVAL);
    if (f & CLONE_SIGHAND && !(f & CLONE_VM)) throw new Errno(E.EINVAL);
    // init may not make siblings of itself (its parent would never reap them).
    if (f & CLONE_PARENT && isNsInit(t.tg)) throw new Errno(E.EINVAL);
    checkCloneNsFlags(f);
    if (!(f & CLONE_FILES)) t.fdTable.checkCopy(this.k.vfs.nrOpen);
    // A thread stays in its process's PID namespace: not after unshare(CLONE_NEWPID) or setns.
    const activePid = pidNsOf(t);
    if (f & CLONE_THREAD && t.nsproxy.pid !== activePid) throw new Errno(E.EINVAL);
    const thread = (f & CLONE_THREAD) !== 0;
    let fsc = f & CLONE_FS ? t.fs : t.fs.fork();
    let creds = t.creds.clone();
    let nsproxy = t.nsproxy;
    if (f & NEW_NS_FLAGS) ({ ns: nsproxy, creds, fs: fsc } = copyNamespaces(this.k.vfs, t.nsproxy, creds, fsc, f, activePid, this.k.rootNs.net, t.tg.cgroup));
    // The child enters the time namespace for children, unless it shares the memory (and so the vDSO) and asked for no new namespace.
    if (!(f & CLONE_VM) || f & NEW_NS_FLAGS) nsproxy = nsproxy.enterTimeForChildren();
    // A thread never waits like a vfork child's parent: its caller runs on beside it.
    const vfork = (f & CLONE_VFORK) !== 0 && (f & CLONE_VM) !== 0 && !thread;
    // CLONE_VFORK otherwise (a thread, or a child with its own memory): the
    // caller keeps its context but still waits until the child execs or exits.
    const vforkWait = (f & CLONE_VFORK) !== 0 && !vfork;
    // Every task is a host thread: a fork bomb must stop at the sandbox's limit, not the host's.
    if (this.k.tasks.size >= this.k.maxTasks) throw new Errno(E.EAGAIN);
    if (t.tg.pids && this.tasksOf(t.tg.pids) >= t.tg.pids.limit) throw new Errno(E.EAGAIN);
    this.k.cgroups.checkFork(a.cgroup ?? this.k.cgroups.ofTask(t));
    for (const h of this.k.hooks.mayFork) h(t);
    keyringsAtClone(t, creds, thread);
    const newPid = this.k.allocPid(nsproxy.pid, a.setTid?.tids, a.setTid?.mayChoose);
    const pid = newPid.global;
    const parentTg = f & CLONE_PARENT ? t.tg.parent ?? t.tg : t.tg;
    let tg: ThreadGroup;
    if (thread) {
      tg = t.tg;
    } else {
      tg = new ThreadGroup(pid, t.tg.pgid, t.tg.sid);
      tg.tgPid = newPid;
      // The first process of a new PID namespace is its init, reaper of its orphans.
      if (newPid.nrs[newPid.ns.level] === 1 && newPid.ns.parent) newPid.ns.init = tg;
      tg.exitSignal = a.exitSignal;
      // CLONE_SIGHAND: one table of handlers, changed in place by either process.
      tg.actions = f & CLONE_SIGHAND ? t.tg.actions : t.tg.forkActions();
      if (a.clearSighand) tg.actions = tg.actions.map((act) => (act.handler === S.SIG_IGN ? act : S.defaultSigAction()));
      tg.rlimits = t.tg.rlimits.map((r) => ({ ...r }));
      tg.pids = t.tg.pids;
      tg.freezer = t.tg.freezer;
      // A new process starts in its creating thread's cgroup (a threaded one, maybe).
      tg.cgroup = a.cgroup ?? this.k.cgroups.childCgroup(t);
      tg.itimers.cpuLimit.watch(this.k);
      tg.comm = t.tg.comm;
      tg.exePath = t.tg.exePath;
      for (const h of this.k.hooks.fork) h(t.tg, tg);
    }
    let mm: MemoryManager;
    let ctx;
    const parentRegs = t.ctx.regs.snapshot();
    const parentFp = t.ctx.getFpState();
    if (vfork) {
      // The child borrows the parent's address space and host thread until it
      // execs or exits; the parent is parked meanwhile.
      mm = t.mm;
      mm.users++;
      ctx = t.ctx;
      t.vforkSavedRegs = parentRegs;
      t.vforkSavedFp = parentFp;
    } else if (f & CLONE_VM) {
      // A thread (or a process sharing the memory): a new context of the same address space.
      mm = t.mm;
      ctx = mm.as.newContext(t.ctx);
      mm.users++;
    } else {
      try {
        const as = this.k.platform.newAddressSpace();
        mm = t.mm.fork(as);
        ctx = as.mainContext();
      } catch (e) {
        // The numbers go back (a namespace's first process failing leaves it closed, as on Linux).
        PidNamespace.free(newPid);
        throw e;
      }
    }
    const fdTable = f & CLONE_FILES ? t.fdTable.share() : t.fdTable.fork();
    const child = new Task(this.k, pid, tg, mm, fdTable, fsc, creds, ctx);
    child.nsproxy = nsproxy;
    child.threadPid = newPid;
    child.sigmask = t.sigmask;
    // A new stack shares no alternate signal stack (clone with CLONE_VM but not CLONE_VFORK clears it).
    child.altStack = f & CLONE_VM && !vfork ? { sp: 0, size: 0, flags: 2 } : { ...t.altStack };
    child.seccomp = t.seccomp;
    child.seccompStrict = t.seccompStrict;
    tg.tasks.add(child);
    if (thread) this.k.cgroups.threadCreated(t, child);
    if (a.cgroup && !thread) this.k.cgroups.recharge(tg);
    if (!thread) {
      tg.parent = parentTg;
      parentTg.children.add(tg);
      tg.startTimeNs = child.startTimeNs;
      this.k.groups.set(pid, tg);
    }
    this.k.tasks.set(pid, child);
    const regs = ctx.regs;
    regs.restore(parentRegs);
    regs.set(Reg.RAX, 0);
    if (a.stack) regs.set(Reg.RSP, a.stack);
    if (f & CLONE_SETTLS) regs.set(Reg.FS_BASE, a.tls);
    ctx.setFpState(parentFp);
    // The caller's number for the child, and the child's own (Linux's pid_vnr in each).
    const vnr = newPid.nrIn(activePid);
    if (f & CLONE_PARENT_SETTID && a.parentTid) t.mm.writeI32(a.parentTid, vnr);
    if (f & CLONE_CHILD_SETTID && a.childTid) child.mm.writeI32(a.childTid, newPid.nrs[newPid.ns.level]);
    if (f & CLONE_CHILD_CLEARTID) child.clearChildTid = a.childTid;
    // A thread starts with its creator's name and keeps it when the process is renamed.
    if (thread) child.ownComm = t.comm;
    // Affinity, nice and the scheduling policy are per thread: the child gets its creator's.
    child.affinity = t.affinity;
    this.k.hostSched.inherit(t, child);
    child.tscSigsegv = t.tscSigsegv;
    // A child with memory of its own in another time namespace: the host's clock pages go (vdso.ts).
    if (!(f & CLONE_VM)) hideVdsoOutsideInitialTime(child);
    if (!vfork) this.k.hostSched.applyTo(child);
    // A thread's exit signal is none: PTRACE_O_TRACECLONE (or CLONE_PTRACE) follows it.
    if (t.ptrace) this.k.ptrace.onClone(t, child, f, thread ? 0 : a.exitSignal);
    if (vforkWait) {
      t.vforkChild = child;
      child.vforkWaiter = t;
      queueMicrotask(() => this.start(child));
      this.k.noteWake();
      return VFORK_WAIT;
    }
    if (!vfork) {
      queueMicrotask(() => this.start(child));
      this.k.noteWake();
      return vnr;
    }
    // The parent stays parked as state, not as a pending handler: its call
    // completes when the child lets go of the context (releaseVfork).
    t.vforkChild = child;
    child.vforkParent = t;
    queueMicrotask(() => this.start(child));
    this.k.noteWake();
    return VFORK_WAIT;
  }

  /**
   * A vfork child execs or exits: its parent gets its context back with the
   * registers it had, and its vfork returns the child's pid (once the
   * current stop is done with, as a promise continuation would).
   */
  releaseVfork(child: Task): void {
    const w = child.vforkWaiter;
    if (w) {
      // Its own context all along: only the call completes.
      child.vforkWaiter = null;
      w.vforkChild = null;
      if (w.ptrace) this.k.ptrace.onVforkDone(w, child);
      this.k.noteWake();
      queueMicrotask(() => this.k.runner.finishParked(w, tidIn(child, pidNsOf(w))));
    }
    const p = child.vforkParent;
    if (!p) return;
    child.vforkParent = null;
    p.vforkChild = null;
    const ctx = p.ctx;
    ctx.owner = p;
    ctx.regs.restore(p.vforkSavedRegs!);
    ctx.setFpState(p.vforkSavedFp!);
    // The child may have set its own TSC mode on the host thread they shared.
    ctx.setTsc?.(p.tscSigsegv);
    p.vforkSavedRegs = p.vforkSavedFp = null;
    if (p.ptrace) this.k.ptrace.onVforkDone(p, child);
    this.k.noteWake();
    queueMicrotask(() => this.k.runner.finishParked(p, tidIn(child, pidNsOf(p))));
  }

  // ---- execve ---------------------------------------------------------------------

  execve(t: Task, path: string, argv: string[], envp: string[], at: ExecAt | null = null): number {
    if (path === '' && !at) throw new Errno(E.ENOENT);
    // A process alone in its address space keeps its stub: the new image is
    // built beside the old one (only queued on the host), and the host side is
    // cleared and remapped once past the point of no return. A vfork child
    // shares its parent's stub and gets a fresh one.
    // With other threads (or CLONE_VM processes) in the address space, the
    // new image gets a fresh one, as gVisor does: the old one goes with them.
    const reuse = t.mm.users === 1 && !t.vforkParent;
    let as = t.mm.as;
    if (!reuse) {
      // The program is opened first: an exec that fails to find or open it
      // (a PATH search, mostly) costs no address space. On systrap a fresh
      // one that never ran a thread cannot be kept as a spare, so each such
      // failure was a stub forked and killed.
      const vfs = this.execVfs;
      if (!vfs) throw new Error('no VFS for exec');
      const file = at ? at.openFirst() : vfs.openForExec(t, path);
      at = { openFirst: () => file, pathInaccessible: at?.pathInaccessible ?? false, nameFromFile: at?.nameFromFile ?? false };
      try {
        as = this.k.platform.newAddressSpace();
      } catch (e) {
        file.done?.();
        throw e;
      }
    }
    if (reuse) as.flushPending();
    const mm = new MemoryManager(this.k.memfile, as, this.k.vmSysctl);
    mm.charge = t.mm.charge;
    mm.mdwe = t.mm.inheritMdwe();
    let ec: ExecCreds | null;
    try {
      ec = this.loadInto(t, mm, path, argv, envp, at);
    } catch (e) {
      if (reuse) {
        as.discardPending();
        mm.releaseFrames();
      } else {
        mm.release();
      }
      throw e;
    }
    // Past the point of no return: the other threads die (de_thread), the old
    // image goes, its CPU time and peak size stay with the process.
    this.exits.deThread(t);
    const old = t.mm;
    sampleRss(t.tg, old);
    t.mm = mm;
    if (reuse) {
      as.discardPending();
      as.unmapAllUser();
      mm.resyncAll();
      old.users = 0;
      old.releaseFrames();
    } else {
      if (!t.vforkParent) {
        const c = t.ctx.cpuTime(true);
        t.tg.finalUserNs += c.userNs;
        t.tg.finalSysNs += c.sysNs;
      }
      t.ctx = as.mainContext();
      t.ctx.owner = t;
      this.k.hostSched.applyTo(t);
      this.releaseVfork(t);
      if (--old.users === 0) old.release();
    }
    // A CLONE_VFORK caller with its own context goes on now (the other kind was let go above).
    if (t.vforkWaiter) this.releaseVfork(t);
    t.tg.execed = true;
    hideVdsoOutsideInitialTime(t);
    t.fdTable.closeOnExec();
    t.tg.actions = t.tg.actions.map((act) => (act.handler === S.SIG_IGN ? act : S.defaultSigAction()));
    t.altStack = { sp: 0, size: 0, flags: 2 };
    t.clearChildTid = 0;
    if (!ec) throw new Error('exec without credentials');
    for (const task of t.tg.tasks) task.creds = ec.creds;
    const outcome: ExecOutcome = { dumpable: !ec.privChange, secure: ec.secure };
    for (const h of this.k.hooks.exec) h(t.tg, outcome);
    if (t.ptrace) this.k.ptrace.onExec(t);
    return KEEP_REGS;
  }

  // ---- exit (kernel/exit.ts) ------------------------------------------------------------

  /** exit_group, a fatal signal, or the last thread's exit: the whole process goes. */
  exitGroup(tg: ThreadGroup, signal: number, code = 0): void {
    this.exits.exitGroup(tg, signal, code);
  }

  /** exit(2) (group false: the calling thread) and exit_group(2). */
  exit(t: Task, code: number, group: boolean): number {
    return this.exits.exit(t, code, group);
  }

  /** A thread dies of signal sig alone (seccomp's KILL_THREAD); with the last thread the process dies of it. */
  killThread(t: Task, sig: number): void {
    this.exits.endThread(t, false, sig, 0);
  }

  notifyExit(tg: ThreadGroup): void {
    this.exits.notifyExit(tg);
  }

  reap(tg: ThreadGroup): void {
    this.exits.reap(tg);
  }

  // ---- wait -------------------------------------------------------------------------

  /** The shared part of wait4 and waitid (kernel/wait.ts): the child and its event, or null for WNOHANG. */
  wait(t: Task, sel: ChildSelector, options: number): Promise<WaitResult | null> {
    return waitForChild(this.k, t, sel, options);
  }
}
