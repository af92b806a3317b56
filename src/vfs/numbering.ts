// The numbers a mount namespace hands out to its file systems and pipes.
// They belong to the namespace (the VirtualFilesystem), not to the process:
// every sandbox numbers alike, whatever else runs in the same Sentry.
import { makedev } from '../abi/fs';

/**
 * Anonymous device numbers (major 0), one per file system instance, as Linux
 * gives to tmpfs & co. One per mount namespace (the VFS's), so every sandbox
 * numbers its file systems alike.
 */
export class AnonDevs {
  private nextMinor = 16;
  take(): number {
    return makedev(0, this.nextMinor++);
  }
}

/** A file system with no tree, only numbers for its objects (pipefs): st_dev and inode numbers. */
export class PseudoFs {
  private nextIno = 1;
  constructor(readonly dev: number) {}
  ino(): number {
    return this.nextIno++;
  }
}
