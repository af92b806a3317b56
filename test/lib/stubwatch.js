'use strict';
// Watching a sandbox's stubs from the host: run `tsvisor do` asynchronously,
// find its master stub (a child of the tsvisor process named tsvisor-stub)
// and so the stubs' process group, sample that group while the sandbox runs,
// and list whatever is left of it once tsvisor has exited. Other sandboxes
// may run on the machine at the same time: only this one's group is looked at.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const h = require('./harness');

/** {pid, comm, state, ppid, pgid} of every host process, read from /proc/PID/stat. */
function processes() {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    out.push({ pid: Number(name), comm: stat.slice(open + 1, close), state: f[0], ppid: Number(f[1]), pgid: Number(f[2]) });
  }
  return out;
}

function group(pgid) {
  return processes().filter((p) => p.pgid === pgid);
}

/** The group's processes that still live (zombies are dead, only not reaped yet), after up to ms for a SIGKILL to land. */
async function survivors(pgid, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const alive = group(pgid).filter((p) => p.state !== 'Z' && p.state !== 'X');
    if (alive.length === 0 || Date.now() > until) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function fdsOf(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      let target = '?';
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        // closed meanwhile
      }
      return { fd: Number(fd), target };
    });
  } catch {
    return null;
  }
}

/**
 * Run argv in the sandbox. opts: as h.sandboxArgs, plus stdio (extra entries
 * from index 3 on are handed to tsvisor as fds), sample(pgid) called every
 * 20 ms while it runs, timeout. Resolves with {status, signal, stdout, stderr,
 * pgid, samples, leftovers} where leftovers are the group's processes still
 * alive (not zombies) 5 s after tsvisor exited.
 */
function runWatched(argv, opts = {}) {
  return new Promise((resolve) => {
    const extra = opts.stdio || [];
    const child = childProcess.spawn(process.execPath, h.sandboxArgs(argv, opts), {
      cwd: h.ROOT,
      env: h.sentryEnv(),
      stdio: ['ignore', 'pipe', 'pipe', ...extra],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let pgid = 0;
    const samples = [];
    const tick = setInterval(() => {
      if (!pgid) {
        const master = processes().find((p) => p.ppid === child.pid && p.comm === 'tsvisor-stub');
        if (master) pgid = master.pgid;
      }
      if (pgid && opts.sample) samples.push(opts.sample(pgid));
    }, 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout || 120_000);
    child.on('close', async (status, signal) => {
      clearInterval(tick);
      clearTimeout(timer);
      const leftovers = pgid ? await survivors(pgid) : [];
      resolve({ status, signal, stdout, stderr, pgid, samples, leftovers });
    });
  });
}

module.exports = { processes, group, survivors, fdsOf, runWatched };
