// Assembling a sandbox: the platform, the memory file, the mount namespace,
// the kernel with its syscall table, and the first process with the caller's
// stdio. The CLI (`tsvisor do`, later the OCI commands) and the embeddable
// API use this one path.

import { Credentials } from '../auth/creds';
import { E, Errno } from '../abi/errno';
import { Kernel } from '../kernel/kernel';
import type { Task } from '../kernel/task';
import type * as StraceMod from '../kernel/strace/strace';
import type { ExecFile } from '../loader/load';
import { PtracePlatform } from '../platform/ptrace/platform';
import { HOST_IN } from '../platform/platform';
import { SYSCALL_NAMES } from '../syscalls/names';
import { buildTable } from '../syscalls/table';
import { execFileAt, execOpen, openForExec } from '../vfs/exec';
import { FdTable } from '../vfs/fd_table';
import { FsContext } from '../vfs/fs_context';
import type { ThreadGroup } from '../kernel/thread_group';
import { buildMountNamespace, noOptions, registerCgroup2, registerMqueue } from './mounts';
import { donatedFdStat, donateHostFd, terminalOf } from '../fsimpl/hostfd/hostfd';
import { HostStdio, type Terminal } from '../fsimpl/hostfd/terminal';
import { procFsOf } from '../fsimpl/proc/procfs';
import { pidNsOf } from '../kernel/pid_ns';
import { captureHostInfo, type HostInfo } from '../host/hostinfo';
import type { HostTree } from '../host/hosttree';
import type { GoferClient } from '../gofer/client';
import { goferWanted } from '../gofer/start';
import type { GoferHandOff } from '../gofer/spawn';
import { HostInterfaces } from '../host/hostnetinfo';
import { HOST_SOCKET_LIMIT, HostSocketBudget, LINK_SOCKET_LIMIT, LoopbackTable, NAT_SOCKET_LIMIT, NatTable, defaultNetSysctl } from '../kernel/netinfo';
import type { LinkConfig, LinkSource } from '../abi/netif';
import { LinkTable } from '../kernel/linktable';
import type * as NatStart from '../net/nat/start';
import type * as PacketStart from '../net/packet/start';
import { NAT_RESOLV_CONF, natConfig } from './natconfig';
import type { HostFs } from '../fsimpl/hostfs/hostfs';
import { SentryOutput } from '../host/sentry_output';
import * as S from '../abi/signals';
import type { ContainerPlan } from '../oci/plan';
import { applyContainerMounts, applyPathRules, applySysctls, hostFilesFor } from './container';
import { loopbackHosts, writeEtcFiles } from './etcfiles';
import type { VirtualFilesystem } from '../vfs/vfs';
import { stateOf } from '../syscalls/sys_info';
import { attach, checkProgram } from '../kernel/seccomp';
import { Pod, type PodContainer, type PodShare } from './pod';
import { containerCreds, defaultMemoryLimit, hostRlimits, initialCreds } from './identity';
import { type ExecProcess, makePlatform, platformFromEnv, type SandboxOptions, type SandboxProcess, type SandboxStats } from './options';
import { podLimit } from '../oci/pod';
import { HugePool } from '../mm/hugetlb';

/**
 * Emitted on process when a sandbox has loaded its first program: a code
 * cache bin/tsvisor.js writes at exit after that holds the exec and system
 * call paths (one written by a process that ran no program does not).
 */
const PROGRAM_LOADED_EVENT = 'tsvisor:program-loaded';

/** Signals to the Sentry that are meant for the sandboxed program (SIGTSTP too, as runc forwards it: it must not stop the Sentry). */
const FORWARDED: Array<[NodeJS.Signals, number]> = [
  ['SIGHUP', S.SIGHUP], ['SIGINT', S.SIGINT], ['SIGQUIT', S.SIGQUIT], ['SIGTSTP', S.SIGTSTP], ['SIGUSR1', S.SIGUSR1], ['SIGUSR2', S.SIGUSR2],
  ['SIGTERM', S.SIGTERM], ['SIGWINCH', S.SIGWINCH],
];

/** Signals a terminal raises, for the terminal's foreground group (and SIGTSTP caught, which would otherwise stop the Sentry). */
const TERMINAL_SIGNALS: Array<[NodeJS.Signals, number]> = [['SIGINT', S.SIGINT], ['SIGQUIT', S.SIGQUIT], ['SIGTSTP', S.SIGTSTP], ['SIGWINCH', S.SIGWINCH]];

export class Sandbox {
  readonly kernel: Kernel;
  private readonly platform: PtracePlatform;
  private readonly out: SentryOutput;
  init: Task | null = null;

  constructor(private readonly opts: SandboxOptions) {
    // First: a Gofer starts while the platform does.
    const files = hostFilesFor(opts.rootfs, [...(opts.container?.mounts ?? []), ...(opts.volumes ?? [])], goferWanted(opts.gofer));
    this.out = new SentryOutput(opts.debugLog);
    const host = opts.hostInfo ?? captureHostInfo();
    this.hostInfo = host;
    const log = (msg: string) => this.log(msg);
    this.platform = makePlatform(opts.platform ?? platformFromEnv(), (msg) => this.out.stderr(`tsvisor: ${msg}\n`));
    this.platform.memfile.setLimit(opts.memory ?? defaultMemoryLimit(host));
    const stdio = opts.stdio ?? [0, 1, 2];
    const hostStdio = new HostStdio(terminalOf(stdio));
    this.hostStdio = hostStdio;
    // The system call table (evaluating every family's module) needs no file: built before the root's first
    // walk, which waits for the Gofer's hello (docs/PERFORMANCE.md, "The Gofer's start, measured").
    const { table, hooks, missingFamilies } = buildTable();
    this.hostTree = files.rootfs();
    const hugePool = new HugePool(this.platform.memfile);
    const ns = buildMountNamespace({ rootfs: this.hostTree, memfile: this.platform.memfile, host, stdio: hostStdio, ram: () => this.platform.memfile.ramBytes(), hugePool });
    this.hostfs = ns.hostfs;
    ns.vfs.dentries.setBudget(this.platform.memfile.heap);
    const warn = (msg: string) => {
      log(msg);
      this.out.stderr(`tsvisor: ${msg}\n`);
    };
    const mode = opts.network ?? 'sandbox';
    const nat = mode === 'sandbox' && opts.nat ? natConfig(opts.nat) : undefined;
    // Sandbox mode without the NAT: loopback, and the interfaces a container's namespace hands over at start (attachLinks).
    const links: LinkConfig[] | undefined = mode === 'sandbox' && !nat ? [] : undefined;
    const interfaces = mode === 'host' ? new HostInterfaces() : nat ? new NatTable() : links ? new LinkTable(links) : new LoopbackTable();
    const sockets = mode === 'host' ? HOST_SOCKET_LIMIT : nat ? NAT_SOCKET_LIMIT : links ? LINK_SOCKET_LIMIT : 0;
    const network = { mode, interfaces, hostSockets: new HostSocketBudget(sockets), netlinkPorts: new Set<number>(), sysctl: defaultNetSysctl(), nat, links };
    this.kernel = new Kernel({ platform: this.platform, vfs: ns.vfs, hostInfo: host, hostname: opts.hostname, network, log, warn, hugePool });
    // Bind mounts' host change reports (fsimpl/hostfs/changes.ts) are watched through the platform's event service.
    ns.vfs.notify.hostEvents = this.platform;
    const kernel = this.kernel;
    const proc = ns.vfs.mountAt('/proc', procFsOf(kernel, host, kernel.rootNs.pid));
    // procfs shows one PID namespace, the mounter's (one instance each); its owner's root may mount it.
    ns.vfs.fsTypes.register('proc', {
      userns: true,
      make: (_src, data, _creds, caller) => {
        noOptions(data);
        const pidns = caller ? pidNsOf(caller as Task) : kernel.rootNs.pid;
        return { fs: procFsOf(kernel, host, pidns), root: pidns === kernel.rootNs.pid ? proc.root : null, owner: pidns.owner };
      },
    });
    registerMqueue(ns.vfs, this.kernel.rootNs.ipc, this.platform.memfile.heap, !opts.container);
    registerCgroup2(ns.vfs, kernel, !opts.container);
    if (opts.volumes?.length) applyContainerMounts(ns.vfs, this.platform.memfile, opts.volumes, log, files.forSource);
    const c = opts.container;
    if (c) {
      applyContainerMounts(ns.vfs, this.platform.memfile, c.mounts, log, files.forSource);
      applySysctls(ns.vfs, c.sysctl);
      applyPathRules(ns.vfs, this.platform.memfile, c.maskedPaths, c.readonlyPaths, log);
      // After the mounts: their mount points may have been made in the root's upper layer.
      if (c.rootReadonly) ns.vfs.rootMount.flags.readonly = true;
      if (c.domainname !== undefined) this.kernel.rootNs.uts.domainname = c.domainname;
      if (c.pidsLimit !== null) this.kernel.maxTasks = Math.min(this.kernel.maxTasks, c.pidsLimit);
    }
    if (!c) this.writeIdentity(ns.vfs, opts, log);
    if (nat) {
      // The stack and its NAT are made by the first inet socket (net/factory.ts), and their ~40 modules
      // loaded then; published ports listen before the program runs, so they make them now.
      const natStart = (): typeof NatStart => require('../net/nat/start') as typeof NatStart;
      kernel.rootNs.net.stackSetup = (s) => natStart().attachNat(kernel, s);
      if (nat.publish.length) natStart().startNetwork(kernel);
    }
    hostStdio.events = this.platform;
    this.kernel.table = table;
    for (const h of hooks) this.kernel.hooks.add(h);
    this.kernel.hooks.add({ taskExit: (t) => this.execExited(t) });
    this.kernel.syscallNames = SYSCALL_NAMES;
    if (missingFamilies.length) log(`syscall families not built yet: ${missingFamilies.join(', ')}`);
    // The decoders are loaded only for --strace: nine modules a sandbox without it never runs.
    if (opts.strace) this.kernel.strace = new (require('../kernel/strace/strace') as typeof StraceMod).Strace(this.kernel, (line) => this.write(line + '\n', true));
    const forLoader = (f: ReturnType<typeof openForExec>): ExecFile => {
      if (!f.mappable) throw new Errno(E.EACCES);
      const inode = f.vpath.dentry.inode;
      const { hold, keepOpen, accessed, done } = execOpen(f);
      return {
        path: f.path, size: f.size, read: f.read, mappable: f.mappable, dev: inode.fs.dev, ino: inode.ino, mode: f.mode, uid: f.uid, gid: f.gid,
        caps: f.caps, nosuid: f.nosuid, readable: f.readable, hold, keepOpen, accessed, done,
      };
    };
    this.kernel.lifecycle.execVfs = {
      openForExec: (t, path, start, follow): ExecFile => forLoader(openForExec(t, path, start, follow)),
      execFileAt: (t, vp): ExecFile => forLoader(execFileAt(t, vp)),
    };
    const root = ns.rootContext();
    if (c && c.umask !== null) root.umask = c.umask;
    const fdTable = new FdTable();
    stdio.forEach((hostFd, i) => {
      const f = donateHostFd(hostFd, hostStdio);
      if (f) fdTable.installAt(i, f);
    });
    this.rootCtx = root;
    this.fdTable = fdTable;
  }

  /**
   * `tsvisor do`: /etc/hostname says the sandbox's hostname; in host mode
   * /etc/hosts and /etc/resolv.conf are the host's, otherwise /etc/hosts
   * names the loopback and resolv.conf is the root file system's own.
   */
  private writeIdentity(vfs: VirtualFilesystem, opts: SandboxOptions, log: (m: string) => void): void {
    const name = this.kernel.rootNs.uts.hostname;
    const files: Record<string, string> = { '/etc/hostname': `${name}\n` };
    if (opts.network === 'host' && opts.hostEtc) {
      files['/etc/hosts'] = opts.hostEtc.hosts;
      files['/etc/resolv.conf'] = opts.hostEtc.resolvConf;
    } else if (opts.network !== 'host') files['/etc/hosts'] = loopbackHosts(name);
    if (this.kernel.network.nat) files['/etc/resolv.conf'] = NAT_RESOLV_CONF;
    writeEtcFiles(vfs, files, log);
  }

  private readonly hostInfo: HostInfo;
  private readonly hostStdio: HostStdio;
  /** Processes started by exec(), with what their exit settles. */
  private readonly execs = new Map<ThreadGroup, (status: number) => void>();
  /** The host terminals of exec'd processes started with one (by pid), for the signals it raises. */
  private readonly execTerminals = new Map<number, Terminal>();
  private readonly rootCtx: FsContext;
  private readonly fdTable: FdTable;
  private readonly hostTree: HostTree | GoferClient;
  private readonly hostfs: HostFs;

  /**
   * What the file caches hold (--stats). Under node --expose-gc the heap is
   * collected first, so liveDentries counts what the bounded cache and the
   * sandbox's own references (files, cwds, mounts) really keep.
   */
  private cacheStats(): Record<string, unknown> {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    const d = this.kernel.vfs.dentries;
    return {
      dentryCache: { size: d.size, peak: d.peak, limit: d.limit },
      liveDentries: gc ? this.kernel.vfs.countCachedDentries() : null,
      hostInodes: this.hostfs.inodesHeld(),
      hostFds: this.hostTree.held(),
    };
  }

  private log(msg: string): void {
    this.write(`${new Date().toISOString()} ${msg}\n`, false);
  }

  private write(s: string, strace: boolean): void {
    this.out.write(s, strace);
  }

  /** Find the program like execvp: a name without a slash is looked up in PATH inside the sandbox (in the file system of ctx). */
  private resolveCommand(cmd: string, env = this.opts.env, ctx = this.rootCtx): string {
    if (cmd.includes('/')) return cmd;
    const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
    const probe = { fs: ctx, creds: new Credentials(), kernel: this.kernel };
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

  /**
   * Load the first process (its program mapped, its stack built) without
   * letting it run: what `tsvisor create` waits for before `start`.
   */
  load(): Task {
    if (this.init) return this.init;
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
    const rlimits = this.opts.rlimits ?? hostRlimits(this.hostInfo);
    const c = this.opts.container;
    for (const r of c?.rlimits ?? []) rlimits[r.resource] = { cur: r.cur, max: r.max };
    const creds = c ? containerCreds(c, this.hostInfo) : initialCreds(this.hostInfo, this.opts.user);
    const init = this.kernel.lifecycle.startInit({ path, argv: this.opts.argv, envp: this.opts.env, fdTable: this.fdTable, fs: this.rootCtx, rlimits, creds });
    if (c?.noNewPrivileges) stateOf(init.tg).noNewPrivs = true;
    if (c?.seccomp) init.seccomp = attach(null, checkProgram(c.seccomp), false);
    this.init = init;
    (process as NodeJS.EventEmitter).emit(PROGRAM_LOADED_EVENT);
    return init;
  }

  /**
   * Start another process in the running sandbox (`tsvisor exec`): same
   * kernel, PID namespace and file systems, no parent inside (as gVisor's
   * exec), stdio from the given host fds. Resolves with its wait status.
   */
  exec(p: ExecProcess, container: PodContainer | null = null, start = true): { pid: number; exited: Promise<number>; task: Task } {
    const tty = terminalOf([p.stdio[0]]) !== null ? this.hostStdio.terminalFor(p.stdio[0], donatedFdStat(p.stdio[0]).rdev) : null;
    const fdTable = new FdTable();
    // The fds are the sandbox's from here: each is closed when the last
    // sandbox file using it is released, so an exec leaves no host fd behind.
    p.stdio.forEach((hostFd, i) => {
      const f = donateHostFd(hostFd, this.hostStdio, true, p.ownDescriptions);
      if (f) fdTable.installAt(i, f);
    });
    try {
      return this.startExec(p, fdTable, tty, container, start);
    } catch (e) {
      fdTable.closeAll();
      if (tty) this.forgetTerminal(tty);
      throw e;
    }
  }

  /** container: a pod container's process (in its file systems and namespaces, with its spec's identity); start: run it now (else its container's start does). */
  private startExec(p: ExecProcess, fdTable: FdTable, tty: Terminal | null, container: PodContainer | null, start: boolean): { pid: number; exited: Promise<number>; task: Task } {
    const ctx = container ? container.context() : new FsContext(this.rootCtx.root, this.rootCtx.root);
    if (!container) ctx.umask = this.rootCtx.umask;
    const probe = { creds: new Credentials(), root: ctx.root, ctx: null };
    const dir = this.kernel.vfs.resolve(probe, ctx.cwd, p.cwd, true);
    if (!dir.dentry.inode.attrs || (dir.dentry.inode.attrs().mode & 0o170000) !== 0o040000) throw new Errno(E.ENOTDIR);
    ctx.setCwd(dir);
    const path = this.resolveCommand(p.argv[0], p.env, ctx);
    const c = container ? container.plan : this.opts.container;
    const creds = c ? containerCreds({ ...c, uid: p.uid, gid: p.gid, groups: p.groups }, this.hostInfo) : initialCreds(this.hostInfo);
    const init = container ? container.init : this.init;
    const rlimits = init ? init.tg.rlimits.map((r) => ({ ...r })) : hostRlimits(this.hostInfo);
    // A pod container's first process: its spec's limits.
    if (container && !init) for (const r of container.plan.rlimits) rlimits[r.resource] = { cur: r.cur, max: r.max };
    const t = this.kernel.lifecycle.startInit({ path, argv: p.argv, envp: p.env, fdTable, fs: ctx, rlimits, creds, ...(container ? { limits: container.limits } : {}) });
    if (container) {
      t.nsproxy = container.ns;
      this.pod.join(t.tg, container);
    }
    if (c?.noNewPrivileges) stateOf(t.tg).noNewPrivs = true;
    if (c?.seccomp) t.seccomp = attach(null, checkProgram(c.seccomp), false);
    const exited = new Promise<number>((resolve) => this.execs.set(t.tg, resolve));
    if (tty) this.execTerminals.set(t.tg.pid, tty);
    if (start) this.startTask(t);
    return { pid: t.tg.pid, exited, task: t };
  }

  /** Let a loaded process run (a pod container's first, at its start). */
  startTask(t: Task): void {
    this.kernel.lifecycle.start(t);
    this.kernel.noteWake();
  }

  private podState: Pod | null = null;

  /** The containers that joined this sandbox (pod.ts). */
  get pod(): Pod {
    // A confined Sentry (handed its Gofer) opens no host tree: each container brings its Gofer.
    const gofer = goferWanted(this.opts.gofer);
    this.podState ??= new Pod(this.kernel, this.platform.memfile, typeof gofer === 'object' ? null : gofer, (m) => this.log(m), podLimit(this.opts.container?.annotations));
    return this.podState;
  }

  /**
   * A container joins the sandbox: its file systems and namespaces, and its
   * first process loaded (not running) with stdio from the host fds stdio opens,
   * as an exec's; it runs at startContainer. Its host files come through
   * gofer (the Sentry's end of a Gofer its runtime started for its trees,
   * owned from here), else as the sandbox's. When it exits, whatever is left
   * of the container is killed, as when a PID namespace's init ends.
   */
  addContainer(id: string, plan: ContainerPlan, share: PodShare, stdio: () => [number, number, number], gofer: GoferHandOff | null): PodContainer {
    const c = this.pod.add(id, plan, share, gofer);
    try {
      // Opened once the container exists: from here they are the sandbox's (exec closes them if the process cannot be made).
      const { exited, task } = this.exec({ argv: plan.argv, env: plan.env, cwd: plan.cwd, uid: plan.uid, gid: plan.gid, groups: plan.groups, stdio: stdio(), ownDescriptions: true }, c, false);
      c.init = task;
      c.exited = exited.then((st) => {
        c.status = st;
        this.pod.signal(c, S.SIGKILL, true, null);
        return st;
      });
    } catch (e) {
      this.pod.remove(id);
      throw e;
    }
    return c;
  }

  /**
   * Resolves once fd is readable or its peer is gone: a joining container's
   * Gofer's hello (pod_serve.ts), awaited while the pod's containers run on
   * (the Gofer's start is a Node start; read at once, it would hold up the
   * whole kernel).
   */
  whenReadable(fd: number): Promise<void> {
    return new Promise((resolve) => {
      const w = this.platform.watch(fd, HOST_IN, () => {
        this.platform.unwatch(w);
        resolve();
        this.kernel.requestNodeTurn();
      });
    });
  }

  private execExited(t: Task): void {
    const done = this.execs.get(t.tg);
    if (!done || !t.tg.exiting) return;
    this.execs.delete(t.tg);
    const tty = this.execTerminals.get(t.tg.pid);
    this.execTerminals.delete(t.tg.pid);
    if (tty) this.forgetTerminal(tty);
    done(t.tg.exitStatus ?? 0);
    // Whoever waits for it (the control channel's reply) continues in promise
    // jobs and I/O, which run only when the loop yields to Node.
    this.kernel.requestNodeTurn();
  }

  /** An exec'd process's terminal that no running exec uses any more. */
  private forgetTerminal(tty: Terminal): void {
    for (const other of this.execTerminals.values()) if (other === tty) return;
    this.hostStdio.forget(tty);
  }

  /**
   * A container's interfaces, taken over by the caller (host/netns.ts) once
   * its namespace is set up (at start: Docker moves the veth in during
   * create), become the stack's (net/packet/); source: where the namespace's
   * later changes come from. Sandbox mode without the NAT only.
   */
  attachLinks(list: LinkConfig[], source: LinkSource | null = null): void {
    if (!this.kernel.network.links) throw new Error('interfaces are taken over in sandbox network mode without the NAT only');
    (require('../net/packet/start') as typeof PacketStart).startLinks(this.kernel, list, source);
  }

  /**
   * Send a signal from outside (`tsvisor kill`) to pid 1, or with all to
   * every process. As from an ancestor PID namespace on Linux: init gets only
   * the signals it handles, and SIGKILL and SIGSTOP (so `docker stop` of an
   * init without a SIGTERM handler waits and then kills, as with runc).
   */
  signal(sig: number, all: boolean): void {
    for (const tg of this.kernel.groups.values()) {
      // kill --all of the sandbox's own container leaves the pod's other containers alone.
      if (!tg.zombie && (all || tg.pid === 1) && !this.podState?.containerOf(tg)) this.kernel.signals.sendToGroup(tg, sig, { signo: sig, code: 0, pid: 0, uid: 0 }, true);
    }
    this.kernel.noteWake();
  }

  /** The processes (thread groups) of the sandbox's own container, or of a pod container, by pid. */
  processes(container: PodContainer | null = null): SandboxProcess[] {
    const out: SandboxProcess[] = [];
    for (const tg of this.kernel.groups.values()) {
      if ((this.podState?.containerOf(tg) ?? null) !== container) continue;
      const main = tg.tasks.values().next().value;
      const state = tg.zombie ? 'Z' : tg.stopped ? 'T' : 'S';
      const { userNs, sysNs } = tg.cpuTime();
      out.push({ pid: tg.pid, ppid: tg.parent?.pid ?? 0, uid: main?.creds.uid ?? 0, state, comm: tg.comm, userNs, sysNs });
    }
    return out.sort((a, b) => a.pid - b.pid);
  }

  /** The sandbox's accounting; of a pod container, its processes' tasks, CPU time and the memory charged to it, with its limits. */
  stats(container: PodContainer | null = null): SandboxStats {
    const mf = this.platform.memfile;
    let userNs = 0;
    let sysNs = 0;
    for (const p of this.processes(container)) {
      userNs += p.userNs;
      sysNs += p.sysNs;
    }
    const tasks = container ? this.pod.groups(container).reduce((n, tg) => n + tg.tasks.size, 0) : this.kernel.tasks.size;
    const charge = container?.limits.memory;
    const pidsLimit = Math.min(this.kernel.maxTasks, container?.limits.pids?.limit ?? Infinity);
    return {
      memory: charge
        ? { usage: charge.usageBytes(), max: charge.peakPages * 4096, limit: Math.min(charge.limitPages, mf.limitPages) * 4096, failcnt: charge.failures, oomKills: charge.oomKills }
        : { usage: mf.usedPages * 4096 + mf.charges.kernelBytes, max: mf.peakPages * 4096, limit: mf.limitPages * 4096 },
      pids: { current: tasks, limit: pidsLimit },
      cpu: { userNs, sysNs },
    };
  }

  /**
   * A signal the host terminal raised: to the sandbox terminal's foreground
   * process group, as the line discipline sends it (pid 1 among them only
   * if it handles it); to pid 1 when no group has been made foreground yet.
   */
  private terminalSignal(sig: number, term: Terminal | null = this.hostStdio.terminal, leader = 1): void {
    const fg = term?.foreground ?? leader;
    const info = { signo: sig, code: S.SI_KERNEL, pid: 0, uid: 0 };
    for (const tg of this.kernel.groups.values()) {
      if (!tg.zombie && tg.pgid === fg) this.kernel.signals.sendToGroup(tg, sig, info, true);
    }
    this.kernel.noteWake();
  }

  /** A signal the caller's terminal raised (see run): to its foreground group once one other than init's is set, else to init. */
  private callerTerminalSignal(sig: number): void {
    const fg = this.hostStdio.terminal?.foreground ?? null;
    const init = this.kernel.groups.get(1);
    if (fg === null || !init || init.zombie || fg === init.pgid) this.kernel.forwardSignal(sig);
    else this.terminalSignal(sig);
  }

  /** A signal the host terminal of exec'd process pid raised (`tsvisor exec --tty`), for that terminal's foreground group. */
  execTerminalSignal(pid: number, sig: number): void {
    const term = this.execTerminals.get(pid);
    if (term) this.terminalSignal(sig, term, pid);
  }

  /** Start the first process (loading it first if load() was not called) and run the sandbox until it exits; resolves with its wait status. */
  async run(): Promise<number> {
    this.kernel.lifecycle.start(this.load());
    // Host signals are caught by Node (its handler writes to a pipe of its
    // loop): the readiness of Node's loop fd, watched in the platform's epoll
    // set, makes the kernel yield to Node, whose callback forwards the signal.
    // (A signalfd cannot do it: Node's threads leave these signals unblocked,
    // and a signalfd polled from the waker answers for the waker's signals.)
    const handlers: Array<readonly [NodeJS.Signals, () => void]> = FORWARDED.map(([name, sig]) => [name, () => this.kernel.forwardSignal(sig)] as const);
    // A console (OCI) is the sandbox's own terminal: its signals are always
    // the terminal's. The caller's terminal (`tsvisor do` from a shell) is
    // the terminal's once a job-control shell in the sandbox has made a
    // group foreground, the one it runs a job in (^C, ^Z then reach the job,
    // as on Linux); until then, and while init's group is in front, they
    // stay signals for the sandbox (to init, which ends on an unhandled
    // SIGINT as any command would).
    const callerTty = !this.opts.terminal && this.hostStdio.terminal !== null;
    if (this.opts.terminal || callerTty) {
      for (const [name, sig] of TERMINAL_SIGNALS) {
        const i = handlers.findIndex(([n]) => n === name);
        const h = [name, () => (callerTty ? this.callerTerminalSignal(sig) : this.terminalSignal(sig))] as const;
        if (i >= 0) handlers[i] = h;
        else handlers.push(h);
      }
    }
    for (const [name, fn] of handlers) process.on(name, fn);
    const nodeLoop = this.platform.watchRuntime(() => this.kernel.requestNodeTurn());
    // libuv adds the signal pipe to its epoll set only in its next turn.
    this.kernel.requestNodeTurn();
    try {
      return await this.kernel.run();
    } finally {
      this.platform.unwatch(nodeLoop);
      this.kernel.netstack?.shutdown();
      for (const [name, fn] of handlers) process.off(name, fn);
      const mf = this.platform.memfile;
      // Only for a debug log: the heap budget's bound asks node:v8 if nothing needed it yet.
      if (this.opts.debugLog) this.log(`memory: peak ${mf.peakPages * 4} kB of the ${mf.limitPages * 4} kB limit; host holds ${Math.floor(mf.hostResidentBytes() / 1024)} kB; kernel objects peak ${Math.floor(mf.heap.peak / 1024)} kB of ${Math.floor(mf.heap.limit / 1024)} kB`);
      this.platform.shutdown();
      if (this.opts.statsFile) {
        // WeakRef targets read during the current job stay alive until it
        // ends (the loop runs woken tasks as microtasks): a macrotask turn
        // first, so that the collection in cacheStats sees only real holders.
        await new Promise<void>((r) => setImmediate(r));
        this.out.writeFile(this.opts.statsFile, JSON.stringify({ ...this.platform.stats, ...this.cacheStats() }) + '\n');
      }
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
