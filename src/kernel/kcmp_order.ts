// The order kcmp(2) reports between two kernel objects. Linux compares the
// objects' addresses scrambled by a random cookie made at boot, so a
// program can sort objects and find shared ones without learning where they
// live. Objects here have no addresses: each gets, when first compared, the
// next number of a counter, scrambled by a cookie drawn for this sandbox,
// which makes the order total, stable for the object's life and unrelated to
// creation order. The numbers are held weakly (an object that goes, goes).
// host/random, not node:crypto: loading that costs every sandbox's start-up several milliseconds.
import { randomInt } from '../host/random';

export class KcmpOrder {
  private readonly ids = new WeakMap<object, number>();
  private next = 0;
  private readonly cookie = randomInt(0, 0x7fffffff);

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      // XOR with a fixed cookie keeps distinct counters distinct.
      id = (this.next++ ^ this.cookie) >>> 0;
      this.ids.set(o, id);
    }
    return id;
  }

  /** Linux's kcmp_ptr: 0 for the same object (or none on both sides), else 1 or 2 as the scrambled order says. */
  compare(a: object | null, b: object | null): number {
    if (a === b) return 0;
    const x = a ? this.idOf(a) : -1;
    const y = b ? this.idOf(b) : -1;
    return x < y ? 1 : 2;
  }
}
