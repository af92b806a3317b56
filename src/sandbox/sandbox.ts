// Assembling a sandbox: the platform, the memory file, the mount namespace,
// the kernel with its syscall table, and the first process with the caller's
// stdio. The CLI (`tsvisor do`, later the OCI commands) and the embeddable
// API use this one path.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tty from 'node:tty';
import { Credentials } from '../auth/creds';
import { ALL_CAPS } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { Kernel } from '../kernel/kernel';
import { defaultRlimits, RLIM_INFINITY, RLIMIT_NOFILE, type Rlimit } from '../kernel/thread_group';
import type { Task } from '../kernel/task';
import { Strace } from '../kernel/strace/strace';
import type { ExecFile } from '../loader/load';
import { HOST_IN } from '../platform/platform';
import { PtracePlatform } from '../platform/ptrace/platform';
import { SYSCALL_NAMES } from '../syscalls/names';
import { buildTable } from '../syscalls/table';
import { openForExec } from '../vfs/exec';
import { FdTable } from '../vfs/fd_table';
import type { FsContext } from '../vfs/fs_context';
import { buildMountNamespace } from './mounts';
import { makeHostFdFile } from '../fsimpl/hostfd/hostfd';
import { ProcFs } from '../fsimpl/proc/procfs';
import * as libc from '../host/libc';
import { defaultMemoryLimit } from '../abi/accounting';
import { HostTree } from '../host/hosttree';

/** Signals to the Sentry that are meant for the sandboxed program. */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGWINCH'];

export interface SandboxOptions {
  rootfs: string;
  argv: string[];
  env: string[];
  cwd: string;
  /** When the cwd does not exist inside, start at / instead of failing. */
  cwdFallback?: boolean;
  strace?: boolean;
  /** Where debug and strace lines go (a path), else stderr for strace only. */
  debugLog?: string;
  /** Write the platform's counters (stops, injections, batches) here as JSON at the end. */
  statsFile?: string;
  hostname?: string;
  /** Memory limit in bytes (default: half of the host's RAM, see mm/accounting.ts). */
  memory?: number;
  /** Host fds to donate as the sandbox's 0, 1, 2. */
  stdio?: [number, number, number];
  /** Resource limits of the first process; default: the caller's, as a child of it would have. */
  rlimits?: Rlimit[];
}

export class Sandbox {
  readonly kernel: Kernel;
  private readonly platform: PtracePlatform;
  private logFd: number | null = null;
  init: Task | null = null;

  constructor(private readonly opts: SandboxOptions) {
    if (opts.debugLog) this.logFd = fs.openSync(opts.debugLog, 'a');
    const log = (msg: string) => this.log(msg);
    this.platform = new PtracePlatform();
    this.platform.memfile.setLimit(opts.memory ?? defaultMemoryLimit());
    const ns = buildMountNamespace({ rootfs: new HostTree(opts.rootfs), memfile: this.platform.memfile, ttyHostFd: ttyOf(opts.stdio ?? [0, 1, 2]), hostEvents: this.platform });
    const warn = (msg: string) => {
      log(msg);
      fs.writeSync(2, `tsvisor: ${msg}\n`);
    };
    this.kernel = new Kernel({ platform: this.platform, vfs: ns.vfs, hostname: opts.hostname, log, warn });
    ns.vfs.mountAt('/proc', new ProcFs(this.kernel));
    const { table, missingFamilies } = buildTable();
    this.kernel.table = table;
    this.kernel.syscallNames = SYSCALL_NAMES;
    if (missingFamilies.length) log(`syscall families not built yet: ${missingFamilies.join(', ')}`);
    if (opts.strace) this.kernel.strace = new Strace(this.kernel, (line) => this.write(line + '\n', true));
    this.kernel.lifecycle.execVfs = {
      openForExec: (t, path): ExecFile => {
        const f = openForExec(t, path);
        if (!f.mappable) throw new Errno(E.EACCES);
        const inode = f.vpath.dentry.inode;
        return { path: f.path, size: f.size, read: f.read, mappable: f.mappable, dev: inode.fs.dev, ino: inode.ino, mode: f.mode, uid: f.uid, gid: f.gid };
      },
    };
    const root = ns.rootContext();
    const fdTable = new FdTable();
    const stdio = opts.stdio ?? [0, 1, 2];
    stdio.forEach((hostFd, i) => {
      const fl = libc.fcntl(hostFd, 3 /* F_GETFL */, 0);
      if (fl < 0) return;
      const own = nonBlockingTwin(hostFd, fl);
      fdTable.installAt(i, own === null ? makeHostFdFile(hostFd, fl, false, this.platform) : makeHostFdFile(own, fl, true, this.platform));
    });
    this.rootCtx = root;
    this.fdTable = fdTable;
  }

  private readonly rootCtx: FsContext;
  private readonly fdTable: FdTable;

  private log(msg: string): void {
    this.write(`${new Date().toISOString()} ${msg}\n`, false);
  }

  private write(s: string, strace: boolean): void {
    if (this.logFd !== null) fs.writeSync(this.logFd, s);
    else if (strace) fs.writeSync(2, s);
  }

  /** Find the program like execvp: a name without a slash is looked up in PATH inside the sandbox. */
  private resolveCommand(cmd: string): string {
    if (cmd.includes('/')) return cmd;
    const pathVar = this.opts.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
    const probe = { fs: this.rootCtx, creds: new Credentials(), kernel: this.kernel };
    for (const dir of pathVar.split(':')) {
      const p = `${dir || '.'}/${cmd}`;
      try {
        openForExec(probe, p);
        return p;
      } catch {
        // keep looking
      }
    }
    throw new Errno(E.ENOENT);
  }

  /** Start the first process and run the sandbox until it exits; resolves with its wait status. */
  async run(): Promise<number> {
    const path = this.resolveCommand(this.opts.argv[0]);
    if (this.opts.cwd) {
      try {
        this.chdir(this.opts.cwd);
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
        // The caller's directory may not exist inside (under /tmp, say): start at / then.
        if (!this.opts.cwdFallback) throw new Error(`--cwd ${this.opts.cwd}: ${e.message} inside the sandbox`);
      }
    }
    const rlimits = this.opts.rlimits ?? hostRlimits();
    this.init = this.kernel.lifecycle.startInit({ path, argv: this.opts.argv, envp: this.opts.env, fdTable: this.fdTable, fs: this.rootCtx, rlimits, creds: initialCreds() });
    this.kernel.lifecycle.start(this.init);
    // Host signals are caught by Node (its handler writes to a pipe of its
    // loop): the readiness of Node's loop fd, watched in the platform's epoll
    // set, makes the kernel yield to Node, whose callback forwards the signal.
    // (A signalfd cannot do it: Node's threads leave these signals unblocked,
    // and a signalfd polled from the waker answers for the waker's signals.)
    const forward = (sig: NodeJS.Signals) => this.kernel.forwardSignal(os.constants.signals[sig]);
    for (const s of FORWARDED) process.on(s, forward);
    const nodeLoop = this.platform.watch(libc.nodeLoopFd(), HOST_IN, () => this.kernel.requestNodeTurn(), { edge: true });
    // libuv adds the signal pipe to its epoll set only in its next turn.
    this.kernel.requestNodeTurn();
    try {
      return await this.kernel.run();
    } finally {
      this.platform.unwatch(nodeLoop);
      for (const s of FORWARDED) process.off(s, forward);
      const mf = this.platform.memfile;
      this.log(`memory: peak ${mf.peakPages * 4} kB of the ${mf.limitPages * 4} kB limit; host holds ${Math.floor(mf.hostResidentBytes() / 1024)} kB; kernel objects peak ${Math.floor(mf.heap.peak / 1024)} kB of ${Math.floor(mf.heap.limit / 1024)} kB`);
      this.platform.shutdown();
      if (this.opts.statsFile) fs.writeFileSync(this.opts.statsFile, JSON.stringify(this.platform.stats) + '\n');
    }
  }

  private chdir(dir: string): void {
    const vfs = this.kernel.vfs;
    const probe = { creds: new Credentials(), root: this.rootCtx.root, ctx: null };
    const vp = vfs.resolve(probe, this.rootCtx.cwd, dir, true);
    if (!vp.dentry.inode.attrs || (vp.dentry.inode.attrs().mode & 0o170000) !== 0o040000) throw new Errno(E.ENOTDIR);
    this.rootCtx.setCwd(vp);
  }
}

/**
 * A private, non-blocking open file description of the same pipe, FIFO or
 * terminal, so that waiting for the caller's stdio parks only the task that
 * waits, never the whole Sentry, and without changing the flags of the
 * caller's own description (O_NONBLOCK is shared by every dup of it).
 * Regular files never block; sockets cannot be reopened: those stay as given.
 */
function nonBlockingTwin(hostFd: number, fl: number): number | null {
  try {
    const st = fs.fstatSync(hostFd);
    if (!st.isFIFO() && !st.isCharacterDevice()) return null;
    const acc = fl & 3;
    const c = fs.constants;
    return fs.openSync(`/proc/self/fd/${hostFd}`, acc | c.O_NONBLOCK | c.O_NOCTTY | 0o2000000 /* O_CLOEXEC */);
  } catch {
    return null;
  }
}

/**
 * Root, with the capabilities an exec as root would give under the caller's
 * bounding set: a capability the caller could never have, the sandbox's root
 * does not get either.
 */
function initialCreds(): Credentials {
  const c = new Credentials();
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    if (m) c.capBounding = BigInt(`0x${m[1]}`) & ALL_CAPS;
  } catch {
    /* no /proc: keep the full set */
  }
  c.capPermitted = c.capEffective = c.capBounding;
  return c;
}

/** The Sentry's own limits, which are the caller's: inherited like any child's. */
function hostRlimits(): Rlimit[] {
  const limits = defaultRlimits();
  const b = Buffer.alloc(16);
  const value = (off: number): number => {
    const v = b.readBigUInt64LE(off);
    return v >= BigInt(Number.MAX_SAFE_INTEGER) ? RLIM_INFINITY : Number(v);
  };
  limits.forEach((r, i) => {
    if ((libc.prlimit(0, i, null, b) as number) !== 0) return; // unknown here: keep the default
    r.cur = value(0);
    r.max = value(8);
  });
  const nofile = limits[RLIMIT_NOFILE];
  const before = callerNofile(nofile.max);
  if (before !== null) nofile.cur = before;
  return limits;
}

/**
 * Node raises its own soft RLIMIT_NOFILE to the hard limit before any script
 * runs, so the caller's soft value is gone from this process. The parent
 * (normally the shell that started tsvisor) still has it: take its soft limit
 * when its hard limit is ours, i.e. when we plainly inherited from it.
 */
function callerNofile(hard: number): number | null {
  try {
    const text = fs.readFileSync(`/proc/${process.ppid}/limits`, 'latin1');
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (!m) return null;
    const parse = (v: string): number => (v === 'unlimited' ? RLIM_INFINITY : Number(v));
    const [soft, max] = [parse(m[1]), parse(m[2])];
    if (max !== hard || !Number.isSafeInteger(soft) || (hard !== RLIM_INFINITY && soft > hard)) return null;
    return soft;
  } catch {
    return null; // no parent to ask (it exited, or /proc is not there)
  }
}

function ttyOf(stdio: number[]): number | null {
  for (const fd of stdio) if (tty.isatty(fd)) return fd;
  return null;
}
