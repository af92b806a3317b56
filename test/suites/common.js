'use strict';
// common: what the suite runners (ltp.js, cpython.js) share: running a
// command natively or under `tsvisor do` with a timeout, a small pool so two
// runs go at once, and the comparison table.
//
// A "case" is the unit a suite reports: an LTP test program, a CPython test
// method. A suite run gives, per case, {status, reason} natively and in the
// sandbox; the table counts the cases that pass natively and, of those, the
// ones that also pass in the sandbox, and lists every other one with its
// reason and a class (classify()).

const childProcess = require('node:child_process');
const h = require('../lib/harness');

// The tsvisor process's own environment: `tsvisor do` hands the caller's
// environment to the program (as \`runsc do\` does), so the suite gives it
// only what the native run gets, and tsvisor's own settings (TSVISOR_*).
// Otherwise whatever the shell running the suite has (PYTHONUNBUFFERED, say)
// would reach the sandboxed run alone.
function sentryEnv() {
  const env = { ...h.baseEnv };
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('TSVISOR_')) env[k] = v;
  return env;
}

// run spawns argv natively or in the sandbox and resolves to
// {status, signal, stdout, stderr, timedOut, ms}. Output beyond 32 MiB is cut.
function run(argv, { sandbox, timeoutMs, env, cwd }) {
  const started = Date.now();
  const file = sandbox ? process.execPath : argv[0];
  const args = sandbox ? h.sandboxArgs(argv, { env, cwd }) : argv.slice(1);
  // SUITE_TSVISOR runs another build (a copy, so the worktree can be rebuilt
  // during a long run).
  if (sandbox && process.env.SUITE_TSVISOR) args[0] = process.env.SUITE_TSVISOR;
  return new Promise((resolve) => {
    const child = childProcess.spawn(file, args, {
      cwd: sandbox ? undefined : cwd,
      env: sandbox ? sentryEnv() : { ...h.baseEnv, ...(env || {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout kills all of it
    });
    const out = [];
    const err = [];
    let size = 0;
    const keep = (arr) => (b) => {
      if (size < 32 << 20) arr.push(b);
      size += b.length;
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      // A native test may leave children behind in its group; end them.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        ms: Date.now() - started,
      });
    });
  });
}

// pool runs jobs (functions returning promises) at most n at a time, in order
// of the list, and resolves to their results in the same order.
async function pool(jobs, n) {
  const results = new Array(jobs.length);
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return results;
}

// CLASSES map a failure's reason to a short class, first match wins.
const CLASSES = [
  [/can't start new thread|unable to start.*thread|CLONE_THREAD|pthread_create|threads? (are|is) not supported/i, 'threads'],
  [/acquire device|loop device|mount\b|chroot/i, 'needs a block device, mounting or chroot'],
  [/requires kernel [\d.]+ or newer/i, 'kernel version (the sandbox reports Linux 6.8.0)'],
  [/disabled at runtime|unsuitable kernel config|\/proc\/self\/ns|unshare|setns|CLONE_NEW/i, 'namespaces'],
  [/shmget|msgget|semget|shared memory/i, 'System V IPC'],
  [/mknod/i, 'device nodes (mknod)'],
  [/dump core|core dump/i, 'core dumps'],
  [/F_SETLEASE|F_NOTIFY|lease/i, 'file leases and dnotify'],
  [/F_RDLCK|F_WRLCK|deadlock/i, 'record locks'],
  [/mlock|VmLck|Locked memory|locked/i, 'memory locking'],
  [/\/proc\/sys\//, 'procfs sysctl files'],
  [/kernel \.config|kconfig/i, 'kernel config'],
  [/Address family not supported|EAFNOSUPPORT|socket|ENOTSOCK/i, 'sockets'],
  [/timed out|timeout|not reached/i, 'timeout or hang'],
  [/Function not implemented|ENOSYS|(kernel|system) does(n't| not) support/i, 'ENOSYS'],
  [/\bpty\b|ptmx|openpty|Pseudo-terminal/i, 'terminals (pty)'],
  [/Operation not supported|EOPNOTSUPP|Invalid argument|EINVAL/i, 'unsupported flag or argument'],
  [/Permission denied|EACCES|Operation not permitted|EPERM/i, 'permissions'],
  [/killed by signal|SIGSEGV|SIGKILL|SIGABRT|crash/i, 'crash'],
];

function classify(reason) {
  for (const [re, cls] of CLASSES) if (re.test(reason)) return cls;
  return 'behaviour differs';
}

// compareRuns takes two Maps id -> {status, reason} and returns the figures
// and the list of natively passing cases that do not pass in the sandbox.
function compareRuns(native, sandbox, missingReason) {
  const passNative = [...native].filter(([, r]) => r.status === 'pass').map(([id]) => id);
  const failing = [];
  let passBoth = 0;
  for (const id of passNative) {
    const s = sandbox.get(id);
    if (s && s.status === 'pass') passBoth++;
    else {
      const reason = s ? s.reason || s.status : missingReason(id);
      failing.push({ id, status: s ? s.status : 'missing', reason, cls: classify(reason) });
    }
  }
  return { total: native.size, passNative: passNative.length, passBoth, failing };
}

// short cuts a reason to one table-safe line of at most 200 characters.
function short(reason) {
  const r = reason.replace(/\|/g, '/').replace(/`/g, "'");
  return r.length > 200 ? `${r.slice(0, 197)}...` : r;
}

// markdown renders one suite's results: figures per group (an LTP family, a
// CPython module), then the failures grouped by class.
function markdown(title, command, groups) {
  const lines = [`## ${title}`, '', `Command: \`${command}\``, ''];
  let t = 0;
  let n = 0;
  let b = 0;
  const rows = ['| group | cases | pass natively | of those, pass in the sandbox |', '| --- | --- | --- | --- |'];
  for (const g of groups) {
    t += g.total;
    n += g.passNative;
    b += g.passBoth;
    rows.push(`| ${g.name} | ${g.total} | ${g.passNative} | ${g.passBoth} |`);
  }
  rows.push(`| **total** | ${t} | ${n} | ${b} |`);
  lines.push(`Natively passing: ${n} of ${t} cases; of those, ${b} pass in the sandbox (${n ? ((100 * b) / n).toFixed(1) : '0'}%).`, '', ...rows, '');
  const byClass = new Map();
  for (const g of groups) for (const f of g.failing) {
    if (!byClass.has(f.cls)) byClass.set(f.cls, []);
    byClass.get(f.cls).push(f);
  }
  if (byClass.size) {
    lines.push('Natively passing cases that fail in the sandbox, by class:', '');
    for (const [cls, list] of [...byClass].sort((x, y) => y[1].length - x[1].length)) {
      lines.push(`### ${cls} (${list.length})`, '');
      for (const f of list) lines.push(`- \`${f.id}\`: ${short(f.reason)}`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

module.exports = { run, pool, classify, compareRuns, markdown };
