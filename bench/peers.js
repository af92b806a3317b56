#!/usr/bin/env node
'use strict';
// bench/peers.js: the same workloads natively, in tsvisor, under PRoot and in
// User-Mode Linux, interleaved run by run; medians and ratios in one table.
//
//   node bench/peers.js [--reps N] [--only ROW[,ROW]] [--systems LIST]
//                       [--timeout SEC] [--scale F] [--json] [--list]
//
//   --reps N       repetitions of the whole set (default 3)
//   --only ROWS    row ids to run (see --list), comma separated
//   --systems L    any of native,tsvisor,systrap,proot,uml (default all;
//                  tsvisor is --platform ptrace, systrap --platform systrap:
//                  each names its platform, whatever the default is)
//   --timeout SEC  per run (default 300)
//   --scale F      sizes times F (default 1: 200 MB files, 500 fork+exec...)
//   --json         print the results as JSON instead of the table
//   --out FILE     also write the table so far to FILE after each repetition
//   --base DIR     add the system "base": another tsvisor tree (a checkout
//                  of an earlier commit, built) run the same way, interleaved,
//                  for before/after figures from the same minutes
//
// Every workload is a shell command run by /bin/sh -c in each system:
//   native   /bin/sh -c CMD
//   tsvisor  node bin/tsvisor.js do --platform ptrace -- /bin/sh -c CMD
//   proot    proot /bin/sh -c CMD   (guest root = host root)
//   uml      linux mem=1G rootfstype=hostfs rootflags=/ rw init=SCRIPT ...:
//            the init script mounts proc and a tmpfs on /tmp, runs CMD, and
//            halts the machine.
// The command times itself inside (date +%s%N around it); the harness also
// takes the wall time of the whole run, which for tsvisor and UML includes
// starting the sandbox or booting the kernel. The table shows the inside
// time, and the wall time in brackets where the two differ by start-up.
// Files written go to /tmp in tsvisor and UML (a private tmpfs there) and to
// a directory in /dev/shm natively and under PRoot (also tmpfs: the host's
// /tmp may be a disk). Files read come from bench/build/peers/data.
// A run that fails is recorded with its reason; the system is then skipped
// for that row, and the rest goes on.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const gen = require('./peers-gen.js');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(__dirname, 'build');
const SCRATCH = path.join(BUILD, 'peers');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');
const SYSTEMS = ['native', 'tsvisor', 'systrap', 'proot', 'uml'];
const BASE = 'base';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ROWS: id, label, and the command. c is the context: W a directory to write
// into, D the data directory, B the generated sources, s the scale. A row with
// parse reads its figure from the output instead of the time. A row with zero
// (the I/O rows) also times the same tools doing no work (zeroWhat) in the
// same run, right after the command: the table then adds the row net of that
// (the I/O path alone, without the tools' own start in each system) and the
// zero row itself.
const ROWS = [
  { id: 'getpid', what: 'getpid loop, ns per call', unit: 'ns',
    cmd: (c) => `${c.getpid} ${c.n(200000)}`, parse: nsPerIter },
  { id: 'true', what: 'start-up: `/bin/true`, wall ms', wallOnly: true, cmd: () => '/bin/true' },
  { id: 'forkexec', what: (c) => `${c.n(500)} fork+exec of /bin/true from sh`,
    cmd: (c) => `i=0; while [ $i -lt ${c.n(500)} ]; do /bin/true; i=$((i+1)); done` },
  { id: 'find', what: '`find /usr \\| wc -l`', cmd: () => 'find /usr | wc -l', check: true },
  { id: 'lsR', what: '`ls -lR /usr/share \\| wc -l`', cmd: () => 'ls -lR /usr/share | wc -l', check: true },
  { id: 'du', what: '`du -s /usr/lib`', cmd: () => 'du -s /usr/lib >/dev/null' },
  { id: 'cat', what: (c) => `\`cat\` of a ${c.mb(200)} MB file`, cmd: (c) => `cat ${c.file} >/dev/null`,
    zero: (c) => `cat ${c.empty} >/dev/null`, zeroWhat: '`cat` of an empty file' },
  { id: 'dd', what: (c) => `\`dd\` of ${c.mb(200)} MB to /tmp`,
    cmd: (c) => `dd if=/dev/zero of=${c.W}/dd.out bs=1M count=${c.mb(200)} 2>/dev/null && rm -f ${c.W}/dd.out`,
    zero: (c) => `dd if=/dev/zero of=${c.W}/dd.out bs=1M count=0 2>/dev/null && rm -f ${c.W}/dd.out`, zeroWhat: '`dd` of 0 MB to /tmp' },
  { id: 'pipe', what: (c) => `${c.mb(512)} MB through a pipe (dd bs=64k \\| cat)`,
    cmd: (c) => `dd if=/dev/zero bs=64k count=${c.mb(512) * 16} 2>/dev/null | cat >/dev/null`,
    zero: () => 'dd if=/dev/zero bs=64k count=0 2>/dev/null | cat >/dev/null', zeroWhat: '0 MB through the pipe' },
  { id: 'sha256', what: (c) => `\`sha256sum\` of ${c.mb(200)} MB`, cmd: (c) => `sha256sum ${c.file}`, check: true,
    zero: (c) => `sha256sum ${c.empty}`, zeroWhat: '`sha256sum` of an empty file' },
  { id: 'gcc', what: (c) => `\`gcc -O2 -c\` of a ${c.n(2000)}-line file`,
    cmd: (c) => `gcc -O2 -c ${c.B}/gen.c -o ${c.W}/gen.o && rm -f ${c.W}/gen.o` },
  { id: 'tar', what: '`tar czf` of /usr/include',
    cmd: (c) => `tar czf ${c.W}/inc.tgz -C /usr include && rm -f ${c.W}/inc.tgz` },
  { id: 'python', what: '`python3 -c pass`', cmd: () => 'python3 -c pass' },
  { id: 'fileops', what: (c) => `${c.n(200000)} small file operations (python)`,
    cmd: (c) => `python3 ${c.B}/fileops.py ${c.W}/fops ${c.n(200000)}`, check: true },
  { id: 'sqlins', what: (c) => `sqlite3: ${c.n(100000)} inserts in one transaction`,
    cmd: (c) => `rm -f ${c.W}/i.db && sqlite3 ${c.W}/i.db <${c.B}/inserts.sql && rm -f ${c.W}/i.db`,
    check: true, needs: 'sqlite3' },
  { id: 'sqltx', what: (c) => `sqlite3: ${c.n(1000)} transactions`,
    cmd: (c) => `rm -f ${c.W}/t.db && sqlite3 ${c.W}/t.db <${c.B}/transactions.sql && rm -f ${c.W}/t.db`,
    check: true, needs: 'sqlite3' },
  { id: 'make', what: '`make -j1` of 20 C files',
    cmd: (c) => `rm -rf ${c.W}/mk && make -s -j1 -C ${c.B}/mk O=${c.W}/mk && rm -rf ${c.W}/mk` },
  { id: 'pss', what: 'host memory (PSS) of an idle sandbox, MiB', unit: 'MiB', pss: true },
];

function parseArgs(argv) {
  const opts = { reps: 3, only: null, systems: SYSTEMS, timeout: 300, scale: 1, json: false, out: null, base: null };
  const value = (i) => {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--list') {
      for (const r of ROWS) process.stdout.write(`${r.id.padEnd(9)} ${label(r, context('/tmp', 1))}\n`);
      process.exit(0);
    } else if (a === '-h' || a === '--help') {
      const doc = fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 32);
      process.stdout.write(doc.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else if (a === '--reps' || a === '--timeout') {
      const v = value(i++);
      if (!/^\d+$/.test(v) || Number(v) < 1) usage(`${a} wants a positive integer`);
      opts[a.slice(2)] = Number(v);
    } else if (a === '--scale') {
      const v = Number(value(i++));
      if (!(v > 0 && v <= 10)) usage('--scale wants a number in (0, 10]');
      opts.scale = v;
    } else if (a === '--out') {
      opts.out = value(i++);
    } else if (a === '--base') {
      opts.base = path.resolve(value(i++));
      if (!fs.existsSync(path.join(opts.base, 'bin', 'tsvisor.js'))) usage(`--base ${opts.base}: no bin/tsvisor.js there`);
    } else if (a === '--only') {
      opts.only = value(i++).split(',').filter(Boolean);
      for (const id of opts.only) if (!ROWS.some((r) => r.id === id)) usage(`unknown row ${id} (see --list)`);
    } else if (a === '--systems') {
      opts.systems = value(i++).split(',').filter(Boolean);
      for (const s of opts.systems) if (!SYSTEMS.includes(s)) usage(`unknown system ${s} (${SYSTEMS.join(',')})`);
    } else usage(`unknown argument ${a}`);
  }
  if (opts.base) {
    const at = opts.systems.indexOf('tsvisor');
    opts.systems = [...opts.systems];
    opts.systems.splice(at < 0 ? opts.systems.length : at + 1, 0, BASE);
  }
  return opts;
}

function usage(msg) {
  process.stderr.write(`bench/peers: ${msg} (try --help)\n`);
  process.exit(2);
}

function log(msg) {
  process.stderr.write(`bench/peers: ${msg}\n`);
}

function which(name) {
  for (const dir of (process.env.PATH || PATH_ENV).split(':')) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

function nsPerIter(stdout) {
  const m = /ns_per_iter=([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`no ns_per_iter in output: ${stdout.trim().slice(0, 200)}`);
  return Number(m[1]);
}

function context(W, scale) {
  const n = (x) => Math.max(1, Math.round(x * scale));
  const c = { W, D: path.join(SCRATCH, 'data'), B: path.join(SCRATCH, 'src'), s: scale, n, mb: n };
  c.file = path.join(c.D, `data-${n(200)}M.bin`);
  c.empty = path.join(c.D, 'empty');
  c.getpid = path.join(BUILD, 'getpid.static');
  return c;
}

function label(row, c) {
  return typeof row.what === 'function' ? row.what(c) : row.what;
}

// wrap makes the command time itself and report its status on stdout. With
// zero, the tools doing no work run once before (untimed: it warms the same
// caches for both) and once after the command, timed.
function wrap(cmd, zero) {
  if (!zero) return `t0=$(date +%s%N)\n{ ${cmd}\n}\nrc=$?\nt1=$(date +%s%N)\necho "@@BENCH rc=$rc ns=$((t1-t0))"\n`;
  const z = `{ ${zero}\n} >/dev/null 2>&1`;
  return `${z}\nt0=$(date +%s%N)\n{ ${cmd}\n}\nrc=$?\nt1=$(date +%s%N)\n${z}\nzrc=$?\nt2=$(date +%s%N)\n` +
    'echo "@@BENCH rc=$rc ns=$((t1-t0)) zrc=$zrc zns=$((t2-t1))"\n';
}

function shQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// Each system turns a shell script into an argv (and for UML, files).
class Systems {
  constructor(opts, tools) {
    this.opts = opts;
    this.tools = tools;
    this.shm = fs.mkdtempSync('/dev/shm/tsvisor-peers-');
    this.umlDir = path.join(SCRATCH, 'uml');
    this.runs = 0;
  }

  writeDir(sys) {
    return sys === 'native' || sys === 'proot' ? this.shm : '/tmp';
  }

  argv(sys, script) {
    switch (sys) {
      case 'native':
        return ['/bin/sh', '-c', script];
      case 'tsvisor':
        return [process.execPath, TSVISOR, 'do', '--platform', 'ptrace', '--', '/bin/sh', '-c', script];
      case 'systrap':
        return [process.execPath, TSVISOR, 'do', '--platform', 'systrap', '--', '/bin/sh', '-c', script];
      case BASE:
        return [process.execPath, path.join(this.opts.base, 'bin', 'tsvisor.js'), 'do', '--platform', 'ptrace', '--', '/bin/sh', '-c', script];
      case 'proot':
        return [this.tools.proot, '/bin/sh', '-c', script];
      case 'uml':
        return this.umlArgv(script);
      default:
        throw new Error(`unknown system ${sys}`);
    }
  }

  umlArgv(script, noXstate = this.tools.umlNoXstate) {
    fs.mkdirSync(this.umlDir, { recursive: true });
    const init = path.join(this.umlDir, `init-${process.pid}.sh`);
    fs.writeFileSync(init, [
      '#!/bin/sh',
      `export PATH=${PATH_ENV} HOME=/root LANG=C.UTF-8`,
      // Under uml-noxstate only the FXSAVE part of the vector registers
      // survives UML's switches between processes sharing a host process
      // (vfork): gcc's driver then built garbled cc1 arguments. glibc is
      // told to keep to SSE string functions in the guest.
      ...(noXstate ? ['export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD'] : []),
      'mount -t proc proc /proc',
      'mount -t tmpfs -o size=800m tmpfs /tmp',
      'cd /',
      // the console also carries kernel messages: the output starts here
      'echo @@START',
      `/bin/sh -c ${shQuote(script)}`,
      'exec halt -f',
      '',
    ].join('\n'), { mode: 0o755 });
    const umid = `peers-${process.pid}-${++this.runs}`;
    const argv = [this.tools.uml, 'mem=1G', 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`,
      'con=null', 'con0=fd:0,fd:1', 'quiet', `uml_dir=${this.umlDir}`, `umid=${umid}`];
    return noXstate ? [this.tools.noXstate, ...argv] : argv;
  }

  cleanup() {
    fs.rmSync(this.shm, { recursive: true, force: true });
  }
}

// pgroupPids lists the live processes of process group pgid.
function pgroupPids(pgid) {
  const pids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after the name: state, ppid, pgrp
      if (Number(f[2]) === pgid && f[0] !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function pssKiB(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// runOnce runs argv in a process group of its own and resolves to
// {ms, stdout, stderr, code, signal, timedOut, pssKiB}. Whatever is left of
// the group afterwards (UML's helpers, a sandbox's stubs) is killed and
// waited for, so no run overlaps the next.
function runOnce(argv, timeoutSec, { pssAfterReady = false } = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = childProcess.spawn(argv[0], argv.slice(1), {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const pgid = child.pid;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let pss = null;
    let pssStarted = false;
    const killGroup = () => {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // group already empty
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutSec * 1000);
    child.stdout.on('data', (d) => {
      if (stdout.length < 1 << 20) stdout += d;
      if (pssAfterReady && !pssStarted && stdout.includes('@@READY')) {
        pssStarted = true;
        setTimeout(() => {
          pss = pgroupPids(pgid).reduce((sum, pid) => sum + pssKiB(pid), 0);
        }, 2000);
      }
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ms: 0, stdout, stderr: String(e.message), code: 127, signal: null, timedOut });
    });
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      for (let i = 0; i < 100 && pgroupPids(pgid).length; i++) {
        killGroup();
        await sleep(50);
      }
      const left = pgroupPids(pgid);
      if (left.length) log(`warning: processes ${left.join(',')} of group ${pgid} would not die`);
      resolve({ ms, stdout, stderr, code, signal, timedOut, pssKiB: pss });
    });
  });
}

function lastLine(s) {
  return (s || '').split('\n').map((l) => l.trim())
    .filter((l) => l && !/^@@/.test(l) && !/^(reboot|Failed to initialize ubd|mmapper_init|SELinux)/.test(l))
    .slice(-1)[0] || '';
}

// measureRun runs one workload in one system and returns {inside, wall,
// out} (ms, or the parsed figure) or throws with the reason.
async function measureRun(systems, sys, row, c, timeout) {
  const r = await runOnce(systems.argv(sys, wrap(row.cmd(c), row.zero && row.zero(c))), timeout);
  if (r.timedOut) throw new Error(`timed out after ${timeout} s`);
  const m = /@@BENCH rc=(\d+) ns=(-?\d+)(?: zrc=(\d+) zns=(-?\d+))?/.exec(r.stdout);
  if (!m) {
    const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
    throw new Error(`${why}, no result${lastLine(r.stderr || r.stdout) ? `: ${lastLine(r.stderr || r.stdout)}` : ''}`);
  }
  if (m[1] !== '0') throw new Error(`command exit status ${m[1]}: ${lastLine(r.stderr || r.stdout)}`);
  // UML's console ends lines with \r\n
  const start = r.stdout.lastIndexOf('@@START', m.index);
  const out = r.stdout.slice(start < 0 ? 0 : start, m.index).replace(/\r/g, '').split('\n').filter((l) => l && !/^@@/.test(l)).join('\n').trim();
  const inside = row.parse ? row.parse(out) : Number(m[2]) / 1e6;
  if (!row.zero) return { inside, wall: r.ms, out };
  if (m[3] !== '0') throw new Error(`${row.zeroWhat}: exit status ${m[3]}`);
  return { inside, wall: r.ms, out, zero: Number(m[4]) / 1e6 };
}

async function measurePss(systems, sys, timeout) {
  const r = await runOnce(systems.argv(sys, 'echo @@READY; sleep 5; echo "@@BENCH rc=0 ns=0"'), timeout,
    { pssAfterReady: true });
  if (r.timedOut) throw new Error(`timed out after ${timeout} s`);
  if (r.pssKiB === null || r.pssKiB === undefined) {
    throw new Error(`never became ready: ${lastLine(r.stderr || r.stdout) || `exit status ${r.code}`}`);
  }
  return { inside: r.pssKiB / 1024, wall: r.ms, out: '' };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

// probeTools finds the peers and says how to install a missing one.
async function probeTools(opts) {
  const tools = { proot: which('proot'), uml: which('linux'), sqlite3: which('sqlite3'), missing: {} };
  const apt = 'apt-get install proot user-mode-linux sqlite3';
  if (opts.systems.includes('proot') && !tools.proot) {
    tools.missing.proot = `proot is not installed (${apt})`;
  }
  if (opts.systems.includes('uml') && !tools.uml) {
    tools.missing.uml = `User-Mode Linux (/usr/bin/linux) is not installed (${apt})`;
  }
  if (!tools.sqlite3) log(`sqlite3 is not installed: its rows are skipped (${apt})`);
  if (opts.systems.includes('tsvisor') && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    tools.missing.tsvisor = 'dist/cli/main.js missing: run npm run build';
  }
  for (const [sys, why] of Object.entries(tools.missing)) log(`${sys}: skipped: ${why}`);
  tools.noXstate = path.join(BUILD, 'uml-noxstate');
  tools.umlNoXstate = false;
  if (opts.systems.includes('uml') && tools.uml) {
    // UML 6.1 panics at init on hosts whose XSAVE area it does not know
    // (AVX-512, AMX); see bench/uml-noxstate.c.
    const sys = new Systems(opts, tools);
    const r = await runOnce(sys.umlArgv(wrap('true'), false), 60);
    sys.cleanup();
    if (!/@@BENCH rc=0/.test(r.stdout)) {
      if (/set fp regs failed/.test(r.stdout + r.stderr)) {
        log('uml: this UML cannot save the host\'s XSAVE state; running it under bench/uml-noxstate');
        tools.umlNoXstate = true;
      } else {
        tools.missing.uml = `UML does not boot: ${lastLine(r.stderr || r.stdout)}`;
        log(`uml: skipped: ${tools.missing.uml}`);
      }
    }
  }
  return tools;
}

function table(rows, opts, c) {
  const sys = opts.systems;
  const cellOf = (row, s) => {
    const m = row.results[s];
    if (!m) return '-';
    if (m.error) return 'error';
    const main = row.def.wallOnly ? m.wall : m.inside;
    const showWall = !row.def.wallOnly && !row.def.pss && !row.def.parse && (s === 'tsvisor' || s === 'systrap' || s === BASE || s === 'uml');
    return showWall ? `${fmt(main)} (${fmt(m.wall)})` : fmt(main);
  };
  const val = (row, s) => {
    const m = row.results[s];
    if (!m || m.error) return undefined;
    return row.def.wallOnly ? m.wall : m.inside;
  };
  // The rows derived from a row with zero: net of the tools' start, and that start.
  const derived = (key) => (row, s) => {
    const m = row.results[s];
    return m && !m.error ? m[key] : undefined;
  };
  const ratios = [];
  for (const s of sys) if (s !== 'native' && sys.includes('native')) ratios.push([s, 'native']);
  if (sys.includes('tsvisor')) for (const s of [BASE, 'proot', 'uml']) if (sys.includes(s)) ratios.push(['tsvisor', s]);
  if (sys.includes('systrap')) for (const s of ['tsvisor', 'proot']) if (sys.includes(s)) ratios.push(['systrap', s]);
  const head = ['workload', ...sys, ...ratios.map(([a, b]) => `${a}/${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  const emit = (row, what, v, cell) => {
    const ratio = (a, b) => {
      const x = v(row, a);
      const y = v(row, b);
      return x !== undefined && y !== undefined && y > 0 ? x / y : undefined;
    };
    lines.push(`| ${[what, ...sys.map((s) => cell(row, s)), ...ratios.map(([a, b]) => fmt(ratio(a, b)))].join(' | ')} |`);
  };
  for (const row of rows) {
    emit(row, label(row.def, c), val, cellOf);
    if (!row.def.zero) continue;
    for (const [key, what] of [['net', `... net of ${row.def.zeroWhat}`], ['zero', `... ${row.def.zeroWhat} (the tools' start)`]]) {
      const v = derived(key);
      emit(row, what, v, (r, s) => (r.results[s] && r.results[s].error ? 'error' : fmt(v(r, s))));
    }
  }
  const notes = [];
  for (const row of rows) {
    for (const s of sys) {
      const m = row.results[s];
      if (m && m.error) notes.push(`- ${row.def.id}, ${s}: error: ${m.error}`);
      if (m && m.differs) notes.push(`- ${row.def.id}, ${s}: output differs from native: ${m.differs}`);
    }
  }
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n');
}

function summarize(rows, opts) {
  for (const row of rows) {
    const nativeOut = (row.samples.native || [])[0];
    for (const s of opts.systems) {
      if (row.results[s] && row.results[s].error) continue;
      const xs = row.samples[s];
      if (!xs.length) continue;
      row.results[s] = {
        inside: median(xs.map((x) => x.inside)),
        wall: median(xs.map((x) => x.wall)),
        samples: xs.map((x) => ({ inside: x.inside, wall: x.wall, zero: x.zero })),
      };
      if (row.def.zero) {
        row.results[s].zero = median(xs.map((x) => x.zero));
        // per run, then the median: the two were measured in the same minute
        row.results[s].net = median(xs.map((x) => x.inside - x.zero));
      }
      if (row.def.check && nativeOut && s !== 'native') {
        const norm = (o) => o.replace(/\S*data-\d+M\.bin/g, 'FILE').trim();
        const other = xs.find((x) => norm(x.out) !== norm(nativeOut.out));
        if (other) row.results[s].differs = `${JSON.stringify(other.out.slice(0, 80))} against ${JSON.stringify(nativeOut.out.slice(0, 80))}`;
      }
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tools = await gen.prepare(BUILD, SCRATCH, opts.scale).then(() => probeTools(opts));
  const systems = new Systems(opts, tools);
  const defs = ROWS.filter((r) => !opts.only || opts.only.includes(r.id));
  const rows = defs.map((def) => ({ def, results: {}, samples: {} }));
  for (const row of rows) {
    for (const s of opts.systems) {
      row.samples[s] = [];
      if (tools.missing[s]) row.results[s] = { error: tools.missing[s] };
      else if (row.def.needs && !tools[row.def.needs]) {
        row.results[s] = { error: `${row.def.needs} is not installed (apt-get install ${row.def.needs})` };
      }
    }
  }
  process.on('exit', () => systems.cleanup());
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const row of rows) {
      for (const s of opts.systems) {
        if (row.results[s] && row.results[s].error) continue;
        const c = context(systems.writeDir(s), opts.scale);
        try {
          const r = row.def.pss
            ? await measurePss(systems, s, opts.timeout)
            : await measureRun(systems, s, row.def, c, opts.timeout);
          row.samples[s].push(r);
          log(`rep ${rep} ${row.def.id} ${s}: ${fmt(r.inside)}${row.def.parse || row.def.pss ? '' : ' ms'} inside, ${fmt(r.wall)} ms wall`);
        } catch (e) {
          row.results[s] = { error: e.message };
          log(`rep ${rep} ${row.def.id} ${s}: error: ${e.message}`);
        }
      }
    }
    if (opts.out) {
      summarize(rows, opts);
      fs.writeFileSync(opts.out, `${table(rows, opts, context('/tmp', opts.scale))}\n\nafter ${rep} of ${opts.reps} repetitions\n`);
    }
  }
  summarize(rows, opts);
  const c = context('/tmp', opts.scale);
  if (opts.json) {
    const plain = rows.map((r) => ({ id: r.def.id, what: label(r.def, c), results: r.results }));
    process.stdout.write(JSON.stringify({ options: opts, umlNoXstate: tools.umlNoXstate, rows: plain }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${table(rows, opts, c)}\n\nms unless stated; medians of ${opts.reps} runs, scale ${opts.scale}; ` +
    'tsvisor and UML: time inside (wall time of the whole run, with start-up or boot)\n');
}

main().catch((e) => {
  process.stderr.write(`bench/peers: ${e.stack || e}\n`);
  process.exit(1);
});
