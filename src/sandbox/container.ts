// A container's mounts (from its OCI spec, planned by oci/plan.ts) laid over
// the sandbox's own mount namespace. The sandbox always has its own /proc,
// /sys, /dev and /dev/pts: a spec's proc, sysfs, devpts, or tmpfs on /dev at
// those places is what is there already (the spec's /dev tmpfs exists for
// runc to create device nodes in; devfs has them), so they are kept. Binds
// show a host directory: read-only ones directly, read-write ones under a
// tmpfs upper layer, since the host tree is served read-only (writes stay in
// the sandbox). oci/plan.ts reports both in the runtime's log.

import * as fs from 'node:fs';
import { HostTree } from '../host/hosttree';
import { E, Errno } from '../abi/errno';
import { S_IFREG } from '../abi/fs';
import { HostFs } from '../fsimpl/hostfs/hostfs';
import { OverlayFs } from '../fsimpl/overlay/overlay';
import { TmpfsFs } from '../fsimpl/tmpfs/tmpfs';
import { Credentials } from '../auth/creds';
import type { FrameSource } from '../mm/mappable';
import type { MountPlan } from '../oci/plan';
import type { VirtualFilesystem, Resolver } from '../vfs/vfs';
import type { FilesystemImpl } from '../vfs/inode';

/** Where the sandbox mounts its own file systems of each kind. */
const BUILT_IN: Record<string, string> = { proc: '/proc', sysfs: '/sys', devpts: '/dev/pts' };

/** mkdir -p of a mount point (in the root overlay's upper layer when the image lacks it). */
function mountPoint(vfs: VirtualFilesystem, r: Resolver, dest: string): void {
  let at = '';
  for (const part of dest.split('/').filter(Boolean)) {
    at += `/${part}`;
    try {
      vfs.resolve(r, vfs.root, at, true);
    } catch {
      vfs.mkdir(r, vfs.root, at, 0o755);
    }
  }
}

/** Largest single file a file bind copies in (Docker's are a few hundred bytes). */
const MAX_FILE_COPY = 16 << 20;

/** A bind of a single host file: its content copied to the destination in the root's upper layer. */
function copyFile(vfs: VirtualFilesystem, r: Resolver, m: MountPlan, log: (msg: string) => void): void {
  let data: Buffer;
  try {
    const st = fs.statSync(m.source);
    if (!st.isFile() || st.size > MAX_FILE_COPY) {
      log(`bind of ${m.source} on ${m.destination}: not a regular file of at most ${MAX_FILE_COPY} bytes; not mounted`);
      return;
    }
    data = fs.readFileSync(m.source);
  } catch (e) {
    log(`bind of ${m.source} on ${m.destination}: ${(e as Error).message}; not mounted`);
    return;
  }
  const dir = m.destination.slice(0, m.destination.lastIndexOf('/')) || '/';
  mountPoint(vfs, r, dir);
  try {
    vfs.unlink(r, vfs.root, m.destination);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== E.ENOENT) throw e;
  }
  const at = vfs.mknod(r, vfs.root, m.destination, S_IFREG, m.readonly ? 0o444 : 0o644);
  at.dentry.inode.writeAt(0, data);
  log(`copied ${m.source} to ${m.destination} (${data.length} bytes)`);
}

export function applyContainerMounts(vfs: VirtualFilesystem, memfile: FrameSource, mounts: MountPlan[], log: (msg: string) => void): void {
  const creds = new Credentials();
  const r: Resolver = { creds, root: vfs.root, ctx: null };
  for (const m of mounts) {
    const flags = { readonly: m.readonly, noexec: m.noexec, nosuid: m.nosuid, nodev: m.nodev };
    if (BUILT_IN[m.kind] === m.destination || (m.kind === 'tmpfs' && m.destination === '/dev')) {
      log(`mount ${m.kind} on ${m.destination}: the sandbox's own is there already`);
      continue;
    }
    if (m.kind === 'file') {
      copyFile(vfs, r, m, log);
      continue;
    }
    let mfs: FilesystemImpl;
    switch (m.kind) {
      case 'bind': {
        const lower = new HostFs(new HostTree(m.source), memfile, {}, vfs.devs.take());
        if (m.readonly) mfs = lower;
        else {
          mfs = new OverlayFs(lower, new TmpfsFs(memfile, { dev: vfs.devs.take() }), vfs.devs.take());
        }
        break;
      }
      default: {
        const made = vfs.fsTypes.get(m.kind).make(m.kind, m.data, creds);
        mountPoint(vfs, r, m.destination);
        const at = vfs.resolve(r, vfs.root, m.destination, true);
        vfs.mount(made.fs, at, flags, made.root ?? undefined);
        log(`mounted ${m.kind} on ${m.destination}`);
        continue;
      }
    }
    mountPoint(vfs, r, m.destination);
    vfs.mountAt(m.destination, mfs, flags);
    log(`mounted ${m.source} on ${m.destination} (${m.readonly ? 'ro' : 'rw'})`);
  }
}
