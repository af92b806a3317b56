'use strict';
// fakehost: run a command in a sandbox made (through the Sandbox API, as the
// CLI does) in a child node with some HostInfo fields replaced, the rest
// captured from this host; returns its stdout and asserts exit status 0.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const path = require('node:path');
const h = require('./harness');

const DIST = path.join(__dirname, '..', '..', 'dist');

const DRIVER = `
const { Sandbox } = require(${JSON.stringify(path.join(DIST, 'sandbox', 'sandbox.js'))});
const { captureHostInfo } = require(${JSON.stringify(path.join(DIST, 'host', 'hostinfo.js'))});
const over = JSON.parse(process.argv[1]);
const hostInfo = { ...captureHostInfo(), ...over };
const sb = new Sandbox({ rootfs: '/', argv: process.argv.slice(2), env: ['PATH=/usr/bin:/bin', 'LC_ALL=C'], cwd: '/', hostInfo });
sb.run().then((st) => process.exit(st & 0x7f ? 128 + (st & 0x7f) : (st >> 8) & 0xff));
`;

function runWithHostInfo(over, argv) {
  const r = childProcess.spawnSync(process.execPath, ['-e', DRIVER, JSON.stringify(over), ...argv], {
    encoding: 'utf8', timeout: h.DEFAULT_TIMEOUT_MS, env: h.sentryEnv(),
  });
  assert.strictEqual(r.status, 0, `status ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

module.exports = { runWithHostInfo };
