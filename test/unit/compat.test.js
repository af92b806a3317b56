'use strict';
// docs/COMPATIBILITY.md is generated from the syscall table: it must match.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { compatibilityMarkdown, buildTable } = require('../../dist/syscalls/table.js');
const { ociCompatibilityMarkdown } = require('../../dist/oci/compat.js');

test('docs/COMPATIBILITY.md matches the syscall table', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'COMPATIBILITY.md'), 'utf8');
  // `tsvisor compat` ends with the OCI spec fields not honoured (oci/compat.ts).
  assert.equal(doc, compatibilityMarkdown() + ociCompatibilityMarkdown(), 'regenerate with: node bin/tsvisor.js compat > docs/COMPATIBILITY.md');
});

test('every syscall family module loads and numbers match names', () => {
  const { table, missingFamilies } = buildTable();
  assert.deepEqual(missingFamilies, []);
  assert.equal(table[0].name, 'read');
  assert.equal(table[39].name, 'getpid');
});

test('every ENOSYS entry says why, and no reason is left for a call that has a handler', () => {
  const { table } = buildTable();
  const { SYSCALL_NAMES } = require('../../dist/syscalls/names.js');
  const { ENOSYS_REASONS } = require('../../dist/syscalls/enosys.js');
  const missing = [];
  const stale = [];
  for (const [nr, name] of Object.entries(SYSCALL_NAMES)) {
    if (!table[nr] && !ENOSYS_REASONS[name]) missing.push(name);
    if (table[nr] && ENOSYS_REASONS[name]) stale.push(name);
  }
  assert.deepEqual(missing, [], 'give these a reason in src/syscalls/enosys.ts');
  assert.deepEqual(stale, [], 'these have handlers now: drop their ENOSYS reason');
});
