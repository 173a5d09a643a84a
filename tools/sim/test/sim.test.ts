import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSimArgs, UsageError } from '../src/args.js';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function sim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const stdout = r.stdout.trimEnd().split('\n');
  return { status: r.status, stdout, last: stdout[stdout.length - 1], stderr: r.stderr.trim() };
}

describe('parseSimArgs', () => {
  it('runs seeds S..S+N-1', () => {
    const a = parseSimArgs(['--seeds', '500', '--start', '1000', '--nodes', '5', '--faults', 'crash,net']);
    expect(a).toMatchObject({ start: 1000, count: 500, single: false, nodes: 5 });
    expect(a.faults).toEqual(['drop', 'dup', 'reorder', 'delay', 'crash']);
  });

  it('takes a share of transactions in percent', () => {
    expect(parseSimArgs(['--txns', '25'])).toMatchObject({ txns: 25 });
    expect(parseSimArgs([])).toMatchObject({ txns: undefined });
    expect(() => parseSimArgs(['--txns', '101'])).toThrow(/--txns must be between 0 and 100/);
  });

  it('replays one seed', () => {
    expect(parseSimArgs(['--seed', '42', '--trace'])).toMatchObject({
      start: 42,
      count: 1,
      single: true,
      trace: true,
    });
  });

  it.each([
    [['--seeds=-3'], /--seeds must be a whole number/],
    [['--seeds', '1.5'], /--seeds must be a whole number/],
    [['--seeds', '0'], /--seeds must be between 1/],
    [['--faults', 'fire'], /unknown fault 'fire'/],
    [['--trace'], /--trace needs --seed X/],
    [['--seed', '1', '--seeds', '2'], /do not combine/],
    [['--bug', 'nope'], /unknown bug 'nope'/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseSimArgs(argv)).toThrow(UsageError);
    expect(() => parseSimArgs(argv)).toThrow(message);
  });
});

describe('pnpm sim', () => {
  it('runs a range of seeds and ends with the summary line', () => {
    const r = sim('--seeds', '6', '--start', '100');
    expect(r.status).toBe(0);
    expect(r.stdout).toEqual(['sim: 6 seeds, 0 violations']);
  });

  it('replays one seed with a readable trace', () => {
    const r = sim('--seed', '7', '--nodes', '3', '--trace');
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(500);
    expect(r.stdout[0]).toMatch(/^ +0\.000 sim {2}seed 7: 3 nodes/);
    expect(r.stdout.at(-2)).toMatch(/^seed 7: ok — 3 nodes/);
    expect(r.last).toBe('sim: 1 seeds, 0 violations');
  });

  it('prints one line per failing seed with its replay command, and exits non-zero', () => {
    // Seeds 60-69 hold four the planted bug fails (60, 63, 68, 69; runs are deterministic, and
    // chosen again whenever the engine's timing changes: the lazy commit announcement moved seed
    // 36's failure away). Concurrent candidates — the bug's only chance to show — are rare since
    // pre-candidates stop splitting the vote.
    const r = sim('--seeds', '10', '--start', '60', '--nodes', '5', '--bug', 'double-vote');
    expect(r.status).toBe(1);
    const fails = r.stdout.filter((l) => l.startsWith('FAIL seed '));
    expect(fails.length).toBeGreaterThan(0);
    expect(fails[0]).toMatch(
      /^FAIL seed \d+ \(5 nodes\): vote-once .* — replay: pnpm sim --seed \d+ --nodes 5 --bug double-vote --trace$/,
    );
    expect(r.last).toBe(`sim: 10 seeds, ${fails.length} violations`);
  });

  it('gives the same report on worker threads as on one thread', () => {
    const args = ['--seeds', '24', '--start', '0', '--bug', 'double-vote', '--fault-ms', '500'];
    const one = sim(...args, '--workers', '1');
    const two = sim(...args, '--workers', '2');
    expect(two.status).toBe(one.status);
    expect(two.stdout).toEqual(one.stdout);
  });

  it('rejects a bad flag with one line and exit code 2', () => {
    const r = sim('--seeds', 'many');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("sim: --seeds must be a whole number, got 'many' (see pnpm sim --help)");
  });

  it('prints usage', () => {
    const r = sim('--help');
    expect(r.status).toBe(0);
    expect(r.stdout[0]).toMatch(/^usage: pnpm sim/);
  });
});
