// Builds the sandbox's mount namespace: the root overlay (host rootfs under a
// tmpfs), tmpfs on /tmp and /dev/shm, devfs on /dev, devpts on /dev/pts, sysfs on /sys. procfs is mounted on
// /proc later by its own code with vfs.mountAt('/proc', procfs).
import type { HostFiles } from '../host/hostfs';
import type { HostInfo } from '../host/hostinfo';
import { Credentials } from '../auth/creds';
import { DevFs } from '../fsimpl/devfs/devfs';
import { DevPtsFs, groupId } from '../fsimpl/devpts/devpts';
import { HostFs } from '../fsimpl/hostfs/hostfs';
import { OverlayFs } from '../fsimpl/overlay/overlay';
import { SysFs } from '../fsimpl/sysfs/sysfs';
import { openFifo } from '../fsimpl/pipe/pipe';
import { TmpfsFs } from '../fsimpl/tmpfs/tmpfs';
import type { HostStdio } from '../fsimpl/hostfd/terminal';
import { FsContext } from '../vfs/fs_context';
import type { FrameSource } from '../mm/mappable';
import { AnonDevs } from '../vfs/numbering';
import { VirtualFilesystem, type Resolver } from '../vfs/vfs';

export interface MountNamespaceOptions {
  /** The host directory tree shown read-only as "/". */
  rootfs: HostFiles;
  memfile: FrameSource;
  /** The machine the sandbox shows (its CPUs in /sys). */
  host: Pick<HostInfo, 'cpuinfo' | 'ncpu'>;
  /** The sandbox's donated host fds; its terminal is /dev/tty (null: none). */
  stdio?: HostStdio | null;
}

export function buildMountNamespace(opts: MountNamespaceOptions): { vfs: VirtualFilesystem; hostfs: HostFs; rootContext(): FsContext } {
  // Numbered in the same order in every sandbox: the same mountinfo, the same st_dev.
  const devs = new AnonDevs();
  const lower = new HostFs(opts.rootfs, opts.memfile, {}, devs.take());
  const upper = new TmpfsFs(opts.memfile, { dev: devs.take() });
  const vfs = new VirtualFilesystem(new OverlayFs(lower, upper, devs.take()), { openFifo, devs });
  const r: Resolver = { creds: new Credentials(), root: vfs.root, ctx: null };
  // Mount points the rootfs may lack (a minimal image) are made in the upper layer.
  for (const dir of ['/tmp', '/dev', '/proc', '/sys']) {
    try {
      vfs.resolve(r, vfs.root, dir, true);
    } catch {
      vfs.mkdir(r, vfs.root, dir, dir === '/tmp' ? 0o1777 : 0o755);
    }
  }
  vfs.mountAt('/tmp', new TmpfsFs(opts.memfile, { mode: 0o1777, dev: devs.take() }));
  const [devDev, shmDev, sysDev, ptsDev] = [devs.take(), devs.take(), devs.take(), devs.take()];
  const pts = new DevPtsFs(ttyGroup(vfs, r), opts.stdio ?? null, ptsDev);
  vfs.mountAt('/dev', new DevFs(opts.stdio ?? null, devDev, pts));
  vfs.mountAt('/dev/pts', pts);
  vfs.mountAt('/dev/shm', new TmpfsFs(opts.memfile, { mode: 0o1777, dev: shmDev }));
  // The sandbox's own sysfs: the host's /sys must not show through the root overlay.
  vfs.mountAt('/sys', new SysFs(opts.host, sysDev));
  return {
    vfs,
    hostfs: lower,
    rootContext: () => new FsContext(vfs.root, vfs.root),
  };
}

/** The image's tty group (owner group of pty slaves), from its /etc/group; null if it has none. */
function ttyGroup(vfs: VirtualFilesystem, r: Resolver): number | null {
  try {
    const p = vfs.resolve(r, vfs.root, '/etc/group', true);
    return groupId(p.dentry.inode.readAt(0, 1 << 20).toString('latin1'), 'tty');
  } catch {
    return null;
  }
}
