'use strict';
// The user-mode NAT of `tsvisor do --network sandbox` (src/net/nat/): clients
// in the sandbox reach servers on the host through it, servers in the sandbox
// are reached from the host through --publish, the host's loopback only with
// --allow-host-loopback, and --network none lets nothing out.
//
// This host's loopback has no IPv4 address, so every test runs its host side
// and the sandbox inside a private network namespace (`unshare -n`, lo up)
// from one shell script; the script and everything it starts form one process
// group, killed when the test ends, passed or failed.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const netns = require('../lib/netns');

const DIR = path.join(__dirname, 'nat');

const cbin = (name, flags = []) => netns.cbin(DIR, name, flags);
const { inNetns } = netns;

test('curl in the sandbox reaches a host server at 10.0.2.2 with --allow-host-loopback, not without', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['curl', 'python3', 'unshare', 'ip'])) return;
  const www = h.tmpDir('tsvisor-nat-www-');
  fs.writeFileSync(path.join(www, 'hello.txt'), 'hello through the NAT\n');
  fs.writeFileSync(path.join(www, 'big.bin'), Buffer.alloc(3 << 20, 'abcdefghij'));
  const r = await inNetns(t, `
cd ${www} && python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &
wait_port 8000
$TSV --allow-host-loopback -- curl -sS -m 60 http://10.0.2.2:8000/hello.txt
$TSV --allow-host-loopback -- sh -c 'curl -sS -m 120 http://10.0.2.2:8000/big.bin | md5sum'
md5sum < ${www}/big.bin
$TSV -- curl -sS -m 20 -o /dev/null -w 'default: %{http_code}\\n' http://10.0.2.2:8000/hello.txt
$TSV --network none -- curl -sS -m 20 -o /dev/null -w 'none: %{http_code}\\n' http://10.0.2.2:8000/hello.txt
true`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  const lines = r.stdout.split('\n');
  assert.strictEqual(lines[0], 'hello through the NAT');
  assert.strictEqual(lines[1], lines[2], 'the 3 MiB file arrives intact');
  assert.strictEqual(lines[3], 'default: 000');
  assert.strictEqual(lines[4], 'none: 000');
  assert.match(r.stderr, /Failed to connect to 10\.0\.2\.2 port 8000/);
});

test('urgent data through the NAT: the sandbox\'s urgent byte reaches the host as urgent data; the host\'s arrives inline', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'python3', 'unshare', 'ip'])) return;
  const bin = cbin('oobclient');
  const r = await inNetns(t, `
python3 ${path.join(DIR, 'oobsrv.py')} 8000 &
wait_port 8000
$TSV --allow-host-loopback -- ${bin} 10.0.2.2 8000`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.strictEqual(r.stdout, 'abc|X|def;12Z34\n', r.stderr);
});

test('connect errors through the NAT are the ones Linux gives (ECONNREFUSED, ENETUNREACH, EHOSTUNREACH)', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'python3', 'unshare', 'ip'])) return;
  const bin = cbin('connerr');
  const r = await inNetns(t, `
python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 8000)); s.listen(); time.sleep(600)' &
wait_port 8000
echo native; ${bin} 127.0.0.1:8000 127.0.0.1:8001 1.2.3.4:80
echo allowed; $TSV --allow-host-loopback -- ${bin} 10.0.2.2:8000 10.0.2.2:8001 1.2.3.4:80 10.0.2.99:80
echo default; $TSV -- ${bin} 10.0.2.2:8000 10.0.2.3:80
echo none; $TSV --network none -- ${bin} 10.0.2.2:8000 1.2.3.4:80`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  const want = [
    'native',
    '127.0.0.1:8000 blocking: OK', '127.0.0.1:8000 non-blocking: EINPROGRESS then OK',
    '127.0.0.1:8001 blocking: ECONNREFUSED', '127.0.0.1:8001 non-blocking: EINPROGRESS then ECONNREFUSED',
    '1.2.3.4:80 blocking: ENETUNREACH', '1.2.3.4:80 non-blocking: ENETUNREACH',
    // The same outcomes through the NAT; a connect that leaves the sandbox is in progress until the host's connect answers.
    'allowed',
    '10.0.2.2:8000 blocking: OK', '10.0.2.2:8000 non-blocking: EINPROGRESS then OK',
    '10.0.2.2:8001 blocking: ECONNREFUSED', '10.0.2.2:8001 non-blocking: EINPROGRESS then ECONNREFUSED',
    '1.2.3.4:80 blocking: ENETUNREACH', '1.2.3.4:80 non-blocking: EINPROGRESS then ENETUNREACH',
    '10.0.2.99:80 blocking: EHOSTUNREACH', '10.0.2.99:80 non-blocking: EINPROGRESS then EHOSTUNREACH',
    // The host's loopback refused by default (administratively prohibited); 10.0.2.3 only carries DNS.
    'default',
    '10.0.2.2:8000 blocking: EHOSTUNREACH', '10.0.2.2:8000 non-blocking: EINPROGRESS then EHOSTUNREACH',
    '10.0.2.3:80 blocking: EHOSTUNREACH', '10.0.2.3:80 non-blocking: EINPROGRESS then EHOSTUNREACH',
    // No eth0, no route: nothing leaves.
    'none',
    '10.0.2.2:8000 blocking: ENETUNREACH', '10.0.2.2:8000 non-blocking: ENETUNREACH',
    '1.2.3.4:80 blocking: ENETUNREACH', '1.2.3.4:80 non-blocking: ENETUNREACH',
    '',
  ];
  assert.strictEqual(r.stdout, want.join('\n'), r.stderr);
});

test('python urllib, UDP echo and refusal, DNS through 10.0.2.3 (UDP and TCP), node fetch and git clone over http', { timeout: 400_000 }, async (t) => {
  if (!h.needTools(t, ['python3', 'git', 'node', 'unshare', 'ip', 'mount'])) return;
  const www = h.tmpDir('tsvisor-nat-www-');
  fs.writeFileSync(path.join(www, 'hello.txt'), 'hello through the NAT\n');
  const resolv = path.join(www, 'resolv.conf');
  fs.writeFileSync(resolv, 'nameserver 127.0.0.1\n');
  const r = await inNetns(t, `
mount --bind ${resolv} /etc/resolv.conf
python3 ${DIR}/dnsd.py &
python3 ${DIR}/udpecho.py 9000 &
cd ${www} && python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &
git init -q --bare ${www}/repo.git
git init -q ${www}/src && cd ${www}/src && echo 'through the NAT' > README && git add README && git -c user.name=t -c user.email=t@t commit -qm first && git push -q ${www}/repo.git HEAD:refs/heads/main
git -C ${www}/repo.git symbolic-ref HEAD refs/heads/main && git -C ${www}/repo.git update-server-info
wait_port 8000; wait_port 53
cd /
$TSV --allow-host-loopback -- python3 ${DIR}/clients.py http://10.0.2.2:8000
$TSV --allow-host-loopback -- ${process.execPath} -e "fetch('http://10.0.2.2:8000/hello.txt').then((r) => r.text()).then((t) => console.log('fetch:', t.trim()))"
$TSV --allow-host-loopback -- sh -c 'cd /tmp && git clone -q http://10.0.2.2:8000/repo.git c && echo "git: $(cat c/README)"'
$TSV -- sh -c 'cat /etc/resolv.conf; getent hosts web.nat.test'`, { mountns: true });
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.strictEqual(r.stdout, [
    'urllib: hello through the NAT',
    'udp: echo:ping',
    'udp 8 KiB: True',
    'refused udp: ECONNREFUSED',
    "getaddrinfo: ['192.0.2.7']",
    'nxdomain: True',
    'dns over tcp: 192.0.2.7',
    'fetch: hello through the NAT',
    'git: through the NAT',
    // DNS is forwarded without --allow-host-loopback: the host's resolver is what 10.0.2.3 stands for.
    'nameserver 10.0.2.3',
    '192.0.2.7       web.nat.test',
    '',
  ].join('\n'), r.stderr);
});

test('--publish: python http.server, a node http server and a UDP echo in the sandbox, reached from the host', { timeout: 400_000 }, async (t) => {
  if (!h.needTools(t, ['python3', 'curl', 'node', 'unshare', 'ip'])) return;
  const www = h.tmpDir('tsvisor-nat-www-');
  fs.writeFileSync(path.join(www, 'hello.txt'), 'served from the sandbox\n');
  fs.writeFileSync(path.join(www, 'body'), Buffer.alloc(1 << 20, 'z'));
  const r = await inNetns(t, `
$TSV --publish 8080:8000 --publish 8081:8001 --publish 9090:9000/udp -- sh -c '
  cd ${www} && python3 -m http.server 8000 >/dev/null 2>&1 &
  ${process.execPath} ${DIR}/nodeserve.js 8001 &
  python3 ${DIR}/udpserve.py 9000 &
  sleep 600' &
wait_http http://127.0.0.1:8080/hello.txt; wait_http http://127.0.0.1:8081/
curl -sS http://127.0.0.1:8080/hello.txt
curl -sS -6 http://[::1]:8080/hello.txt 2>/dev/null || echo 'no ::1 here'
curl -sS --data-binary @${www}/body http://127.0.0.1:8081/
for i in 1 2 3 4 5 6 7 8; do curl -sS -o /dev/null -w '%{http_code} ' http://127.0.0.1:8080/hello.txt & done; wait_jobs=$(jobs -p | tail -8); wait $wait_jobs; echo
python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(30); s.sendto(b"hi", ("127.0.0.1", 9090)); print(s.recvfrom(200)[0].decode())'
curl -sS -m 5 -o /dev/null -w 'unpublished: %{http_code}\n' http://127.0.0.1:8000/ || true`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  const lines = r.stdout.split('\n');
  assert.strictEqual(lines[0], 'served from the sandbox');
  assert.ok(lines[1] === 'served from the sandbox' || lines[1] === 'no ::1 here', lines[1]);
  // The sandbox sees published connections come from the gateway.
  assert.strictEqual(lines[2], `node got POST ${1 << 20} from 10.0.2.2`);
  assert.strictEqual(lines[3], '200 200 200 200 200 200 200 200 ');
  assert.strictEqual(lines[4], 'echo from sandbox to 10.0.2.2: hi');
  assert.strictEqual(lines[5], 'unpublished: 000');
});

test('--publish: nginx with curl and wrk, redis with redis-cli and redis-benchmark, memcached', { timeout: 500_000 }, async (t) => {
  if (!h.needTools(t, ['nginx', 'wrk', 'curl', 'redis-server', 'redis-cli', 'redis-benchmark', 'memcached', 'python3', 'unshare', 'ip'])) return;
  const dir = h.tmpDir('tsvisor-nat-srv-');
  fs.mkdirSync(path.join(dir, 'www'));
  fs.writeFileSync(path.join(dir, 'www', 'index.html'), 'nginx in the sandbox\n');
  fs.writeFileSync(path.join(dir, 'www', 'file4k'), Buffer.alloc(4096, 'n'));
  fs.writeFileSync(path.join(dir, 'nginx.conf'), fs.readFileSync(path.join(DIR, 'nginx.conf'), 'utf8').replace('root WWW', `root ${path.join(dir, 'www')}`));
  fs.chmodSync(dir, 0o755); // nginx's worker runs as nobody
  const mc = `import socket
s = socket.create_connection(('127.0.0.1', 11212), timeout=30)
s.sendall(b'set k 0 0 5\\r\\nhello\\r\\nget k\\r\\n')
d = b''
while not d.endswith(b'END\\r\\n'): d += s.recv(100)
print('memcached:', d.decode().replace('\\r\\n', ' ').strip())`;
  const r = await inNetns(t, `
$TSV --publish 8080:8000 --publish 16379:6379 --publish 11212:11211 -- sh -c '
  nginx -c ${dir}/nginx.conf &
  redis-server --port 6379 --save "" --appendonly no --daemonize no --protected-mode no >/dev/null &
  memcached -u nobody -p 11211 -U 0 &
  sleep 600' &
wait_http http://127.0.0.1:8080/
for i in $(seq 1 200); do redis-cli -p 16379 ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
curl -sS http://127.0.0.1:8080/
curl -sS http://127.0.0.1:8080/file4k | wc -c
wrk -t1 -c8 -d3s http://127.0.0.1:8080/file4k > ${dir}/wrk.out; grep -c 'Non-2xx' ${dir}/wrk.out; grep -o '[0-9]* requests in' ${dir}/wrk.out | awk '{print ($1 > 50) ? "wrk: many requests" : "wrk: few " $1}'
echo "redis: $(redis-cli -p 16379 set key through-the-nat) $(redis-cli -p 16379 get key)"
redis-benchmark -p 16379 -q -n 2000 -c 10 -t set,get | grep -c 'requests per second'
for i in $(seq 1 100); do python3 -c 'import socket; socket.create_connection(("127.0.0.1", 11212), timeout=1)' 2>/dev/null && break; sleep 0.2; done
python3 -c "${mc.replace(/"/g, '\\"')}"`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.strictEqual(r.stdout, [
    'nginx in the sandbox', '4096', '0', 'wrk: many requests', 'redis: OK through-the-nat', '2', 'memcached: STORED VALUE k 0 5 hello END', '',
  ].join('\n'), r.stderr);
});

test('--publish: postgresql (initdb and pg_ctl as postgres, psql over its Unix socket and TCP inside, psql from the host)', { timeout: 400_000 }, async (t) => {
  if (!h.needTools(t, ['psql', 'pg_isready', 'setpriv', 'unshare', 'ip'])) return;
  const out = path.join(h.tmpDir('tsvisor-nat-pg-'), 'out');
  const r = await inNetns(t, `
$TSV --publish 15432:5432 -- sh ${DIR}/postgres.sh > ${out} 2>&1 &
for i in $(seq 1 600); do grep -q '^ready' ${out} && break; sleep 0.3; done
cat ${out}
psql -h 127.0.0.1 -p 15432 -U postgres -tAc "create table t(x int); insert into t select generate_series(1, 1000); select sum(x) from t"`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.strictEqual(r.stdout, 'unix socket: 42\ntcp inside: inside\nready\nCREATE TABLE\nINSERT 0 1000\n500500\n', r.stderr);
});

test('--publish: a ping-pong of small messages costs the NAT a bounded number of segments and host calls per message, and no timer', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'unshare', 'ip'])) return;
  const bin = cbin('pingpong');
  const log = path.join(h.tmpDir('tsvisor-natpp-'), 'debug.log');
  const N = 300;
  const r = await inNetns(t, `
$TSV --debug-log ${log} --publish 17000:7000 -- ${bin} server 7000 &
S=$!
# The published port accepts before the server in the sandbox listens (the NAT then resets the connection): probe with one message until it is answered.
A=1; until ${bin} client 17000 1 64 >/dev/null 2>&1; do A=$((A + 1)); [ $A -gt 200 ] && break; sleep 0.3; done
echo "probes $A"
${bin} client 17000 ${N} 64
wait $S; echo "server status $?"`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.match(r.stdout, new RegExp(`^pingpong ${N} ok$`, 'm'));
  assert.match(r.stdout, /^server status 0$/m);
  const m = /nat: counters: (\{.*\}); stack: (\{.*\})$/m.exec(fs.readFileSync(log, 'utf8'));
  assert.ok(m, 'the NAT wrote its counters');
  const nat = JSON.parse(m[1]), stack = JSON.parse(m[2]);
  // The handshakes and closes, and each probe the NAT reset.
  const probes = Number(/^probes (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(probes >= 1 && probes <= 200, r.stdout);
  const k = 20 + 4 * probes;
  const why = JSON.stringify({ nat, stack });
  // Each message is answered at once: no ACK waits for the delayed-ACK timer, nothing for the cork's, nothing is sent again.
  for (const c of [nat, stack]) for (const name of ['DelayedACKs', 'TcpCorkTimeouts', 'TcpRetransSegs']) assert.strictEqual(c[name] ?? 0, 0, `${name}: ${why}`);
  // Per round trip, each side sends the data and at most one ACK.
  assert.ok(stack.TcpOutSegs <= 2 * N + k, `the sandbox's segments: ${why}`);
  assert.ok(nat.IpInReceives <= 2 * N + k, `the frames the NAT received: ${why}`);
  // One host send per answer; a host read only after a send or a readiness report (at most two per message, none for an ACK); at most one readiness report per message.
  assert.ok(nat.NatHostSends >= N && nat.NatHostSends <= N + k, `host sends: ${why}`);
  assert.ok(nat.NatHostRecvs <= 2 * N + k, `host reads: ${why}`);
  assert.ok(nat.NatHostEvents <= N + k, `readiness reports: ${why}`);
});

test('ping through the NAT: ping sockets and busybox ping (raw) reach 10.0.2.2 and the host\'s addresses only with --allow-host-loopback, as native pings reach 127.0.0.1', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'unshare', 'ip', 'busybox', 'sysctl'])) return;
  const bin = cbin('icmpecho');
  // The namespace's ping_group_range admits everyone, so that the Sentry (and the native run) may have host ping sockets; 192.168.77.1 stands for the host's LAN address.
  const r = await inNetns(t, `
ip addr add 192.168.77.1/24 dev lo
sysctl -qw net.ipv4.ping_group_range="0 2147483647"
echo native; ${bin} 127.0.0.1 192.168.77.1
echo allowed; $TSV --allow-host-loopback -- ${bin} 10.0.2.2 192.168.77.1 127.0.0.1
echo default; $TSV -- ${bin} 10.0.2.2 192.168.77.1
echo none; $TSV --network none -- ${bin} 127.0.0.1 10.0.2.2
echo busybox; $TSV --allow-host-loopback -- busybox ping -c 2 -W 5 10.0.2.2 | grep -E 'transmitted'
$TSV -- busybox ping -c 1 -W 5 127.0.0.1 | grep -E 'transmitted'
$TSV -u 65534 -- busybox ping -c 1 -W 5 127.0.0.1 2>&1 | grep ping:
true`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.deepStrictEqual(r.stdout.trim().split('\n'), [
    'native', '127.0.0.1: 3 replies', '192.168.77.1: 3 replies',
    // The gateway is the host's loopback, and the host's own addresses are reachable, only when allowed.
    'allowed', '10.0.2.2: 3 replies', '192.168.77.1: 3 replies', '127.0.0.1: 3 replies',
    'default', '10.0.2.2: 0 replies', '192.168.77.1: 0 replies',
    'none', '127.0.0.1: 3 replies', '10.0.2.2: sendto: ENETUNREACH', '10.0.2.2: 0 replies',
    // busybox's ping uses a raw socket: with CAP_NET_RAW (root in the sandbox), and refused without it, as on Linux.
    'busybox', '2 packets transmitted, 2 packets received, 0% packet loss', '1 packets transmitted, 1 packets received, 0% packet loss',
    'ping: permission denied (are you root?)',
  ]);
});

test('hostile: a connect, write and UDP flood through the NAT (test/hostile/natflood.c) leaves the Sentry up and its memory bounded', { timeout: 400_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'python3', 'unshare', 'ip'])) return;
  const bin = cbin('natflood');
  const log = path.join(h.tmpDir('tsvisor-natflood-'), 'debug.log');
  const r = await inNetns(t, `
python3 -u ${DIR}/sink.py 7000 7001 &
SINK=$!
wait_port 7001
$TSV --memory 128m --allow-host-loopback --debug-log ${log} -- sh -c '${bin} 10.0.2.2 7000 7001; sleep 2' &
S=$!
HWM=0
while kill -0 $S 2>/dev/null; do H=$(awk '/VmHWM/{print $2}' /proc/$S/status 2>/dev/null); [ -n "$H" ] && HWM=$H; sleep 0.5; done
wait $S; echo "status $?"
echo "sentry peak kB: $HWM"
kill -USR1 $SINK; sleep 1`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.match(r.stdout, /^connect flood: 1200 in progress, 0 other$/m);
  assert.match(r.stdout, /^connections: many$/m);
  assert.match(r.stdout, /^writers: wrote$/m);
  assert.match(r.stdout, /^udp spray: sent$/m);
  // After all that, the NAT still carries a fresh connection.
  assert.match(r.stdout, /^after: still-up$/m);
  assert.match(r.stdout, /^status 0$/m);
  const peak = Number(/^sentry peak kB: (\d+)$/m.exec(r.stdout)?.[1]);
  // A loose bound (node's own footprint is most of it): what the Sentry keeps for the flows is charged to the 128 MiB sandbox's kernel budget.
  assert.ok(peak > 0 && peak < 512 * 1024, `the Sentry's peak RSS ${peak} kB`);
  const sunk = Number(/^sink connections: (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(sunk >= 500 && sunk <= 1200, r.stdout);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
});

test('sandbox mode\'s interfaces: lo and eth0 in netlink (ip), SIOCGIF* ioctls and /proc/net; eth0\'s counters move; none mode has lo only', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['ip', 'python3', 'curl', 'unshare'])) return;
  const r = await inNetns(t, `
python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &
wait_port 8000
$TSV --allow-host-loopback -- sh -c 'ip -4 addr show eth0; ip route; python3 ${DIR}/ifaces.py; curl -s -o /dev/null http://10.0.2.2:8000/; awk "/eth0/ { print (\\$2 > 0 && \\$10 > 0) ? \\"eth0 counters moved\\" : \\"eth0 counters: \\" \\$0 }" /proc/net/dev'
$TSV --network none -- python3 -c 'import socket; print(socket.if_nameindex())'`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.strictEqual(r.stdout, [
    '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000',
    '    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0',
    '       valid_lft forever preferred_lft forever',
    'default via 10.0.2.2 dev eth0 ',
    '10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15 ',
    'lo 127.0.0.1 255.0.0.0 0x49',
    'eth0 10.0.2.15 255.255.255.0 0x1043',
    "[(1, 'lo'), (2, 'eth0')]",
    'eth0 counters moved',
    "[(1, 'lo')]",
    '',
  ].join('\n'), r.stderr);
});
