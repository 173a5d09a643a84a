// Start-up and end-to-end time of `keel`, as hyperfine would measure it: N runs of each command,
// interleaved so machine load falls on all alike, beside the floors they cannot beat (a bare
// `node -e 0`, and `pnpm --version` for `pnpm keel`).
// Usage: node scripts/startup.mjs [runs=40] [--cluster <dir>] [other/bin/keel.mjs ...]
//   --cluster <dir>   also time `keel get` and `keel put` against the running cluster in <dir>
//   other bins        also time `keel --version` of another checkout (e.g. main's), to compare
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { cluster: { type: 'string' } },
  allowPositionals: true,
});
const [runsArg = '40', ...others] = positionals;
const runs = Number(runsArg);
const self = fileURLToPath(new URL('../bin/keel.mjs', import.meta.url));
const root = join(dirname(self), '..', '..', '..');
const pnpm = join(root, '.tools', 'pnpm-10.34.8', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const node = process.execPath;
const programs = [
  ...[self, ...others].map((bin) => ({
    name: `keel --version (${bin})`,
    cmd: node,
    args: [bin, '--version'],
  })),
  { name: 'pnpm -s keel --version (in the checkout)', cmd: node, args: [pnpm, '-s', 'keel', '--version'] },
  { name: 'pnpm --version (floor of pnpm keel)', cmd: node, args: [pnpm, '--version'] },
  { name: 'node -e 0 (floor)', cmd: node, args: ['-e', '0'] },
];
if (values.cluster !== undefined) {
  const at = ['--dir', values.cluster];
  programs.push(
    {
      name: 'keel put startup-probe v (end to end)',
      cmd: node,
      args: [self, 'put', 'startup-probe', 'v', ...at],
    },
    { name: 'keel get startup-probe (end to end)', cmd: node, args: [self, 'get', 'startup-probe', ...at] },
  );
}
const times = programs.map(() => []);
const once = (p) => {
  const t = performance.now();
  const r = spawnSync(p.cmd, p.args, { stdio: 'ignore', cwd: root });
  if (r.status !== 0) throw new Error(`${p.args.join(' ')} exited ${r.status}`);
  return performance.now() - t;
};
for (const p of programs) once(p); // warm the file cache (and build `pnpm keel` if it must)
for (let i = 0; i < runs; i++) {
  for (const [j, p] of programs.entries()) times[j].push(once(p));
}
const q = (xs, f) => xs[Math.min(xs.length - 1, Math.floor(xs.length * f))].toFixed(1);
console.log(
  `${process.platform} ${release()} ${process.arch}, ${cpus().length} CPUs, node ${process.version}, load ${loadavg()[0].toFixed(1)}, ${runs} runs each, ${new Date().toISOString()}`,
);
programs.forEach((p, j) => {
  const xs = times[j].sort((a, b) => a - b);
  console.log(`${p.name}: median ${q(xs, 0.5)} ms, p10 ${q(xs, 0.1)} ms, p90 ${q(xs, 0.9)} ms`);
});
