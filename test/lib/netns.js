'use strict';
// Helpers of the network tests that run a host side and the sandbox together
// inside a private network namespace (this host's loopback has no IPv4
// address): one shell script in `unshare -n` with lo up, its process group
// killed when the test ends, passed or failed; and C programs compiled once
// per run where the sandbox can read them.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const built = new Map();

/** Compile dir/name.c (else test/hostile/name.c) once per run into a temporary directory the sandbox can read. */
function cbin(dir, name, flags = []) {
  const key = `${dir}/${name}`;
  if (built.has(key)) return built.get(key);
  const out = path.join(h.tmpDir('tsvisor-net-'), name);
  const src = fs.existsSync(path.join(dir, `${name}.c`)) ? path.join(dir, `${name}.c`) : path.join(__dirname, '..', 'hostile', `${name}.c`);
  const cc = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', out, src, ...flags], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  built.set(key, out);
  return out;
}

/**
 * Run a bash script in a new network namespace with lo up. $TSV is
 * `tsvisor do` with the harness's environment; wait_port PORT [HOST] waits
 * for a listener. Resolves with {status, stdout, stderr}; the process group
 * is killed at the end whatever happens.
 */
function inNetns(t, script, { timeout = 240_000, env = {}, mountns = false } = {}) {
  const envFlags = Object.entries(h.baseEnv).map(([k, v]) => `--env ${k}=${v}`).join(' ');
  const prelude = [
    'set -u',
    'ip link set lo up',
    `TSV="${process.execPath} ${h.TSVISOR} do ${envFlags}"`,
    // Host-side servers started with & are children of this shell: killed on exit.
    'trap \'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null\' EXIT',
    'wait_http() { for i in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "$1 never answered" >&2; return 1; }',
    'wait_port() { for i in $(seq 1 200); do (exec 3<>/dev/tcp/${2:-127.0.0.1}/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }',
  ].join('\n');
  const ns = mountns ? ['-n', '-m', '--propagation', 'private'] : ['-n'];
  const child = childProcess.spawn('unshare', [...ns, '--kill-child', 'bash', '-c', `${prelude}\n${script}`], {
    detached: true, env: { ...h.sentryEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  t.after(kill);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stderr += '\nTIMED OUT';
      kill();
    }, timeout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      kill();
      resolve({ status, signal, stdout, stderr, ms: 0 });
    });
  });
}

module.exports = { cbin, inNetns };
