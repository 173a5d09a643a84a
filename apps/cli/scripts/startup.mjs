// Startup time of `keel --version`, as hyperfine would measure it: N runs of each program,
// interleaved so machine load falls on all alike, against bare `node -e 0` as the floor.
// Usage: node scripts/startup.mjs [runs=40] [other/bin/keel.mjs ...]   (e.g. main's checkout)
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { fileURLToPath } from 'node:url';

const [runsArg = '40', ...others] = process.argv.slice(2);
const runs = Number(runsArg);
const self = fileURLToPath(new URL('../bin/keel.mjs', import.meta.url));
const programs = [
  ...[self, ...others].map((bin) => ({ name: `keel --version (${bin})`, args: [bin, '--version'] })),
  { name: 'node -e 0 (floor)', args: ['-e', '0'] },
];
const times = programs.map(() => []);
const once = (args) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - t;
};
for (const p of programs) once(p.args); // warm the file cache
for (let i = 0; i < runs; i++) {
  for (const [j, p] of programs.entries()) times[j].push(once(p.args));
}
const q = (xs, f) => xs[Math.min(xs.length - 1, Math.floor(xs.length * f))].toFixed(1);
console.log(
  `${process.platform} ${release()} ${process.arch}, ${cpus().length} CPUs, node ${process.version}, load ${loadavg()[0].toFixed(1)}, ${runs} runs each, ${new Date().toISOString()}`,
);
programs.forEach((p, j) => {
  const xs = times[j].sort((a, b) => a - b);
  console.log(`${p.name}: median ${q(xs, 0.5)} ms, p10 ${q(xs, 0.1)} ms, p90 ${q(xs, 0.9)} ms`);
});
