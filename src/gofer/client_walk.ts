// The Gofer client's (gofer/client.ts) WALKs of several names: what a path
// walk of the VFS asks for in one WALK (the name looked up and the names
// the walk looks up after it: vfs/inode.ts LookupAhead, host/hostfs.ts
// HostLookupAhead, as far as one WALK can take them, and whether the walk's
// file is then opened for reading: WALK_OPEN brings its read descriptor in
// the same reply), and the WALK that finds a node again whose id the Gofer
// forgot (ENOID), from its nearest ancestor with an id.
import { HostError, type HostLookupAhead } from '../host/hostfs';
import type { ClientNode } from './client_node';
import type { GoferConnection } from './connection';
import { ENOID, MAX_WALK, NAME_MAX, Op } from './protocol';

const ESTALE = 116;

export interface WalkPath {
  names: string[];
  open: boolean;
}

/**
 * The names a path walk looks up from name on (name first), up to "." or
 * "..", an over-long name or MAX_WALK names, and whether to open the last
 * (the walk opens its file, and these names reach it); null when that is
 * name alone, not opened (a plain lookup).
 */
export function pathAhead(name: string, ahead: HostLookupAhead): WalkPath | null {
  const all = ahead.names;
  if (all[ahead.at] !== name) return null;
  let k = ahead.at + 1;
  for (; k < all.length && k - ahead.at < MAX_WALK; k++) {
    const n = all[k];
    if (n === '.' || n === '..' || n.length > NAME_MAX) break;
  }
  const open = ahead.open && k === all.length;
  if (k === ahead.at + 1 && !open) return null;
  return { names: all.slice(ahead.at, k), open };
}

/** A new id for n: one WALK from its nearest ancestor with an id (root's never goes). */
export function refind(conn: GoferConnection, root: ClientNode, n: ClientNode): void {
  for (;;) {
    const chain: ClientNode[] = [];
    let from: ClientNode = n;
    while (from.id === 0 && from.parent) {
      chain.unshift(from);
      from = from.parent;
    }
    if (chain.length === 0) return;
    try {
      walkChain(conn, from, chain);
      return;
    } catch (e) {
      // The ancestor's id is gone too: start one level further up.
      if (!(e instanceof HostError) || e.errno !== ENOID || from === root) throw e;
      from.id = 0;
    }
  }
}

/** WALK from `from` along chain's names, giving each node its id; ESTALE where a name leads to another file or nowhere. */
function walkChain(conn: GoferConnection, from: ClientNode, chain: ClientNode[]): void {
  for (let i = 0; i < chain.length; i += MAX_WALK) {
    const part = chain.slice(i, i + MAX_WALK);
    const w = conn.begin(Op.WALK).u32(i === 0 ? from.id : chain[i - 1].id).u16(part.length);
    for (const p of part) w.str(p.name);
    const { r } = conn.call();
    const found = r.u16();
    for (let k = 0; k < found; k++) {
      const id = r.u32();
      const st = r.stat();
      const want = part[k];
      if (st.dev !== want.dev || st.ino !== want.ino) throw new HostError(ESTALE, 'host node replaced');
      want.id = id;
      want.stat = st;
      want.seenAt = performance.now();
    }
    if (found < part.length) throw new HostError(ESTALE, 'host node gone');
  }
}
