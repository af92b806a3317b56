// The one table that maps system call numbers to handlers. Each family file
// exports its `defs`; this module gathers them (a number defined twice is a
// bug caught at startup) and fills the kernel's dispatch array.

import type { FamilyHooks } from '../kernel/lifecycle';
import type { SyscallDef } from '../kernel/syscall';
import { SYSCALL_NAMES } from './names';
import { ENOSYS_REASONS } from './enosys';

const FAMILIES = [
  'sys_process', 'sys_signal', 'sys_mm', 'sys_info', 'sys_prctl', 'sys_sched', 'sys_time', 'sys_creds',
  'sys_read_write', 'sys_open', 'sys_stat', 'sys_dir', 'sys_link', 'sys_attr', 'sys_fd', 'sys_pipe', 'sys_ioctl',
  'sys_poll', 'sys_epoll', 'sys_eventfd', 'sys_userfaultfd', 'sys_inotify', 'sys_timerfd', 'sys_signalfd', 'sys_shm', 'sys_sem', 'sys_msg', 'sys_mqueue', 'sys_process_vm', 'sys_seccomp', 'sys_futex', 'sys_restart', 'sys_socket', 'sys_sockmsg', 'sys_xattr', 'sys_timer', 'sys_splice', 'sys_advice', 'sys_numa', 'sys_admin',
  'sys_ptrace', 'sys_pidfd', 'sys_kcmp', 'sys_aio', 'sys_memfd',
  'sys_tty', 'sys_mount', 'sys_ns', 'sys_coredump', 'sys_landlock', 'sys_keys', 'sys_mseal', 'sys_fileattr', 'sys_lsm', 'sys_statmount', 'sys_newmount', 'sys_mount_setattr',
];

/**
 * The dispatch array, and the fork/exec/exit hooks of the families (a family
 * that keeps per-process state exports `hooks`; the sandbox registers them on
 * its kernel, so two kernels in one process never share them).
 */
export function buildTable(): { table: Array<SyscallDef | undefined>; hooks: FamilyHooks[]; missingFamilies: string[] } {
  const table: Array<SyscallDef | undefined> = [];
  const hooks: FamilyHooks[] = [];
  const missingFamilies: string[] = [];
  for (const fam of FAMILIES) {
    let mod: { defs?: SyscallDef[]; hooks?: FamilyHooks };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(`./${fam}`) as { defs?: SyscallDef[]; hooks?: FamilyHooks };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(`/${fam}`)) {
        missingFamilies.push(fam);
        continue;
      }
      throw e;
    }
    for (const d of mod.defs ?? []) {
      if (table[d.nr]) throw new Error(`syscall ${d.nr} (${d.name}) defined twice`);
      if (SYSCALL_NAMES[d.nr] !== d.name) throw new Error(`syscall ${d.nr} is ${SYSCALL_NAMES[d.nr]}, not ${d.name}`);
      table[d.nr] = d;
    }
    if (mod.hooks) hooks.push(mod.hooks);
  }
  return { table, hooks, missingFamilies };
}

/** docs/COMPATIBILITY.md, generated from the table. */
export function compatibilityMarkdown(): string {
  const { table } = buildTable();
  const nrs = Object.keys(SYSCALL_NAMES).map(Number).sort((a, b) => a - b);
  const lines = [
    '# System call compatibility (x86-64)',
    '',
    'Generated from the syscall table by `node bin/tsvisor.js compat > docs/COMPATIBILITY.md` (a unit test fails when this file is stale).',
    'States: **implemented**; **partial** (what is missing follows); **ENOSYS** (returns ENOSYS and is logged once; the reason follows).',
    'How far real programs get: the Linux Test Project\'s system call tests and CPython\'s regression tests, natively and in the sandbox, case by case, are in [SUITES.md](SUITES.md).',
    'Last full LTP run (SUITES.md, "Full run (2026-12-04)"; `node test/suites/ltp.js`, tsvisor at c27670a): 948 of 1061 cases pass natively, 905 of those in the sandbox (907 with `splice07` and `mincore04`, fixed since). Of the rest, a disk file system (34 cases) and shared propagation (1) are served since (ext2 on the loop devices: 78 of the 88 block-device cases pass in runs of those cases alone; SUITES.md, "ext2 on the loop devices"), the release (4) is 6.8.0 since (`userfaultfd02` passes), and `tsvisor do` mounts /sys/fs/cgroup read-only as Docker does (2). The runner now counts every family the sandbox serves: of its 305 more cases, 268 pass natively and 195 of those in the sandbox at their first run (SUITES.md, "Every family the sandbox serves"). CPython 3.11: 9519 of 9525 natively passing cases pass. The reported release is Linux 6.8.0 (`src/kernel/uts.ts`), and the calls of later releases listed below as served are offered all the same (ARCHITECTURE.md, "The reported release").',
    '',
    '| nr | name | state | notes |',
    '| --- | --- | --- | --- |',
  ];
  let impl = 0;
  let part = 0;
  for (const nr of nrs) {
    const d = table[nr];
    const state = !d ? 'ENOSYS' : d.partial ? 'partial' : 'implemented';
    if (d && d.partial) part++;
    else if (d) impl++;
    lines.push(`| ${nr} | ${SYSCALL_NAMES[nr]} | ${state} | ${d ? (d.partial ?? '') : (ENOSYS_REASONS[SYSCALL_NAMES[nr]] ?? '')} |`);
  }
  lines.splice(6, 0, `Totals: ${impl} implemented, ${part} partial, ${nrs.length - impl - part} ENOSYS.`, '');
  return lines.join('\n') + '\n';
}
