// The extended attributes of one inode, charged to the sandbox's heap budget
// (ENOSPC when it is spent, as a full tmpfs answers). A file system that knows
// when an inode dies (tmpfs) releases them then; for any other inode the
// charge goes back when the inode object is collected.
import { E } from '../abi/errno';
import { HEAP_COST, type HeapBudget } from '../abi/accounting';

function cost(name: string, value: Buffer): number {
  return HEAP_COST.xattr + name.length + value.length;
}

export class XattrSet {
  readonly map = new Map<string, Buffer>();
  /** Bytes charged now; shared with the budget's collector, zeroed when released. */
  readonly held = { bytes: 0 };

  constructor(private readonly heap: HeapBudget | null) {}

  get(name: string): Buffer | undefined {
    return this.map.get(name);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  names(): string[] {
    return [...this.map.keys()];
  }

  set(name: string, value: Buffer): void {
    const old = this.map.get(name);
    const delta = cost(name, value) - (old ? cost(name, old) : 0);
    if (delta > 0) this.heap?.charge(delta, E.ENOSPC);
    else this.heap?.uncharge(-delta);
    this.held.bytes += delta;
    this.map.set(name, value);
  }

  delete(name: string): boolean {
    const old = this.map.get(name);
    if (!old) return false;
    this.map.delete(name);
    this.heap?.uncharge(cost(name, old));
    this.held.bytes -= cost(name, old);
    return true;
  }

  /** The inode is gone: give everything back. */
  release(): void {
    this.heap?.uncharge(this.held.bytes);
    this.held.bytes = 0;
    this.map.clear();
  }
}

/**
 * The extended attributes of an inode, made on first use (most files never
 * have any) and charged to heap while the inode lives, when there is one.
 */
export function xattrsOf(inode: { xattrs: XattrSet | null }, heap: HeapBudget | null): XattrSet {
  if (inode.xattrs) return inode.xattrs;
  const x = (inode.xattrs = new XattrSet(heap));
  heap?.track(inode, x.held);
  return x;
}
