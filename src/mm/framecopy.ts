// Copies into frames of the memory file by a host write to the memory file
// itself (MemoryFile.write, a pwrite on its memfd) instead of a memcpy
// through the Sentry's mapping. A frame the host does not hold yet (a fresh
// tmpfs page) costs a host page fault per page through the mapping, and the
// fault zeroes the page first; a pwrite allocates and fills the pages in one
// call, as a write to a tmpfs file does natively (200 MiB in 1 MiB pieces:
// about 90 ms against 170 ms through the mapping, measured here). Small
// pieces go through the mapping: there the system call would cost more than
// the faults it saves.

import type { FrameSource } from './mappable';
import { PAGE_SIZE as PAGE } from '../abi/mm';

/** Pieces from this size on are written by the host. */
const HOST_WRITE_MIN = 16 * 1024;

/**
 * Copy src into the consecutive frames first, first+1, ... from byte off of
 * frame first on (the run must cover off + src.length).
 */
export function copyToFrames(frames: FrameSource, first: number, off: number, src: Uint8Array): void {
  // Whatever the host did not take (it should take all) goes through the mapping.
  let done = frames.write && src.length >= HOST_WRITE_MIN ? frames.write(first, off, src) : 0;
  while (done < src.length) {
    const at = off + done;
    const f = first + Math.floor(at / PAGE);
    const po = at % PAGE;
    const n = Math.min(PAGE - po, src.length - done);
    frames.bytes(f).set(src.subarray(done, done + n), po);
    done += n;
  }
}
