// The runtime's side of the Sentry's confinement (docs/SECURITY.md): start
// the Sentry in its namespaces, write its ID maps, take the host from it when
// it asks, pass signals on, and report how it ended. Node cannot unshare
// a user or mount namespace itself (it has threads from its start), so the
// namespaces come from util-linux: setpriv (the Sentry dies with us),
// unshare (the namespaces), setpriv again (no capabilities, no_new_privs)
// before Node starts; the root is taken away later by nsenter and perl
// (essential on Debian), from outside, so that the Sentry never holds a
// capability on any of its threads.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tty from 'node:tty';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { CALLER_CAPBND_ENV, CONFINE_FD_ENV, CONFINE_GOFER_ENV } from './confine_env';
import { encodeHandOff, type GoferHandOff } from '../gofer/spawn';
import * as libc from '../host/libc';

const SENTRY_FD = 3;
/** Where the confined Sentry finds its end of the Gofer's socket. */
const GOFER_FD = 4;
const CAP_SETGID = 6;
const CAP_SETUID = 7;
const SIGSYS = 31;

/**
 * Runs in the new namespaces as uid 0 of them, before Node: wait for the ID
 * maps, then drop every capability for good and start the Sentry (the
 * parent-death signal again: gaining and dropping capabilities cleared it).
 */
const START = 'echo maps >&3; read r <&3; [ "$r" = ok ] || exit 125; '
  + 'exec setpriv --securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked,+keep_caps_locked '
  + '--bounding-set=-all --inh-caps=-all --ambient-caps=-all --nnp --pdeathsig KILL -- "$@"';

/**
 * Run by nsenter in the Sentry's namespaces (it has their capabilities):
 * an empty tmpfs with a PID-only proc in it, read-only, becomes the root
 * (pivot_root(".", ".") stacks the old root on the new one; detaching it
 * leaves the new one alone). String arguments are variables: perl's
 * syscall() wants writable buffers.
 */
const PIVOT = `sub ok { my ($r, $w) = @_; die "$w: $!\\n" if $r < 0 }
my ($src, $tmp, $type, $opt, $pd, $proc, $popt, $dot) = ("tsvisor-root", "/tmp", "tmpfs", "size=16k,nr_inodes=16,mode=0555", "/tmp/proc", "proc", "subset=pid", ".");
ok(syscall(165, $src, $tmp, $type, 14, $opt), "mount the empty root");
mkdir($pd, 0555) or die "mkdir /proc: $!\\n";
ok(syscall(165, $proc, $pd, $proc, 14, $popt), "mount /proc");
ok(syscall(165, 0, $tmp, 0, 47, 0), "remount the root read-only");
chdir($tmp) or die "chdir: $!\\n";
ok(syscall(155, $dot, $dot), "pivot_root");
ok(syscall(166, $dot, 2), "detach the host root");`;

/** The Sentry's start-up lines, as create --debug says them. */
const STEPS = new Map([
  ['maps', "the Sentry's namespaces exist, its ID maps asked for"],
  ['pivot', 'the Sentry built the sandbox and asks to lose the host root'],
  ['confined', 'the Sentry is confined'],
]);

export interface ConfineOptions {
  /** A new, empty network namespace (--network none); else the one the runtime is in. */
  newNetns: boolean;
  /** The caller's soft RLIMIT_NOFILE, handed on (the Sentry's parent is outside its PID namespace). */
  nofileEnv: [string, string] | null;
  /**
   * The Gofer the runtime started (it needs mount and network namespaces
   * the confined Sentry cannot make): the Sentry's end of its socket, passed
   * on as the Sentry's only way to host files, and closed here.
   */
  gofer: GoferHandOff | null;
  /** More descriptors for the Sentry, as its fds 5, 6, ... (the OCI sandbox process's start-up pipe and requests channel); closed here. 'pipe': a pipe to the runtime (the child's stdio[5 + i]). */
  extraFds?: Array<number | 'pipe'>;
  /** The Sentry's fds 0-2, if not this process's (a container's terminal). */
  stdio?: [number, number, number];
  /**
   * The signals of a terminal (^C, ^\\, window changes) reach the Sentry
   * from the terminal itself (its foreground process group is ours), so
   * they are not passed on. Default: fd 0 is a terminal.
   */
  terminalSignals?: boolean;
  /** A line the Sentry sent after its confinement (it keeps its socket only when it has requests to make: sandbox_proc.ts). */
  onLine?: (line: string) => void;
  /** Instead of exiting as the Sentry did: called once it ended and its socket was read to the end. */
  onExit?: (code: number | null, sig: NodeJS.Signals | null) => void;
  /** A debug line at each step of the Sentry's start-up (create --debug: where its time goes). */
  debug?: (msg: string) => void;
}

/** Where the Sentry finds opts.extraFds[0]. */
export const FIRST_EXTRA_FD = 5;

function capSet(name: string): string | null {
  const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(fs.readFileSync('/proc/self/status', 'latin1'));
  return m ? m[1] : null;
}

function hasCap(cap: number): boolean {
  const eff = capSet('CapEff');
  return eff !== null && ((BigInt(`0x${eff}`) >> BigInt(cap)) & 1n) === 1n;
}

/**
 * The ID maps: with CAP_SETUID/CAP_SETGID, the identity of every id our own
 * user namespace has (root's whole range on a plain host, the one id inside
 * an `unshare -Ur`); without, the caller alone, as root of the new namespace.
 */
function writeIdMaps(pid: number): void {
  for (const [kind, cap, own] of [['uid', CAP_SETUID, process.geteuid!()], ['gid', CAP_SETGID, process.getegid!()]] as const) {
    let map: string;
    if (hasCap(cap)) {
      map = fs.readFileSync(`/proc/self/${kind}_map`, 'latin1').trim().split('\n').map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length === 3).map(([inner, , count]) => `${inner} ${inner} ${count}`).join('\n');
    } else {
      if (kind === 'gid') fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
      map = `0 ${own} 1`;
    }
    if (!map) throw new Error(`this user namespace maps no ${kind}s`);
    fs.writeFileSync(`/proc/${pid}/${kind}_map`, map + '\n');
  }
}

/** The Sentry's host pid: the one child of unshare. */
function sentryPid(unsharePid: number): number {
  const kids = fs.readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean);
  if (kids.length !== 1) throw new Error('the Sentry process is not there');
  return Number(kids[0]);
}

/** Start `node ARGS` as the confined Sentry and end this process as it ends (or call opts.onExit); returns its runtime's child (setpriv). */
export function runConfined(nodeArgs: string[], opts: ConfineOptions, forward: NodeJS.Signals[]): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, [CONFINE_FD_ENV]: String(SENTRY_FD) };
  if (opts.nofileEnv) env[opts.nofileEnv[0]] = opts.nofileEnv[1];
  const bnd = capSet('CapBnd');
  if (bnd !== null) env[CALLER_CAPBND_ENV] = bnd;
  if (opts.gofer) env[CONFINE_GOFER_ENV] = encodeHandOff({ fd: GOFER_FD, trees: opts.gofer.trees });
  const unshare = ['unshare', '--user', '--mount', '--pid', '--fork', '--kill-child=SIGKILL', '--ipc', '--uts', '--mount-proc', ...(opts.newNetns ? ['--net'] : [])];
  const extra = opts.extraFds ?? [];
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...unshare, '--', '/bin/sh', '-c', START, 'tsvisor-sentry', process.execPath, ...nodeArgs], {
    stdio: [...(opts.stdio ?? ['inherit', 'inherit', 'inherit'] as const), 'pipe', opts.gofer ? opts.gofer.fd : 'ignore', ...extra], env,
  });
  // The Sentry has its copy: the Gofer ends when the Sentry's closes.
  if (opts.gofer) libc.close(opts.gofer.fd);
  for (const fd of extra) if (fd !== 'pipe') libc.close(fd);
  let sentry = 0;
  let confined = false;
  const sock = child.stdio[SENTRY_FD] as Socket;
  let text = '';
  const reply = (s: string): void => void sock.write(s + '\n');
  sock.setEncoding('utf8');
  sock.on('error', () => undefined);
  sock.on('data', (c: string) => {
    text += c;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n')) {
      const line = text.slice(0, i);
      text = text.slice(i + 1);
      const step = STEPS.get(line);
      if (step) opts.debug?.(step);
      if (line === 'maps') {
        try {
          writeIdMaps(child.pid!);
          reply('ok');
        } catch (e) {
          process.stderr.write(`tsvisor: cannot map the Sentry's user namespace: ${(e as Error).message}\n`);
          reply('error');
        }
      } else if (line === 'pivot') {
        try {
          sentry = sentryPid(child.pid!);
        } catch (e) {
          reply(`error: ${(e as Error).message}`);
          continue;
        }
        execFile('nsenter', ['-t', String(sentry), '-U', '-m', '-p', '--preserve-credentials', '--', 'perl', '-e', PIVOT], (err, _out, errText) => {
          opts.debug?.('its host root taken away');
          reply(err ? `cannot take the host root away: ${(errText || err.message).trim()}` : 'ok');
        });
      } else if (line === 'confined') {
        confined = true;
      } else if (confined) {
        opts.onLine?.(line);
      }
    }
  });
  // Signals meant for the sandbox reach the Sentry (init of its PID namespace: it has handlers).
  // Those a terminal raises already reach it in our process group.
  const onTty = opts.terminalSignals ?? tty.isatty(0);
  for (const name of forward) {
    process.on(name, () => {
      if (onTty && (name === 'SIGINT' || name === 'SIGQUIT' || name === 'SIGWINCH')) return;
      if (sentry) {
        try {
          process.kill(sentry, name);
        } catch {
          // gone already: its exit is on its way
        }
      }
    });
  }
  child.on('error', (e) => {
    process.stderr.write(`tsvisor: cannot start the confined Sentry (util-linux's setpriv and unshare are needed; --no-confine runs without): ${e.message}\n`);
    process.exit(125);
  });
  let ended = false;
  sock.on('close', () => (ended = true));
  child.on('exit', (code, sig) => {
    if (opts.onExit) {
      let called = false;
      const cb = opts.onExit;
      const onExit = (c: number | null, sg: NodeJS.Signals | null): void => {
        if (!called) cb(c, sg);
        called = true;
      };
      if (sig === 'SIGSYS') process.stderr.write(`tsvisor: the Sentry was killed by its seccomp filter: it made a host system call outside its allowlist; the kernel log names it (dmesg: type=1326 ... syscall=N)\n`);
      // Its last lines (the container's status) may still be on their way.
      if (ended) onExit(code, sig);
      else {
        const t = setTimeout(() => onExit(code, sig), 1000);
        sock.once('close', () => {
          clearTimeout(t);
          onExit(code, sig);
        });
      }
      return;
    }
    if (sig === 'SIGSYS') {
      process.stderr.write(`tsvisor: the Sentry was killed by its seccomp filter: it made a host system call outside its allowlist${confined ? '' : ' (during start-up)'}; the kernel log names it (dmesg: type=1326 ... syscall=N)\n`);
      process.exit(128 + SIGSYS);
    }
    if (sig) {
      process.stderr.write(`tsvisor: the Sentry died of ${sig}\n`);
      process.exit(128 + os.constants.signals[sig]);
    }
    process.exit(code ?? 125);
  });
  return child;
}
