// What a path walk of the VFS asks the Gofer client (gofer/client.ts) for
// in one WALK: the name looked up and the names the walk looks up after it
// (vfs/inode.ts LookupAhead, host/hostfs.ts HostLookupAhead), as far as one
// WALK can take them, and whether the walk's file is then opened for
// reading (WALK_OPEN brings its read descriptor in the same reply).
import type { HostLookupAhead } from '../host/hostfs';
import { MAX_WALK, NAME_MAX } from './protocol';

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
