// The VMAs of one address space, ordered by address, in a treap (a binary
// search tree balanced by random priorities: expected O(log n) depth whatever
// order the application maps in). Each node also knows, for its subtree, the
// lowest start, the highest end and the largest gap between two consecutive
// VMAs, so finding a free range for mmap skips every subtree whose gaps are
// too small: O(log n) per mmap, munmap, lookup and free-range search, where a
// sorted array cost O(n) per change and a hostile program could make the
// Sentry's work quadratic.
//
// Whoever changes a VMA's start or end in place calls update(v) (the order
// of VMAs never changes: they do not overlap), so the gap summaries stay true.

import type { Vma } from './vma';

class Node {
  left: Node | null = null;
  right: Node | null = null;
  minStart: number;
  maxEnd: number;
  /** Largest free space between two consecutive VMAs of this subtree. */
  maxGap = 0;

  constructor(
    readonly vma: Vma,
    readonly prio: number,
  ) {
    this.minStart = vma.start;
    this.maxEnd = vma.end;
  }

  fix(): void {
    const l = this.left;
    const r = this.right;
    const v = this.vma;
    this.minStart = l ? l.minStart : v.start;
    this.maxEnd = r ? r.maxEnd : v.end;
    let g = 0;
    if (l) g = Math.max(l.maxGap, v.start - l.maxEnd);
    if (r) g = Math.max(g, r.maxGap, r.minStart - v.end);
    this.maxGap = g;
  }
}

export class VmaSet implements Iterable<Vma> {
  /**
   * @param untouched whether an anonymous VMA's pages were never touched
   * (then it has no anonymous pages in Linux's sense, whatever identity it
   * was given when it got writable frames).
   */
  constructor(private readonly untouched: (v: Vma) => boolean = () => false) {}

  private root: Node | null = null;
  private n = 0;
  /** xorshift32 state for node priorities (deterministic per set; the application cannot see or steer it). */
  private seed = 0x9e3779b9;

  get size(): number {
    return this.n;
  }

  private nextPrio(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  /** The VMA containing addr. */
  find(addr: number): Vma | null {
    let t = this.root;
    while (t) {
      if (addr < t.vma.start) t = t.left;
      else if (addr >= t.vma.end) t = t.right;
      else return t.vma;
    }
    return null;
  }

  /** The first VMA that ends above addr (contains it, or is the next one after it). */
  lowerBound(addr: number): Vma | null {
    let t = this.root;
    let best: Vma | null = null;
    while (t) {
      if (t.vma.end > addr) {
        best = t.vma;
        t = t.left;
      } else t = t.right;
    }
    return best;
  }

  /** The last VMA that starts below addr. */
  lastBefore(addr: number): Vma | null {
    let t = this.root;
    let best: Vma | null = null;
    while (t) {
      if (t.vma.start < addr) {
        best = t.vma;
        t = t.right;
      } else t = t.left;
    }
    return best;
  }

  next(v: Vma): Vma | null {
    return this.lowerBound(v.end);
  }

  prev(v: Vma): Vma | null {
    return this.lastBefore(v.start);
  }

  /** The VMAs overlapping [start, end), in order. */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    const walk = (t: Node | null): void => {
      if (!t || t.maxEnd <= start || t.minStart >= end) return;
      walk(t.left);
      if (t.vma.end > start && t.vma.start < end) out.push(t.vma);
      walk(t.right);
    };
    walk(this.root);
    return out;
  }

  insert(v: Vma): void {
    const [l, r] = split(this.root, v.start);
    const node = new Node(v, this.nextPrio());
    this.root = join(join(l, node), r);
    this.n++;
  }

  remove(v: Vma): void {
    const [l, rest] = split(this.root, v.start);
    const [mid, r] = split(rest, v.start + 1);
    if (!mid || mid.vma !== v || mid.left || mid.right) throw new Error(`VmaSet: ${v.start.toString(16)} not in the set`);
    this.root = join(l, r);
    this.n--;
  }

  /** v's start or end changed in place (its order among the others did not): refresh the summaries above it. */
  update(v: Vma): void {
    const walk = (t: Node | null): boolean => {
      if (!t) return false;
      const found = t.vma === v || (v.start < t.vma.start ? walk(t.left) : walk(t.right));
      if (found) t.fix();
      return found;
    };
    if (!walk(this.root)) throw new Error(`VmaSet: ${v.start.toString(16)} not in the set`);
  }

  clear(): void {
    this.root = null;
    this.n = 0;
  }

  /**
   * The highest address a with [a, a+len) free, floor <= a and a+len <= top;
   * -1 if there is none.
   */
  findGapBelow(len: number, top: number, floor: number): number {
    const fit = (lo: number, hi: number): number => {
      const a = Math.min(hi, top) - len;
      return a >= lo && a >= floor ? a : -1;
    };
    const root = this.root;
    if (!root) return fit(0, top);
    let a = fit(root.maxEnd, top);
    if (a >= 0) return a;
    const search = (t: Node | null): number => {
      if (!t || t.maxGap < len || t.minStart + len > top || t.maxEnd - len < floor) return -1;
      let r = search(t.right);
      if (r >= 0) return r;
      if (t.right && (r = fit(t.vma.end, t.right.minStart)) >= 0) return r;
      if (t.left && (r = fit(t.left.maxEnd, t.vma.start)) >= 0) return r;
      return search(t.left);
    };
    a = search(root);
    if (a >= 0) return a;
    return fit(0, root.minStart);
  }

  [Symbol.iterator](): Iterator<Vma> {
    // An explicit stack: in-order, and no recursion depth to worry about.
    const stack: Node[] = [];
    let t = this.root;
    return {
      next: (): IteratorResult<Vma> => {
        while (t) {
          stack.push(t);
          t = t.left;
        }
        const top = stack.pop();
        if (!top) return { done: true, value: undefined };
        t = top.right;
        return { done: false, value: top.vma };
      },
    };
  }

  /** Every VMA in order (a snapshot: the set may change while the caller walks it). */
  toArray(): Vma[] {
    return [...this];
  }

  /**
   * Merge each pair of neighbouring VMAs around [start, end) that can be one
   * (Vma.canMerge), as Linux does after mmap, mprotect and mremap. Returns how
   * many merges happened.
   */
  mergeAround(start: number, end: number): number {
    const first = this.lastBefore(start) ?? this.lowerBound(start);
    if (!first) return 0;
    const list = this.overlapping(first.start, end + 1);
    let merged = 0;
    let cur = list[0];
    for (let i = 1; i < list.length; i++) {
      const next = list[i];
      if (cur.compatible(next) && cur.prot === next.prot && cur.anon !== next.anon && cur.anon && next.anon) this.forgetUntouched(cur, next);
      if (cur.canMerge(next)) {
        this.remove(next);
        cur.absorb(next);
        this.update(cur);
        merged++;
      } else cur = next;
    }
    return merged;
  }

  /** Two would-be neighbours with different anonymous identities: one never touched has none after all. */
  private forgetUntouched(a: Vma, b: Vma): void {
    for (const v of [a, b]) if (!v.file && !v.shared && this.untouched(v)) v.anon = null;
  }

  /**
   * Give v its anonymous-pages identity if it has none: a neighbour's that it
   * could merge with but for the protection, or a new one (Linux's
   * find_mergeable_anon_vma, so a neighbour written later still merges).
   */
  prepareAnon(v: Vma): void {
    if (v.anon) return;
    const prev = this.prev(v);
    const next = this.next(v);
    if (prev?.anon && prev.compatible(v)) v.anon = prev.anon;
    else if (next?.anon && v.compatible(next)) v.anon = next.anon;
    else v.anon = {};
  }
}

/** Split t into nodes with start < key and the rest. */
function split(t: Node | null, key: number): [Node | null, Node | null] {
  if (!t) return [null, null];
  if (t.vma.start < key) {
    const [l, r] = split(t.right, key);
    t.right = l;
    t.fix();
    return [t, r];
  }
  const [l, r] = split(t.left, key);
  t.left = r;
  t.fix();
  return [l, t];
}

/** Join two treaps, every start in a below every start in b. */
function join(a: Node | null, b: Node | null): Node | null {
  if (!a) return b;
  if (!b) return a;
  if (a.prio > b.prio) {
    a.right = join(a.right, b);
    a.fix();
    return a;
  }
  b.left = join(a, b.left);
  b.fix();
  return b;
}
