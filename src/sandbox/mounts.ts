// Builds the sandbox's mount namespace: the root overlay (host rootfs under a
// tmpfs), tmpfs on /tmp and /dev/shm, devfs on /dev. procfs is mounted on
// /proc later by its own code with vfs.mountAt('/proc', procfs).
import type { HostFiles } from '../host/hostfs';
import { Credentials } from '../auth/creds';
import { DevFs } from '../fsimpl/devfs/devfs';
import { HostFs } from '../fsimpl/hostfs/hostfs';
import { OverlayFs } from '../fsimpl/overlay/overlay';
import { openFifo } from '../fsimpl/pipe/pipe';
import { TmpfsFs } from '../fsimpl/tmpfs/tmpfs';
import type { HostEvents } from '../platform/platform';
import { FsContext } from '../vfs/fs_context';
import type { FrameSource } from '../mm/mappable';
import { VirtualFilesystem, type Resolver } from '../vfs/vfs';

export interface MountNamespaceOptions {
  /** The host directory tree shown read-only as "/". */
  rootfs: HostFiles;
  memfile: FrameSource;
  /** Host fd of the caller's terminal for /dev/tty (null: none). */
  ttyHostFd?: number | null;
  /** Where waits on that terminal go (the platform's host event service). */
  hostEvents?: HostEvents | null;
}

export function buildMountNamespace(opts: MountNamespaceOptions): { vfs: VirtualFilesystem; hostfs: HostFs; rootContext(): FsContext } {
  const lower = new HostFs(opts.rootfs, opts.memfile);
  const upper = new TmpfsFs(opts.memfile);
  const vfs = new VirtualFilesystem(new OverlayFs(lower, upper), { openFifo });
  const r: Resolver = { creds: new Credentials(), root: vfs.root, ctx: null };
  // Mount points the rootfs may lack (a minimal image) are made in the upper layer.
  for (const dir of ['/tmp', '/dev', '/proc', '/sys']) {
    try {
      vfs.resolve(r, vfs.root, dir, true);
    } catch {
      vfs.mkdir(r, vfs.root, dir, dir === '/tmp' ? 0o1777 : 0o755);
    }
  }
  vfs.mountAt('/tmp', new TmpfsFs(opts.memfile, { mode: 0o1777 }));
  vfs.mountAt('/dev', new DevFs(opts.ttyHostFd ?? null, opts.hostEvents ?? null));
  vfs.mountAt('/dev/shm', new TmpfsFs(opts.memfile, { mode: 0o1777 }));
  // The host's /sys must not show through the root overlay; a sysfs of the
  // sandbox's own comes later, an empty directory stands in until then.
  vfs.mountAt('/sys', new TmpfsFs(opts.memfile, { mode: 0o555 }));
  return {
    vfs,
    hostfs: lower,
    rootContext: () => new FsContext(vfs.root, vfs.root),
  };
}
