'use strict';
// tmpfs file I/O against native: a script of growing writes, odd block
// sizes, truncates, sparse writes and frame reuse (tmpfs/fileio.sh) in the
// sandbox's /tmp and natively in a host directory; checksums must agree.

const assert = require('node:assert');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const SCRIPT = path.join(__dirname, 'tmpfs', 'fileio.sh');

test('tmpfs: writes, truncates, sparse files and reused frames read as native', () => {
  const native = h.runNative(['sh', SCRIPT, h.tmpDir('tmpfs-native-')]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sb = h.runSandbox(['sh', SCRIPT, '/tmp']);
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  assert.strictEqual(sb.stdout, native.stdout);
  assert.match(sb.stdout, /done\n$/);
});
