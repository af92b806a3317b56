// The network identity files of `tsvisor do` (/etc/hostname, /etc/hosts,
// /etc/resolv.conf), written into the root's private upper layer before the
// first process starts, as a runtime writes them for a container (the rule is
// in docs/ARCHITECTURE.md, "Network modes"). OCI containers get theirs from
// the spec's mounts instead.
import { Credentials } from '../auth/creds';
import { Errno } from '../abi/errno';
import { O_CREAT, O_TRUNC, O_WRONLY } from '../abi/fs';
import type { FileCtx } from '../vfs/ctx';
import type { VirtualFilesystem } from '../vfs/vfs';

/** The localhost names of a sandbox whose only interface is its loopback, and its hostname on 127.0.1.1 (Debian's convention). */
export function loopbackHosts(hostname: string): string {
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t${hostname}\n`;
}

/** Write each file (path -> content) as root; a file that cannot be written (no /etc in the rootfs) is logged and left out. */
export function writeEtcFiles(vfs: VirtualFilesystem, files: Record<string, string>, log: (msg: string) => void): void {
  const creds = new Credentials();
  const ctx: FileCtx = {
    creds, pid: 0,
    block: () => Promise.reject(new Error('the boot-time writer never blocks')),
    sendSignal: () => {},
  };
  for (const [path, text] of Object.entries(files)) {
    try {
      const f = vfs.open(ctx, { creds, root: vfs.root, ctx: null }, vfs.root, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
      if (f instanceof Promise) throw new Error(`${path} is not a regular file`);
      try {
        const n = f.write(ctx, Buffer.from(text, 'utf8'));
        if (n instanceof Promise) throw new Error(`${path}: the write would block`);
      } finally {
        f.decRef();
      }
    } catch (e) {
      if (!(e instanceof Errno) && !(e instanceof Error)) throw e;
      log(`${path} not written: ${e.message}`);
    }
  }
}
