// Reading kernel objects for procfs: who is calling, the state of a task,
// its memory statistics, signal sets, memory map and mount table view,
// turned into the plain inputs of format.ts.
import { hasCapability } from '../../auth/creds';
import { gidFrom, uidFrom, type UserNamespace } from '../../auth/userns';
import { CAP_SYS_PTRACE } from '../../abi/capability';
import { Errno, E } from '../../abi/errno';
import type { MemoryFile } from '../../platform/memfile';
import type { Kernel } from '../../kernel/kernel';
import { SIG_IGN, NSIG, sigBit } from '../../abi/signals';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { levelsBetween, type PidNamespace, tgidIn, tidIn } from '../../kernel/pid_ns';
import type { MemoryManager } from '../../mm/mm';
import { LOCK_ONFAULT, THP_HUGE, THP_NEVER, type Vma } from '../../mm/vma';
import { pathOf, type Dentry, type Mount, type VPath } from '../../vfs/dentry';
import type { MountNamespace } from '../../vfs/mount_ns';
import { mountinfoTags } from '../../vfs/propagation';
import { devMajor, devMinor } from '../../abi/fs';
import {
  formatMapsLine, formatMountinfoLine, formatMountsLine, formatSmapsBlock, nsToTicks, PAGE_SIZE,
  type MapsEntry, type MountEntry, type StatInput, type StatusInput,
} from './format';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../abi/mm';

const PF_RANDOMIZE = 0x400000;

/** What procfs reads from the kernel (a narrow view, so tests can pass a small fake). */
export type ProcKernel = Pick<Kernel, 'tasks' | 'groups' | 'rootNs' | 'bootMonotonicNs' | 'bootRealtimeNs' | 'monotonicNs' | 'vfs' | 'unixNames' | 'corePattern' | 'coreUsesPid' | 'vmSysctl' | 'hugePool'> & Partial<Pick<Kernel, 'keys' | 'cgroups'>> & {
  memfile: Pick<MemoryFile, 'ramBytes'>;
};

/** The calling task, when ctx is one of the kernel's live tasks. */
export function callerOf(k: ProcKernel, ctx: unknown): Task | null {
  if (!ctx || typeof ctx !== 'object') return null;
  const tid = (ctx as { tid?: unknown }).tid;
  if (typeof tid !== 'number') return null;
  const t = k.tasks.get(tid);
  return t === ctx ? t : null;
}

/** The root the caller sees paths from (null: the namespace root). */
export function callerRoot(k: ProcKernel, ctx: unknown): VPath | null {
  return callerOf(k, ctx)?.fs.root ?? null;
}

/** The path of p for a reader with root, " (deleted)" appended once unlinked. */
export function displayPath(p: VPath, root: VPath | null): string {
  const r = pathOf(p, root);
  return r.reachable ? r.path : `${r.path} (deleted)`;
}

/** ptrace_may_access-like check for magic links and private files: root or the same user. */
export function checkInspect(k: ProcKernel, ctx: unknown, t: Task): void {
  const c = callerOf(k, ctx);
  if (!c) return; // the Sentry itself
  if (hasCapability(c.creds, CAP_SYS_PTRACE) || c.tg === t.tg) return;
  const o = t.creds;
  if (c.creds.uid === o.euid && c.creds.uid === o.suid && c.creds.uid === o.uid) return;
  throw new Errno(E.EACCES);
}


/** ESRCH once the process has been reaped (an open /proc/PID file outliving it). */
export function ensureExists(tg: ThreadGroup): void {
  if (tg.reaped) throw new Errno(E.ESRCH);
}

/** Whether the task's resources (memory, files) are still there. */
export function hasResources(tg: ThreadGroup, t: Task): boolean {
  return !tg.zombie && !tg.reaped && t.state !== 'dead';
}

/** The one-letter state of /proc/PID/stat. */
export function stateLetter(tg: ThreadGroup, t: Task): string {
  if (tg.zombie || t.state === 'dead') return 'Z';
  if (t.ptrace?.stop) return 't';
  if (tg.stopped || t.state === 'stopped') return 'T';
  if (t.state === 'blocked') return 'S';
  return 'R';
}

/** Threads shown under task/ (the leader alone once the process is a zombie). */
export function threadsOf(tg: ThreadGroup): Task[] {
  const all = [...tg.tasks];
  const live = all.filter((t) => t.state !== 'dead');
  if (live.length) return live;
  return all.length ? [all[0]] : [];
}

// ---------------------------------------------------------------- memory

export interface MemStats {
  /** Bytes. */
  size: number;
  rss: number;
  /** Bytes in locked VMAs (VmLck). */
  lck: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  data: number;
  stk: number;
  exe: number;
  lib: number;
  startCode: number;
  endCode: number;
  startData: number;
  endData: number;
}

function residentBytes(v: Vma): number {
  return v.frames.count() * PAGE_SIZE;
}

function isStack(v: Vma): boolean {
  return v.growsDown || v.name === '[stack]';
}

export function memStats(mm: MemoryManager, exePath: string): MemStats {
  const s: MemStats = { size: 0, rss: 0, lck: 0, rssAnon: 0, rssFile: 0, rssShmem: 0, data: 0, stk: 0, exe: 0, lib: 0, startCode: 0, endCode: 0, startData: 0, endData: 0 };
  for (const v of mm.vmas) {
    const len = v.end - v.start;
    const rss = residentBytes(v);
    s.size += len;
    s.rss += rss;
    if (v.locked) s.lck += len;
    if (v.file) s.rssFile += rss;
    else if (v.shared) s.rssShmem += rss;
    else s.rssAnon += rss;
    if (isStack(v)) s.stk += len;
    else if (!v.shared && v.prot & PROT_WRITE) s.data += len;
    const isExe = v.file !== null && v.file.name === exePath;
    if (v.file && v.prot & PROT_EXEC) {
      if (isExe) {
        s.exe += len;
        if (!s.startCode || v.start < s.startCode) s.startCode = v.start;
        s.endCode = Math.max(s.endCode, v.end);
      } else s.lib += len;
    }
    if (isExe && v.prot & PROT_WRITE && !v.shared) {
      if (!s.startData || v.start < s.startData) s.startData = v.start;
      s.endData = Math.max(s.endData, v.end);
    }
  }
  return s;
}

// ---------------------------------------------------------------- signals

function setOf(sigs: Iterable<number>): bigint {
  let m = 0n;
  for (const s of sigs) if (s >= 1 && s <= NSIG) m |= sigBit(s);
  return m;
}

export function signalSets(tg: ThreadGroup, t: Task): { pending: bigint; shared: bigint; blocked: bigint; ignored: bigint; caught: bigint } {
  let ignored = 0n;
  let caught = 0n;
  for (let sig = 1; sig <= NSIG; sig++) {
    const a = tg.actions[sig];
    if (!a) continue;
    if (a.handler === SIG_IGN) ignored |= sigBit(sig);
    else if (a.handler > SIG_IGN) caught |= sigBit(sig);
  }
  return { pending: setOf(t.pending.keys()), shared: setOf(tg.pending.keys()), blocked: t.sigmask, ignored, caught };
}

// ---------------------------------------------------------------- stat / status

export interface Peaks {
  vm: number;
  rss: number;
}

/** id: the kernel-wide pid or tid of the directory; ns: the procfs instance's PID namespace, whose numbers are shown. */
export function buildStat(k: ProcKernel, tg: ThreadGroup, t: Task, id: number, ns: PidNamespace = k.rootNs.pid): StatInput {
  const live = hasResources(tg, t);
  const mem = live ? memStats(t.mm, tg.exePath) : null;
  const sig = signalSets(tg, t);
  const startNs = (id === tg.pid ? tg.startTimeNs : t.startTimeNs) - k.bootMonotonicNs;
  const rssLim = tg.rlimits[5];
  const cpu = id === tg.pid ? tg.cpuTime() : t.cpuTime();
  return {
    pid: id === tg.pid ? tgidIn(tg, ns) : tidIn(t, ns), comm: id === tg.pid ? tg.comm : t.comm, state: stateLetter(tg, t),
    ppid: tg.parent ? tgidIn(tg.parent, ns) : 0, pgrp: ns.nrOfGlobal(tg.pgid), session: ns.nrOfGlobal(tg.sid),
    flags: PF_RANDOMIZE, utime: nsToTicks(cpu.userNs), stime: nsToTicks(cpu.sysNs),
    cutime: nsToTicks(tg.childUserNs), cstime: nsToTicks(tg.childSysNs), numThreads: Math.max(1, threadsOf(tg).filter((x) => x.state !== 'dead').length),
    starttime: nsToTicks(startNs), vsize: mem?.size ?? 0, rss: mem ? mem.rss / PAGE_SIZE : 0,
    rsslim: rssLim && rssLim.cur >= 0 ? rssLim.cur : null,
    startcode: mem?.startCode ?? 0, endcode: mem?.endCode ?? 0, startstack: live ? t.mm.stackTop : 0,
    signal: sig.pending | sig.shared, blocked: sig.blocked, sigignore: sig.ignored, sigcatch: sig.caught,
    exitSignal: tg.exitSignal, startData: mem?.startData ?? 0, endData: mem?.endData ?? 0,
    startBrk: live ? t.mm.brkStart : 0, argStart: live ? t.mm.argStart : 0, argEnd: live ? t.mm.argEnd : 0,
    envStart: live ? t.mm.envStart : 0, envEnd: live ? t.mm.envEnd : 0,
    exitCode: tg.zombie ? tg.exitStatus ?? 0 : 0,
    priority: statPriority(t), nice: t.nice, rtPriority: t.sched.rtprio, policy: t.sched.policy,
  };
}

/** The stat file's priority (Linux's task_prio): 20 + nice for the fair policies, -1 - rtprio for realtime, -101 for deadline. */
function statPriority(t: Task): number {
  const p = t.sched.policy;
  if (p === 6) return -101;
  return p === 1 || p === 2 ? -1 - t.sched.rtprio : 20 + t.nice;
}

/** reader: the user namespace the IDs are shown in (the reader's; null: the kernel's own). */
export function buildStatus(tg: ThreadGroup, t: Task, id: number, peaks: Peaks | null, ncpu: number, reader: UserNamespace | null = null, ns: PidNamespace | null = null): StatusInput {
  const live = hasResources(tg, t);
  const c = t.creds;
  const u = (kid: number) => (reader ? uidFrom(reader, kid) : kid);
  const g = (kid: number) => (reader ? gidFrom(reader, kid) : kid);
  const sig = signalSets(tg, t);
  const kb = (b: number) => Math.floor(b / 1024);
  let mem: StatusInput['mem'] = null;
  if (live) {
    const m = memStats(t.mm, tg.exePath);
    const peak = peaks ? Math.max(peaks.vm, m.size) : m.size;
    const hwm = peaks ? Math.max(peaks.rss, m.rss) : m.rss;
    if (peaks) {
      peaks.vm = peak;
      peaks.rss = hwm;
    }
    mem = {
      peak: kb(peak), size: kb(m.size), hwm: kb(hwm), rss: kb(m.rss), rssAnon: kb(m.rssAnon), rssFile: kb(m.rssFile),
      rssShmem: kb(m.rssShmem), data: kb(m.data), stk: kb(m.stk), exe: kb(m.exe), lib: kb(m.lib),
      lck: kb(m.lck),
    };
  }
  let fdSize = 64;
  if (live) {
    const fds = t.fdTable.fds();
    const max = fds.length ? fds[fds.length - 1] : 0;
    while (fdSize <= max) fdSize *= 2;
  }
  const sigLimit = tg.rlimits[11];
  // The numbers in the instance's namespace and in each one below it down to the task's own (NStgid & co).
  const levels = ns && t.threadPid ? levelsBetween(ns, t.threadPid.ns) : [];
  const own = levels.length ? levels[0] : null;
  const pidAt = (n: PidNamespace) => (id === tg.pid ? tgidIn(tg, n) : tidIn(t, n));
  return {
    name: id === tg.pid ? tg.comm : t.comm, umask: t.fs.umask, state: stateLetter(tg, t),
    tgid: own ? tgidIn(tg, own) : tg.pid, pid: own ? pidAt(own) : id, ppid: tg.parent ? (own ? tgidIn(tg.parent, own) : tg.parent.pid) : 0,
    pgid: own ? own.nrOfGlobal(tg.pgid) : tg.pgid, sid: own ? own.nrOfGlobal(tg.sid) : tg.sid,
    nsLevels: levels.length > 1 ? {
      tgid: levels.map((n) => tgidIn(tg, n)), pid: levels.map(pidAt), pgid: levels.map((n) => n.nrOfGlobal(tg.pgid)), sid: levels.map((n) => n.nrOfGlobal(tg.sid)),
    } : undefined,
    uids: [u(c.uid), u(c.euid), u(c.suid), u(c.fsuid)], gids: [g(c.gid), g(c.egid), g(c.sgid), g(c.fsgid)],
    fdSize, groups: c.groups.map(g), mem, threads: Math.max(1, threadsOf(tg).filter((x) => x.state !== 'dead').length),
    sigQueued: t.pending.size + tg.pending.size, sigQueueLimit: sigLimit && sigLimit.cur >= 0 ? sigLimit.cur : 0,
    noNewPrivs: tg.procState?.noNewPrivs ?? false, seccomp: t.seccompStrict ? 1 : t.seccomp ? 2 : 0, seccompFilters: filterCount(t),
    sigPnd: sig.pending, shdPnd: sig.shared, sigBlk: sig.blocked, sigIgn: sig.ignored, sigCgt: sig.caught,
    tracerPid: t.ptrace ? (own ? tidIn(t.ptrace.tracer, own) : t.ptrace.tracer.tid) : 0,
    capInh: c.capInheritable, capPrm: c.capPermitted, capEff: c.capEffective, capBnd: c.capBounding, capAmb: c.capAmbient, ncpu,
  };
}

// ---------------------------------------------------------------- maps

const HIDDEN_RESERVED = new Set(['[stub]']);

/** maps entries: the VMAs and the host-provided [vdso]/[vvar]/[vsyscall] ranges, in address order. */
export function mapsEntries(mm: MemoryManager): Array<{ e: MapsEntry; vma: Vma | null }> {
  const out: Array<{ e: MapsEntry; vma: Vma | null }> = [];
  for (const v of mm.vmas) {
    const f = v.file;
    out.push({
      vma: v,
      e: {
        start: v.start, end: v.end, read: (v.prot & PROT_READ) !== 0, write: (v.prot & PROT_WRITE) !== 0,
        exec: (v.prot & PROT_EXEC) !== 0, shared: v.shared, offset: f ? v.pgoff * PAGE_SIZE : 0,
        major: f ? devMajor(f.dev) : 0, minor: f ? devMinor(f.dev) : 0, ino: f ? f.ino : 0,
        name: f ? f.nameNow?.() ?? f.name : v.name ?? '',
      },
    });
  }
  for (const r of mm.as.reserved) {
    if (HIDDEN_RESERVED.has(r.name)) continue;
    out.push({
      vma: null,
      e: {
        start: r.start, end: r.end, read: r.name !== '[vsyscall]', write: false, exec: r.name === '[vdso]' || r.name === '[vsyscall]',
        shared: false, offset: 0, major: 0, minor: 0, ino: 0, name: r.name,
      },
    });
  }
  out.sort((a, b) => a.e.start - b.e.start);
  return out;
}

export function mapsText(mm: MemoryManager): string {
  return mapsEntries(mm).map(({ e }) => formatMapsLine(e) + '\n').join('');
}

export function smapsText(mm: MemoryManager): string {
  let s = '';
  for (const { e, vma } of mapsEntries(mm)) {
    const flags: string[] = [];
    if (e.read) flags.push('rd');
    if (e.write) flags.push('wr');
    if (e.exec) flags.push('ex');
    if (e.shared) flags.push('sh');
    flags.push('mr');
    if (!vma || vma.maywrite) flags.push('mw');
    flags.push('me');
    if (e.shared) flags.push('ms');
    if (vma?.growsDown) flags.push('gd');
    // In Linux's bit order: VM_LOCKED, VM_DONTCOPY, VM_LOCKONFAULT, VM_ACCOUNT, VM_WIPEONFORK, VM_DONTDUMP, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_UFFD_MISSING.
    if (vma?.locked) flags.push('lo');
    const huge = vma?.file?.mappable.pageSize !== undefined ? vma.file.mappable : null;
    if (vma?.dontfork) flags.push('dc');
    // A hugetlb mapping is VM_DONTEXPAND and VM_HUGETLB.
    if (huge) flags.push('de');
    if (vma && vma.locked & LOCK_ONFAULT) flags.push('lf');
    if (vma && !vma.file && !vma.shared) flags.push('ac');
    if (huge) flags.push('ht');
    if (vma?.wipeonfork) flags.push('wf');
    if (vma?.dontdump) flags.push('dd');
    if (vma?.thp === THP_HUGE) flags.push('hg');
    if (vma?.thp === THP_NEVER) flags.push('nh');
    // VM_UFFD_MISSING, after VM_MERGEABLE's "mg" (never set here).
    if (vma?.uffd) flags.push('um');
    // VM_SEALED is the highest flag bit: last.
    if (vma?.sealed) flags.push('sl');
    s += formatMapsLine(e) + '\n';
    s += formatSmapsBlock({
      // Huge pages are not in Rss: Linux counts them as Private_Hugetlb (Shared_Hugetlb when several processes map them).
      sizeKb: (e.end - e.start) / 1024, rssKb: vma && !huge ? residentBytes(vma) / 1024 : 0,
      anonymous: !vma || !vma.file, shared: e.shared, flags, locked: !!vma?.locked,
      pageKb: huge?.pageSize !== undefined ? huge.pageSize / 1024 : undefined,
      hugetlbKb: huge?.pagesIn && vma ? (huge.pagesIn(vma.pgoff, vma.pgoff + vma.pages) * huge.pageSize!) / 1024 : 0,
    });
  }
  return s;
}

// ---------------------------------------------------------------- argv / env

function copyArea(mm: MemoryManager, start: number, end: number): Buffer {
  if (!start || end <= start) return Buffer.alloc(0);
  try {
    return mm.copyIn(start, end - start);
  } catch {
    return Buffer.alloc(0);
  }
}

/** /proc/PID/cmdline: the argv area; if a program rewrote it without a final NUL, up to the next NUL in the env area. */
export function cmdline(tg: ThreadGroup, t: Task): Buffer {
  if (!hasResources(tg, t)) return Buffer.alloc(0);
  const mm = t.mm;
  const args = copyArea(mm, mm.argStart, mm.argEnd);
  if (args.length === 0 || args[args.length - 1] === 0) return args;
  const env = copyArea(mm, mm.envStart, mm.envEnd);
  const nul = env.indexOf(0);
  return Buffer.concat([args, nul >= 0 ? env.subarray(0, nul) : env]);
}

export function environ(tg: ThreadGroup, t: Task): Buffer {
  if (!hasResources(tg, t)) return Buffer.alloc(0);
  return copyArea(t.mm, t.mm.envStart, t.mm.envEnd);
}

// ---------------------------------------------------------------- mounts

/** Where mount m appears for a reader whose root is root, or null if it is outside. */
export function mountPointFrom(m: Mount, root: VPath): string | null {
  if (m === root.mount) return '/';
  const parts: string[] = [];
  let cm: Mount = m;
  let d = m.root;
  for (;;) {
    if (cm === root.mount && d === root.dentry) return '/' + parts.reverse().join('/');
    if (d === cm.root) {
      if (!cm.parent || !cm.mountpoint) return null;
      d = cm.mountpoint;
      cm = cm.parent;
      continue;
    }
    if (!d.parent) return null;
    parts.push(d.name);
    d = d.parent;
  }
}

/** The path of dentry d inside its file system (the root a bind mount shows). */
export function pathInFs(d: Dentry): string {
  // A namespace file bound somewhere shows its name ("mnt:[4026531840]"), as nsfs's root-less dentries do.
  if (!d.parent && d.name) return d.name;
  const parts: string[] = [];
  for (let x: Dentry | null = d; x && x.parent; x = x.parent) parts.push(x.name);
  return '/' + parts.reverse().join('/');
}

/**
 * The mounts of namespace ns that a reader whose root is root sees, parents
 * first. A file system whose read-only flag is fixed (a host tree without a
 * writer) counts as a read-only mount too, as the read-only bind mount it
 * stands for; tmpfs's own flag (setReadonly) is only the superblock's.
 */
export function mountEntries(ns: MountNamespace, root: VPath | null): MountEntry[] {
  const r = root ?? { mount: ns.root, dentry: ns.root.root };
  const out: MountEntry[] = [];
  for (const m of ns.mounts()) {
    const mp = mountPointFrom(m, r);
    if (mp === null) continue;
    out.push({
      id: m.id, parentId: m.parent ? m.parent.id : 0, major: devMajor(m.fs.dev), minor: devMinor(m.fs.dev), mountPoint: mp,
      fsType: m.fs.name, source: m.source ?? m.fs.name, readonly: m.flags.readonly || (m.fs.readonly && !m.fs.setReadonly), noexec: m.flags.noexec,
      nosuid: !!m.flags.nosuid, nodev: !!m.flags.nodev, root: pathInFs(m.root), fsReadonly: m.fs.readonly,
      atime: m.flags.atime, nodiratime: m.flags.nodiratime, nosymfollow: m.flags.nosymfollow,
      tags: mountinfoTags(m, ns, (x) => mountPointFrom(x, r) !== null),
    });
  }
  return out;
}

export function mountsText(ns: MountNamespace, root: VPath | null, info: boolean): string {
  return mountEntries(ns, root).map((m) => (info ? formatMountinfoLine(m) : formatMountsLine(m))).join('');
}

/** Filters in a task's seccomp chain (Seccomp_filters). */
function filterCount(t: Task): number {
  let n = 0;
  for (let f = t.seccomp; f; f = f.prev) n++;
  return n;
}
