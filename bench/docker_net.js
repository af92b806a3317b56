#!/usr/bin/env node
'use strict';
// bench/docker_net.js: TCP throughput of Docker containers, runc against
// tsvisor (sandbox network mode: the Sentry's stack on the container's veth),
// with bench/tcpsink.c (static, in a busybox image of a dockerd of the
// bench's own, test/lib/dockerd.js):
//   host -> container   the host sends to a published port (-p, through docker-proxy)
//   container -> container   a client container sends to a server container on the bridge
//                       (both of the runtime measured)
//   native              the host sends to a sink on the host itself, at its bridge address (no container)
//   node bench/docker_net.js [--reps N] [--mib N] [--base DIR]
// --base DIR: another tsvisor tree (built; main, or the branch's start) measured
// beside, as the runtime tsvisor-base (registered after dockerd started: SIGHUP).
// Runtimes interleaved in each repetition; prints medians (Mbit/s), tsvisor/runc and the load average.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Dockerd, skipReason, until } = require('../test/lib/dockerd');

const opts = { reps: 5, mib: 128, base: null };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--base' && args[i + 1]) {
    opts.base = path.resolve(args[i + 1]);
    continue;
  }
  const k = { '--reps': 'reps', '--mib': 'mib' }[args[i]];
  if (!k || !/^\d+$/.test(args[i + 1] || '')) {
    process.stderr.write(`bench/docker_net: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
  opts[k] = Number(args[i + 1]);
}

const BUILD = path.join(__dirname, 'build');
fs.mkdirSync(BUILD, { recursive: true });
const bin = path.join(BUILD, 'tcpsink');
const cc = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-static', '-o', bin, path.join(__dirname, 'tcpsink.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`gcc tcpsink.c: ${cc.stderr}`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (out) => {
  const m = /mbit_per_s=([\d.]+)/.exec(out);
  if (!m) throw new Error(`no figure in ${JSON.stringify(out)}`);
  return Number(m[1]);
};

(async () => {
  const why = skipReason();
  if (why) throw new Error(why);
  const d = await Dockerd.start({ extra: { 'bin/tcpsink': bin } });
  const nativePort = 18650;
  const sink = childProcess.spawn(bin, ['serve', String(nativePort)], { stdio: 'ignore', detached: true });
  const load = [];
  try {
    const runtimes = { runc: [], tsvisor: ['--runtime=tsvisor'] };
    if (opts.base) {
      childProcess.execFileSync(process.execPath, [path.join(opts.base, 'bin', 'tsvisor.js'), 'install', '--config', path.join(d.dir, 'daemon.json'), '--runtime', 'tsvisor-base']);
      process.kill(d.daemon.pid, 'SIGHUP');
      await until('dockerd to know tsvisor-base', () => d.run(['info', '--format', '{{json .Runtimes}}']).stdout.includes('tsvisor-base'));
      runtimes.base = ['--runtime=tsvisor-base'];
    }
    const servers = {};
    let port = 18600;
    for (const [name, rt] of Object.entries(runtimes)) {
      const hostPort = port++;
      const id = d.ok(['run', '-d', ...rt, '-p', `${hostPort}:5001`, d.image, 'tcpsink', 'serve', '5001']).trim();
      const ip = d.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id]).trim();
      const gw = d.ok(['inspect', '-f', '{{.NetworkSettings.Gateway}}', id]).trim();
      await until(`${name} server`, () => childProcess.spawnSync(bin, ['send', ip, '5001', '1']).status === 0);
      servers[name] = { id, ip, gw, hostPort };
    }
    const res = { native: [] };
    for (const name of Object.keys(runtimes)) res[name] = { host: [], c2c: [] };
    const gw = servers.runc.gw;
    for (let r = 0; r < opts.reps; r++) {
      load.push(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      const n = childProcess.spawnSync(bin, ['send', gw, String(nativePort), String(opts.mib)], { encoding: 'utf8', timeout: 600_000 });
      if (n.status !== 0) throw new Error(`native: ${n.stderr}`);
      res.native.push(rate(n.stdout));
      for (const [name, rt] of Object.entries(runtimes)) {
        const s = servers[name];
        const h = childProcess.spawnSync(bin, ['send', s.gw, String(s.hostPort), String(opts.mib)], { encoding: 'utf8', timeout: 600_000 });
        if (h.status !== 0) throw new Error(`host -> ${name}: ${h.stderr}`);
        res[name].host.push(rate(h.stdout));
        res[name].c2c.push(rate(d.ok(['run', '--rm', ...rt, d.image, 'tcpsink', 'send', s.ip, '5001', String(opts.mib)], 'client', { timeout: 600_000 })));
      }
    }
    process.stdout.write(`TCP throughput, ${opts.mib} MiB per run, ${opts.reps} runs, medians (Mbit/s):\n`);
    for (const k of ['host', 'c2c']) {
      const a = median(res.runc[k]);
      const b = median(res.tsvisor[k]);
      const what = k === 'host' ? 'host -> container (-p, docker-proxy)' : 'container -> container (bridge)  ';
      const base = res.base ? `  base ${median(res.base[k]).toFixed(0)}  base/runc ${(median(res.base[k]) / a).toFixed(3)}` : '';
      process.stdout.write(`  ${what}  runc ${a.toFixed(0)}  tsvisor ${b.toFixed(0)}  tsvisor/runc ${(b / a).toFixed(3)}${base}\n`);
    }
    process.stdout.write(`  native (host -> host, bridge address)  ${median(res.native).toFixed(0)}\n`);
    process.stdout.write(`load average (1 min) at each repetition: ${load.join(' ')}\n`);
    process.stdout.write(`raw: ${JSON.stringify(res)}\n`);
  } finally {
    try {
      process.kill(-sink.pid, 'SIGKILL');
    } catch {
      // gone already
    }
    await d.stop();
  }
})().catch((e) => {
  process.stderr.write(`bench/docker_net: ${e.stack}\n`);
  process.exit(1);
});
