// /proc/PID/ and /proc/PID/task/TID/: per-process files. A directory is bound
// to a thread group and one of its tasks when it is looked up; its files read
// the live kernel objects at each read, and fail with ESRCH once the process
// has been reaped.
import { PROCMAP_QUERY, procmapQuery } from './procmap_query';
import { hasCapability } from '../../auth/creds';
import { CAP_SYS_RESOURCE } from '../../abi/capability';
import { Errno, E } from '../../abi/errno';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { tidIn } from '../../kernel/pid_ns';
import { gidTo, uidTo } from '../../auth/userns';
import type { VPath } from '../../vfs/dentry';
import type { Inode } from '../../vfs/inode';
import { fdDir, fdinfoDir } from './fd';
import { idMapEntries, nsDir } from './ns';
import { timensEntry } from './timens';
import { memEntry } from './mem';
import { pagemapEntry } from './pagemap';
import { formatLimits, formatStat, formatStatm, formatStatus, PAGE_SIZE } from './format';
import { NodeMaker, type Entry, type OwnerFn } from './nodes';
import { kstrto } from './numparse';
import type { ProcFs } from './procfs';
import {
  buildStat, buildStatus, callerOf, callerRoot, checkInspect, cmdline, displayPath, ensureExists, environ,
  hasResources, mapsText, memStats, mountsText, smapsText, threadsOf,
} from './task_info';

const TASK_COMM_LEN = 16;

function requireLive(tg: ThreadGroup, t: Task): void {
  ensureExists(tg);
  if (!hasResources(tg, t)) throw new Errno(E.ENOENT);
}

/** Per-process state procfs keeps itself (values written to its files). */
export interface PidExtras {
  oomScoreAdj: number;
  /** The lowest oom_score_adj a writer without CAP_SYS_RESOURCE may set. */
  oomScoreAdjMin: number;
  /** Which mappings a core dump would include (bits 0-8, man 5 core). */
  coredumpFilter: number;
  peaks: { vm: number; rss: number };
}

/**
 * Who owns a process's /proc files (Linux's task_dump_owner): its effective
 * IDs while it is dumpable, else root, the root of its user namespace when
 * that maps one (a process that changed its IDs, or cleared PR_SET_DUMPABLE,
 * keeps others and itself out of files such as timens_offsets and fd/).
 */
function dumpOwner(tg: ThreadGroup, t: Task): { uid: number; gid: number } {
  if ((tg.procState?.dumpable ?? 1) === 1) return { uid: t.creds.euid, gid: t.creds.egid };
  const ns = t.creds.userns;
  const uid = uidTo(ns, 0);
  const gid = gidTo(ns, 0);
  return { uid: uid < 0 ? 0 : uid, gid: gid < 0 ? 0 : gid };
}

/**
 * The directory of process tg (thread === null) or of one of its threads
 * (/proc/PID/task/TID and the hidden /proc/TID).
 */
export function pidDirNode(fs: ProcFs, tg: ThreadGroup, t: Task, thread: boolean): Inode {
  const k = fs.kernel;
  const id = thread ? t.tid : tg.pid;
  // The process's start names this incarnation of the pid: a process that reuses it gets other inodes (as Linux's are new).
  const base = `pid/${tg.pid}@${tg.startTimeNs}`;
  const key = thread ? `${base}/task/${t.tid}` : base;
  const owner: OwnerFn = () => dumpOwner(tg, t);
  const startNs = BigInt(Math.max(0, Math.round(k.bootRealtimeNs + (tg.startTimeNs - k.bootMonotonicNs))));
  const m = new NodeMaker(fs, key, owner, startNs);
  const x = fs.extras(tg);

  const entries = (): Entry[] => {
    const e: Entry[] = [
      m.file('auxv', (ctx) => (ensureExists(tg), checkInspect(k, ctx, t), hasResources(tg, t) ? Buffer.from(t.mm.auxv) : Buffer.alloc(0)), 0o400),
      // Its cgroup's path from the reader's cgroup namespace root.
      m.file('cgroup', (ctx) => (ensureExists(tg), `0::${k.cgroups?.of(tg).pathFrom(callerOf(k, ctx)?.nsproxy.cgroup.cgroupRoot ?? null) ?? '/'}\n`)),
      m.file('cmdline', () => (ensureExists(tg), cmdline(tg, t))),
      m.rwFile('comm', () => (ensureExists(tg), `${thread ? t.comm : tg.comm}\n`), (data, ctx) => {
        ensureExists(tg);
        const c = callerOf(k, ctx);
        if (c && c.tg !== tg) throw new Errno(E.EINVAL);
        let s = data.toString('latin1');
        if (s.endsWith('\n')) s = s.slice(0, -1);
        if (thread) t.comm = s.slice(0, TASK_COMM_LEN - 1);
        else tg.comm = s.slice(0, TASK_COMM_LEN - 1);
      }),
      m.rwFile('coredump_filter', () => (ensureExists(tg), `${x.coredumpFilter.toString(16).padStart(8, '0')}\n`), (data) => {
        ensureExists(tg);
        x.coredumpFilter = kstrto(data.toString('latin1'), false) & COREDUMP_FILTER_MASK;
      }),
      m.link('cwd', magic(fs, tg, t, () => t.fs.cwd)),
      m.file('environ', (ctx) => (ensureExists(tg), checkInspect(k, ctx, t), environ(tg, t)), 0o400),
      m.link('exe', {
        target: (ctx) => {
          requireLive(tg, t);
          checkInspect(k, ctx, t);
          if (!tg.exePath) throw new Errno(E.ENOENT);
          return tg.exePath;
        },
        resolve: (ctx) => {
          requireLive(tg, t);
          checkInspect(k, ctx, t);
          return fs.resolveExe(tg.exePath);
        },
      }),
      fdDir(m, tg, t),
      fdinfoDir(m, tg, t),
      m.file('io', () => (ensureExists(tg), 'rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n'), 0o400),
      m.file('limits', () => (ensureExists(tg), formatLimits(tg.rlimits))),
      m.file('loginuid', () => '4294967295', 0o644),
      memEntry(fs, m, tg, t),
      ['maps', () => m.fileNode('maps', {
        read: () => (ensureExists(tg), hasResources(tg, t) ? mapsText(t.mm) : ''),
        ioctl: (c, cmd, arg) => (cmd === PROCMAP_QUERY ? procmapQuery(c as Task, tg, t, arg) : null),
      })],
      m.file('mountinfo', () => (ensureExists(tg), mountsText(t.nsproxy.mnt, t.fs.root, true))),
      m.file('mounts', () => (ensureExists(tg), mountsText(t.nsproxy.mnt, t.fs.root, false))),
      m.file('oom_score', () => (ensureExists(tg), `${oomScore(fs, tg, t, x.oomScoreAdj)}\n`)),
      m.rwFile('oom_score_adj', () => (ensureExists(tg), `${x.oomScoreAdj}\n`), (data, ctx) => {
        ensureExists(tg);
        const v = kstrto(data.toString('latin1').trim(), true);
        if (v < OOM_ADJ_MIN || v > OOM_ADJ_MAX) throw new Errno(E.EINVAL);
        const c = callerOf(k, ctx);
        // Going below the floor needs CAP_SYS_RESOURCE; a privileged writer moves the floor.
        const privileged = !c || hasCapability(c.creds, CAP_SYS_RESOURCE);
        if (v < x.oomScoreAdjMin && !privileged) throw new Errno(E.EACCES);
        if (privileged) x.oomScoreAdjMin = v;
        x.oomScoreAdj = v;
      }),
      pagemapEntry(fs, m, tg, t),
      m.file('personality', () => (ensureExists(tg), '00000000\n'), 0o400),
      m.link('root', magic(fs, tg, t, () => t.fs.root)),
      m.file('sessionid', () => '4294967295'),
      m.file('smaps', () => (ensureExists(tg), hasResources(tg, t) ? smapsText(t.mm) : '')),
      m.file('stat', () => (ensureExists(tg), formatStat(buildStat(k, tg, t, id, fs.pidns)))),
      m.file('statm', () => (ensureExists(tg), statmText(tg, t))),
      m.file('status', (ctx) => (ensureExists(tg), formatStatus(buildStatus(tg, t, id, x.peaks, fs.ncpu, callerOf(k, ctx)?.creds.userns ?? null, fs.pidns)))),
      ...idMapEntries(fs, m, tg, t),
      nsDir(fs, m, tg, t),
      m.file('wchan', () => (ensureExists(tg), '0')),
    ];
    // timens_offsets is a process's file only, as Linux lists it.
    if (!thread) e.push(taskDir(fs, m, tg), timensEntry(fs, m, tg, t));
    return e.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  };
  const dir = m.dirNode('', {
    list: () => (tg.reaped ? [] : entries()),
  });
  if (!thread) dir.process = tg;
  return dir;
}

const OOM_ADJ_MIN = -1000;
const OOM_ADJ_MAX = 1000;
const COREDUMP_FILTER_MASK = 0x1ff;
export const COREDUMP_FILTER_DEFAULT = 0x33;

/**
 * What the OOM killer would think of the process, as Linux shows it: its
 * resident pages plus oom_score_adj thousandths of the memory, scaled to
 * 1000 + badness / total * 1000 and then by 2/3; 0 for an unkillable one
 * (adj -1000) or one without memory.
 */
function oomScore(fs: ProcFs, tg: ThreadGroup, t: Task, adj: number): number {
  if (adj === OOM_ADJ_MIN || !hasResources(tg, t)) return 0;
  const total = Math.max(1, Math.floor(fs.kernel.memfile.ramBytes().total / PAGE_SIZE));
  const badness = Math.floor(memStats(t.mm, tg.exePath).rss / PAGE_SIZE) + adj * Math.floor(total / 1000);
  return Math.max(0, Math.trunc(((1000 + Math.trunc((badness * 1000) / total)) * 2) / 3));
}

function statmText(tg: ThreadGroup, t: Task): string {
  if (!hasResources(tg, t)) return formatStatm({ size: 0, resident: 0, shared: 0, text: 0, data: 0 });
  const s = memStats(t.mm, tg.exePath);
  const p = (b: number) => Math.floor(b / PAGE_SIZE);
  return formatStatm({ size: p(s.size), resident: p(s.rss), shared: p(s.rssFile + s.rssShmem), text: p(s.exe), data: p(s.data + s.stk) });
}

/** cwd and root: magic links to the task's fs context locations. */
function magic(fs: ProcFs, tg: ThreadGroup, t: Task, where: () => VPath) {
  const k = fs.kernel;
  return {
    target: (ctx: unknown) => {
      requireLive(tg, t);
      checkInspect(k, ctx, t);
      return displayPath(where(), callerRoot(k, ctx));
    },
    resolve: (ctx: unknown) => {
      requireLive(tg, t);
      checkInspect(k, ctx, t);
      return where();
    },
  };
}

function taskDir(fs: ProcFs, m: NodeMaker, tg: ThreadGroup): Entry {
  const find = (name: string): Inode | null => {
    if (!/^[1-9]\d*$/.test(name)) return null;
    const tid = Number(name);
    const t = threadsOf(tg).find((x) => tidIn(x, fs.pidns) === tid);
    return t ? pidDirNode(fs, tg, t, true) : null;
  };
  return m.dir('task', {
    list: () => (tg.reaped ? [] : threadsOf(tg).map((t): Entry => [String(tidIn(t, fs.pidns)), () => pidDirNode(fs, tg, t, true)])),
    find: (name) => (tg.reaped ? null : find(name)),
  });
}
