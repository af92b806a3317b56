// The "compromised Sentry" drill (a test switch: `--confine-drill STEP` with
// TSVISOR_CONFINE_DRILL=1). Once confined, the Sentry does what an attacker
// who took it over would try first, and reports what happened. Steps that
// the seccomp filter answers kill the Sentry (the runtime reports that), so
// each run tries one step.

import * as fs from 'node:fs';
import * as libc from '../host/libc';

export const DRILL_ENV = 'TSVISOR_CONFINE_DRILL';
const SYS_EXECVE = 59;
const PTRACE_ATTACH = 16;
const AF_UNIX = 1;
const SOCK_STREAM = 1;

function report(what: string, rc: number, errno: number): void {
  process.stderr.write(rc < 0 ? `tsvisor: confine drill: ${what}: refused (errno ${errno})\n` : `tsvisor: confine drill: ${what}: SUCCEEDED, the confinement is broken\n`);
}

/** targets: the host socket path and host pid to try (the test's own). */
export function runDrill(step: string): void {
  const say = (what: string): void => void process.stderr.write(`tsvisor: confine drill: ${what}: trying\n`);
  if (step === 'open') {
    say('open /etc/shadow');
    try {
      fs.closeSync(fs.openSync('/etc/shadow', 'r'));
      report('open /etc/shadow', 0, 0);
    } catch (e) {
      report('open /etc/shadow', -1, -((e as NodeJS.ErrnoException).errno ?? 0));
    }
  } else if (step === 'connect') {
    const path = process.env[`${DRILL_ENV}_SOCKET`] ?? '/run/systemd/private';
    say(`connect ${path}`);
    const fd = libc.socket(AF_UNIX, SOCK_STREAM, 0) as number;
    const sa = Buffer.alloc(110);
    sa.writeUInt16LE(AF_UNIX, 0);
    sa.write(path, 2, 'utf8');
    const rc = libc.connect(fd, sa, sa.length) as number;
    report(`connect ${path}`, rc, libc.errno());
    libc.close(fd);
  } else if (step === 'exec') {
    say('execve /bin/true');
    const p = libc.allocPinned(16);
    p.buf.write('/bin/true\0');
    const argv = libc.allocPinned(16);
    argv.buf.writeBigUInt64LE(p.addr, 0);
    const rc = Number(libc.syscall3(SYS_EXECVE, Number(p.addr), Number(argv.addr), 0));
    report('execve /bin/true', rc, libc.errno());
  } else if (step === 'ptrace') {
    const pid = Number(process.env[`${DRILL_ENV}_PID`] ?? 1);
    say(`ptrace PTRACE_ATTACH ${pid}`);
    report(`ptrace PTRACE_ATTACH ${pid}`, Number(libc.ptrace(PTRACE_ATTACH, pid, 0, 0)), libc.errno());
  }
}
