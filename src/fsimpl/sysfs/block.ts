// /sys/block: the sandbox's block devices, its loop devices (fsimpl/loop).
// As on Linux each lives in devices/virtual/block/loopN, with links from
// block/loopN and dev/block/7:N; the loop/ directory (backing_file, offset,
// sizelimit, autoclear, partscan, dio) is there only while it is bound.
// Numbers in 512-byte sectors as Linux gives them; the I/O statistics are
// not kept (stat reads zeros).
import { E } from '../../abi/errno';
import type { Entry, NodeMaker } from '../proc/nodes';
import { LO_FLAGS_AUTOCLEAR, LO_FLAGS_DIRECT_IO, LO_FLAGS_PARTSCAN, LOOP_MAJOR, type LoopDevice, type LoopDevices } from '../loop/loop';
import { sysDir, type SysFs } from './sysfs';

type M = NodeMaker<SysFs>;

const ro = (m: M, name: string, value: () => string | number): Entry => m.file(name, () => `${value()}\n`, 0o444, E.EACCES);
const flag = (d: LoopDevice, bit: number) => (): number => (d.flags & bit ? 1 : 0);

function loopDir(m: M, d: LoopDevice): Entry {
  return m.dir(`loop${d.index}`, {
    list: () => {
      const s = m.sub(`loop${d.index}`);
      const e: Entry[] = [
        ro(s, 'dev', () => `${LOOP_MAJOR}:${d.index}`),
        ro(s, 'size', () => d.sizeBytes / 512),
        ro(s, 'ro', () => (d.diskRo ? 1 : 0)),
        ro(s, 'removable', () => 0),
        ro(s, 'stat', () => d.statLine()),
        sysDir(s, 'queue', (q) => [
          ro(q, 'logical_block_size', () => d.blockSize),
          ro(q, 'physical_block_size', () => d.blockSize),
          ro(q, 'rotational', () => 0),
        ]),
      ];
      if (d.state === 'bound') {
        e.push(sysDir(s, 'loop', (l) => [
          ro(l, 'autoclear', flag(d, LO_FLAGS_AUTOCLEAR)),
          ro(l, 'backing_file', () => d.backingPath()),
          ro(l, 'dio', flag(d, LO_FLAGS_DIRECT_IO)),
          ro(l, 'offset', () => d.offset),
          ro(l, 'partscan', flag(d, LO_FLAGS_PARTSCAN)),
          ro(l, 'sizelimit', () => d.sizelimit),
        ]));
      }
      return e;
    },
  }, 0o755);
}

/** devices/virtual/block: one directory per loop device. */
export function virtualBlockDir(m: M, loops: LoopDevices | null): Entry {
  return m.dir('block', { list: () => (loops?.list() ?? []).map((d) => loopDir(m.sub('block'), d)) }, 0o755);
}

/** /sys/block: links to the devices' directories. */
export function blockLinks(m: M, loops: LoopDevices | null): Entry {
  return m.dir('block', { list: () => (loops?.list() ?? []).map((d) => m.sub('block').link(`loop${d.index}`, { target: () => `../devices/virtual/block/loop${d.index}` })) }, 0o755);
}

/** /sys/dev/block: links by device number. */
export function devBlockLinks(m: M, loops: LoopDevices | null): Entry {
  return m.dir('block', {
    list: () => (loops?.list() ?? []).map((d) => m.sub('block').link(`${LOOP_MAJOR}:${d.index}`, { target: () => `../../devices/virtual/block/loop${d.index}` })),
  }, 0o755);
}
