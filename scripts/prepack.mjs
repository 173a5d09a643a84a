#!/usr/bin/env node
// `prepack` of every public package: builds the package and what it depends on (turbo, cached), then
// refuses to pack if any file the manifest points to is missing, so no tarball ships without its build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const turbo = join(root, 'node_modules', '.bin', 'turbo');

const built = spawnSync(turbo, ['run', 'build', `--filter=${pkg.name}...`, '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
});
if (built.status !== 0) {
  process.stderr.write(`prepack: building ${pkg.name} failed; not packing it\n`);
  process.exit(built.status ?? 1);
}

// The licence text travels in every tarball; the copy is git-ignored (one LICENSE in the repository).
copyFileSync(join(root, 'LICENSE'), 'LICENSE');

/** Every file path an exports map or bin field names (conditions flattened), except the sources. */
function targets(node, out = []) {
  if (typeof node === 'string') out.push(node);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) if (key !== 'source') targets(value, out);
  }
  return out;
}
const bin = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
const missing = [...targets(pkg.exports), ...bin].filter((f) => !existsSync(f));
if (missing.length > 0) {
  process.stderr.write(`prepack: ${pkg.name} names files its build did not make: ${missing.join(', ')}\n`);
  process.exit(1);
}
