'use strict';
// Node in the sandbox (run by runtimes_threads.test.js, natively and
// sandboxed, in a fresh directory): worker threads, timers, promises, the
// three fs APIs, child processes with IPC and a Unix-socket server. Every
// line printed is deterministic. `node --test` also loads this file: under
// the test runner it does nothing.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

const log = (...a) => process.stdout.write(`${a.join(' ')}\n`);

function sumTo(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + i * i) % 1000003;
  return s;
}

async function workers() {
  // Four workers compute, and share one counter through Atomics.
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const results = await Promise.all([0, 1, 2, 3].map((k) => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { k, shared } });
    w.once('message', resolve);
    w.once('error', reject);
  })));
  log('workers:', results.join(','), 'counter', Atomics.load(shared, 0));
}

async function timers() {
  // Whether the immediate runs before the 10 ms timer depends on how late
  // the loop comes round (a loaded machine): it is only checked to run.
  const order = [];
  let immediate = false;
  await new Promise((resolve) => {
    // The shorter one first: each timer's start is read from the clock when it is set, so a stall of
    // over 20 ms between the two (a loaded machine) would otherwise let the 30 ms one expire first.
    setTimeout(() => order.push('t10'), 10);
    setTimeout(() => order.push('t30'), 30);
    setImmediate(() => (immediate = true));
    process.nextTick(() => order.push('tick'));
    Promise.resolve().then(() => order.push('micro'));
    let n = 0;
    const iv = setInterval(() => {
      if (++n === 3) {
        clearInterval(iv);
        setTimeout(resolve, 40);
      }
    }, 5);
  });
  log('timers:', order.join(' '), 'immediate', immediate);
  const { setTimeout: sleep } = require('node:timers/promises');
  const t0 = Date.now();
  const v = await sleep(50, 'slept');
  log('timers/promises:', v, Date.now() - t0 >= 45);
  const settled = await Promise.allSettled([Promise.reject(new Error('no')), sleep(1, 'yes')]);
  log('promises:', settled.map((s) => s.status).join(','));
  log('promises: race', await Promise.race([sleep(100, 'slow'), sleep(5, 'fast')]));
}

async function files() {
  fs.mkdirSync('a/b', { recursive: true });
  fs.writeFileSync('a/b/sync.txt', 'sync\n'.repeat(1000));
  log('fs sync:', fs.statSync('a/b/sync.txt').size, fs.readdirSync('a').join(','));
  await new Promise((resolve, reject) => fs.writeFile('a/cb.txt', 'callback', (e) => (e ? reject(e) : resolve())));
  const cb = await new Promise((resolve, reject) => fs.readFile('a/cb.txt', 'utf8', (e, d) => (e ? reject(e) : resolve(d))));
  log('fs callback:', cb);
  const fsp = fs.promises;
  const fh = await fsp.open('a/p.bin', 'w+');
  await fh.write(Buffer.alloc(100000, 7));
  const { bytesRead } = await fh.read(Buffer.alloc(10), 0, 10, 99995);
  await fh.close();
  await fsp.rename('a/p.bin', 'a/q.bin');
  log('fs promises:', bytesRead, (await fsp.readdir('a')).sort().join(','), (await fsp.stat('a/q.bin')).size);
  try {
    await fsp.readFile('a/missing');
  } catch (e) {
    log('fs promises: error', e.code);
  }
  const stream = fs.createReadStream('a/b/sync.txt', { highWaterMark: 1024 });
  let chunks = 0;
  for await (const c of stream) chunks += c.length > 0 ? 1 : 0;
  log('fs stream: chunks', chunks);
  await fsp.rm('a', { recursive: true });
  log('fs rm:', fs.existsSync('a'));
}

async function children() {
  const out = await new Promise((resolve) => {
    const c = childProcess.spawn('sh', ['-c', 'read x; echo "got $x"; exit 5']);
    let s = '';
    c.stdout.on('data', (d) => (s += d));
    c.on('close', (code) => resolve(`${s.trim()} ${code}`));
    c.stdin.end('line\n');
  });
  log('spawn:', out);
  const ex = await new Promise((resolve) => childProcess.exec('echo exec; ls /nonexistent-dir', (e, so, se) => resolve(`${so.trim()} ${e.code} ${se.includes('No such file') }`)));
  log('exec:', ex);
  log('execSync:', childProcess.execSync('seq 3 | tr "\\n" " "').toString());
  const r = await new Promise((resolve) => {
    const c = childProcess.fork(__filename, ['child']);
    const got = [];
    c.on('message', (m) => {
      got.push(m.reply);
      if (got.length < 3) c.send({ n: got.length });
      else c.send({ bye: true });
    });
    c.on('exit', (code) => resolve(`${got.join(',')} exit ${code}`));
    c.send({ n: 0 });
  });
  log('fork:', r);
}

async function sockets() {
  const sock = path.join(process.cwd(), 's.sock');
  const server = net.createServer((c) => {
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      if (buf.endsWith('\n')) c.end(buf.toUpperCase());
    });
  });
  await new Promise((resolve) => server.listen(sock, resolve));
  const replies = await Promise.all([1, 2, 3].map((i) => new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got.trim()));
    c.on('error', reject);
    c.write(`hello ${i} ${'x'.repeat(i * 20000)}\n`);
  })));
  log('net:', replies.map((s) => `${s.slice(0, 7)}/${s.length}`).join(' '));
  await new Promise((resolve) => server.close(resolve));
  log('net: closed', fs.existsSync(sock));
}

async function main() {
  await workers();
  await timers();
  await files();
  await children();
  await sockets();
}

if (process.env.NODE_TEST_CONTEXT) {
  // loaded by `node --test`: nothing to do
} else if (!isMainThread) {
  Atomics.add(workerData.shared, 0, workerData.k + 1);
  parentPort.postMessage(sumTo(200000 * (workerData.k + 1)));
} else if (process.argv[2] === 'child') {
  process.on('message', (m) => {
    if (m.bye) process.disconnect();
    else process.send({ reply: m.n * 10 + process.argv.length });
  });
} else {
  main().catch((e) => {
    log('error:', e.stack);
    process.exitCode = 1;
  });
}
