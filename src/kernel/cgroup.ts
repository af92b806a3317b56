// The sandbox's cgroup v2 hierarchy (one per sandbox, as a container's
// cgroup namespace shows its own cgroup as the root): the tree, its limits
// and the rules of man 7 cgroups that the kernel enforces. The files that
// show and change it are fsimpl/cgroupfs. A process's cgroup is
// ThreadGroup.cgroup (null: the root); membership is computed from the
// live processes, so nothing here holds a process.
//
// Controllers: pids (pids.max enforced at fork and clone, EAGAIN), memory
// (each non-root cgroup is a memory charge group of the memory file:
// memory.current, peak and events are its charge's, memory.max its limit,
// so the cgroup's own processes are held to it), cpu (cpu.stat from the
// processes' CPU times; cpu.max enforced by kernel/cgroup_cpu.ts;
// cpu.weight kept, not enforced).
// The freezer (cgroup.freeze: Cgroup.frozen, the processes held by
// kernel/freezer.ts), delegation's rules for moves (checkMigrate) and
// threaded subtrees (Cgroup.threaded; a thread moved apart from its
// process's cgroup is in CgroupTree.apart) are kept here too.
import { Errno, E } from '../abi/errno';
import type { ChargeTable, MemCharge } from '../platform/memcharge';
import type { ThreadGroup } from './thread_group';
import { CpuBandwidth } from './cgroup_cpu';
import type { Task } from './task';

export const CONTROLLERS = ['cpu', 'memory', 'pids'] as const;
export type Controller = (typeof CONTROLLERS)[number];
/** The controllers that work per thread, and so inside a threaded subtree. */
const THREADED: readonly Controller[] = ['cpu', 'pids'];

/** Cgroups a sandbox may hold besides its root (each is a memory charge group, of which there are 255). */
export const MAX_CGROUPS = 128;

/** What the tree needs of the kernel. */
export interface CgroupHost {
  readonly groups: ReadonlyMap<number, ThreadGroup>;
  readonly tasks: ReadonlyMap<number, Task>;
  /** The memory file's charge groups (absent in unit tests: no memory controller behind the files). */
  readonly charges: ChargeTable | null;
  /** The memory file's size in pages: a new cgroup's charge limit until memory.max says less. */
  readonly limitPages: number;
}

/** A cgroupfs file's or directory's owner and permission bits. */
export interface FileOwner {
  uid: number;
  gid: number;
  perm: number;
}

export class Cgroup {
  readonly children = new Map<string, Cgroup>();
  readonly subtreeControl = new Set<Controller>();
  maxDepth = Infinity;
  maxDescendants = Infinity;
  pidsMax = Infinity;
  /** Forks refused here at pids.max (pids.events' max). */
  pidsRefused = 0;
  /** memory.max in bytes (Infinity: "max"). */
  memoryMax = Infinity;
  /** cpu.max as written ("$MAX $PERIOD": enforced by cpu) and cpu.weight (kept, not enforced). */
  cpuMax = 'max 100000';
  cpuWeight = 100;
  /** CPU time of reaped processes that ended here, and of removed children (cpu.stat keeps it). */
  exitedUserNs = 0;
  exitedSysNs = 0;
  removed = false;
  /** cgroup.type "threaded": part of the threaded subtree of its nearest domain ancestor (dom). Once threaded, always. */
  threaded = false;
  /** cgroup.freeze as written, and whether it or an ancestor's is set (its processes are then held: kernel/freezer.ts). */
  freeze = false;
  frozen = false;
  /** Throttled by its cpu.max (kernel/cgroup_cpu.ts); held: frozen, or it or an ancestor throttled (the runner's check). */
  throttled = false;
  held = false;
  /** cpu.max's enforcement and cpu.stat's throttling counts. */
  readonly cpu: CpuBandwidth;
  /**
   * Owners and modes given by chown and chmod (delegation), by file name
   * ("" the directory); a file not here is root's with its default mode.
   * Bounded by the number of interface files.
   */
  readonly owners = new Map<string, FileOwner>();
  readonly id: number;

  constructor(
    readonly tree: CgroupTree,
    readonly parent: Cgroup | null,
    readonly name: string,
    /** The memory charge group of its processes (null for the root: the sandbox's own). */
    readonly charge: MemCharge | null,
  ) {
    this.id = tree.nextId++;
    this.cpu = new CpuBandwidth(this);
  }

  get depth(): number {
    return this.parent ? this.parent.depth + 1 : 0;
  }

  /** Its path from the root: "/" for the root. */
  path(): string {
    if (!this.parent) return '/';
    const up = this.parent.path();
    return `${up === '/' ? '' : up}/${this.name}`;
  }

  /** Its path as seen from a cgroup namespace rooted at root ("/.." for each step above it, as Linux's cgroup_path_ns). */
  pathFrom(root: Cgroup | null): string {
    const from = root ?? this.tree.root;
    if (from.contains(this)) {
      const mine = this.path(), base = from.path();
      return base === '/' ? mine : mine.slice(base.length) || '/';
    }
    // Up from the namespace's root to the common ancestor, then down.
    let up = '';
    let a: Cgroup = from;
    while (!a.contains(this)) {
      up += '/..';
      a = a.parent!;
    }
    const rest = a === this ? '' : this.pathFrom(a);
    return up + (rest === '/' ? '' : rest);
  }

  *subtree(): Generator<Cgroup> {
    yield this;
    for (const c of this.children.values()) yield* c.subtree();
  }

  descendants(): number {
    let n = -1;
    for (const _ of this.subtree()) n++;
    return n;
  }

  contains(c: Cgroup): boolean {
    for (let x: Cgroup | null = c; x; x = x.parent) if (x === this) return true;
    return false;
  }

  /** The nearest cgroup that is an ancestor of both (or either) of a and b. */
  static common(a: Cgroup, b: Cgroup): Cgroup {
    let c = a;
    while (!c.contains(b)) c = c.parent!;
    return c;
  }

  /** Set cgroup.freeze: the subtree's effective state follows (a descendant stays frozen while its own is set). */
  setFreeze(on: boolean): void {
    this.freeze = on;
    this.inherit();
  }

  setThrottled(on: boolean): void {
    this.throttled = on;
    this.inherit();
  }

  /** The subtree's frozen and held states from their own settings and their parents'. */
  inherit(): void {
    for (const c of this.subtree()) {
      const p = c.parent;
      c.frozen = c.freeze || (p?.frozen ?? false);
      c.held = c.frozen || c.throttled || (p?.held ?? false);
    }
  }

  /** cgroup.controllers: all for the root, else what the parent enabled for its children (a threaded cgroup: the threaded ones). */
  controllers(): Controller[] {
    if (!this.parent) return [...CONTROLLERS];
    return CONTROLLERS.filter((c) => this.parent!.subtreeControl.has(c) && (!this.threaded || THREADED.includes(c)));
  }

  /** The domain its threads' resources belong to: itself, or for a threaded cgroup its nearest domain ancestor. */
  get dom(): Cgroup {
    return this.threaded ? this.parent!.dom : this;
  }

  /** Whether some of its own live threads are here (not below). */
  hasTasks(): boolean {
    for (const t of this.tree.liveTasks()) if (this.tree.ofTask(t) === this) return true;
    return false;
  }

  /** A domain whose threaded subtree is in use: a threaded child, or threads of its own with threaded controllers given. */
  isThreadRoot(): boolean {
    if (this.threaded) return false;
    for (const c of this.children.values()) if (c.threaded) return true;
    return this.hasTasks() && THREADED.some((x) => this.subtreeControl.has(x));
  }

  /** A domain that can hold processes: not threaded, under no thread root or threaded cgroup (else "domain invalid"). */
  validDomain(): boolean {
    if (this.threaded) return false;
    for (let a = this.parent; a; a = a.parent) if (a.threaded || a.isThreadRoot()) return false;
    return true;
  }

  /** Whether it may become (or is) the domain of a threaded subtree: no populated domain children, no domain controllers given. */
  canBeThreadRoot(): boolean {
    if (this.threaded) return false;
    for (const c of this.children.values()) if (!c.threaded && c.populated()) return false;
    return [...this.subtreeControl].every((x) => THREADED.includes(x));
  }

  /** cgroup.type. */
  typeName(): string {
    if (this.threaded) return 'threaded';
    if (!this.validDomain()) return 'domain invalid';
    return this.isThreadRoot() ? 'domain threaded' : 'domain';
  }

  /** Live processes of this domain (cgroup.procs): those with a thread here or in its threaded subtree, in pid order. */
  procs(): ThreadGroup[] {
    const out = new Set<ThreadGroup>();
    for (const t of this.tree.liveTasks()) if (this.tree.ofTask(t).dom === this) out.add(t.tg);
    return [...out].sort((a, b) => a.pid - b.pid);
  }

  /** Live threads here (cgroup.threads), in tid order. */
  threads(): Task[] {
    return this.tree.liveTasks().filter((t) => this.tree.ofTask(t) === this).sort((a, b) => a.tid - b.tid);
  }

  /** Live tasks (threads) in the subtree: pids.current. */
  tasksInSubtree(): number {
    let n = 0;
    for (const t of this.tree.liveTasks()) if (this.contains(this.tree.ofTask(t))) n++;
    return n;
  }

  /** cgroup.events' populated: a live thread here or below. */
  populated(): boolean {
    for (const t of this.tree.liveTasks()) if (this.contains(this.tree.ofTask(t))) return true;
    return false;
  }

  /** cpu.stat's usage: processes here and below (their whole run), and the ones that ended here. */
  cpuNs(): { userNs: number; sysNs: number } {
    let userNs = 0, sysNs = 0;
    for (const c of this.subtree()) {
      userNs += c.exitedUserNs;
      sysNs += c.exitedSysNs;
    }
    for (const g of this.tree.host.groups.values()) {
      if (!this.contains(this.tree.of(g))) continue;
      const t = g.cpuTime();
      userNs += t.userNs;
      sysNs += t.sysNs;
    }
    return { userNs, sysNs };
  }

  /** memory.current in bytes: the charges of the subtree, or the sandbox's whole use for the root. */
  memoryBytes(sandboxBytes: () => number): number {
    if (!this.charge) return sandboxBytes();
    let n = 0;
    for (const c of this.subtree()) n += c.charge?.usageBytes() ?? 0;
    return n;
  }

  /** memory.max: a charge's limit is the least of its own and its ancestors' maxima (each cgroup's own processes are held to it). */
  setMemoryMax(bytes: number): void {
    if (!this.charge) throw new Errno(E.EPERM); // the root's is the sandbox's memory limit, set at start
    this.memoryMax = bytes;
    for (const c of this.subtree()) c.applyLimit();
  }

  private applyLimit(): void {
    if (!this.charge) return;
    let bytes = Infinity;
    for (let x: Cgroup | null = this; x; x = x.parent) bytes = Math.min(bytes, x.memoryMax);
    this.charge.limitPages = Number.isFinite(bytes) ? Math.floor(bytes / 4096) : this.tree.host.limitPages;
  }
}

export class CgroupTree {
  nextId = 1;
  readonly root: Cgroup;
  /**
   * Threads that cgroup.threads put apart from their process's cgroup (in
   * its threaded subtree). Entries of ended threads go at the next move or
   * rmdir: bounded by the threads ever moved between two of those.
   */
  private readonly apart = new Map<Task, Cgroup>();
  /** Mounted with nsdelegate (from the sandbox's first cgroup namespace): cgroup namespaces are delegation boundaries. */
  nsdelegate = false;
  /** Cgroups besides the root. */
  count = 0;

  constructor(readonly host: CgroupHost) {
    this.root = new Cgroup(this, null, '', null);
  }

  /** A process's cgroup. */
  of(g: ThreadGroup): Cgroup {
    return g.cgroup instanceof Cgroup && g.cgroup.tree === this ? g.cgroup : this.root;
  }

  /** A thread's cgroup: its own if put apart, else its process's. */
  ofTask(t: Task): Cgroup {
    return this.apart.get(t) ?? this.of(t.tg);
  }

  /** Live threads of live processes. */
  liveTasks(): Task[] {
    return [...this.host.tasks.values()].filter((t) => t.state !== 'dead' && !t.tg.zombie);
  }

  /** t's cgroup, cheaply (the runner asks at every return to the application). */
  private quick(t: Task): Cgroup {
    const c = this.apart.size > 0 ? this.apart.get(t) ?? t.tg.cgroup : t.tg.cgroup;
    return c ?? this.root;
  }

  /** Whether t's cgroup is frozen or throttled: it is held at its return to the application. */
  held(t: Task): boolean {
    return this.quick(t).held;
  }

  /** Whether t's cgroup is frozen: it blocks in no call (a throttled one may). */
  frozen(t: Task): boolean {
    return this.quick(t).frozen;
  }

  /** The cgroup a process created by thread t starts in (ThreadGroup.cgroup's form: null for the root). */
  childCgroup(t: Task): Cgroup | null {
    const c = this.apart.get(t);
    return c === undefined ? t.tg.cgroup : c === this.root ? null : c;
  }

  /** A new thread starts in its creator's cgroup. */
  threadCreated(creator: Task, child: Task): void {
    const c = this.apart.get(creator);
    if (c) this.apart.set(child, c);
  }

  /** cgroup.type's "threaded": EOPNOTSUPP for a populated one, one giving domain controllers, or one whose parent's domain cannot take a threaded subtree. */
  makeThreaded(c: Cgroup): void {
    if (c.threaded) return;
    if (!c.parent || c.populated() || [...c.subtreeControl].some((x) => !THREADED.includes(x))) throw new Errno(E.EOPNOTSUPP);
    const dom = c.parent.dom;
    if (!dom.validDomain() || !dom.canBeThreadRoot()) throw new Errno(E.EOPNOTSUPP);
    c.threaded = true;
  }

  /** subtree_control's enabling of controllers not given yet (Linux's rules for thread roots and threaded cgroups). */
  checkEnable(c: Cgroup, enable: Controller[]): void {
    if (enable.length === 0) return;
    if (!c.dom.validDomain()) throw new Errno(E.EOPNOTSUPP);
    const domainCtl = enable.some((x) => !THREADED.includes(x));
    const inThreaded = c.threaded || c.isThreadRoot();
    if (domainCtl && inThreaded) throw new Errno(E.EOPNOTSUPP);
    // Threaded controllers compete with a thread root's own threads well; others would compete with its processes.
    if (!inThreaded && c.hasTasks()) throw new Errno(E.EBUSY);
  }

  /** mkdir: EAGAIN past an ancestor's cgroup.max.depth or .max.descendants, or the sandbox's cap, as Linux at its limits. */
  mkdir(parent: Cgroup, name: string): Cgroup {
    if (parent.removed) throw new Errno(E.ENOENT);
    if (name.includes('\n')) throw new Errno(E.EINVAL);
    for (let a: Cgroup | null = parent, d = 1; a; a = a.parent, d++) {
      if (d > a.maxDepth || a.descendants() + 1 > a.maxDescendants) throw new Errno(E.EAGAIN);
    }
    if (this.count >= MAX_CGROUPS) throw new Errno(E.EAGAIN);
    let charge: MemCharge | null = null;
    if (this.host.charges) {
      try {
        charge = this.host.charges.add(this.host.limitPages);
      } catch {
        throw new Errno(E.EAGAIN); // every charge slot is held (pod containers, removed cgroups' pages)
      }
    }
    const c = new Cgroup(this, parent, name, charge);
    parent.children.set(name, c);
    c.inherit();
    this.count++;
    if (charge) c.setMemoryMax(Infinity); // its charge's limit: the least of its ancestors' memory.max
    return c;
  }

  /** rmdir: EBUSY while a process or a child cgroup is in it. */
  rmdir(c: Cgroup): void {
    if (!c.parent) throw new Errno(E.EBUSY);
    if (c.children.size > 0 || c.populated()) throw new Errno(E.EBUSY);
    this.prune();
    c.removed = true;
    c.parent.children.delete(c.name);
    c.parent.exitedUserNs += c.exitedUserNs;
    c.parent.exitedSysNs += c.exitedSysNs;
    // Zombies still naming it count as the parent's from now on.
    for (const g of this.host.groups.values()) if (g.cgroup === c) g.cgroup = c.parent === this.root ? null : c.parent;
    if (c.charge && this.host.charges) this.host.charges.release(c.charge);
    this.count--;
  }

  /**
   * A process or thread may enter c (cgroup.procs, cgroup.threads,
   * CLONE_INTO_CGROUP): not a removed one (removedErr), one whose domain
   * can hold processes (EOPNOTSUPP), and unless it is or may become part of
   * a threaded subtree, not one that gives controllers to children (the
   * no-internal-process rule: EBUSY).
   */
  checkEnter(c: Cgroup, removedErr: E): void {
    if (c.removed) throw new Errno(removedErr);
    if (!c.dom.validDomain()) throw new Errno(E.EOPNOTSUPP);
    if (c.threaded || c.canBeThreadRoot()) return;
    if (c.subtreeControl.size > 0) throw new Errno(E.EBUSY);
  }

  /** cgroup.threads: move one thread within its domain's threaded subtree (EOPNOTSUPP across domains). */
  moveThread(t: Task, c: Cgroup): void {
    if (this.ofTask(t).dom !== c.dom) throw new Errno(E.EOPNOTSUPP);
    this.checkEnter(c, E.ENOENT);
    this.prune();
    if (c === this.of(t.tg)) this.apart.delete(t);
    else this.apart.set(t, c);
  }

  private prune(): void {
    for (const t of this.apart.keys()) if (t.state === 'dead' || t.tg.zombie) this.apart.delete(t);
  }

  /**
   * Move a process into c; its new memory is charged there (what it holds
   * stays where it was charged, as on Linux). The writer's checks are
   * checkMigrate's.
   */
  move(g: ThreadGroup, c: Cgroup): void {
    this.checkEnter(c, E.ENOENT);
    this.prune();
    for (const t of g.tasks) this.apart.delete(t);
    g.cgroup = c === this.root ? null : c;
    this.recharge(g);
  }

  /**
   * Delegation's rules for moving a process from src to dst (cgroup-v2.rst,
   * "Delegation Containment"): the writer may write the cgroup.procs of
   * their common ancestor (mayWrite, EACCES), and with nsdelegate both lie
   * within its cgroup namespace's root nsRoot (ENOENT, as if not found).
   */
  checkMigrate(src: Cgroup, dst: Cgroup, mayWrite: (com: Cgroup) => boolean, nsRoot: Cgroup | null): void {
    if (!mayWrite(Cgroup.common(src, dst))) throw new Errno(E.EACCES);
    const root = nsRoot ?? this.root;
    if (this.nsdelegate && (!root.contains(src) || !root.contains(dst))) throw new Errno(E.ENOENT);
  }

  /**
   * The charge group of g's address space after a move: its cgroup's; a
   * pod container's process keeps its container's (its limit must hold).
   */
  recharge(g: ThreadGroup): void {
    let mm = null;
    for (const t of g.tasks) mm = t.mm;
    if (!mm) return;
    if (mm.charge && !this.owns(mm.charge)) return;
    mm.charge = this.of(g).charge;
  }

  private owns(charge: MemCharge): boolean {
    for (const c of this.root.subtree()) if (c.charge === charge) return true;
    return false;
  }

  /** Before a fork or clone into c: EAGAIN where a pids.max on the way up is reached (counted in that cgroup's pids.events). */
  checkFork(c: Cgroup): void {
    for (let a: Cgroup | null = c; a; a = a.parent) {
      if (Number.isFinite(a.pidsMax) && a.tasksInSubtree() >= a.pidsMax) {
        a.pidsRefused++;
        throw new Errno(E.EAGAIN);
      }
    }
  }

  /** A process was reaped: its CPU time stays in its cgroup's cpu.stat. */
  reaped(g: ThreadGroup): void {
    const c = this.of(g);
    const t = g.cpuTime();
    c.exitedUserNs += t.userNs;
    c.exitedSysNs += t.sysNs;
  }
}
