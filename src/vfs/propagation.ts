// Shared subtrees (Linux's Documentation/filesystems/sharedsubtree.rst): a
// mount is private, shared (a member of a peer group: mount events under one
// member happen under every member), a slave (it receives a peer group's
// events but sends none back: Mount.prop.master is the mount it receives
// from), shared and slave at once, or unbindable. This file keeps the
// membership; propagate.ts spreads mounts and unmounts along it.
//
// Peer groups and slave lists hold their mounts weakly: a mount namespace
// lives while a task or an nsfs reference holds it (nothing tells the VFS
// when the last one goes), so a group must not keep the mounts of dead
// namespaces alive, nor keep propagating into them for ever. When a member
// is collected, the registry takes it out of its group and its master's
// list, and the group's id is free again when no member is left.
import type { Mount, MountNamespaceRef } from './dentry';

/** Propagation types as mount(2) names them (the values of MS_SHARED & co). */
export const PROP_SHARED = 1 << 20;
export const PROP_SLAVE = 1 << 19;
export const PROP_PRIVATE = 1 << 18;
export const PROP_UNBINDABLE = 1 << 17;

/** A mount's propagation state, made at its first peer group, master or slave. */
export class Propagation {
  group: PeerGroup | null = null;
  /** The mount this one receives from (a slave's master). */
  master: Mount | null = null;
  /** The slaves receiving from this mount, by mount id. */
  readonly slaves = new Map<number, WeakRef<Mount>>();
  constructor(readonly id: number) {}
}

/** A member's place in its group's ring. */
interface Link {
  ref: WeakRef<Mount>;
  next: number;
  prev: number;
}

/**
 * A peer group: its members in a ring, as Linux keeps them (a copy goes in
 * right after its original), because propagation visits the peers in ring
 * order from the mount the event happened on, and that order is the order
 * in which the copies are made and numbered.
 */
export class PeerGroup {
  private readonly ring = new Map<number, Link>();
  constructor(
    readonly id: number,
    private readonly peers: PeerGroups,
  ) {}

  /** Put m in the ring after the member after (or last). */
  add(m: Mount, after?: Mount): void {
    const ref = new WeakRef(m);
    const first = this.ring.keys().next();
    if (first.done) {
      this.ring.set(m.id, { ref, next: m.id, prev: m.id });
      return;
    }
    const a = after && this.ring.has(after.id) ? after.id : (this.ring.get(first.value) as Link).prev;
    const la = this.ring.get(a) as Link;
    const ln = this.ring.get(la.next) as Link;
    this.ring.set(m.id, { ref, next: la.next, prev: a });
    ln.prev = m.id;
    la.next = m.id;
  }

  /** Take the mount with this id out (the id goes back when the group is empty). */
  drop(id: number): void {
    const l = this.ring.get(id);
    if (!l) return;
    this.ring.delete(id);
    if (this.ring.size === 0) {
      this.peers.release(this.id);
      return;
    }
    (this.ring.get(l.prev) as Link).next = l.next;
    (this.ring.get(l.next) as Link).prev = l.prev;
  }

  /** The first live member after from in ring order that pred accepts (from itself last), or null. */
  find(from: Mount, pred: (m: Mount) => boolean): Mount | null {
    const start = this.ring.get(from.id);
    if (!start) return null;
    for (let id = start.next; ; ) {
      const l = this.ring.get(id) as Link;
      const m = l.ref.deref();
      if (m && pred(m)) return m;
      if (id === from.id) return null;
      id = l.next;
    }
  }

  /** The live members, in ring order starting after from (or anywhere). */
  members(from?: Mount): Mount[] {
    const out: Mount[] = [];
    const start = from && this.ring.has(from.id) ? from.id : this.ring.keys().next().value;
    if (start === undefined) return out;
    let id = start;
    do {
      const l = this.ring.get(id) as Link;
      id = l.next;
      const m = (this.ring.get(id) as Link).ref.deref();
      if (m) out.push(m);
    } while (id !== start);
    return out;
  }
}

/** The peer group ids of one VFS (every mount namespace of a sandbox) and the registry of collected members. */
export class PeerGroups {
  private next = 1;
  /** Freed ids, a min-heap: Linux hands out the smallest free id (its IDA), so ids stay small and are reused. */
  private readonly freed: number[] = [];
  private readonly gone = new FinalizationRegistry<Propagation>((p) => {
    p.group?.drop(p.id);
    p.master?.prop?.slaves.delete(p.id);
  });

  /** A new peer group with a fresh id. */
  group(): PeerGroup {
    return new PeerGroup(this.alloc(), this);
  }

  /** m's propagation record, made (and watched) at first use. */
  of(m: Mount): Propagation {
    if (!m.prop) {
      m.prop = new Propagation(m.id);
      this.gone.register(m, m.prop);
    }
    return m.prop;
  }

  private alloc(): number {
    const h = this.freed;
    if (!h.length) return this.next++;
    const top = h[0];
    const last = h.pop() as number;
    if (h.length) {
      // Sift the last element down from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < h.length && h[l] < (s === i ? last : h[s])) s = l;
        if (r < h.length && h[r] < (s === i ? last : h[s])) s = r;
        if (s === i) break;
        h[i] = h[s];
        i = s;
      }
      h[i] = last;
    }
    return top;
  }

  release(id: number): void {
    const h = this.freed;
    let i = h.length;
    h.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= id) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = id;
  }
}

export function isShared(m: Mount): boolean {
  return !!m.prop?.group;
}

export function masterOf(m: Mount): Mount | null {
  return m.prop?.master ?? null;
}

/** The mounts receiving from m directly, the newest first (Linux adds slaves at the head of its list). */
export function slavesOf(m: Mount): Mount[] {
  const out: Mount[] = [];
  for (const r of m.prop?.slaves.values() ?? []) {
    const s = r.deref();
    if (s) out.push(s);
  }
  return out.reverse();
}

function joinGroup(peers: PeerGroups, m: Mount, g: PeerGroup, after?: Mount): void {
  peers.of(m).group = g;
  g.add(m, after);
  m.unbindable = false;
}

function leaveGroup(m: Mount): void {
  const p = m.prop;
  if (!p?.group) return;
  p.group.drop(m.id);
  p.group = null;
}

/** m receives from master (null: from nothing). */
function setMaster(peers: PeerGroups, m: Mount, master: Mount | null): void {
  const p = m.prop;
  if (p?.master) p.master.prop?.slaves.delete(m.id);
  if (!master) {
    if (p) p.master = null;
    return;
  }
  peers.of(m).master = master;
  peers.of(master).slaves.set(m.id, new WeakRef(m));
}

/** MS_SHARED: into a new peer group unless in one already (an unbindable mount becomes bindable). */
export function makeShared(peers: PeerGroups, m: Mount): void {
  if (!isShared(m)) joinGroup(peers, m, peers.group());
}

/**
 * MS_SLAVE (Linux's do_make_slave): a shared mount leaves its group and
 * receives from a peer (one with the same root if there is one); its own
 * slaves receive from there too. A mount without peers keeps its master,
 * and hands its slaves to it; one with neither is private.
 */
export function makeSlave(peers: PeerGroups, m: Mount): void {
  const g = m.prop?.group;
  // Looked for lazily: unmounting a large tree makes each of its mounts private, and groups may be large.
  const master = (g && (g.find(m, (x) => x !== m && x.root === m.root) ?? g.find(m, (x) => x !== m))) || masterOf(m);
  leaveGroup(m);
  for (const s of slavesOf(m)) setMaster(peers, s, master);
  setMaster(peers, m, master);
}

/** MS_PRIVATE (and the state an unmounted mount is left in): no group, no master, its slaves handed on. */
export function makePrivate(peers: PeerGroups, m: Mount): void {
  makeSlave(peers, m);
  setMaster(peers, m, null);
}

/**
 * Change the propagation type of mounts (mount(2)'s MS_SHARED & co, or
 * mount_setattr's propagation field). For MS_SHARED every mount gets its
 * group before any changes, as Linux's invent_group_ids.
 */
export function changeType(peers: PeerGroups, mounts: Mount[], type: number): void {
  for (const m of mounts) {
    if (type === PROP_SHARED) makeShared(peers, m);
    else if (type === PROP_SLAVE) makeSlave(peers, m);
    else {
      makePrivate(peers, m);
      m.unbindable = type === PROP_UNBINDABLE;
    }
  }
}

/** The private mount to takes from's place in propagation: its peer group, its master (MOVE_MOUNT_SET_GROUP). */
export function joinPropagation(peers: PeerGroups, from: Mount, to: Mount): void {
  const master = masterOf(from);
  if (master) setMaster(peers, to, master);
  const g = from.prop?.group;
  if (g) joinGroup(peers, to, g);
}

/**
 * How a copy of a mount relates to the original (Linux's clone_mnt flags):
 * `same`: a bind or a namespace copy: a peer of a shared original, a slave
 * of a slave's master; `toSlave`: a namespace copy into a less privileged
 * owner: a shared original's copy is its slave; `peer`: a propagated copy
 * into a peer, in the original's group; `slave` (and `slaveShared`, with a
 * group of its own): a propagated copy into a slave.
 */
export type CopyKind = 'same' | 'toSlave' | 'peer' | 'slave' | 'slaveShared';

export function copyPropagation(peers: PeerGroups, old: Mount, n: Mount, kind: CopyKind): void {
  const og = old.prop?.group ?? null;
  if (kind === 'slave' || kind === 'slaveShared' || (kind === 'toSlave' && og)) {
    setMaster(peers, n, old);
    if (kind === 'slaveShared') makeShared(peers, n);
    return;
  }
  if (kind === 'peer') {
    if (!og) makeShared(peers, old);
    joinGroup(peers, n, old.prop?.group as PeerGroup, old);
  } else if (og) joinGroup(peers, n, og, old);
  const master = masterOf(old);
  if (master) setMaster(peers, n, master);
}

/** statmount's mnt_propagation: MS_SHARED, MS_SLAVE and MS_UNBINDABLE as they apply, else MS_PRIVATE. */
export function propagationFlags(m: Mount): number {
  const f = (isShared(m) ? PROP_SHARED : 0) | (masterOf(m) ? PROP_SLAVE : 0) | (m.unbindable ? PROP_UNBINDABLE : 0);
  return f || PROP_PRIVATE;
}

/**
 * mountinfo's optional fields for m (shared:N, master:N, propagate_from:N,
 * unbindable): propagate_from names the nearest group up the master chain
 * with a member in the reader's namespace that the reader can reach, when
 * it is not the master's own (reachable: under the reader's root).
 */
export function mountinfoTags(m: Mount, ns: MountNamespaceRef | null, reachable: (x: Mount) => boolean): string {
  let s = '';
  const g = m.prop?.group;
  if (g) s += ` shared:${g.id}`;
  const master = masterOf(m);
  if (master) {
    const mid = master.prop?.group?.id ?? 0;
    s += ` master:${mid}`;
    const dom = dominatingId(m, ns, reachable);
    if (dom && dom !== mid) s += ` propagate_from:${dom}`;
  }
  if (m.unbindable) s += ' unbindable';
  return s;
}

/** The id of the nearest group up m's master chain with a member in ns the reader can reach (0: none; statmount's propagate_from). */
export function dominatingId(m: Mount, ns: MountNamespaceRef | null, reachable: (x: Mount) => boolean): number {
  const master = masterOf(m);
  // Bounded by the chain's length: every step is a different mount (a master never receives from its slave).
  const seen = new Set<Mount>();
  for (let x: Mount | null = master; x && !seen.has(x); x = masterOf(x)) {
    seen.add(x);
    const g = x.prop?.group;
    const members = g ? g.members() : [x];
    for (const p of members) if (p.ns === ns && reachable(p)) return g ? g.id : 0;
  }
  return 0;
}
