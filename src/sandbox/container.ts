// A container's mounts (from its OCI spec, planned by oci/plan.ts) laid over
// the sandbox's own mount namespace. The sandbox always has its own /proc,
// /sys, /dev and /dev/pts: a spec's proc, sysfs, devpts, or tmpfs on /dev at
// those places is what is there already (the spec's /dev tmpfs exists for
// runc to create device nodes in; devfs has them), so they are kept. Binds
// show a host directory or file: read-only ones through a read-only host tree
// (files opened O_RDONLY, EROFS for every write), read-write ones through a
// WritableHostTree (in the Sentry, or in the Gofer with --gofer), so writes
// reach the host as with runc.

import * as path from 'node:path';
import { HostTree } from '../host/hosttree';
import { WritableHostTree } from '../host/hosttree_rw';
import type { HostFiles } from '../host/hostfs';
import type { GoferClient } from '../gofer/client';
import { closeHandOff, connectGofer, startGofer } from '../gofer/start';
import type { GoferHandOff } from '../gofer/spawn';
import { goferTrees } from './gofer_trees';
import { E, Errno } from '../abi/errno';
import { O_WRONLY, S_IFDIR, S_IFMT, S_IFREG } from '../abi/fs';
import type { FileCtx } from '../vfs/ctx';
import { Dentry, Mount, type MountFlags, type VPath } from '../vfs/dentry';
import { attachAt, copyTree, topOf } from '../vfs/mount_ns';
import { HostFs } from '../fsimpl/hostfs/hostfs';
import { TmpfsFs } from '../fsimpl/tmpfs/tmpfs';
import { Credentials } from '../auth/creds';
import type { FrameSource } from '../mm/mappable';
import type { MountPlan } from '../oci/plan';
import type { Sysctl } from '../oci/sysctl';
import type { VirtualFilesystem } from '../vfs/vfs';
import type { Resolver } from '../vfs/walk';
import type { FilesystemImpl } from '../vfs/inode';

/** Where the sandbox mounts its own file systems of each kind. */
const BUILT_IN: Record<string, string> = { proc: '/proc', sysfs: '/sys', devpts: '/dev/pts' };

/** mkdir -p of a mount point (in the root overlay's upper layer when the image lacks it), from r's root. */
export function mountPoint(vfs: VirtualFilesystem, r: Resolver, dest: string): void {
  let at = '';
  for (const part of dest.split('/').filter(Boolean)) {
    at += `/${part}`;
    try {
      vfs.resolve(r, r.root, at, true);
    } catch {
      vfs.mkdir(r, r.root, at, 0o755);
    }
  }
}

/** A file at dest (an empty one made in the root's upper layer when the image lacks it), for a file to be bound on. */
function fileMountPoint(vfs: VirtualFilesystem, r: Resolver, dest: string): void {
  mountPoint(vfs, r, path.posix.dirname(dest));
  try {
    vfs.resolve(r, r.root, dest, true);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== E.ENOENT) throw e;
    vfs.mknod(r, r.root, dest, S_IFREG, 0o644);
  }
}

/**
 * Bind src (a file or a directory, with what is mounted below it) on the
 * path dest (from r's root), as mount(2) with MS_BIND|MS_REC does; both must
 * be of the same kind. Returns the new mount, whose flags the caller may tighten.
 */
export function bindAt(vfs: VirtualFilesystem, r: Resolver, src: VPath, dest: string): Mount {
  const top = topOf(vfs.resolve(r, r.root, dest, true));
  if (((top.dentry.inode.mode & S_IFMT) === S_IFDIR) !== ((src.dentry.inode.mode & S_IFMT) === S_IFDIR)) throw new Errno(E.ENOTDIR);
  const m = copyTree(vfs, src.mount, src.dentry, true, new Map(), true);
  attachAt(m, top.mount, top.dentry);
  return m;
}

/**
 * A bind of a single host file: the file system of its host directory
 * (read-only, or writable) mounted with the file alone as its root, on a
 * file at the destination. The file is seen live, and written through.
 */
function bindFile(vfs: VirtualFilesystem, r: Resolver, memfile: FrameSource, m: MountPlan, flags: MountFlags, hostFiles: HostFilesOf): void {
  // plan.source is the host's real path (cli/container_spec.ts resolved its symlinks, as runc follows them on the host).
  const source = m.source;
  const dirFs = hostTreeFs(vfs, memfile, hostFiles(path.dirname(source), m.readonly));
  const dirMount = new Mount(vfs.allocMountId(), dirFs, new Dentry(dirFs.root(), '', null), null, null, { ...flags });
  const file = vfs.lookupChild(r, { mount: dirMount, dentry: dirMount.root }, path.basename(source));
  if (!file || (file.dentry.inode.mode & S_IFMT) !== S_IFREG) throw new Errno(E.ENOENT, `${m.source} is not a regular file`);
  fileMountPoint(vfs, r, m.destination);
  Object.assign(bindAt(vfs, r, file, m.destination).flags, flags);
}

/** A host directory as a file system: read-only, or written through to the host. */
function hostTreeFs(vfs: VirtualFilesystem, memfile: FrameSource, files: HostFiles): HostFs {
  return new HostFs(files, memfile, {}, vfs.devs.take());
}

/**
 * linux.maskedPaths: a directory gets an empty read-only tmpfs on top, a
 * file /dev/null bound on it (as runc does); readonlyPaths: a read-only bind
 * of the path on itself. A path the sandbox does not have needs nothing.
 */
export function applyPathRules(vfs: VirtualFilesystem, memfile: FrameSource, masked: string[], readonly: string[], log: (msg: string) => void, root = vfs.root): void {
  const r: Resolver = { creds: new Credentials(), root, ctx: null };
  const find = (p: string): VPath | null => {
    try {
      return vfs.resolve(r, root, p, true);
    } catch {
      return null;
    }
  };
  for (const p of masked) {
    const at = find(p);
    if (!at) continue;
    if ((at.dentry.inode.mode & S_IFMT) === S_IFDIR) {
      vfs.mount(new TmpfsFs(memfile, { mode: 0o555, sizePages: 1, dev: vfs.devs.take() }), at, { readonly: true, noexec: true, nosuid: true, nodev: true });
    } else {
      const devNull = find('/dev/null');
      if (!devNull) throw new Error('no /dev/null to mask files with');
      bindAt(vfs, r, devNull, p);
    }
    log(`masked ${p}`);
  }
  for (const p of readonly) {
    const at = find(p);
    if (!at) continue;
    bindAt(vfs, r, topOf(at), p).flags.readonly = true;
    log(`made ${p} read-only`);
  }
}

/** The host files of a bind source: read-only, or writable (written through to the host). */
type HostFilesOf = (source: string, readonly: boolean) => HostFiles;

/**
 * The host trees of a sandbox: the root file system's and one per bind
 * mount source, all served by one Gofer when gofer is asked for (started
 * here, before the Sentry reads a file, or handed over already started),
 * else opened by the Sentry itself.
 */
export function hostFilesFor(rootfs: string, mounts: MountPlan[], gofer: boolean | GoferHandOff): { rootfs: () => HostTree | GoferClient; forSource: HostFilesOf; close: () => void } {
  if (gofer === false) return { rootfs: () => new HostTree(rootfs), forSource: (p, readonly) => (readonly ? new HostTree(p) : new WritableHostTree(p)), close: () => undefined };
  const trees = goferTrees(rootfs, mounts);
  if (gofer !== true && JSON.stringify(gofer.trees) !== JSON.stringify(trees)) {
    // Handed over with the trees: its socket is ours to close.
    closeHandOff(gofer);
    throw new Error('the Gofer handed over does not serve the trees this sandbox needs');
  }
  const conn = gofer === true ? startGofer(trees).conn : connectGofer(gofer);
  return {
    // The Gofer ends when its socket closes (a pod's container removed: its host trees are let go, pod.ts).
    close: () => conn.close(),
    rootfs: () => conn.tree(0),
    forSource: (p, readonly) => {
      const i = trees.findIndex((t, k) => k > 0 && t.path === p && t.writable === !readonly);
      if (i < 0) throw new Error(`the Gofer does not serve ${p}`);
      return conn.tree(i);
    },
  };
}

/** The spec's mounts, in the tree whose root is root (the sandbox's, or a pod container's: pod.ts). */
export function applyContainerMounts(
  vfs: VirtualFilesystem, memfile: FrameSource, mounts: MountPlan[], log: (msg: string) => void, hostFiles: HostFilesOf, root = vfs.root,
): void {
  const creds = new Credentials();
  const r: Resolver = { creds, root, ctx: null };
  for (const m of mounts) {
    const flags = { readonly: m.readonly, noexec: m.noexec, nosuid: m.nosuid, nodev: m.nodev };
    if (BUILT_IN[m.kind] === m.destination || (m.kind === 'tmpfs' && m.destination === '/dev')) {
      log(`mount ${m.kind} on ${m.destination}: the sandbox's own is there already`);
      continue;
    }
    if (m.kind === 'file') {
      bindFile(vfs, r, memfile, m, flags, hostFiles);
      log(`mounted file ${m.source} on ${m.destination} (${m.readonly ? 'ro' : 'rw'})`);
      continue;
    }
    let mfs: FilesystemImpl;
    switch (m.kind) {
      case 'bind':
        mfs = hostTreeFs(vfs, memfile, hostFiles(m.source, m.readonly));
        break;
      default: {
        const made = vfs.fsTypes.get(m.kind).make(m.kind, m.data, creds, null);
        mountPoint(vfs, r, m.destination);
        const at = vfs.resolve(r, root, m.destination, true);
        vfs.mount(made.fs, at, flags, made.root ?? undefined);
        log(`mounted ${m.kind} on ${m.destination}`);
        continue;
      }
    }
    mountPoint(vfs, r, m.destination);
    vfs.mount(mfs, vfs.resolve(r, root, m.destination, true), flags);
    log(`mounted ${m.source} on ${m.destination} (${m.readonly ? 'ro' : 'rw'})`);
  }
}

/**
 * linux.sysctl (checked by oci/sysctl.ts): each value written to its file
 * under the sandbox's /proc/sys as root, before the path rules make /proc/sys
 * read-only. A value the Sentry refuses fails the container, as under runc.
 */
export function applySysctls(vfs: VirtualFilesystem, sysctls: Sysctl[]): void {
  const creds = new Credentials();
  const ctx: FileCtx = { creds, pid: 0, block: () => Promise.reject(new Error('a sysctl write never blocks')), sendSignal: () => {} };
  for (const s of sysctls) {
    try {
      const f = vfs.open(ctx, { creds, root: vfs.root, ctx: null }, vfs.root, `/proc/sys/${s.file}`, O_WRONLY, 0);
      if (f instanceof Promise) throw new Errno(E.EINVAL);
      try {
        if (f.write(ctx, Buffer.from(s.value, 'utf8')) instanceof Promise) throw new Errno(E.EINVAL);
      } finally {
        f.decRef();
      }
    } catch (e) {
      if (e instanceof Errno) throw new Error(`linux.sysctl: cannot set ${s.key} to ${JSON.stringify(s.value)}: ${e.message}`);
      throw e;
    }
  }
}
