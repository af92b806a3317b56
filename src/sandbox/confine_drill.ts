// The "compromised Sentry" drill (a test switch: `--confine-drill STEP` with
// TSVISOR_CONFINE_DRILL=1). Once confined, the Sentry does what an attacker
// who took it over would try first, and reports what happened. Steps that
// the seccomp filter answers kill the Sentry (the runtime reports that), so
// each run tries one step.
//
// The host-writing steps (create, reopen, mkdir, chmod) are what a Sentry
// that writes no host file itself (--gofer, or no read-write bind) must not
// do: its filter kills it. reopen and chmod act on a descriptor the Gofer
// donated for reading (TSVISOR_CONFINE_DRILL_FILE names it), the one way to
// a host file the namespaces leave it.

import * as fs from 'node:fs';
import * as libc from '../host/libc';

export const DRILL_ENV = 'TSVISOR_CONFINE_DRILL';
const SYS_EXECVE = 59;
const PTRACE_ATTACH = 16;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const AT_FDCWD = -100;
const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;
const F_GETFL = 3;
const SYS_FCHMOD = 91;

/** A regular file held open read-only, preferably the one whose path ends with name (a donated read descriptor). */
function heldReadFd(name: string | undefined): { fd: number; target: string } | null {
  let found: { fd: number; target: string } | null = null;
  for (const e of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(e);
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (!fs.fstatSync(fd).isFile() || target.startsWith('/memfd:') || ((libc.fcntl(fd, F_GETFL, 0) as number) & 3) !== 0) continue;
    } catch {
      continue;
    }
    if (name !== undefined && target.endsWith(`/${name}`)) return { fd, target };
    found ??= { fd, target };
  }
  return found;
}

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
  } else if (step === 'create' || step === 'mkdir') {
    const what = step === 'create' ? 'create /tsvisor-drill' : 'mkdir /tsvisor-drill';
    say(what);
    const name = Buffer.from('/tsvisor-drill\0');
    const rc = step === 'create' ? Number(libc.openatMode(AT_FDCWD, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)) : Number(libc.mkdirat(AT_FDCWD, name, 0o700));
    report(what, rc, libc.errno());
  } else if (step === 'reopen' || step === 'chmod') {
    const held = heldReadFd(process.env[`${DRILL_ENV}_FILE`]);
    if (!held) {
      process.stderr.write(`tsvisor: confine drill: ${step}: no read descriptor of a host file is held\n`);
      return;
    }
    const what = step === 'reopen' ? `reopen ${held.target} for writing` : `chmod 04777 ${held.target}`;
    say(what);
    const rc = step === 'reopen' ? Number(libc.openat(AT_FDCWD, Buffer.from(`/proc/self/fd/${held.fd}\0`), O_RDWR | O_CLOEXEC)) : Number(libc.syscall3(SYS_FCHMOD, held.fd, 0o4777, 0));
    report(what, rc, libc.errno());
  } else if (step === 'ptrace') {
    const pid = Number(process.env[`${DRILL_ENV}_PID`] ?? 1);
    say(`ptrace PTRACE_ATTACH ${pid}`);
    report(`ptrace PTRACE_ATTACH ${pid}`, Number(libc.ptrace(PTRACE_ATTACH, pid, 0, 0)), libc.errno());
  }
}
