'use strict';
// docker_net: the sandbox's own stack takes over a Docker container's
// network interface (--runtime=tsvisor, sandbox network mode, the default).
// One dockerd of the test's own (test/lib/dockerd.js: Docker's default
// bridge and a user-defined network, no host firewall changes). What must
// hold: a server in a tsvisor container answers the host through `-p`
// (docker-proxy), and runc and tsvisor containers on the bridge; a tsvisor
// client reaches both; names resolve through Docker's embedded DNS at
// 127.0.0.11 on a user-defined network; while the container runs, the
// host kernel of its namespace holds no address on the veth (the frames are
// the Sentry's); malformed frames injected from the host side of the veth
// are dropped and counted, and the container keeps serving; TCP segments
// with a wrong checksum get no answer; networks connected to and
// disconnected from a running container, a gateway Docker moves, and
// addresses and routes added in the namespace by hand, and default routes
// deleted or replaced there, are followed; on an IPv6 network `ip -6 addr`
// and `ip -6 route` show what a runc container's do (link-local too), and
// TCP over link-local addresses needs a scope id (EINVAL without); on an
// IPv4-only bridge /proc/sys/net/ipv6/conf says IPv6 is off, as in runc's.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, before, after } = require('node:test');
const { Dockerd, skipReason, until } = require('../lib/dockerd');

let d = null;
const TSV = ['--runtime=tsvisor'];
/** A busybox httpd serving /tmp/index.html (the given text) on port 80. */
const httpd = (text) => ['sh', '-c', `echo ${text} > /tmp/index.html && exec httpd -f -p 80 -h /tmp`];

before(async () => {
  if (skipReason()) return;
  d = await Dockerd.start();
});

after(async () => {
  if (d) await d.stop();
});

const inspect = (id, fmt) => d.ok(['inspect', '-f', fmt, id]).trim();
const sh = (argv) => childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });

/** Poll url from the host until it answers (the server starts after `run -d` returns). */
async function fetchFromHost(url) {
  let last = null;
  await until(`${url} to answer`, () => {
    last = sh(['curl', '-sS', '-m', '5', url]);
    return last.status === 0;
  }, 30_000).catch((e) => {
    throw new Error(`${e.message}: ${last && last.stderr}`);
  });
  return last.stdout;
}

/** wget from a new container of the given runtime (its args) on the given network. */
function wgetFrom(runtime, url, network = []) {
  return d.ok(['run', '--rm', ...runtime, ...network, d.image, 'wget', '-qO-', url], `wget ${url}`);
}

test('a server in a tsvisor container: reached from the host with -p, from runc and tsvisor containers on the bridge; the veth holds no host address', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const srv = d.ok(['run', '-d', ...TSV, '-p', '18081:80', d.image, ...httpd('from-tsvisor')]).trim();
  const ip = inspect(srv, '{{.NetworkSettings.IPAddress}}');
  const gw = inspect(srv, '{{.NetworkSettings.Gateway}}');
  // The host's address on the bridge, where docker-proxy listens (this host's loopback has no IPv4 address).
  assert.strictEqual(await fetchFromHost(`http://${gw}:18081/index.html`), 'from-tsvisor\n');
  // Directly from the host's bridge, and from containers on it.
  assert.strictEqual(await fetchFromHost(`http://${ip}/index.html`), 'from-tsvisor\n');
  assert.strictEqual(wgetFrom([], `http://${ip}/index.html`), 'from-tsvisor\n', 'runc client, tsvisor server');
  assert.strictEqual(wgetFrom(TSV, `http://${ip}/index.html`), 'from-tsvisor\n', 'tsvisor client, tsvisor server');
  const runc = d.ok(['run', '-d', d.image, ...httpd('from-runc')]).trim();
  const rip = inspect(runc, '{{.NetworkSettings.IPAddress}}');
  await until('the runc server', () => sh(['curl', '-sS', '-m', '5', `http://${rip}/index.html`]).status === 0);
  assert.strictEqual(wgetFrom(TSV, `http://${rip}/index.html`), 'from-runc\n', 'tsvisor client, runc server');

  // The host kernel's view of the container's namespace: the veth is there, without any address; the sandbox shows the address.
  const pid = inspect(srv, '{{.State.Pid}}');
  const hostView = sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'addr']).stdout;
  assert.match(hostView, /^\d+: lo\s+inet 127\.0\.0\.1/m);
  assert.doesNotMatch(hostView, /eth0\s+inet/, hostView);
  assert.match(sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'link']).stdout, /eth0@/);
  const inside = d.ok(['exec', srv, 'ip', '-o', 'addr']);
  assert.match(inside, new RegExp(`eth0\\s+inet ${ip.replace(/\./g, '\\.')}/\\d+`), inside);
  assert.match(d.ok(['exec', srv, 'ip', 'route']), new RegExp(`default via ${gw.replace(/\./g, '\\.')} dev eth0`));
  // A port nothing listens on is refused by the sandbox's stack (a reset), not by the host's.
  const refused = sh(['curl', '-sS', '-m', '5', `http://${ip}:81/`]);
  assert.match(refused.stderr, /Connection refused|Couldn't connect/, refused.stderr);
  // docker restart: a new namespace, taken over again.
  d.ok(['restart', '-t', '1', srv]);
  assert.strictEqual(await fetchFromHost(`http://${inspect(srv, '{{.NetworkSettings.IPAddress}}')}/index.html`), 'from-tsvisor\n');
  d.ok(['rm', '-f', srv, runc]);
});

test('Docker\'s embedded DNS at 127.0.0.11 on a user-defined network, carried by a host socket in the container\'s namespace', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  d.ok(['network', 'create', 'tsvnet']);
  const srv = d.ok(['run', '-d', '--network', 'tsvnet', '--name', 'named-srv', d.image, ...httpd('by-name')]).trim();
  const ip = inspect(srv, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
  const out = d.ok(['run', '--rm', ...TSV, '--network', 'tsvnet', d.image, 'sh', '-c', 'grep nameserver /etc/resolv.conf; nslookup named-srv']);
  assert.match(out, /nameserver 127\.0\.0\.11/);
  assert.match(out, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`), out);
  await until('the named server', () => sh(['curl', '-sS', '-m', '5', `http://${ip}/index.html`]).status === 0);
  assert.strictEqual(wgetFrom(TSV, 'http://named-srv/index.html', ['--network', 'tsvnet']), 'by-name\n');
  // Over TCP too (what a resolver does after a truncated answer): a query written to 127.0.0.11:53 by nc, the answer read back.
  const name = 'named-srv';
  const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, name.length]), Buffer.from(name), Buffer.from([0, 0, 1, 0, 1])]);
  const msg = Buffer.concat([Buffer.from([0, q.length]), q]);
  const octal = [...msg].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
  const tcp = d.ok(['run', '--rm', ...TSV, '--network', 'tsvnet', d.image, 'sh', '-c', `(printf '${octal}'; sleep 3) | nc 127.0.0.11 53 | od -An -v -tx1`]);
  const answer = Buffer.from(tcp.replace(/\s+/g, ''), 'hex');
  assert.ok(answer.length > 2 + 12 && answer.readUInt16BE(2) === 0x1234, `a DNS answer over TCP: ${tcp}`);
  assert.ok(answer.includes(Buffer.from(ip.split('.').map(Number))), `the answer holds ${ip}: ${tcp}`);
  // The same answer as in a runc container (the names and addresses: the AAAA query goes on to the outside, which this host may not reach in time).
  const lookup = ['--network', 'tsvnet', d.image, 'nslookup', 'named-srv'];
  const answers = (out) => out.split('\n').filter((l) => /^(Name:|Address: \d)/.test(l)).join('\n');
  assert.strictEqual(answers(d.ok(['run', '--rm', ...TSV, ...lookup])), answers(d.ok(['run', '--rm', ...lookup])));
  d.ok(['rm', '-f', srv]);
  d.ok(['network', 'rm', 'tsvnet']);
});

test('--network none: loopback only, served inside the sandbox', { timeout: 120_000 }, (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const out = d.ok(['run', '--rm', ...TSV, '--network', 'none', d.image, 'sh', '-c', 'ip -o link; (httpd -f -p 8080 -h /etc &) ; sleep 1; wget -qO- http://127.0.0.1:8080/passwd | head -1']);
  assert.match(out, /^1: lo:/m);
  assert.doesNotMatch(out, /eth0/);
  assert.match(out, /^root:x:0:0/m);
});

test('hostile frames from the host side of the veth: dropped and counted, the container keeps serving', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const srv = d.ok(['run', '-d', ...TSV, d.image, ...httpd('still-here')]).trim();
  const ip = inspect(srv, '{{.NetworkSettings.IPAddress}}');
  const mac = inspect(srv, '{{.NetworkSettings.MacAddress}}');
  assert.strictEqual(await fetchFromHost(`http://${ip}/index.html`), 'still-here\n');
  // The host side of the veth: the peer of the namespace's eth0 (eth0@ifN).
  const pid = inspect(srv, '{{.State.Pid}}');
  const peer = /eth0@if(\d+)/.exec(sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'link']).stdout)[1];
  const hostIf = /^\d+: ([^:@]+)/.exec(sh(['ip', '-o', 'link', 'show', 'dev', `index:${peer}`]).stdout || sh(['sh', '-c', `ip -o link | grep "^${peer}:"`]).stdout)[1];
  const dropped = () => {
    const line = d.ok(['exec', srv, 'cat', '/proc/net/dev']).split('\n').find((l) => /^\s*eth0:/.test(l));
    return Number(line.split(':')[1].trim().split(/\s+/)[3]);
  };
  const before = dropped();
  const inj = sh(['python3', path.join(__dirname, 'docker', 'hostile_frames.py'), hostIf, mac, ip, '172.17.0.1']);
  assert.strictEqual(inj.status, 0, inj.stderr);
  const [sent, bad] = inj.stdout.trim().split(' ').map(Number);
  assert.ok(sent > 1000 && bad >= 10, inj.stdout);
  // The Sentry is up, serves, and counted at least every malformed frame of the link and IP layers.
  assert.strictEqual(await fetchFromHost(`http://${ip}/index.html`), 'still-here\n');
  const after = dropped();
  assert.ok(after - before >= bad, `dropped ${before} -> ${after}, ${bad} malformed frames sent`);
  assert.strictEqual(inspect(srv, '{{.State.Running}}'), 'true');
  // Transport checksums are verified (the host's packet socket marked these frames neither checked nor partial): a SYN with a wrong one gets no reset.
  const cs = sh(['python3', path.join(__dirname, 'docker', 'checksum_frames.py'), hostIf, mac, ip, '172.17.0.1']);
  assert.strictEqual(cs.status, 0, cs.stderr);
  assert.strictEqual(cs.stdout.trim(), '41002 41004', 'only the SYNs with a right checksum are answered');
  d.ok(['rm', '-f', srv]);
});

test('a confined Sentry (--confine): its runtime takes the interface over and hands the packet socket down', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const srv = d.ok(['run', '-d', '--runtime=tsvisor-confined', '-p', '18082:80', d.image, ...httpd('confined')]).trim();
  const ip = inspect(srv, '{{.NetworkSettings.IPAddress}}');
  const gw = inspect(srv, '{{.NetworkSettings.Gateway}}');
  assert.strictEqual(await fetchFromHost(`http://${gw}:18082/index.html`), 'confined\n');
  assert.strictEqual(wgetFrom([], `http://${ip}/index.html`), 'confined\n', 'runc client');
  assert.strictEqual(wgetFrom(['--runtime=tsvisor-confined'], `http://${ip}/index.html`), 'confined\n', 'confined client');
  const pid = inspect(srv, '{{.State.Pid}}');
  assert.doesNotMatch(sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'addr']).stdout, /eth0\s+inet/);
  // A network connected later: the runtime takes the new interface over when the Sentry asks (links-sync) and hands its packet socket down.
  d.ok(['network', 'create', 'tsvnetc']);
  d.ok(['network', 'connect', 'tsvnetc', srv]);
  const cip = inspect(srv, '{{(index .NetworkSettings.Networks "tsvnetc").IPAddress}}');
  await until('eth1 in the confined sandbox', () => new RegExp(`eth1\\s+inet ${cip.replace(/\./g, '\\.')}/`).test(d.run(['exec', srv, 'ip', '-o', 'addr']).stdout));
  assert.strictEqual(wgetFrom([], `http://${cip}/index.html`, ['--network', 'tsvnetc']), 'confined\n', 'runc client on the network connected later');
  d.ok(['network', 'disconnect', 'tsvnetc', srv]);
  await until('eth1 gone from the confined sandbox', () => !/eth1/.test(d.run(['exec', srv, 'ip', '-o', 'link']).stdout));
  d.ok(['rm', '-f', srv]);
  // Docker's DNS from a confined Sentry (its relay's host sockets are AF_INET ones, which its filter allows).
  const named = d.ok(['run', '-d', '--network', 'tsvnetc', '--name', 'named-c', d.image, 'sleep', '100']).trim();
  const nip = inspect(named, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
  const out = d.ok(['run', '--rm', '--runtime=tsvisor-confined', '--network', 'tsvnetc', d.image, 'nslookup', 'named-c']);
  assert.match(out, new RegExp(`Address: ${nip.replace(/\./g, '\\.')}`), out);
  d.ok(['rm', '-f', named]);
  d.ok(['network', 'rm', 'tsvnetc']);
});

test('segmentation offload: the Sentry hands the host large TCP segments to cut (PACKET_VNET_HDR), counted in eth0\'s frames', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const MIB = 8;
  const srv = d.ok(['run', '-d', ...TSV, d.image, 'sh', '-c', `head -c ${MIB << 20} /dev/zero > /tmp/big && exec httpd -f -p 80 -h /tmp`]).trim();
  const ip = inspect(srv, '{{.NetworkSettings.IPAddress}}');
  await until('the server', () => sh(['curl', '-sS', '-m', '5', '-o', '/dev/null', `http://${ip}/`]).status === 0 || sh(['curl', '-sS', '-m', '5', '-I', `http://${ip}/big`]).status === 0);
  const txFrames = () => Number(d.ok(['exec', srv, 'grep', 'eth0:', '/proc/net/dev']).split(':')[1].trim().split(/\s+/)[9]);
  const before = txFrames();
  assert.strictEqual(d.ok(['run', '--rm', d.image, 'sh', '-c', `wget -qO- http://${ip}/big | wc -c`]).trim(), String(MIB << 20));
  // Cut by the sandbox, 8 MiB would be over 5800 frames of 1448 bytes; sent as the ACKs free the window, 28 KiB a frame on average (about 300);
  // held back until a segment of 64 KiB (or a third of the window) may go, as Linux's TSO deferral, fewer than 48 KiB a frame never happens.
  const sent = txFrames() - before;
  assert.ok(sent > 0 && sent < (MIB << 20) / (48 << 10), `${sent} frames sent for ${MIB} MiB`);
  d.ok(['rm', '-f', srv]);
});

test('IPv6 on a user-defined network: neighbour discovery by the Sentry, with the host, runc and tsvisor containers', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  d.ok(['network', 'create', '--ipv6', '--subnet', 'fd00:7e57:beef::/64', 'tsvnet6']);
  const ip6 = (id) => inspect(id, '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}');
  const srv = d.ok(['run', '-d', ...TSV, '--network', 'tsvnet6', d.image, ...httpd('six')]).trim();
  const a = ip6(srv);
  assert.match(a, /^fd00:7e57:beef:/);
  assert.match(d.ok(['exec', srv, 'ip', '-6', 'addr']), new RegExp(`inet6 ${a}/64 scope global`));
  assert.match(d.ok(['exec', srv, 'ip', '-6', 'route']), /default via fd00:7e57:beef::1 dev eth0/);
  assert.strictEqual(await fetchFromHost(`http://[${a}]/index.html`), 'six\n');
  assert.strictEqual(wgetFrom([], `http://[${a}]/index.html`, ['--network', 'tsvnet6']), 'six\n', 'runc client');
  const runc = d.ok(['run', '-d', '--network', 'tsvnet6', d.image, ...httpd('runc-six')]).trim();
  const b = ip6(runc);
  await until('the runc server', () => sh(['curl', '-sS', '-m', '5', `http://[${b}]/index.html`]).status === 0);
  assert.strictEqual(wgetFrom(TSV, `http://[${b}]/index.html`, ['--network', 'tsvnet6']), 'runc-six\n', 'tsvisor client');
  // The host kernel of the namespace keeps no IPv6 address either (not even link-local); its IPv6 stays on, with the network's link route.
  const pid = inspect(srv, '{{.State.Pid}}');
  assert.doesNotMatch(sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'addr']).stdout, /eth0\s+inet6/);
  assert.match(sh(['nsenter', '-t', pid, '-n', 'ip', '-6', 'route']).stdout, /fd00:7e57:beef::\/64 dev eth0/);
  // `ip -6 addr` and `ip -6 route` inside: what the runc container shows, its own addresses (global and link-local) apart.
  const linkLocal = (id) => /inet6 (fe80::[0-9a-f:]+)\/64 scope link/.exec(d.ok(['exec', id, 'ip', '-6', 'addr']))?.[1];
  const view = (id) => {
    const mine = (text) => text.split(ip6(id)).join('GLOBAL').split(linkLocal(id)).join('LINKLOCAL');
    const addrs = d.ok(['exec', id, 'ip', '-6', 'addr']).split('\n').filter((l) => /^\s+(inet6|valid_lft)/.test(l)).join('\n');
    // /proc/net/ipv6_route without its reference and use counts, and with the addresses in the form it prints them.
    const hex = (a) => Buffer.from(a.split(':').reduce((acc, g, i, all) => acc.concat(g === '' && i > 0 && i < all.length - 1 ? Array(9 - all.length).fill('0000') : [g.padStart(4, '0')]), []).join(''), 'hex').toString('hex');
    const routes6 = d.ok(['exec', id, 'cat', '/proc/net/ipv6_route']).split('\n').map((l) => l.split(/\s+/).filter((_, i) => i !== 6 && i !== 7).join(' ')).join('\n');
    return `${mine(addrs)}\n${mine(d.ok(['exec', id, 'ip', '-6', 'route']))}\n${routes6.split(hex(ip6(id))).join('GLOBAL').split(hex(linkLocal(id))).join('LINKLOCAL')}`;
  };
  assert.ok(linkLocal(srv), d.ok(['exec', srv, 'ip', '-6', 'addr']));
  assert.strictEqual(view(srv), view(runc));
  // The IPv6 default route deleted and put back in the namespace (the host's view keeps eth0's IPv6 on): followed.
  assert.strictEqual(sh(['nsenter', '-t', pid, '-n', 'ip', '-6', 'route', 'del', 'default']).status, 0);
  await until('no IPv6 default route in the sandbox', () => !/default/.test(d.run(['exec', srv, 'ip', '-6', 'route']).stdout));
  const add = sh(['nsenter', '-t', pid, '-n', 'ip', '-6', 'route', 'replace', 'default', 'via', 'fd00:7e57:beef::1', 'dev', 'eth0']);
  assert.strictEqual(add.status, 0, add.stderr);
  await until('the IPv6 default route back', () => /default via fd00:7e57:beef::1 dev eth0/.test(d.run(['exec', srv, 'ip', '-6', 'route']).stdout));
  assert.strictEqual(wgetFrom(TSV, `http://[${b}]/index.html`, ['--network', 'tsvnet6']), 'runc-six\n', 'tsvisor client');
  // Over the link-local addresses, both ways.
  assert.match(d.ok(['exec', runc, 'ping', '-c', '1', '-W', '5', `${linkLocal(srv)}%eth0`]), /1 packets received/);
  assert.match(d.ok(['exec', srv, 'ping', '-c', '1', '-W', '5', `${linkLocal(runc)}%eth0`]), /1 packets received/);
  d.ok(['rm', '-f', srv, runc]);
  d.ok(['network', 'rm', 'tsvnet6']);
});

test('the runtime\'s --network host: host sockets in the container\'s namespace, whose veth keeps its address', { timeout: 120_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const srv = d.ok(['run', '-d', '--runtime=tsvisor-hostnet', '-p', '18083:80', d.image, ...httpd('hostnet')]).trim();
  const ip = inspect(srv, '{{.NetworkSettings.IPAddress}}');
  assert.strictEqual(await fetchFromHost(`http://${inspect(srv, '{{.NetworkSettings.Gateway}}')}:18083/index.html`), 'hostnet\n');
  assert.strictEqual(wgetFrom(TSV, `http://${ip}/index.html`), 'hostnet\n', 'a sandbox-network client');
  assert.match(sh(['nsenter', '-t', inspect(srv, '{{.State.Pid}}'), '-n', 'ip', '-o', 'addr']).stdout, new RegExp(`eth0\\s+inet ${ip.replace(/\./g, '\\.')}/`));
  d.ok(['rm', '-f', srv]);
});

test('docker network connect and disconnect on a running tsvisor container: the new interface is taken over and followed, and goes', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  d.ok(['network', 'create', '--subnet', '172.29.0.0/16', 'tsvhot']);
  const srv = d.ok(['run', '-d', ...TSV, d.image, ...httpd('hot')]).trim();
  const ip = inspect(srv, '{{.NetworkSettings.IPAddress}}');
  assert.strictEqual(await fetchFromHost(`http://${ip}/index.html`), 'hot\n');
  const other = d.ok(['run', '-d', '--network', 'tsvhot', d.image, ...httpd('other-net')]).trim();
  const oip = inspect(other, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
  await until('the runc server', () => sh(['curl', '-sS', '-m', '5', `http://${oip}/index.html`]).status === 0);
  d.ok(['network', 'connect', 'tsvhot', srv]);
  const hip = inspect(srv, '{{(index .NetworkSettings.Networks "tsvhot").IPAddress}}');
  assert.match(hip, /^172\.29\./);
  // The Sentry follows: eth1 with its address inside, none in the host's view of the namespace.
  await until('eth1 in the sandbox', () => new RegExp(`eth1\\s+inet ${hip.replace(/\./g, '\\.')}/16`).test(d.run(['exec', srv, 'ip', '-o', 'addr']).stdout));
  const pid = inspect(srv, '{{.State.Pid}}');
  const hostView = sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'addr']).stdout;
  assert.doesNotMatch(hostView, /eth1\s+inet/, hostView);
  assert.match(sh(['nsenter', '-t', pid, '-n', 'ip', 'route']).stdout, /172\.29\.0\.0\/16 dev eth1/);
  assert.match(d.ok(['exec', srv, 'ip', 'route']), /172\.29\.0\.0\/16 dev eth1/);
  // Both ways on the new network: the tsvisor container to the runc server, a runc client to the tsvisor server at its new address.
  assert.strictEqual(d.ok(['exec', srv, 'wget', '-qO-', `http://${oip}/index.html`]), 'other-net\n');
  assert.strictEqual(wgetFrom([], `http://${hip}/index.html`, ['--network', 'tsvhot']), 'hot\n', 'runc client on the new network');
  // Still served on the first network.
  assert.strictEqual(await fetchFromHost(`http://${ip}/index.html`), 'hot\n');
  d.ok(['network', 'disconnect', 'tsvhot', srv]);
  await until('eth1 gone from the sandbox', () => !/eth1/.test(d.run(['exec', srv, 'ip', '-o', 'link']).stdout));
  assert.doesNotMatch(d.ok(['exec', srv, 'ip', 'route']), /172\.29\./);
  assert.strictEqual(await fetchFromHost(`http://${ip}/index.html`), 'hot\n');
  d.ok(['rm', '-f', srv, other]);
  d.ok(['network', 'rm', 'tsvhot']);
});

test('the gateway moves to a network connected later (Docker\'s choice), and addresses and routes added in the namespace after start are the Sentry\'s', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  d.ok(['network', 'create', '--subnet', '172.27.0.0/16', 'tsvz']);
  d.ok(['network', 'create', '--subnet', '172.26.0.0/16', 'tsva']);
  const srv = d.ok(['run', '-d', ...TSV, '--network', 'tsvz', d.image, ...httpd('moved')]).trim();
  await until('the server', () => d.run(['exec', srv, 'ip', 'route']).stdout.includes('default via 172.27.0.1'));
  // runc's choice, the reference: the alphabetically first network's gateway becomes the default.
  const ref = d.ok(['run', '-d', '--network', 'tsvz', d.image, 'sleep', '100']).trim();
  d.ok(['network', 'connect', 'tsva', ref]);
  assert.match(sh(['nsenter', '-t', inspect(ref, '{{.State.Pid}}'), '-n', 'ip', 'route']).stdout, /default via 172\.26\.0\.1 dev eth1/);
  d.ok(['network', 'connect', 'tsva', srv]);
  await until('the default route through eth1', () => /default via 172\.26\.0\.1 dev eth1/.test(d.run(['exec', srv, 'ip', 'route']).stdout));
  assert.doesNotMatch(d.ok(['exec', srv, 'ip', 'route']), /default via 172\.27/);
  const pid = inspect(srv, '{{.State.Pid}}');
  // An address and a route added in the namespace by hand: taken by the Sentry (the host's view keeps the route, not the address).
  const bridge = `br-${d.ok(['network', 'inspect', '-f', '{{.Id}}', 'tsvz']).trim().slice(0, 12)}`;
  assert.strictEqual(sh(['ip', 'addr', 'add', '10.231.0.1/24', 'dev', bridge]).status, 0);
  try {
    assert.strictEqual(sh(['nsenter', '-t', pid, '-n', 'ip', 'addr', 'add', '10.231.0.2/24', 'dev', 'eth0']).status, 0);
    await until('the new address in the sandbox', () => /eth0\s+inet 10\.231\.0\.2\/24/.test(d.run(['exec', srv, 'ip', '-o', 'addr']).stdout));
    assert.doesNotMatch(sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'addr']).stdout, /10\.231\.0\.2/);
    assert.strictEqual(await fetchFromHost('http://10.231.0.2/index.html'), 'moved\n');
    const r = sh(['nsenter', '-t', pid, '-n', 'ip', 'route', 'add', '10.232.0.0/16', 'via', '10.231.0.1', 'dev', 'eth0']);
    assert.strictEqual(r.status, 0, r.stderr);
    await until('the new route in the sandbox', () => /10\.232\.0\.0\/16 via 10\.231\.0\.1 dev eth0/.test(d.run(['exec', srv, 'ip', 'route']).stdout));
    assert.strictEqual(sh(['nsenter', '-t', pid, '-n', 'ip', 'route', 'del', '10.232.0.0/16', 'via', '10.231.0.1', 'dev', 'eth0']).status, 0);
    await until('the route gone from the sandbox', () => !/10\.232\./.test(d.run(['exec', srv, 'ip', 'route']).stdout));
  } finally {
    sh(['ip', 'addr', 'del', '10.231.0.1/24', 'dev', bridge]);
  }
  // The host's view of the namespace keeps the default route (so that a change there is seen), which its own traffic does not use: it fails at once.
  const nsIp = (...args) => sh(['nsenter', '-t', pid, '-n', 'ip', ...args]);
  const hostRoutes = nsIp('route').stdout;
  assert.match(hostRoutes, /default via 172\.26\.0\.1 dev eth1/, hostRoutes);
  assert.match(hostRoutes, /172\.26\.0\.0\/16 dev eth1/, hostRoutes);
  assert.match(nsIp('route', 'get', '192.0.2.1').stderr, /unreachable/i);
  // The default route deleted in the namespace: gone from the sandbox; replaced there: the new one is the sandbox's.
  assert.strictEqual(nsIp('route', 'del', 'default').status, 0);
  await until('no default route in the sandbox', () => !/default/.test(d.run(['exec', srv, 'ip', 'route']).stdout));
  assert.match(d.run(['exec', srv, 'nc', '-w', '3', '192.0.2.1', '80']).stderr, /Network is unreachable/);
  assert.strictEqual(nsIp('route', 'replace', 'default', 'via', '172.27.0.1', 'dev', 'eth0').status, 0);
  await until('the default route through eth0', () => /default via 172\.27\.0\.1 dev eth0/.test(d.run(['exec', srv, 'ip', 'route']).stdout));
  assert.strictEqual(nsIp('route', 'replace', 'default', 'via', '172.26.0.1', 'dev', 'eth1').status, 0);
  await until('the default route through eth1 again', () => /default via 172\.26\.0\.1 dev eth1/.test(d.run(['exec', srv, 'ip', 'route']).stdout));
  assert.doesNotMatch(d.ok(['exec', srv, 'ip', 'route']), /default via 172\.27/);
  // Disconnecting the gateway's network moves the default route back (Docker deletes and adds it in the namespace; the host's view kept eth0's link route, so the add is accepted).
  d.ok(['network', 'disconnect', 'tsva', ref]);
  assert.match(sh(['nsenter', '-t', inspect(ref, '{{.State.Pid}}'), '-n', 'ip', 'route']).stdout, /default via 172\.27\.0\.1 dev eth0/);
  d.ok(['network', 'disconnect', 'tsva', srv]);
  await until('the default route back through eth0', () => /default via 172\.27\.0\.1 dev eth0/.test(d.run(['exec', srv, 'ip', 'route']).stdout));
  // Through it: the host's address on the network just left (172.26.0.1) is off-link now, reached through the gateway on tsvz.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-gw-'));
  fs.writeFileSync(path.join(dir, 'gw.txt'), 'via-gateway\n');
  const web = childProcess.spawn('python3', ['-m', 'http.server', '18091', '--bind', '0.0.0.0', '--directory', dir], { stdio: 'ignore' });
  try {
    await until('the host server', () => sh(['curl', '-sS', '-m', '5', 'http://127.0.0.1:18091/gw.txt']).status === 0);
    assert.strictEqual(d.ok(['exec', srv, 'wget', '-qO-', 'http://172.26.0.1:18091/gw.txt']), 'via-gateway\n');
  } finally {
    web.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // An IPv6 network connected later that becomes the gateway (runc's choice again): Docker's IPv6 default route through the new interface is accepted, and taken.
  d.ok(['network', 'create', '--ipv6', '--subnet', 'fd00:7e57:a::/64', 'tsv6a']);
  d.ok(['network', 'connect', 'tsv6a', srv]);
  await until('the IPv6 default route through eth2', () => /default via fd00:7e57:a::1 dev eth2/.test(d.run(['exec', srv, 'ip', '-6', 'route']).stdout));
  const a6 = inspect(srv, '{{(index .NetworkSettings.Networks "tsv6a").GlobalIPv6Address}}');
  assert.strictEqual(await fetchFromHost(`http://[${a6}]/index.html`), 'moved\n');
  assert.doesNotMatch(sh(['nsenter', '-t', pid, '-n', 'ip', '-o', 'addr']).stdout, /eth2\s+inet6/);
  d.ok(['rm', '-f', srv, ref]);
  d.ok(['network', 'rm', 'tsva', 'tsvz', 'tsv6a']);
});

test('an IPv4-only bridge: IPv6 off in the whole namespace as in a runc container (disable_ipv6, no ::1, no IPv6 route)', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  // No IPv6 address at all, ::1 included: a connect or a ping to it has no source address (EADDRNOTAVAIL).
  // (busybox's `ip -6 addr` crashes natively when there is none: /proc/net/if_inet6 instead.)
  const cmd = ['sh', '-c', 'cd /proc/sys/net/ipv6/conf && grep . */disable_ipv6; ip -6 route; echo "ip $?"; cat /proc/net/if_inet6; nc -w 2 ::1 1 </dev/null 2>&1; echo "nc $?"; ping -6 -c 1 -W 1 ::1 2>&1 | tail -1'];
  const runc = d.ok(['run', '--rm', d.image, ...cmd]);
  const tsv = d.ok(['run', '--rm', ...TSV, d.image, ...cmd]);
  assert.match(runc, /^eth0\/disable_ipv6:1$/m);
  assert.match(runc, /Cannot assign requested address/);
  assert.strictEqual(tsv, runc);
});

test('link-local TCP with scope ids between a tsvisor and a runc container on an IPv6 network', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  d.ok(['network', 'create', '--ipv6', '--subnet', 'fd00:7e57:5c0e::/64', 'tsvscope']);
  const linkLocal = (id) => /inet6 (fe80::[0-9a-f:]+)\/64 scope link/.exec(d.ok(['exec', id, 'ip', '-6', 'addr']))?.[1];
  const srv = d.ok(['run', '-d', ...TSV, '--network', 'tsvscope', d.image, ...httpd('scoped')]).trim();
  const runc = d.ok(['run', '-d', '--network', 'tsvscope', d.image, ...httpd('runc-scoped')]).trim();
  const a = linkLocal(srv);
  const b = linkLocal(runc);
  assert.ok(a && b);
  await until('the tsvisor server over its link-local address', () => d.run(['exec', runc, 'wget', '-qO-', `http://[${a}%eth0]/index.html`]).stdout === 'scoped\n');
  assert.strictEqual(d.ok(['exec', srv, 'wget', '-qO-', `http://[${b}%eth0]/index.html`]), 'runc-scoped\n', 'tsvisor client');
  // Without a scope id a link-local connect is EINVAL, in both.
  for (const id of [srv, runc]) {
    const r = d.run(['exec', id, 'wget', '-qO-', `http://[${id === srv ? b : a}]/index.html`]);
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, /Invalid argument/, id === srv ? 'tsvisor' : 'runc');
  }
  d.ok(['rm', '-f', srv, runc]);
  d.ok(['network', 'rm', 'tsvscope']);
});
