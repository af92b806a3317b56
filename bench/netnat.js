#!/usr/bin/env node
'use strict';
// bench/netnat.js: servers in the sandbox reached from the host through the
// user-mode NAT (`tsvisor do --publish`, sandbox network mode), against the
// same servers run natively, interleaved, in one private network namespace
// (this host's loopback has no IPv4 address):
//   redis-server   redis-benchmark SET and GET, 50 clients, and with -P 16
//   nginx          wrk on a static 4 KiB file, 1 and 64 connections (req/s, p99)
//   node bench/netnat.js [--reps N] [--requests N] [--seconds N] [--base DIR]
// Prints medians of the repetitions and the sandbox/native ratio. --base DIR
// (another checkout, built) runs its tsvisor too, interleaved, as "base":
// before/after figures from one run.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');

const opts = { reps: 3, requests: 20000, seconds: 5, base: '' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--base' && args[i + 1] && fs.existsSync(path.join(args[i + 1], 'bin', 'tsvisor.js'))) {
    opts.base = path.resolve(args[i + 1], 'bin', 'tsvisor.js');
    continue;
  }
  const k = { '--reps': 'reps', '--requests': 'requests', '--seconds': 'seconds' }[args[i]];
  if (!k || !/^\d+$/.test(args[i + 1] || '')) {
    process.stderr.write(`bench/netnat: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
  opts[k] = Number(args[i + 1]);
}

// The web root and nginx's configuration, readable by nginx's worker (nobody).
const dir = fs.mkdtempSync(path.join(ROOT, 'bench', 'build-netnat-'));
fs.chmodSync(dir, 0o755);
fs.mkdirSync(path.join(dir, 'www'));
fs.writeFileSync(path.join(dir, 'www', 'file4k'), Buffer.alloc(4096, 'n'));
const conf = fs.readFileSync(path.join(ROOT, 'test', 'integration', 'nat', 'nginx.conf'), 'utf8').replace('root WWW', `root ${path.join(dir, 'www')}`);
fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);

const redisCmd = 'redis-server --port 6379 --save "" --appendonly no --protected-mode no';
const script = `
set -u
ip link set lo up
TSV="${process.execPath} ${TSVISOR} do"
BASE="${process.execPath} ${opts.base} do"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT
wait_redis() { for i in $(seq 1 300); do redis-cli -p $1 ping 2>/dev/null | grep -q PONG && return; sleep 0.2; done; echo "redis on $1 never answered" >&2; exit 1; }
wait_http() { for i in $(seq 1 300); do curl -sf -o /dev/null "$1" && return; sleep 0.2; done; echo "$1 never answered" >&2; exit 1; }
redis() { # PORT LABEL
  for p in 1 16; do
    redis-benchmark -p $1 -q -t set,get -c 50 -P $p -n ${opts.requests} | tr '\\r' '\\n' | awk -v l="$2" -v p=$p '/requests per second/ { sub(":", "", $1); print "redis", l, $1 "-P" p, $2 }'
  done
}
web() { # PORT LABEL
  for c in 1 64; do
    wrk -t1 -c$c -d${opts.seconds}s --latency http://127.0.0.1:$1/file4k | awk -v l="$2" -v c=$c '/Requests\\/sec/ { print "nginx", l, "c" c, $2 } / 99% / { v = $2; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print "nginx", l, "c" c "-p99ms", v }'
  done
}
for rep in $(seq 1 ${opts.reps}); do
  ${redisCmd} >/dev/null & P=$!; wait_redis 6379; redis 6379 native; kill $P; wait $P 2>/dev/null
  $TSV --publish 16379:6379 -- ${redisCmd} >/dev/null & P=$!; wait_redis 16379; redis 16379 sandbox; kill $P; wait $P 2>/dev/null
  ${opts.base ? `$BASE --publish 16379:6379 -- ${redisCmd} >/dev/null & P=$!; wait_redis 16379; redis 16379 base; kill $P; wait $P 2>/dev/null` : ''}
  nginx -c ${dir}/nginx.conf & P=$!; wait_http http://127.0.0.1:8000/file4k; web 8000 native; kill $P; wait $P 2>/dev/null
  $TSV --publish 8080:8000 -- nginx -c ${dir}/nginx.conf & P=$!; wait_http http://127.0.0.1:8080/file4k; web 8080 sandbox; kill $P; wait $P 2>/dev/null
  ${opts.base ? `$BASE --publish 8080:8000 -- nginx -c ${dir}/nginx.conf & P=$!; wait_http http://127.0.0.1:8080/file4k; web 8080 base; kill $P; wait $P 2>/dev/null` : ''}
done
`;

const child = childProcess.spawnSync('unshare', ['-n', '--kill-child', 'bash', '-c', script], { encoding: 'utf8', timeout: 3_600_000, env: { ...process.env, NODE_OPTIONS: '' } });
fs.rmSync(dir, { recursive: true, force: true });
if (child.status !== 0) {
  process.stderr.write(`bench/netnat: status ${child.status}\n${child.stderr}\n${child.stdout}`);
  process.exit(1);
}

const samples = new Map();
for (const line of child.stdout.split('\n')) {
  const [server, label, metric, value] = line.trim().split(/\s+/);
  if (!value) continue;
  const k = `${server} ${metric}`;
  if (!samples.has(k)) samples.set(k, { native: [], sandbox: [], base: [] });
  samples.get(k)[label].push(Number(value));
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
process.stdout.write(`# ${os.cpus().length} CPUs, ${opts.reps} reps, medians; redis -n ${opts.requests}, wrk ${opts.seconds}s\n`);
const withBase = opts.base !== '';
process.stdout.write(`| measure | native |${withBase ? ' base |' : ''} sandbox (NAT, --publish) |${withBase ? ' base/native |' : ''} sandbox/native |\n|---|---|---|---|${withBase ? '---|---|' : ''}\n`);
for (const [k, v] of samples) {
  const ms = k.endsWith('ms');
  const fmt = (x) => `${x.toFixed(ms ? 2 : 0)}${ms ? ' ms' : ' req/s'}`;
  const n = median(v.native);
  const s = median(v.sandbox);
  const b = median(v.base);
  process.stdout.write(withBase
    ? `| ${k} | ${fmt(n)} | ${fmt(b)} | ${fmt(s)} | ${(b / n).toFixed(2)} | ${(s / n).toFixed(2)} |\n`
    : `| ${k} | ${fmt(n)} | ${fmt(s)} | ${(s / n).toFixed(2)} |\n`);
}
