// /proc/sysvipc/shm: the System V shared memory segments of the reader's IPC
// namespace, one line each in Linux's layout (ipc/shm.c's header and
// widths): rss is the bytes the segment holds now (a SHM_HUGETLB segment's
// huge pages), swap always 0. Only shm is there (msg and sem are not).
import { PAGE_SIZE } from '../../abi/mm';
import type { ProcFs } from './procfs';
import { callerOf } from './task_info';

const HEADER = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';

export function sysvipcShmText(fs: ProcFs, ctx: unknown): string {
  const shm = (callerOf(fs.kernel, ctx)?.nsproxy.ipc ?? fs.kernel.rootNs.ipc).shm;
  const r = (v: number | string, w: number) => String(v).padStart(w);
  const sec = (ns: number) => Math.floor(ns / 1e9);
  let out = HEADER;
  for (const s of shm.set.values()) {
    const p = s.perm;
    out += `${r(p.key | 0, 10)} ${r(s.id, 10)}  ${r(p.mode.toString(8), 4)} ${r(s.segsz, 21)} ${r(s.cpid, 5)} ${r(s.lpid, 5)}  `
      + `${r(s.nattch, 5)} ${r(p.uid, 5)} ${r(p.gid, 5)} ${r(p.cuid, 5)} ${r(p.cgid, 5)} ${r(sec(s.atimeNs), 10)} ${r(sec(s.dtimeNs), 10)} ${r(sec(s.ctimeNs), 10)} `
      + `${r(s.resident * PAGE_SIZE, 21)} ${r(0, 21)}\n`;
  }
  return out;
}
