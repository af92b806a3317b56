// A least-recently-used list threaded through its members (no Map or Set
// reordered on every use): touching, adding, removing and taking the oldest
// are O(1) and allocate nothing. Members carry the two links; a member is in
// at most one list.

export interface LruLinks<T> {
  lruPrev: T | null;
  lruNext: T | null;
  lruIn: boolean;
}

export class LruList<T extends LruLinks<T>> {
  private head: T | null = null; // oldest
  private tail: T | null = null; // newest
  size = 0;

  has(x: T): boolean {
    return x.lruIn;
  }

  /** Add x as the newest (it must not be in the list). */
  push(x: T): void {
    x.lruPrev = this.tail;
    x.lruNext = null;
    if (this.tail) this.tail.lruNext = x;
    else this.head = x;
    this.tail = x;
    x.lruIn = true;
    this.size++;
  }

  remove(x: T): void {
    if (!x.lruIn) return;
    if (x.lruPrev) x.lruPrev.lruNext = x.lruNext;
    else this.head = x.lruNext;
    if (x.lruNext) x.lruNext.lruPrev = x.lruPrev;
    else this.tail = x.lruPrev;
    x.lruPrev = x.lruNext = null;
    x.lruIn = false;
    this.size--;
  }

  /** Make x (in the list) the newest. */
  touch(x: T): void {
    if (this.tail === x) return;
    this.remove(x);
    this.push(x);
  }

  /** Remove and return the oldest. */
  shift(): T | null {
    const x = this.head;
    if (x) this.remove(x);
    return x;
  }

  /** All members, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let x = this.head; x; x = x.lruNext) out.push(x);
    return out;
  }
}
