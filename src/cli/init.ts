// `tsvisor do --init`: as `docker run --init`, a minimal init runs as pid 1
// and the command as its child. pid 1 of a PID namespace gets only the
// signals it has a handler for and inherits every orphan; tini (Docker's
// docker-init) forwards signals to the command and reaps the orphans, so
// Ctrl-C stops `tsvisor do --init -- sleep 100`. Like Docker, the host's
// static tini is bound read-only into the sandbox at /sbin/docker-init, so
// it runs whatever the root file system holds.
import * as fs from 'node:fs';
import type { MountPlan } from '../oci/plan';
import { fail } from './fail';

const INIT_AT = '/sbin/docker-init';
// Where Debian's tini and docker.io put a static init.
const CANDIDATES = ['/usr/bin/tini-static', '/usr/libexec/docker/docker-init', '/usr/sbin/docker-init'];

/** The bind of the init and the argv that runs the command under it. */
export function withInit(argv: string[], initPath: string | undefined): { mount: MountPlan; argv: string[] } {
  const source = initPath ?? CANDIDATES.find((p) => fs.existsSync(p));
  if (!source) fail(`--init needs a static init: install Debian's tini (${CANDIDATES[0]}) or name one with --init-path`);
  let real: string;
  try {
    real = fs.realpathSync(source);
    if (!fs.statSync(real).isFile()) throw new Error('not a file');
  } catch {
    fail(`--init-path ${source} is not a file`);
  }
  const mount: MountPlan = {
    kind: 'file', destination: INIT_AT, source: real, readonly: true, nosuid: true, nodev: true, noexec: false, data: '',
  };
  return { mount, argv: [INIT_AT, '--', ...argv] };
}
