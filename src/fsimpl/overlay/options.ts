// The options of an overlay mount (Documentation/filesystems/overlayfs.rst):
// mount(2)'s option string, or one key at a time (fsconfig), into an
// OvlConfig. Paths are resolved as they are met, in the mounter's
// namespaces, as Linux's parser resolves them (so a missing lowerdir is
// ENOENT before a bad option after it is EINVAL); the checks that need all
// of them (missing workdir, overlapping layers) are fsimpl/overlay/mount.ts's.
// Options Linux has and this overlay does not (redirect_dir, index, xino,
// metacopy, nfs_export, uuid and verity other than off, data-only layers)
// are EINVAL.
import { E, Errno } from '../../abi/errno';
import type { VPath } from '../../vfs/dentry';

/** Linux's OVL_MAX_STACK: lower layers one mount may stack (each is held while mounted). */
export const OVL_MAX_LOWER = 500;

/** Generic superblock options mount(8) may leave in the string (the flags word carries their meaning). */
const SB_OPTIONS: readonly string[] = ['ro', 'rw', 'sync', 'async', 'dirsync', 'lazytime', 'nolazytime', 'mand', 'nomand', 'silent'];

/**
 * Options accepted when they name what this overlay does anyway: off is
 * Linux's default for each (with the kernel's default configuration);
 * "on" values need features it lacks (redirects, an index, inode number
 * tagging, metadata-only copy-up, file handles, fs-verity).
 */
const ONLY_VALUE: Record<string, readonly string[]> = {
  redirect_dir: ['off'],
  index: ['off'],
  xino: ['off'],
  metacopy: ['off'],
  nfs_export: ['off'],
  uuid: ['off', 'null'],
  verity: ['off'],
};

/** A resolved layer directory and the text that named it. */
export interface OvlLayer {
  readonly path: VPath;
  readonly name: string;
}

export class OvlConfig {
  readonly lower: OvlLayer[] = [];
  upper: OvlLayer | null = null;
  work: OvlLayer | null = null;
  /** userxattr: whiteout and opaque markers in user.overlay.* (unprivileged mounts) instead of trusted.overlay.*. */
  userxattr = false;
  volatile = false;

  /**
   * One option (value null for a flag). resolve finds a path (ENOENT,
   * ENOTDIR as the walk says); a layer must be a directory (EINVAL).
   */
  set(key: string, value: string | null, resolve: (path: string) => VPath): void {
    if (SB_OPTIONS.includes(key) && value === null) return;
    switch (key) {
      case 'lowerdir':
        this.lower.length = 0;
        for (const p of splitLower(need(value))) this.addLower(p, resolve);
        return;
      case 'lowerdir+':
        this.addLower(need(value), resolve);
        return;
      case 'upperdir':
        this.upper = layer(need(value), resolve);
        return;
      case 'workdir':
        this.work = layer(need(value), resolve);
        return;
      case 'userxattr':
        if (value !== null) throw new Errno(E.EINVAL);
        this.userxattr = true;
        return;
      // No fsync is made anyway (mount.ts leaves the work directory marked, as Linux does).
      case 'volatile':
        if (value !== null) throw new Errno(E.EINVAL);
        this.volatile = true;
        return;
      // Permission checks are the overlay inode's alone, which default_permissions asks for.
      case 'default_permissions':
        if (value !== null) throw new Errno(E.EINVAL);
        return;
    }
    const allowed = ONLY_VALUE[key];
    if (allowed && value !== null && allowed.includes(value)) return;
    throw new Errno(E.EINVAL, `overlay: option ${key} is not supported`);
  }

  private addLower(p: string, resolve: (path: string) => VPath): void {
    if (this.lower.length >= OVL_MAX_LOWER) throw new Errno(E.EINVAL);
    this.lower.push(layer(p, resolve));
  }

  /** mount(2)'s option string: comma-separated, a backslash escapes the next character. */
  static parse(data: string, resolve: (path: string) => VPath): OvlConfig {
    const c = new OvlConfig();
    for (const opt of splitEscaped(data, ',', true)) {
      if (!opt) continue;
      const eq = opt.indexOf('=');
      c.set(eq < 0 ? opt : opt.slice(0, eq), eq < 0 ? null : opt.slice(eq + 1), resolve);
    }
    return c;
  }
}

function need(v: string | null): string {
  if (v === null || v === '') throw new Errno(E.EINVAL);
  return v;
}

function layer(p: string, resolve: (path: string) => VPath): OvlLayer {
  const path = resolve(unescape(p));
  // Linux's overlay says EINVAL for a layer that is not a directory, not ENOTDIR.
  if ((path.dentry.inode.mode & 0o170000) !== 0o040000) throw new Errno(E.EINVAL);
  return { path, name: unescape(p) };
}

/** lowerdir=A:B:C, top first; "::" (data-only layers below) is not supported. */
function splitLower(v: string): string[] {
  const parts = splitEscaped(v, ':', true);
  if (parts.some((p) => p === '')) throw new Errno(E.EINVAL, 'overlay: empty or data-only lower layers are not supported');
  return parts;
}

/** Split at sep where it is not escaped by a backslash; the escapes stay for unescape(). */
function splitEscaped(s: string, sep: string, keep: boolean): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += keep ? ch + s[i + 1] : s[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return splitEscaped(s, '\0', false).join('\0');
}
