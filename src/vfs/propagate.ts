// Mount and unmount events spread along peer groups and slaves
// (propagation.ts holds who is whose peer and master). A tree attached
// under a shared mount becomes shared itself, and a copy of it is attached
// at the same place in every mount its parent propagates to that has the
// mount point dentry (peers first, then slaves, their peers and slaves in
// turn); a copy in a peer is a peer of the original, a copy in a slave its
// slave. An unmount takes with it the copies at the same places that have
// no other mounts on them. Every copy is a mount the Sentry keeps: all of
// them are counted against each receiving namespace's limit (Linux's
// fs.mount-max) before any is made, so an exponential bind-mount program
// ends with ENOSPC instead of filling the heap.
import { E, Errno } from '../abi/errno';
import type { Dentry, Mount, MountNamespaceRef } from './dentry';
import { attachAt, copyTree, detach, isUnder, subtree, type MountIds } from './mount_ns';
import { isShared, makePrivate, makeShared, masterOf, slavesOf, type CopyKind, type PeerGroup } from './propagation';

/** The VFS as propagation needs it: mount and group ids, and the limit of mounts per namespace. */
export interface MountLimits extends MountIds {
  readonly mountMax: number;
}

/** One mount a propagation reaches: it gets a copy of `from` (-1: the tree itself, else that step's copy) when it has the mount point. */
interface Step {
  m: Mount;
  from: number;
  kind: CopyKind;
  has: boolean;
}

/** A mount propagation may reach: attached in a namespace of its own (not a detached tree's, not one being attached). */
function receives(m: Mount): boolean {
  return !!m.ns && !m.ns.anon;
}

/**
 * Every mount dest propagates to, in order, each with the step whose copy
 * its own derives from. has(m): m has the mount point (or the place an
 * unmount looks at).
 */
function reach(dest: Mount, has: (m: Mount) => boolean): Step[] {
  const steps: Step[] = [];
  if (!isShared(dest)) return steps;
  const seen = new Set<Mount>([dest]);
  // The mounts whose peers and slaves are still to visit, with the step their receivers derive from.
  // own: ref is the entry's own copy (or the tree at dest), so the entry's peers' copies are its peers.
  const todo: Array<{ m: Mount; ref: number; own: boolean }> = [{ m: dest, ref: -1, own: true }];
  for (let i = 0; i < todo.length; i++) {
    const { m: entry, ref, own } = todo[i];
    const refs = new Map<Mount, number>([[entry, ref]]);
    const g = entry.prop?.group;
    for (const p of g ? g.members(entry) : []) {
      if (seen.has(p) || !receives(p)) continue;
      seen.add(p);
      const h = has(p);
      if (h) steps.push({ m: p, from: ref, kind: own ? 'peer' : isShared(p) ? 'slaveShared' : 'slave', has: h });
      refs.set(p, h ? steps.length - 1 : ref);
    }
    for (const [x, xref] of refs) {
      for (const s of slavesOf(x)) {
        if (seen.has(s) || !receives(s)) continue;
        seen.add(s);
        const h = has(s);
        if (h) steps.push({ m: s, from: xref, kind: isShared(s) ? 'slaveShared' : 'slave', has: h });
        todo.push({ m: s, ref: h ? steps.length - 1 : xref, own: h });
      }
    }
  }
  return steps;
}

/** The mount point dentry is inside m (its root or below). */
function hasPlace(mp: Dentry): (m: Mount) => boolean {
  return (m) => !m.fs.dynamic && isUnder(mp, m.root);
}

/**
 * Attach the tree at source on mp of parent (the top of the stack there),
 * with its propagation. ENOSPC (nothing changed) when it or its copies
 * would take a namespace past limits.mountMax.
 */
export function attachTree(limits: MountLimits, source: Mount, parent: Mount, mp: Dentry): void {
  const size = subtree(source).length;
  const shared = isShared(parent);
  const steps = shared ? reach(parent, hasPlace(mp)) : [];
  // Count before making anything: the tree itself (a moved one was detached just before) and each copy in its namespace.
  const pending = new Map<MountNamespaceRef, number>();
  if (parent.ns && source.ns !== parent.ns) pending.set(parent.ns, size);
  for (const s of steps) if (s.m.ns) pending.set(s.m.ns, (pending.get(s.m.ns) ?? 0) + size);
  for (const [ns, n] of pending) if (ns.nrMounts + n > limits.mountMax) throw new Errno(E.ENOSPC);
  if (shared) for (const x of subtree(source)) makeShared(limits.peers, x);
  const copies: Mount[] = [];
  for (const s of steps) {
    const from = s.from < 0 ? source : copies[s.from];
    copies.push(copyTree(limits, from, from.root, true, new Map(), true, s.kind));
  }
  attachAt(source, parent, mp);
  steps.forEach((s, i) => {
    const c = copies[i];
    // Propagated into a less privileged namespace, the copies are locked there, as Linux's lock_mnt_tree.
    if (s.m.ns && parent.ns && s.m.ns.owner !== parent.ns.owner) {
      for (const x of subtree(c)) {
        x.locked = true;
        x.lockedFlags = { ...x.flags };
      }
      // The copy itself hides nothing there: it may be unmounted (its flags stay locked).
      c.locked = false;
    }
    // A mount there already goes on top of the copy (Linux tucks propagated mounts beneath).
    const over = s.m.children.get(mp);
    if (over) detach(over);
    attachAt(c, s.m, mp);
    if (over) attachAt(over, c, c.root);
  });
}

/**
 * The mounts an unmount of `gone` (the mount, or with MNT_DETACH its whole
 * tree) takes along: at the same place in each mount the parent propagates
 * to, the mount there, when everything mounted on it goes too.
 */
export function propagatedUmounts(gone: Mount[]): Mount[] {
  const out = new Set<Mount>(gone);
  const found: Mount[] = [];
  // The mounts reached from one member of a group are those reached from any (and the member): one walk per
  // group, and one look per group and mount point dentry, so a lazy unmount of a large tree stays linear.
  const byGroup = new Map<PeerGroup, { at: Map<Dentry, Mount[]>; done: Set<Dentry> }>();
  for (const u of gone) {
    const parent = u.parent;
    const mp = u.mountpoint;
    const g = parent?.prop?.group;
    if (!parent || !mp || !g) continue;
    let e = byGroup.get(g);
    if (!e) {
      const at = new Map<Dentry, Mount[]>();
      for (const r of [parent, ...reach(parent, () => true).map((s) => s.m)]) {
        for (const [d, c] of r.children) {
          const l = at.get(d);
          if (l) l.push(c);
          else at.set(d, [c]);
        }
      }
      e = { at, done: new Set() };
      byGroup.set(g, e);
    }
    if (e.done.has(mp)) continue;
    e.done.add(mp);
    for (const c of e.at.get(mp) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        found.push(c);
      }
    }
  }
  // Keep only those whose children all go too (repeat: dropping one may keep its parent); a mount right on
  // a copy's root (a "topper") does not keep it: it takes the copy's place instead.
  let kept = found;
  for (let changed = true; changed; ) {
    changed = false;
    kept = kept.filter((c) => {
      for (const [mp, k] of c.children) {
        if (mp !== c.root && !out.has(k)) {
          out.delete(c);
          changed = true;
          return false;
        }
      }
      return true;
    });
  }
  return kept;
}

/** Unmounted mounts are private: their peers and slaves go on without them. */
/**
 * Take the propagated copies out of their trees; a topper left on one goes
 * down to the copy's place. Returns the mounts that went (the copies and
 * what else is below them).
 */
export function detachCopies(copies: Mount[]): Mount[] {
  const went: Mount[] = [];
  const all = new Set(copies);
  for (const c of copies) {
    // A copy inside another copy goes with it.
    if (!c.parent || all.has(c.parent)) continue;
    const top = c.children.get(c.root);
    const keep = top && !all.has(top) ? top : null;
    const parent = c.parent;
    const mp = c.mountpoint;
    if (keep) detach(keep);
    went.push(...subtree(c));
    detach(c);
    if (keep && mp) attachAt(keep, parent, mp);
  }
  return went;
}

export function leavePropagation(peers: MountIds['peers'], mounts: Mount[]): void {
  for (const m of mounts) if (m.prop) makePrivate(peers, m);
}

/** The tree holds an unbindable mount (a move under a shared mount is EINVAL then). */
export function hasUnbindable(m: Mount): boolean {
  return subtree(m).some((x) => x.unbindable);
}

export { isShared, masterOf };
