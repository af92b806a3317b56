// What the Gofer client (gofer/client.ts) keeps of the tree: ClientNode, one
// file the Gofer reported, and ClientEntries, the bound on the directory
// entries (children and listings) kept over all directories. The client
// decides when to ask the Gofer; this file only holds and evicts: least
// recently listed directories lose their entries first, listings that came
// ahead of a walk (RD_DESCEND, not used yet) only after every other.
import type { HostDirent, HostNode, HostStat } from '../host/hostfs';
import type { GoferClient } from './client';

/** Absent names kept per directory (PATH searches, a program's locale files, python's paths). */
const ABSENT_KEPT = 16;

export class ClientNode implements HostNode {
  id: number;
  dev: number;
  ino: number;
  /** When the Gofer last reported this node (performance.now()). */
  seenAt = performance.now();
  children: Map<string, ClientNode> | null = null;
  /** The directory's last listing (READDIR), when, and its names' positions (made at the first lookup that needs them). */
  listing: HostDirent[] | null = null;
  listedAt = -Infinity;
  listingIndex: Map<string, number> | null = null;
  /** Where the last batch of lookups in the listing ended, and how many names the next sequential batch takes. */
  seqEnd = 0;
  window = 1;
  misses = 0;
  /** Where the last batch of opens in the listing ended, and how many files the next takes (gofer/client_reads.ts). */
  openEnd = 0;
  openWindow = 1;
  /** Names WALKs found absent here, and when (read-only trees: gofer/client.ts lookup), the last ABSENT_KEPT. */
  absent: Map<string, number> | null = null;
  /** The listing came with the parent's (RD_DESCEND) and has not been used by a readdir yet. */
  prefetched = false;
  link: string | null = null;
  fd = -1;
  /** A writable tree's donated write descriptor, held while the file is open in the sandbox. */
  wfd = -1;
  pins = 0;

  constructor(
    readonly tree: GoferClient,
    readonly parent: ClientNode | null,
    readonly name: string,
    id: number,
    public stat: HostStat,
  ) {
    this.id = id;
    this.dev = stat.dev;
    this.ino = stat.ino;
  }

  noteAbsent(name: string): void {
    const a = (this.absent ??= new Map());
    a.delete(name);
    if (a.size >= ABSENT_KEPT) a.delete(a.keys().next().value as string);
    a.set(name, performance.now());
  }

  /** Positions of the listing's names. */
  indexOfListed(name: string): number | undefined {
    if (!this.listing) return undefined;
    return (this.listingIndex ??= new Map(this.listing.map((e, k) => [e.name, k]))).get(name);
  }
}

/** The directory entries kept over all directories, bounded (limit). */
export class ClientEntries {
  /** Directories holding children, least recently listed first. */
  private readonly listed = new Set<ClientNode>();
  /** Directories whose listing came ahead of the walk (RD_DESCEND), not used yet: they lose theirs only after every other. */
  private readonly pending = new Set<ClientNode>();
  /** Entries held: children plus listing entries. */
  count = 0;

  constructor(private readonly limit: number) {}

  /** child found under dir: kept (replacing the node of its name, if any). */
  remember(dir: ClientNode, child: ClientNode): void {
    if (!dir.children) {
      dir.children = new Map();
      if (!this.pending.has(dir)) this.listed.add(dir);
    }
    if (!dir.children.has(child.name)) this.count++;
    dir.children.set(child.name, child);
    this.trim();
  }

  /** name is gone from dir. */
  drop(dir: ClientNode, name: string): void {
    if (dir.children?.delete(name)) this.count--;
  }

  /** Everything dir holds is dropped. */
  forget(dir: ClientNode): void {
    if (dir.listing) this.count -= dir.listing.length;
    if (dir.children) this.count -= dir.children.size;
    dir.listing = null;
    dir.listingIndex = null;
    dir.children = null;
    dir.listedAt = -Infinity;
    dir.prefetched = false;
    this.listed.delete(dir);
    this.pending.delete(dir);
  }

  /**
   * A fresh listing of d (out), with the nodes that came with attributes
   * (fresh). With every entry's attributes (plus), the listing is the
   * directory now: names it lacks are gone from d's children.
   */
  keepListing(d: ClientNode, out: HostDirent[], fresh: Map<string, ClientNode>, plus: boolean, prefetched: boolean): void {
    if (plus && d.children) {
      this.count += fresh.size - d.children.size;
      d.children = fresh;
    }
    if (d.listing) this.count -= d.listing.length;
    d.listing = out;
    d.listingIndex = null;
    // The listing is newer than any absence a WALK saw.
    d.absent = null;
    d.prefetched = prefetched;
    this.count += out.length;
    this.listed.delete(d);
    this.pending.delete(d);
    (prefetched ? this.pending : this.listed).add(d);
    this.trim();
    d.listedAt = performance.now();
    d.seqEnd = 0;
    d.window = 1;
    d.openEnd = 0;
    d.openWindow = 1;
  }

  /** A listing that came ahead of the walk was used by a readdir: it ages as any other from now. */
  used(d: ClientNode): void {
    d.prefetched = false;
    this.pending.delete(d);
    this.listed.add(d);
  }

  /** Everything kept may be stale (the host's change queue overflowed): each entry is asked for again at its next use. */
  staleAll(): void {
    for (const d of [...this.listed, ...this.pending]) {
      d.listedAt = -Infinity;
      for (const c of d.children?.values() ?? []) c.seenAt = -Infinity;
    }
  }

  private trim(): void {
    while (this.count > this.limit) {
      const old = (this.listed.values().next().value ?? this.pending.values().next().value) as ClientNode | undefined;
      if (!old) break;
      this.forget(old);
    }
  }
}
