// `tsvisor do -v/--volume HOSTDIR:DIR[:ro|rw]`: a bind mount of a host
// directory (or file), read-write unless :ro, as `docker run -v` makes one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MountPlan } from '../oci/plan';
import { fail } from './fail';

export function parseVolumes(specs: string[]): MountPlan[] {
  return specs.map((spec) => {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) fail(`--volume wants HOSTDIR:DIR[:ro|rw], got ${JSON.stringify(spec)}`);
    const [src, dest, opt = 'rw'] = parts;
    if (opt !== 'ro' && opt !== 'rw') fail(`--volume ${spec}: unknown option ${JSON.stringify(opt)} (ro or rw)`);
    if (!path.posix.isAbsolute(dest)) fail(`--volume ${spec}: ${dest} is not an absolute path in the sandbox`);
    let real: string;
    let st: fs.Stats;
    try {
      // The host follows symlinks in the source, as Docker and runc do; below it, nothing is followed.
      real = fs.realpathSync(path.resolve(src));
      st = fs.statSync(real);
    } catch {
      fail(`--volume ${spec}: ${src} does not exist`);
    }
    if (!st.isDirectory() && !st.isFile()) fail(`--volume ${spec}: ${src} is neither a directory nor a regular file`);
    return {
      kind: st.isDirectory() ? 'bind' : 'file', destination: path.posix.normalize(dest), source: real,
      readonly: opt === 'ro', nosuid: false, nodev: false, noexec: false, data: '',
    };
  });
}
