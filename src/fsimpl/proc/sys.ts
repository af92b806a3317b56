// /proc/sys: the sysctl values programs commonly read. Read-only (opening
// for writing fails with EROFS, as in a container whose /proc/sys is mounted
// read-only), except kernel/hostname and kernel/domainname, which root may
// set as with sethostname/setdomainname.
import { randomUUID } from '../../host/random';
import { Errno, E } from '../../abi/errno';
import { UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from './format';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';

const HOST_NAME_MAX = 64;

export const SYSCTL_DEFAULTS = {
  pidMax: 4194304,
  threadsMax: 126886,
  ngroupsMax: 65536,
  capLastCap: 40,
  shmmax: '18446744073692774399',
  shmall: '18446744073692774399',
  shmmni: 4096,
  overflowId: 65534,
  maxMapCount: 65530,
  mmapMinAddr: 65536,
  fileMax: '9223372036854775807',
  nrOpen: 1048576,
  pipeMaxSize: 1048576,
  inotifyMaxUserWatches: 8192,
  inotifyMaxUserInstances: 128,
  inotifyMaxQueuedEvents: 16384,
  somaxconn: 4096,
};

function setName(data: Buffer, set: (s: string) => void): void {
  let s = data.toString('latin1');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  if (s.length > HOST_NAME_MAX) throw new Errno(E.EINVAL);
  set(s);
}

export function sysDir(fs: ProcFs, m: NodeMaker): Entry {
  const k = fs.kernel;
  const d = SYSCTL_DEFAULTS;
  const v = (name: string, value: string | number) => (mm: NodeMaker) => mm.file(name, () => `${value}\n`, 0o444, E.EROFS);
  const dir = (mm: NodeMaker, name: string, items: Array<(mm: NodeMaker) => Entry>): Entry => mm.staticDir(name, (sub) => items.map((f) => f(sub)));
  const kernel = (mm: NodeMaker): Entry[] => [
    mm.rwFile('hostname', () => `${k.hostname}\n`, (data) => setName(data, (s) => (k.hostname = s))),
    mm.rwFile('domainname', () => `${k.domainname}\n`, (data) => setName(data, (s) => (k.domainname = s))),
    v('ostype', UTS_SYSNAME)(mm),
    v('osrelease', UTS_RELEASE)(mm),
    v('version', UTS_VERSION)(mm),
    v('pid_max', d.pidMax)(mm),
    v('threads-max', d.threadsMax)(mm),
    v('ngroups_max', d.ngroupsMax)(mm),
    v('cap_last_cap', d.capLastCap)(mm),
    v('shmmax', d.shmmax)(mm),
    v('shmall', d.shmall)(mm),
    v('shmmni', d.shmmni)(mm),
    v('overflowuid', d.overflowId)(mm),
    v('overflowgid', d.overflowId)(mm),
    dir(mm, 'random', [
      (r) => r.file('boot_id', () => `${fs.bootId}\n`, 0o444, E.EROFS),
      (r) => r.file('uuid', () => `${randomUUID()}\n`, 0o444, E.EROFS),
      v('entropy_avail', 256),
      v('poolsize', 256),
    ]),
  ];
  return m.staticDir('sys', (s) => [
    dir(s, 'fs', [
      v('file-max', d.fileMax),
      v('nr_open', d.nrOpen),
      v('pipe-max-size', d.pipeMaxSize),
      (mm) => dir(mm, 'inotify', [
        v('max_user_watches', d.inotifyMaxUserWatches),
        v('max_user_instances', d.inotifyMaxUserInstances),
        v('max_queued_events', d.inotifyMaxQueuedEvents),
      ]),
    ]),
    s.staticDir('kernel', kernel),
    dir(s, 'net', [(mm) => dir(mm, 'core', [v('somaxconn', d.somaxconn)])]),
    dir(s, 'vm', [
      v('overcommit_memory', 0),
      v('overcommit_ratio', 50),
      v('max_map_count', d.maxMapCount),
      v('mmap_min_addr', d.mmapMinAddr),
    ]),
  ]);
}
