// The cgroup files that act on processes (Documentation/admin-guide/
// cgroup-v2.rst): cgroup.procs moves with delegation's rules,
// cgroup.freeze (the freezer: kernel/freezer.ts holds the tasks),
// cgroup.kill, cgroup.events; and nsdelegate's write boundary at a cgroup
// namespace's root.
import { Errno, E } from '../../abi/errno';
import { SIGKILL, SI_KERNEL } from '../../abi/signals';
import type { Cgroup } from '../../kernel/cgroup';
import { holdTasks, releaseTasks, taskAtRest } from '../../kernel/freezer';
import type { Kernel } from '../../kernel/kernel';
import { vGroup, vTask } from '../../kernel/pid_ns';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { mayAccess, MAY_WRITE } from '../../vfs/perm';
import type { NodeMaker, Entry } from '../proc/nodes';
import { callerOf } from '../proc/task_info';
import type { CgroupFs } from './cgroupfs';

/** The words of a write, without its trailing newline. */
export const text = (data: Buffer): string => data.toString('latin1').trim();

export function caller(k: Kernel, ctx: unknown): Task {
  const t = callerOf(k, ctx);
  if (!t) throw new Errno(E.EINVAL);
  return t;
}

/** An int as the kernel's kstrtoint(s, 0) reads it (decimal, 0x hex, 0 octal): EINVAL otherwise. */
function kstrtoint(data: Buffer): number {
  const s = text(data);
  const m = /^([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.exec(s);
  if (!m) throw new Errno(E.EINVAL);
  const d = m[2];
  const n = /^0x/i.test(d) ? parseInt(d.slice(2), 16) : d.length > 1 && d[0] === '0' ? parseInt(d, 8) : Number(d);
  if (n > 0x7fffffff + (m[1] === '-' ? 1 : 0)) throw new Errno(E.ERANGE);
  return m[1] === '-' ? -n : n;
}

/** Files that a cgroup namespace's root lets its own members write under nsdelegate (CFTYPE_NS_DELEGATABLE). */
const DELEGATABLE: readonly string[] = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control'];

/** The writer's cgroup namespace root (null: the hierarchy's). */
function nsRootOf(t: Task): Cgroup | null {
  return t.nsproxy.cgroup.cgroupRoot;
}

/**
 * With nsdelegate, a cgroup namespace's root is a delegation boundary: from
 * inside the namespace only its delegatable files take writes (EPERM).
 */
export function nsBoundary(k: Kernel, c: Cgroup, name: string, ctx: unknown): void {
  if (!k.cgroups.nsdelegate || DELEGATABLE.includes(name)) return;
  const t = callerOf(k, ctx);
  if (!t || t.nsproxy.cgroup === k.rootNs.cgroup) return;
  if ((nsRootOf(t) ?? k.cgroups.root) === c) throw new Errno(E.EPERM);
}

/** Live processes of c and its descendants. */
function subtreeGroups(k: Kernel, c: Cgroup): ThreadGroup[] {
  return [...k.groups.values()].filter((g) => !g.zombie && c.contains(k.cgroups.of(g)));
}

function subtreeTasks(k: Kernel, c: Cgroup): Task[] {
  return subtreeGroups(k, c).flatMap((g) => [...g.tasks]);
}

/** The writer may write the cgroup.procs of com (delegation's check, with the writer's credentials). */
function mayWriteProcs(fs: CgroupFs, t: Task): (com: Cgroup) => boolean {
  return (com) => {
    const procs = fs.dirOf(com).lookup('cgroup.procs');
    return procs !== null && mayAccess(t.creds, procs.attrs(), MAY_WRITE);
  };
}

/** A process's threads were moved: held if their cgroup is frozen now, let go if not. */
function refreeze(k: Kernel, tasks: Iterable<Task>): void {
  const list = [...tasks];
  holdTasks(k, list.filter((x) => k.cgroups.held(x)));
  releaseTasks(k, list);
}

/**
 * Whose credentials and cgroup namespace a move is checked with: the
 * file's opener's, as Linux checks (so that a file passed to a more
 * privileged writer gives it nothing); the writer's once the opener is gone.
 */
function openerOf(k: Kernel, opener: unknown, writer: Task): Task {
  return callerOf(k, opener) ?? writer;
}

/** The number a cgroup.procs or cgroup.threads write names: a decimal id (0: the writer's own). */
function idOf(data: Buffer): number {
  const s = text(data);
  if (!/^\d+$/.test(s)) throw new Errno(E.EINVAL);
  return Number(s);
}

/**
 * cgroup.procs: move the process named (0: the writer's own) here. The
 * file's opener must be able to write the cgroup.procs of the common
 * ancestor of the process's cgroup and this one; with nsdelegate both must
 * lie in its cgroup namespace. A process moved into or out of a frozen cgroup is held
 * or let go.
 */
export function writeProcs(m: NodeMaker<CgroupFs>, k: Kernel, c: Cgroup, data: Buffer, ctx: unknown, opener: unknown): void {
  const t = caller(k, ctx);
  const pid = idOf(data);
  const g = pid === 0 ? t.tg : vGroup(t, pid);
  if (!g || g.zombie) throw new Errno(E.ESRCH);
  const o = openerOf(k, opener, t);
  k.cgroups.checkMigrate(k.cgroups.of(g), c, mayWriteProcs(m.fs, o), nsRootOf(o));
  k.cgroups.move(g, c);
  refreeze(k, g.tasks);
}

/** cgroup.threads: move the thread named (0: the writer) here, within its domain's threaded subtree; the same checks as cgroup.procs. */
export function writeThreads(m: NodeMaker<CgroupFs>, k: Kernel, c: Cgroup, data: Buffer, ctx: unknown, opener: unknown): void {
  const t = caller(k, ctx);
  const tid = idOf(data);
  const x = tid === 0 ? t : vTask(t, tid);
  if (!x || x.state === 'dead' || x.tg.zombie) throw new Errno(E.ESRCH);
  const o = openerOf(k, opener, t);
  k.cgroups.checkMigrate(k.cgroups.ofTask(x), c, mayWriteProcs(m.fs, o), nsRootOf(o));
  k.cgroups.moveThread(x, c);
  refreeze(k, [x]);
}

/**
 * clone3's CLONE_INTO_CGROUP: the caller must be able to write the
 * destination's cgroup.procs (EACCES), and the rules of a move from its own
 * cgroup hold (checkMigrate), as Linux checks them at the fork.
 */
export function checkCloneInto(fs: CgroupFs, t: Task, c: Cgroup): void {
  const may = mayWriteProcs(fs, t);
  if (!may(c)) throw new Errno(E.EACCES);
  fs.kernel.cgroups.checkMigrate(fs.kernel.cgroups.ofTask(t), c, may, nsRootOf(t));
}

/** cgroup.freeze: 1 freezes the subtree's processes, 0 lets them go (ERANGE for other numbers). */
function writeFreeze(k: Kernel, c: Cgroup, data: Buffer): void {
  const v = kstrtoint(data);
  if (v !== 0 && v !== 1) throw new Errno(E.ERANGE);
  c.setFreeze(v === 1);
  const tasks = subtreeTasks(k, c);
  if (c.frozen) holdTasks(k, tasks);
  else releaseTasks(k, tasks);
}

/** cgroup.kill: 1 sends SIGKILL to every process of the subtree, the writer's own included (ERANGE for other numbers). */
function writeKill(k: Kernel, c: Cgroup, data: Buffer): void {
  if (kstrtoint(data) !== 1) throw new Errno(E.ERANGE);
  for (const g of subtreeGroups(k, c)) k.signals.sendToGroup(g, SIGKILL, { signo: SIGKILL, code: SI_KERNEL }, true);
  k.noteWake();
}

/** cgroup.events: populated, and frozen once the subtree is frozen and each of its tasks at rest. */
function events(k: Kernel, c: Cgroup): string {
  const frozen = c.frozen && subtreeTasks(k, c).every(taskAtRest);
  return `populated ${c.populated() ? 1 : 0}\nfrozen ${frozen ? 1 : 0}\n`;
}

export function controlFiles(m: NodeMaker<CgroupFs>, c: Cgroup, k: Kernel): Entry[] {
  return [
    m.file('cgroup.events', () => events(k, c)),
    m.rwFile('cgroup.freeze', () => `${c.freeze ? 1 : 0}\n`, (d) => writeFreeze(k, c, d)),
    // Write-only: reading it is EINVAL, as kernfs answers for a file without a show.
    ['cgroup.kill', () => m.fileNode('cgroup.kill', { read: () => { throw new Errno(E.EINVAL); }, write: (d) => writeKill(k, c, d) }, 0o200)],
  ];
}
