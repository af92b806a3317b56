// /proc/sysvipc/{shm,msg,sem}: the System V objects of the reader's IPC
// namespace, one line each in Linux's layout (the headers and widths of
// ipc/shm.c, msg.c and sem.c): a segment's rss is the bytes it holds now (a
// SHM_HUGETLB segment's huge pages), swap always 0.
import { PAGE_SIZE } from '../../abi/mm';
import type { ProcFs } from './procfs';
import { callerOf } from './task_info';

const HEADER = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';

const MSG_HEADER = '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n';
const SEM_HEADER = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';

const r = (v: number | string, w: number): string => String(v).padStart(w);
const sec = (ns: number): number => Math.floor(ns / 1e9);

function ipcOf(fs: ProcFs, ctx: unknown) {
  return (callerOf(fs.kernel, ctx)?.nsproxy.ipc ?? fs.kernel.rootNs.ipc);
}

export function sysvipcShmText(fs: ProcFs, ctx: unknown): string {
  const shm = ipcOf(fs, ctx).shm;
  let out = HEADER;
  for (const s of shm.set.values()) {
    const p = s.perm;
    out += `${r(p.key | 0, 10)} ${r(s.id, 10)}  ${r(p.mode.toString(8), 4)} ${r(s.segsz, 21)} ${r(s.cpid, 5)} ${r(s.lpid, 5)}  `
      + `${r(s.nattch, 5)} ${r(p.uid, 5)} ${r(p.gid, 5)} ${r(p.cuid, 5)} ${r(p.cgid, 5)} ${r(sec(s.atimeNs), 10)} ${r(sec(s.dtimeNs), 10)} ${r(sec(s.ctimeNs), 10)} `
      + `${r(s.resident * PAGE_SIZE, 21)} ${r(0, 21)}\n`;
  }
  return out;
}

export function sysvipcMsgText(fs: ProcFs, ctx: unknown): string {
  let out = MSG_HEADER;
  for (const q of ipcOf(fs, ctx).msg.set.values()) {
    const p = q.perm;
    out += `${r(p.key | 0, 10)} ${r(q.id, 10)}  ${r(p.mode.toString(8), 4)}  ${r(q.bytes, 10)} ${r(q.messages.length, 10)} ${r(q.lspid, 5)} ${r(q.lrpid, 5)} `
      + `${r(p.uid, 5)} ${r(p.gid, 5)} ${r(p.cuid, 5)} ${r(p.cgid, 5)} ${r(sec(q.stimeNs), 10)} ${r(sec(q.rtimeNs), 10)} ${r(sec(q.ctimeNs), 10)}\n`;
  }
  return out;
}

export function sysvipcSemText(fs: ProcFs, ctx: unknown): string {
  let out = SEM_HEADER;
  for (const s of ipcOf(fs, ctx).sem.set.values()) {
    const p = s.perm;
    out += `${r(p.key | 0, 10)} ${r(s.id, 10)}  ${r(p.mode.toString(8), 4)} ${r(s.nsems, 10)} ${r(p.uid, 5)} ${r(p.gid, 5)} ${r(p.cuid, 5)} ${r(p.cgid, 5)} `
      + `${r(sec(s.otimeNs), 10)} ${r(sec(s.ctimeNs), 10)}\n`;
  }
  return out;
}
